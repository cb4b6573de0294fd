"""Secrets (the Gemini API key, an imported service-account key) in the OS keyring.

Nothing secret is ever written to a file, QSettings or a log. When the keyring cannot be
used the caller may keep a secret in memory for this session only (``remember=False``).
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

SERVICE = "gemtune-desktop"


class SecretStore:
    """Reads and writes secrets through ``keyring``, with an in-memory session fallback."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service
        self._session: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> str | None:
        with self._lock:
            if name in self._session:
                return self._session[name]
        import keyring

        return keyring.get_password(self.service, name)

    def set(self, name: str, value: str, remember: bool = True) -> None:
        if not remember:
            with self._lock:
                self._session[name] = value
            return
        import keyring

        keyring.set_password(self.service, name, value)
        with self._lock:
            self._session.pop(name, None)

    def delete(self, name: str) -> None:
        with self._lock:
            self._session.pop(name, None)
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(self.service, name)
        except PasswordDeleteError:
            pass

"""Secrets (the Gemini API key, an imported service-account key) in the OS keyring.

Nothing secret is ever written to a file, QSettings or a log. Every keyring call runs on
a helper thread with a timeout, because a Secret Service call can hang for minutes; call
these methods from a worker thread, never from the GUI thread. When the keyring cannot be
used (no backend, a locked keychain, a refused write) a :class:`KeyringUnavailable` says
so in plain words, and the caller may keep the secret in memory for this session only
(``remember=False``). There is no plaintext-file fallback.

Windows' Credential Locker holds about 1,280 UTF-16 characters per secret and a
service-account JSON is about 2.3k, so long values are stored as numbered shards
(``NAME#1``, ``NAME#2``, …) with a manifest entry under ``NAME``.
"""

from __future__ import annotations

import enum
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError

log = logging.getLogger(__name__)

SERVICE = "gemtune-desktop"
DEFAULT_TIMEOUT_S = 5.0
#: Largest value stored in one keyring entry, in UTF-16 code units (Windows allows ~1,280).
SHARD_UNITS = 1000
MANIFEST_PREFIX = "gemtune-shards:v1:"

T = TypeVar("T")


class KeyringUnavailable(UserError):
    """The system keychain cannot be used right now (missing, locked, refusing or hanging)."""


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    """The answer of :meth:`SecretStore.probe`: whether secrets can be remembered between sessions."""

    usable: bool
    message: str
    hint: str = ""
    backend: str = ""


def register_secret_value(value: str) -> None:
    """Redact ``value`` from logs; for a service-account JSON also its private key and key id."""
    # Imported here: logging_setup brings logging.handlers, which start-up does not need yet.
    from gemtune_desktop.logging_setup import register_secret

    register_secret(value)
    if value.lstrip().startswith("{"):
        try:
            info = json.loads(value)
        except ValueError:
            return
        if isinstance(info, dict):
            for field_name in ("private_key", "private_key_id"):
                part = info.get(field_name)
                if isinstance(part, str):
                    register_secret(part)
                    for line in part.splitlines():
                        if len(line) >= 16 and "PRIVATE KEY" not in line:
                            register_secret(line)


def split_utf16(value: str, max_units: int = SHARD_UNITS) -> list[str]:
    """Cut ``value`` into pieces of at most ``max_units`` UTF-16 code units, never inside a character."""
    pieces: list[str] = []
    start, units = 0, 0
    for i, ch in enumerate(value):
        width = 2 if ord(ch) > 0xFFFF else 1
        if units + width > max_units:
            pieces.append(value[start:i])
            start, units = i, 0
        units += width
    pieces.append(value[start:])
    return pieces


def _utf16_len(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def _shard_name(name: str, index: int) -> str:
    return f"{name}#{index}"


def _plain_keyring_error(exc: BaseException) -> KeyringUnavailable:
    """Plain words for a keyring exception (never including the secret)."""
    kind = type(exc).__name__
    if kind == "NoKeyringError":
        return KeyringUnavailable(
            "This computer has no system keychain that GemTune can use.",
            "You can keep the secret for this session only (you will enter it again next time), or set up "
            "a keychain (on Linux: GNOME Keyring or KWallet) and reopen this window.", detail=kind)
    if kind == "KeyringLocked":
        return KeyringUnavailable(
            "The system keychain is locked.",
            "Unlock it (your login password) and try again, or keep the secret for this session only.",
            detail=kind)
    if kind == "PasswordSetError":
        return KeyringUnavailable(
            "The system keychain refused to save the secret.",
            "Try again, or keep the secret for this session only.", detail=kind)
    if kind == "PasswordDeleteError":
        return KeyringUnavailable("The system keychain refused to remove the secret.",
                                  "Remove it with your system's keychain tool.", detail=kind)
    return KeyringUnavailable(
        "The system keychain could not be used.",
        "Unlock your keychain and try again, or keep the secret for this session only.", detail=kind)


class SecretStore:
    """Reads and writes secrets through ``keyring``, with an in-memory session fallback.

    Args:
        service: the keyring service name the entries are stored under.
        timeout_s: how long one keyring call may take before the keychain counts as unusable.
    """

    def __init__(self, service: str = SERVICE, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.service = service
        self.timeout_s = timeout_s
        self._session: dict[str, str] = {}
        self._lock = threading.Lock()
        self._hung: KeyringUnavailable | None = None
        self._hung_thread: threading.Thread | None = None

    # -- low level --------------------------------------------------------------------------
    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run one keyring call on a helper thread; a hang or an error becomes KeyringUnavailable.

        After a call hangs, further calls fail at once until that call has returned (the
        keychain was unlocked, or its prompt dismissed).
        """
        if self._hung is not None:
            if self._hung_thread is not None and self._hung_thread.is_alive():
                raise self._hung
            self._hung, self._hung_thread = None, None
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = fn(*args)
            except BaseException as exc:  # handed to the caller below
                box["error"] = exc

        thread = threading.Thread(target=target, name="keyring-call", daemon=True)
        thread.start()
        thread.join(self.timeout_s)
        if thread.is_alive():
            self._hung = KeyringUnavailable(
                "The system keychain did not answer.",
                "It may be waiting for an unlock prompt: answer it and try again, or keep the secret for this "
                "session only.", detail=f"no answer within {self.timeout_s:g} s")
            self._hung_thread = thread
            log.warning("keyring call did not answer within %.1f s", self.timeout_s)
            raise self._hung
        error = box.get("error")
        if error is not None:
            if not isinstance(error, Exception):
                raise error
            # Any failure inside the keyring backend (KeyringError, a D-Bus or Win32 error) is
            # reported by its class name only: its text could quote the value.
            log.info("keyring call failed: %s", type(error).__name__)
            raise _plain_keyring_error(error) from None
        return box.get("value")  # type: ignore[return-value]

    def _raw_get(self, name: str) -> str | None:
        import keyring

        return self._call(keyring.get_password, self.service, name)

    def _raw_set(self, name: str, value: str) -> None:
        import keyring

        self._call(keyring.set_password, self.service, name, value)

    def _raw_delete(self, name: str) -> None:
        import keyring
        from keyring.errors import PasswordDeleteError

        def delete(service: str, entry: str) -> None:
            try:
                keyring.delete_password(service, entry)
            except PasswordDeleteError:
                pass  # not there: nothing to remove

        self._call(delete, self.service, name)

    @staticmethod
    def _manifest_count(raw: str | None) -> tuple[int, int] | None:
        if not raw or not raw.startswith(MANIFEST_PREFIX):
            return None
        try:
            count, length = raw[len(MANIFEST_PREFIX):].split(":")
            return int(count), int(length)
        except ValueError:
            return None

    # -- public API -------------------------------------------------------------------------
    def probe(self) -> KeyringStatus:
        """Whether the keychain can be used, in plain words (blocks up to ``timeout_s``)."""
        backend = ""
        try:
            import keyring

            backend_obj = self._call(keyring.get_keyring)
            backend = f"{type(backend_obj).__module__}.{type(backend_obj).__name__}"
            if backend.startswith("keyring.backends.null."):
                return KeyringStatus(False, "Saving secrets is turned off in this computer's keyring settings.",
                                     "Keep the secret for this session only.", backend)
            self._raw_get("__gemtune_probe__")
        except KeyringUnavailable as err:
            return KeyringStatus(False, err.message, err.hint, backend)
        return KeyringStatus(True, "Secrets are kept in the system keychain.", "", backend)

    def get(self, name: str) -> str | None:
        """The secret, from this session's memory or the keychain; None when none is saved."""
        with self._lock:
            if name in self._session:
                return self._session[name]
        return self.get_remembered(name)

    def get_remembered(self, name: str) -> str | None:
        """The secret as stored in the keychain (reassembled from shards), ignoring session memory."""
        raw = self._raw_get(name)
        manifest = self._manifest_count(raw)
        if manifest is None:
            if raw:
                register_secret_value(raw)
            return raw
        count, length = manifest
        parts = []
        for index in range(1, count + 1):
            part = self._raw_get(_shard_name(name, index))
            if part is None:
                raise KeyringUnavailable("The secret saved in the system keychain is incomplete.",
                                         "Remove it in Settings → Connections and save it again.",
                                         detail=f"shard {index} of {count} missing")
            parts.append(part)
        value = "".join(parts)
        if len(value) != length:
            raise KeyringUnavailable("The secret saved in the system keychain is incomplete.",
                                     "Remove it in Settings → Connections and save it again.",
                                     detail="length mismatch")
        register_secret_value(value)
        return value

    def has(self, name: str) -> bool:
        return bool(self.get(name))

    def is_session_only(self, name: str) -> bool:
        """True when the secret is kept in memory for this session only."""
        with self._lock:
            return name in self._session

    def set(self, name: str, value: str, remember: bool = True) -> None:
        """Save a secret in the keychain (``remember=True``) or for this session only.

        Raises :class:`KeyringUnavailable` when the keychain cannot keep it; nothing is
        written anywhere else.
        """
        register_secret_value(value)
        if not remember:
            with self._lock:
                self._session[name] = value
            return
        old = self._manifest_count(self._raw_get(name))
        old_count = old[0] if old else 0
        if _utf16_len(value) <= SHARD_UNITS:
            self._raw_set(name, value)
            new_count = 0
        else:
            pieces = split_utf16(value)
            for index, piece in enumerate(pieces, start=1):
                self._raw_set(_shard_name(name, index), piece)
            # The manifest goes last, so it only ever points at shards that are all written.
            self._raw_set(name, f"{MANIFEST_PREFIX}{len(pieces)}:{len(value)}")
            new_count = len(pieces)
        for index in range(new_count + 1, old_count + 1):
            self._raw_delete(_shard_name(name, index))
        if self.get_remembered(name) != value:
            raise KeyringUnavailable("The system keychain did not keep the secret.",
                                     "Keep the secret for this session only.", detail="read-back mismatch")
        with self._lock:
            self._session.pop(name, None)

    def delete(self, name: str) -> None:
        """Forget the secret: from this session's memory and from the keychain (with its shards).

        A keychain that does not exist holds nothing, so that case is not an error.
        """
        with self._lock:
            self._session.pop(name, None)
        try:
            manifest = self._manifest_count(self._raw_get(name))
        except KeyringUnavailable as err:
            if err.detail == "NoKeyringError":
                return
            raise
        self._raw_delete(name)
        if manifest is not None:
            for index in range(1, manifest[0] + 1):
                self._raw_delete(_shard_name(name, index))


class SecretOverlay:
    """Secrets typed in a form but not saved yet, in front of a :class:`SecretStore`.

    Used by "Test connection" so an edited key can be checked before it is saved.
    """

    def __init__(self, base: SecretStore, overrides: dict[str, str]) -> None:
        self._base = base
        self._overrides = {k: v for k, v in overrides.items() if v}
        for value in self._overrides.values():
            register_secret_value(value)

    def get(self, name: str) -> str | None:
        if name in self._overrides:
            return self._overrides[name]
        return self._base.get(name)


# -- what the Connections settings show --------------------------------------------------------------
MAX_KEY_FILE_BYTES = 64 * 1024


class SecretState(enum.StrEnum):
    """Where a secret is, as far as the app knows."""

    NONE = "none"  # none saved
    KEYRING = "keyring"  # in the system keychain
    SESSION = "session"  # in memory, for this session only
    BROKEN = "broken"  # saved but unreadable
    UNKNOWN = "unknown"  # not asked yet

    @property
    def present(self) -> bool:
        return self in (SecretState.KEYRING, SecretState.SESSION)


@dataclass(frozen=True)
class SecretsOverview:
    """Whether the keychain works, where each secret is, and what went wrong reading one."""

    status: KeyringStatus
    states: dict[str, SecretState]
    problems: dict[str, UserError]
    service_account_email: str = ""


def secrets_overview(store: SecretStore, names: Sequence[str], service_account: str,
                     token: CancelToken | None = None) -> SecretsOverview:
    """Ask the keychain (blocking; call it on a worker) whether it works and which of ``names`` it holds."""
    status = store.probe()
    states: dict[str, SecretState] = {}
    problems: dict[str, UserError] = {}
    email = ""
    for name in names:
        if token is not None:
            token.check()
        value = ""
        if store.is_session_only(name):
            states[name] = SecretState.SESSION
            value = store.get(name) or ""
        elif status.usable:
            try:
                value = store.get(name) or ""
            except KeyringUnavailable as err:
                problems[name] = err
            states[name] = SecretState.KEYRING if value else SecretState.BROKEN if name in problems \
                else SecretState.NONE
        else:
            states[name] = SecretState.NONE
        if name == service_account and value:
            email = client_email(value)
    return SecretsOverview(status, states, problems, email)


def client_email(raw: str) -> str:
    """The service account's e-mail in a key file's JSON ("" when there is none)."""
    try:
        info = json.loads(raw)
    except ValueError:
        return ""
    return str(info.get("client_email", "")) if isinstance(info, dict) else ""


def read_service_account_file(path: str) -> str:
    """The contents of a service-account JSON key file, checked; raises UserError in plain words."""
    if not path:
        raise UserError("Choose the service-account key file first.", "Use Browse… to pick the .json file.")
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_KEY_FILE_BYTES:
            raise UserError(f"{file.name} is too large to be a service-account key ({size:,} bytes).",
                            "Choose the JSON key file you downloaded from the Cloud console.")
        raw = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"The key file was not found: {file}", "Check the path or use Browse….") from None
    except (OSError, UnicodeDecodeError):
        raise UserError(f"{file.name} could not be read as a text file.",
                        "Choose the JSON key file you downloaded from the Cloud console.") from None
    try:
        info = json.loads(raw)
    except ValueError:
        raise UserError(f"{file.name} is not a JSON key file.",
                        "Choose the JSON key file you downloaded from the Cloud console.") from None
    if not isinstance(info, dict) or info.get("type") != "service_account" or not info.get("private_key") \
            or not info.get("client_email"):
        raise UserError(f"{file.name} is not a service-account key.",
                        "In the Cloud console: IAM → Service accounts → Keys → Add key → JSON.")
    return raw

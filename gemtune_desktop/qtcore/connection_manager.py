"""The active connection: which profile is in use, its live session, and whether it is reachable.

Profiles (non-secret fields) are stored in settings as JSON; the Sandbox is the default
until something else is configured. Reachability is checked with a cheap call (listing
models) on a worker thread; the status bar shows the result.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from gemtune_desktop import paths
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.settings import Settings
from gemtune_desktop.qtcore.workers import TaskRunner
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.connections import ConnectionKind, ConnectionProfile
from gemtune_desktop.services.secrets import SecretStore

log = logging.getLogger(__name__)


class ConnectionManager(QObject):
    """Owns the active :class:`BackendSession`.

    Signals:
        connection_changed(object): the new active ConnectionProfile.
        reachability_changed(object, str): True / False / None (unknown, checking) and a plain text.
    """

    connection_changed = Signal(object)
    reachability_changed = Signal(object, str)

    def __init__(self, settings: Settings, secrets: SecretStore, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._secrets = secrets
        self._runner = runner
        self._session: BackendSession | None = None
        self._sandbox: Any = None
        self.reachable: bool | None = None
        self.reachability_text = "not checked yet"

    # -- profiles -------------------------------------------------------------------------
    def profiles(self) -> dict[ConnectionKind, ConnectionProfile]:
        stored = self._settings.get_json(S.CONNECTION_PROFILES) or {}
        result = {}
        for kind in ConnectionKind:
            data = stored.get(kind.value) or {}
            profile = ConnectionProfile.from_dict({**data, "kind": kind.value})
            result[kind] = profile
        return result

    def save_profile(self, profile: ConnectionProfile) -> None:
        stored = self._settings.get_json(S.CONNECTION_PROFILES) or {}
        stored[profile.kind.value] = profile.to_dict()
        self._settings.set_json(S.CONNECTION_PROFILES, stored)
        if profile.kind is self.active_kind:
            self._replace_session()

    @property
    def active_kind(self) -> ConnectionKind:
        try:
            return ConnectionKind(self._settings.get(S.ACTIVE_CONNECTION))
        except ValueError:
            return ConnectionKind.SANDBOX

    @property
    def profile(self) -> ConnectionProfile:
        return self.profiles()[self.active_kind]

    def set_active(self, kind: ConnectionKind) -> None:
        self._settings.set(S.ACTIVE_CONNECTION, kind.value)
        self._replace_session()

    # -- session --------------------------------------------------------------------------
    def session(self) -> BackendSession:
        if self._session is None:
            self._session = self.session_for(self.profile)
        return self._session

    def session_for(self, profile: ConnectionProfile) -> BackendSession:
        return BackendSession(profile, self._secrets, sandbox_url=self.sandbox_url)

    def sandbox_url(self) -> str:
        """Base URL of the in-app Sandbox, started on first use (thread-safe)."""
        from gemtune_desktop.sandbox.runtime import ensure_running

        pace = float(self._settings.get(S.SANDBOX_STEPS_PER_SECOND))
        return ensure_running(paths.data_dir() / "sandbox", steps_per_second=pace)

    def _replace_session(self) -> None:
        old, self._session = self._session, None
        if old is not None:
            old.close()
        self.reachable = None
        self.reachability_text = "checking…"
        self.connection_changed.emit(self.profile)
        self.check_reachable()

    # -- reachability ---------------------------------------------------------------------
    def check_reachable(self) -> None:
        """List models on a worker thread; report the answer in plain words."""
        session = self.session()
        self.reachability_changed.emit(None, "checking…")
        self._runner.run("connection:check", probe_connection, session,
                         on_result=self._on_probe_ok, on_error=self._on_probe_failed, replace=True)

    def _on_probe_ok(self, text: str) -> None:
        self.reachable = True
        self.reachability_text = text
        self.reachability_changed.emit(True, text)

    def _on_probe_failed(self, err: UserError) -> None:
        self.reachable = False
        self.reachability_text = err.message
        self.reachability_changed.emit(False, err.message)

    def shutdown(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def probe_connection(token: CancelToken, session: BackendSession) -> str:
    """A cheap call that proves the connection works: list a page of base models."""
    client = session.client(timeout_s=15)
    pager = client.models.list(config={"page_size": 5})
    count = sum(1 for _ in zip(range(5), pager, strict=False))
    token.check()
    return f"reachable ({count} models listed)" if count else "reachable"

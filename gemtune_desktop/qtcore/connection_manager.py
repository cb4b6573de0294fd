"""The active connection: which profile is in use, its live session, and whether it is reachable.

Profiles (non-secret fields) are stored in settings as JSON; the Sandbox is the default
until something else is configured. Reachability is checked with a cheap call (listing
models) on a worker thread; the status bar shows the result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from gemtune_desktop import paths
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.settings import Settings
from gemtune_desktop.qtcore.workers import TaskRunner
from gemtune_desktop.services.backend import BackendSession, SecretSource, connection_is_configured
from gemtune_desktop.services.connections import AuthMode, ConnectionKind, ConnectionProfile
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
        self.reachability_hint = ""  # what to do about a failed check, in plain words
        self._held = False
        self._check_pending = False

    # -- profiles -------------------------------------------------------------------------
    def profiles(self) -> dict[ConnectionKind, ConnectionProfile]:
        stored = self._settings.get_json(S.CONNECTION_PROFILES) or {}
        result = {}
        for kind in ConnectionKind:
            data = stored.get(kind.value) or {}
            profile = ConnectionProfile.from_dict({**data, "kind": kind.value})
            result[kind] = profile
        return result

    def save_profile(self, profile: ConnectionProfile, reconnect: bool = True) -> None:
        """Store a profile's non-secret fields; the in-use connection reconnects unless told not to."""
        stored = self._settings.get_json(S.CONNECTION_PROFILES) or {}
        stored[profile.kind.value] = profile.to_dict()
        self._settings.set_json(S.CONNECTION_PROFILES, stored)
        if reconnect and profile.kind is self.active_kind:
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

    def session_for(self, profile: ConnectionProfile, secrets: SecretSource | None = None) -> BackendSession:
        """A new session for ``profile`` (the caller closes it); ``secrets`` overrides the keyring."""
        return BackendSession(profile, secrets or self._secrets, sandbox_url=lambda: self.sandbox_url())

    def sandbox_url(self) -> str:
        """Base URL of the in-app Sandbox, started on first use (thread-safe)."""
        from gemtune_desktop.sandbox.runtime import ensure_running

        pace = float(self._settings.get(S.SANDBOX_STEPS_PER_SECOND))
        return ensure_running(paths.data_dir() / "sandbox", steps_per_second=pace)

    def reconnect(self) -> None:
        """Drop the live session and check again (after a saved key changed)."""
        self._replace_session()

    def _replace_session(self) -> None:
        old, self._session = self._session, None
        if old is not None:
            old.close()
        self.reachable = None
        self.reachability_text = "checking…"
        self.connection_changed.emit(self.profile)
        self.check_reachable()

    # -- reachability ---------------------------------------------------------------------
    def hold_checks(self) -> None:
        """Delay reachability checks (at start-up, until the window is painted)."""
        self._held = True

    def release_checks(self) -> None:
        """Run the check that was asked for while held."""
        self._held = False
        if self._check_pending:
            self._check_pending = False
            self.check_reachable()

    def check_reachable(self) -> None:
        """List models on a worker thread; report the answer in plain words."""
        if self._held:
            self._check_pending = True
            return
        session = self.session()
        self.reachability_changed.emit(None, "checking…")
        self._runner.run("connection:check", probe_connection, session,
                         on_result=self._on_probe_ok, on_error=self._on_probe_failed, replace=True)

    def test_profile(self, profile: ConnectionProfile, on_result: Callable[[str], None],
                     on_error: Callable[[UserError], None], secrets: SecretSource | None = None) -> None:
        """Check a (possibly unsaved) profile with a cheap call on a worker thread.

        ``on_result`` gets a plain text such as "reachable (3 models listed)"; ``on_error`` a
        :class:`UserError` in plain words (wrong key, no permission, API not enabled, offline,
        not signed in). A new test replaces one still running.
        """
        session = self.session_for(profile, secrets)

        def run(token: CancelToken) -> str:
            try:
                return probe_connection(token, session)
            finally:
                session.close()

        self._runner.run("connection:test", run, on_result=on_result, on_error=on_error, replace=True)

    def _on_probe_ok(self, text: str) -> None:
        self.reachable = True
        self.reachability_text = text
        self.reachability_hint = ""
        self.reachability_changed.emit(True, text)

    def _on_probe_failed(self, err: UserError) -> None:
        self.reachable = False
        self.reachability_text = err.message
        self.reachability_hint = err.hint
        self.reachability_changed.emit(False, err.message)

    def shutdown(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def probe_connection(token: CancelToken, session: BackendSession) -> str:
    """A cheap call that proves the connection works: list a page of base models."""
    profile = session.profile
    if not connection_is_configured(profile):
        raise UserError("No Google Cloud project is set for this connection.",
                        "Enter your project ID in Settings → Connections.")
    if profile.kind is ConnectionKind.AGENT_PLATFORM and profile.auth_mode is AuthMode.SERVICE_ACCOUNT \
            and not profile.service_account_in_keyring and not profile.service_account_file:
        raise UserError("No service-account key file is chosen.",
                        "Choose the JSON key file in Settings → Connections, or use Application Default "
                        "Credentials.")
    client = session.client(timeout_s=15)
    pager = client.models.list(config={"page_size": 5})
    count = sum(1 for _ in zip(range(5), pager, strict=False))
    token.check()
    return f"reachable ({count} models listed)" if count else "reachable"

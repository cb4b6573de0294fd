"""The active connection: which profile is in use, its live service, and whether it is reachable.

Profiles (non-secret fields) are stored in settings; the Sandbox is the default until something else
is configured. Every call to the service goes through :meth:`ConnectionManager.start`, which runs it
in the caller's :class:`~gemtune_desktop.qtcore.workers.TaskSlot` with the active
:class:`~gemtune_desktop.services.api.ServiceApi` and remembers the task: replacing the connection
cancels that service's tasks (their owners hear ``cancelled``) before the old service is closed.
Reachability is checked with a cheap call on a worker; the status bar shows the result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, Signal

from gemtune_desktop import paths
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.settings import Settings
from gemtune_desktop.qtcore.workers import (
    ErrorCallback,
    PlainCallback,
    ProgressCallback,
    Task,
    TaskExecutor,
    TaskSlot,
)
from gemtune_desktop.services.api import ServiceApi, ServiceFactory, SessionApi
from gemtune_desktop.services.backend import BackendSession, SecretSource
from gemtune_desktop.services.connections import ConnectionKind, ConnectionProfile
from gemtune_desktop.services.secrets import SecretStore

log = logging.getLogger(__name__)

R = TypeVar("R")
ServiceCall = Callable[[CancelToken, ServiceApi], R]


class ConnectionManager(QObject):
    """Owns the active :class:`ServiceApi`.

    Args:
        service_factory: builds the service for a profile (default: :class:`SessionApi` over a
            :class:`BackendSession`; tests pass an in-process fake).

    Signals:
        connection_changed(object): the new active ConnectionProfile.
        reachability_changed(object, str): True / False / None (unknown, checking) and a plain text.
    """

    connection_changed = Signal(object)
    reachability_changed = Signal(object, str)

    def __init__(self, settings: Settings, secrets: SecretStore, executor: TaskExecutor,
                 service_factory: ServiceFactory | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._secrets = secrets
        self._executor = executor
        self._factory: ServiceFactory = service_factory or self._session_api
        self._service: ServiceApi | None = None
        self._tasks: dict[int, Task] = {}  # id(task) -> task, of the current service
        self._check = TaskSlot(self, executor, "connection check")
        self._test = TaskSlot(self, executor, "connection test")
        self.reachable: bool | None = None
        self.reachability_text = "not checked yet"
        self.reachability_hint = ""  # what to do about a failed check, in plain words
        self._held = False
        self._check_pending = False

    # -- profiles -------------------------------------------------------------------------
    def profiles(self) -> dict[ConnectionKind, ConnectionProfile]:
        return self._settings.read(S.CONNECTION_PROFILES)

    def save_profile(self, profile: ConnectionProfile, reconnect: bool = True) -> None:
        """Store a profile's non-secret fields; the in-use connection reconnects unless told not to."""
        profiles = self.profiles()
        profiles[profile.kind] = profile
        self._settings.write(S.CONNECTION_PROFILES, profiles)
        if reconnect and profile.kind is self.active_kind:
            self._replace_service()

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
        self._replace_service()

    # -- the service ----------------------------------------------------------------------
    def service(self) -> ServiceApi:
        """The active connection's service (built on first use)."""
        if self._service is None:
            self._service = self._factory(self.profile, self._secrets)
        return self._service

    def session(self) -> BackendSession:
        """The active connection's HTTP session (the real service only)."""
        service = self.service()
        if not isinstance(service, SessionApi):
            raise TypeError("the active service has no HTTP session")
        return service.session

    def session_for(self, profile: ConnectionProfile, secrets: SecretSource | None = None) -> BackendSession:
        """A new session for ``profile`` (the caller closes it); ``secrets`` overrides the keyring."""
        return BackendSession(profile, secrets or self._secrets, sandbox_url=self.sandbox_url)

    def _session_api(self, profile: ConnectionProfile, secrets: SecretSource) -> ServiceApi:
        return SessionApi(self.session_for(profile, secrets))

    def sandbox_url(self) -> str:
        """Base URL of the in-app Sandbox, started on first use (thread-safe)."""
        from gemtune_desktop.services.local_sandbox import local_sandbox_url

        return local_sandbox_url(paths.data_dir() / "sandbox", float(self._settings.get(S.SANDBOX_STEPS_PER_SECOND)))

    def start(self, slot: TaskSlot, call: ServiceCall[R], *, on_result: Callable[[R], None] | None = None,
              on_error: ErrorCallback | None = None, on_progress: ProgressCallback | None = None,
              on_cancelled: PlainCallback | None = None, on_finished: PlainCallback | None = None) -> Task:
        """Run ``call(token, service)`` in ``slot`` with the active service.

        The task belongs to this service: replacing the connection cancels it before the service closes.
        """
        service = self.service()
        task = slot.start(call, service, on_result=on_result, on_error=on_error, on_progress=on_progress,
                          on_cancelled=on_cancelled, on_finished=on_finished)
        self._tasks[id(task)] = task
        task.when_done(self._forget)
        return task

    def _forget(self, task: Task) -> None:
        self._tasks.pop(id(task), None)

    def reconnect(self) -> None:
        """Drop the live service and check again (after a saved key changed)."""
        self._replace_service()

    def _replace_service(self) -> None:
        self._close_service()
        self.reachable = None
        self.reachability_text = "checking…"
        self.connection_changed.emit(self.profile)
        self.check_reachable()

    def _close_service(self) -> None:
        """Cancel the tasks that use the service, then close it."""
        old, self._service = self._service, None
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        if old is not None:
            old.close()

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

    @property
    def checking(self) -> bool:
        """Whether a reachability check is running."""
        return self._check.running

    def check_reachable(self) -> None:
        """Make a cheap call on a worker; report the answer in plain words."""
        if self._held:
            self._check_pending = True
            return
        self.reachability_changed.emit(None, "checking…")
        self.start(self._check, probe, on_result=self._on_probe_ok, on_error=self._on_probe_failed)

    def test_profile(self, profile: ConnectionProfile, on_result: Callable[[str], None],
                     on_error: Callable[[UserError], None], secrets: SecretSource | None = None) -> None:
        """Check a (possibly unsaved) profile with a cheap call on a worker thread.

        ``on_result`` gets a plain text such as "reachable (3 models listed)"; ``on_error`` a
        :class:`UserError` in plain words (wrong key, no permission, API not enabled, offline,
        not signed in). A new test replaces one still running.
        """
        service = self._factory(profile, secrets or self._secrets)

        def run(token: CancelToken) -> str:
            try:
                return service.probe(token)
            finally:
                service.close()

        self._test.start(run, on_result=on_result, on_error=on_error)

    def stop_test(self) -> None:
        """Forget a connection test still running (its dialog closed)."""
        self._test.shutdown()

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
        self._check.shutdown()
        self._test.shutdown()
        self._close_service()


def probe(token: CancelToken, service: ServiceApi) -> str:
    """The reachability check: a cheap call that proves the connection works."""
    return service.probe(token)

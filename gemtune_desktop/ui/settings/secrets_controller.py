"""Secrets on the Connections pages: where each one is, saving and removing it, and a keychain that cannot be used.

Every keychain call runs on a worker (a Secret Service call can hang). When the keychain refuses a
secret, :class:`SecretsController` offers to keep it for this session only. A changed secret makes the
connection that uses it reconnect.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskGroup, TaskSlot
from gemtune_desktop.services.backend import API_KEY_SECRET, SERVICE_ACCOUNT_SECRET
from gemtune_desktop.services.connections import ConnectionKind
from gemtune_desktop.services.secrets import (
    KeyringStatus,
    KeyringUnavailable,
    SecretsOverview,
    SecretState,
    SecretStore,
    client_email,
    secrets_overview,
)
from gemtune_desktop.ui.widgets.status_line import Tone, error_text

SECRET_NAMES = (API_KEY_SECRET, SERVICE_ACCOUNT_SECRET)
#: The connection that reconnects when its secret changes.
SECRET_USED_BY = {API_KEY_SECRET: ConnectionKind.GEMINI_API, SERVICE_ACCOUNT_SECRET: ConnectionKind.AGENT_PLATFORM}


def _overview(token: CancelToken, store: SecretStore) -> SecretsOverview:
    return secrets_overview(store, SECRET_NAMES, SERVICE_ACCOUNT_SECRET, token)


def _set_secret(_token: CancelToken, store: SecretStore, name: str, value: str) -> None:
    store.set(name, value)


def _delete_secret(_token: CancelToken, store: SecretStore, name: str) -> None:
    store.delete(name)


class SecretsController(QObject):
    """The state of the API key and the imported service-account key.

    Signals:
        changed(): a state, a note or a running task changed (the pages refresh their widgets).
        stored(str): a secret is now kept (in the keychain or for this session).
        removed(str): a secret is gone.
        keyring_problem(str, bool): the keychain cannot be used (the text; whether to offer session-only).
        keyring_fine(): the keychain just worked (hide the problem).
    """

    changed = Signal()
    stored = Signal(str)
    removed = Signal(str)
    keyring_problem = Signal(str, bool)
    keyring_fine = Signal()

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.keyring_status: KeyringStatus | None = None
        self.states: dict[str, SecretState] = {name: SecretState.UNKNOWN for name in SECRET_NAMES}
        # A note about the last action on each secret, shown instead of the plain state text.
        self.notes: dict[str, str] = {name: "" for name in SECRET_NAMES}
        self.service_account_email = ""
        self._pending: tuple[str, str] | None = None  # a secret waiting for "keep for this session only"
        self._overview = TaskSlot(self, ctx.executor, "keyring overview")
        self._tasks: TaskGroup[str] = TaskGroup(self, ctx.executor, "secret")

    def busy(self, name: str) -> bool:
        return self._tasks.is_running(name)

    def state(self, name: str) -> SecretState:
        return self.states[name]

    def note(self, name: str, text: str) -> None:
        self.notes[name] = text
        self.changed.emit()

    # -- asking the keychain ------------------------------------------------------------------
    def check_keyring(self) -> None:
        """Ask the keychain (off the GUI thread) whether it works and which secrets it holds."""
        self._overview.start(_overview, self.ctx.secrets, on_result=self._on_overview, on_error=self._on_error)

    def _on_overview(self, overview: SecretsOverview) -> None:
        self.keyring_status = overview.status
        self.states.update(overview.states)
        self.service_account_email = overview.service_account_email
        for name, problem in overview.problems.items():
            self.notes[name] = error_text(problem)
        if not overview.status.usable:
            self._say_problem(UserError(overview.status.message, overview.status.hint), offer=False)
        self.changed.emit()

    def _on_error(self, err: UserError) -> None:
        self.keyring_status = KeyringStatus(False, err.message, err.hint)
        self._say_problem(err, offer=False)
        self.changed.emit()

    def _say_problem(self, err: UserError, offer: bool) -> None:
        text = error_text(err, tone=Tone.WARNING, hint=not offer)
        if offer:
            text += " You can keep it for this session only: it stays in memory until you close GemTune, " \
                    "nothing is written to disk, and you will enter it again next time."
        self.keyring_problem.emit(text, offer)

    # -- saving and removing ------------------------------------------------------------------
    def store(self, name: str, value: str, done_text: str) -> None:
        def on_saved(_result: object) -> None:
            self._now_kept(name, value, SecretState.KEYRING)
            self.keyring_fine.emit()
            self.note(name, done_text)

        def on_failed(err: UserError) -> None:
            if isinstance(err, KeyringUnavailable):
                self._pending = (name, value)
                self._say_problem(err, offer=True)
                self.note(name, "✖ Not saved: the system keychain cannot be used (see below).")
            else:
                self.note(name, error_text(err))

        self.notes[name] = "Saving in the system keychain…"
        self._tasks.start(name, _set_secret, self.ctx.secrets, name, value, on_result=on_saved, on_error=on_failed,
                          on_finished=self.changed.emit)
        self.changed.emit()

    def remove(self, name: str, done_text: str) -> None:
        def on_removed(_result: object) -> None:
            self.states[name] = SecretState.NONE
            if name == SERVICE_ACCOUNT_SECRET:
                self.service_account_email = ""
            self.removed.emit(name)
            self._reconnect(name)
            self.note(name, done_text)

        self.notes[name] = "Removing…"
        self._tasks.start(name, _delete_secret, self.ctx.secrets, name, on_result=on_removed,
                          on_error=lambda err: self.note(name, error_text(err)), on_finished=self.changed.emit)
        self.changed.emit()

    def keep_for_session(self) -> bool:
        """Keep the secret that the keychain refused in memory only; False when there is none."""
        if self._pending is None:
            return False
        name, value = self._pending
        self._pending = None
        self.ctx.secrets.set(name, value, remember=False)
        self.notes[name] = ""
        self._now_kept(name, value, SecretState.SESSION)
        self.changed.emit()
        return True

    def _now_kept(self, name: str, value: str, state: SecretState) -> None:
        self.states[name] = state
        if name == SERVICE_ACCOUNT_SECRET:
            self.service_account_email = client_email(value)
        self.stored.emit(name)
        self._reconnect(name)

    def _reconnect(self, name: str) -> None:
        """The in-use connection reconnects when its secret changed."""
        conn = self.ctx.connections
        if name == SERVICE_ACCOUNT_SECRET:
            # The profile remembers that its key lives in the keychain.
            profile = conn.profiles()[ConnectionKind.AGENT_PLATFORM]
            profile.service_account_in_keyring = self.states[name].present
            conn.save_profile(profile)
        elif conn.active_kind is SECRET_USED_BY[name]:
            conn.reconnect()

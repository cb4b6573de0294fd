"""Settings → Connections: the Sandbox, a Google Cloud project, or a Gemini API key, one page each.

The dialog lists the three connections, shows the chosen one's page (:mod:`.sandbox_page`,
:mod:`.cloud_page`, :mod:`.api_key_page`) and chooses the one in use. Each page loads its profile,
validates what was typed and saves what is not part of the profile; Save stores the profiles that
changed. Secrets are saved to, changed in and removed from the system keychain at once, on a worker
(:mod:`.secrets_controller`); when the keychain cannot be used the dialog says so on the pages of the
connections that keep a secret (an API key, a service-account key), and offers to keep the secret for
this session only. "Test connection" checks the profile as edited (even an unsaved
key) with a cheap call.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.services.backend import API_KEY_SECRET
from gemtune_desktop.services.connections import ConnectionKind
from gemtune_desktop.services.secrets import SecretOverlay
from gemtune_desktop.ui.settings.api_key_page import ApiKeyPage
from gemtune_desktop.ui.settings.cloud_page import CloudPage
from gemtune_desktop.ui.settings.keyring_banner import KeyringBanner
from gemtune_desktop.ui.settings.page import ConnectionPage, describe, push_button
from gemtune_desktop.ui.settings.sandbox_page import SandboxPage
from gemtune_desktop.ui.settings.secrets_controller import SecretsController
from gemtune_desktop.ui.widgets.status_line import StatusLine, Tone

KIND_ORDER = (ConnectionKind.SANDBOX, ConnectionKind.AGENT_PLATFORM, ConnectionKind.GEMINI_API)


class ConnectionsDialog(QDialog):
    """Edit the connection profiles, their secrets, and choose the connection in use."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ConnectionsDialog")
        self.setWindowTitle("Connections")
        self.setModal(True)
        self.resize(820, 560)
        conn = ctx.connections
        self.active_kind: ConnectionKind = conn.active_kind
        self._keyring_problem: tuple[str, bool] | None = None  # the banner's text, and whether to offer session-only
        self.secrets = SecretsController(ctx, self)
        layout = QVBoxLayout(self)
        intro = QLabel("Choose where GemTune sends your training data and prompts. Secrets such as an API key "
                       "are kept in your system keychain, never in a file.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(self._build_body())
        self.banner = KeyringBanner(self)
        layout.addWidget(self.banner)
        layout.addLayout(self._build_test_row())
        self.error_label = QLabel("", self)
        self.error_label.setObjectName("dialogError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        describe(self.error_label, "Problem with these settings", "What must be fixed before saving")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        layout.addWidget(self._build_buttons())
        self._wire()
        profiles = conn.profiles()
        for page in self.pages:
            page.load(profiles[page.kind])
        self.kind_list.setCurrentRow(KIND_ORDER.index(self.active_kind))
        self._refresh_active_marks()
        self.secrets.changed.emit()
        self.secrets.check_keyring()

    # -- construction -------------------------------------------------------------------------
    def _build_body(self) -> QHBoxLayout:
        body = QHBoxLayout()
        self.kind_list = QListWidget(self)
        self.kind_list.setObjectName("connectionKinds")
        describe(self.kind_list, "Connections", "Pick a connection to see and edit its settings")
        self.kind_list.setMaximumWidth(260)
        for kind in KIND_ORDER:
            item = QListWidgetItem(kind.label)
            item.setData(Qt.ItemDataRole.UserRole, kind.value)
            self.kind_list.addItem(item)
        self.stack = QStackedWidget(self)
        self.sandbox_page = SandboxPage(self.ctx.settings, self)
        self.cloud_page = CloudPage(self.secrets, self)
        self.api_key_page = ApiKeyPage(self.secrets, self)
        self.pages: list[ConnectionPage] = [self.sandbox_page, self.cloud_page, self.api_key_page]
        for page in self.pages:
            self.stack.addWidget(page)
        body.addWidget(self.kind_list)
        body.addWidget(self.stack, 1)
        return body

    def _build_test_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.test_button = push_button(self, "Test connection", "testConnection", "Test connection",
                                       "Check the settings shown above with a quick, free call (listing the "
                                       "available models)")
        self.test_result = QLabel("", self)
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        describe(self.test_result, "Test result", "The answer of the last connection test")
        self.test_status = StatusLine(self.test_result)
        row.addWidget(self.test_button)
        row.addWidget(self.test_result, 1)
        return row

    def _build_buttons(self) -> QDialogButtonBox:
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        describe(self.buttons.button(QDialogButtonBox.StandardButton.Save), "Save connections",
                 "Save these settings and use the chosen connection")
        describe(self.buttons.button(QDialogButtonBox.StandardButton.Cancel), "Cancel",
                 "Close without saving the settings (saved or removed keys stay as they are)")
        return self.buttons

    def _wire(self) -> None:
        self.kind_list.currentRowChanged.connect(self._on_page_changed)
        for page in self.pages:
            page.use_requested.connect(self.choose_active)
        self.test_button.clicked.connect(self.test_connection)
        self.buttons.accepted.connect(self.save_and_close)
        self.buttons.rejected.connect(self.reject)
        self.secrets.keyring_problem.connect(self._on_keyring_problem)
        self.secrets.keyring_fine.connect(self._on_keyring_fine)
        self.cloud_page.auth_sa.toggled.connect(lambda _on: self._show_keyring_problem())
        self.banner.session_only_button.clicked.connect(self.keep_for_session)

    # -- pages and the connection in use -------------------------------------------------------
    def current_kind(self) -> ConnectionKind:
        return KIND_ORDER[max(0, self.kind_list.currentRow())]

    def _on_page_changed(self, row: int) -> None:
        if row >= 0:
            self.stack.setCurrentIndex(row)
            self.test_result.clear()
            self._show_keyring_problem()

    # -- the keychain ---------------------------------------------------------------------------
    def _on_keyring_problem(self, text: str, offer_session_only: bool) -> None:
        self._keyring_problem = (text, offer_session_only)
        self._show_keyring_problem()

    def _on_keyring_fine(self) -> None:
        self._keyring_problem = None
        self.banner.hide()

    def _show_keyring_problem(self) -> None:
        """The keychain's problem, on the pages of connections that keep a secret in it (not the Sandbox)."""
        page = self.pages[KIND_ORDER.index(self.current_kind())]
        if self._keyring_problem is None or not page.needs_secret():
            self.banner.hide()
            return
        self.banner.show_problem(*self._keyring_problem)

    def choose_active(self, kind: ConnectionKind) -> None:
        self.active_kind = kind
        self._refresh_active_marks()

    def _refresh_active_marks(self) -> None:
        for row, page in enumerate(self.pages):
            in_use = page.kind is self.active_kind
            item = self.kind_list.item(row)
            item.setText(f"{page.kind.label}{'  ✔ in use' if in_use else ''}")
            page.show_in_use(in_use)

    def keep_for_session(self) -> None:
        """Keep the secret that the keychain refused in memory only."""
        if self.secrets.keep_for_session():
            self.banner.kept_for_session()
            self._keyring_problem = (self.banner.message.text(), False)

    # -- save ---------------------------------------------------------------------------------
    def save_and_close(self) -> None:
        for page in self.pages:
            problem = page.validate(in_use=page.kind is self.active_kind)
            if problem is not None:
                self.error_label.setText(f"⚠ {problem.message}")
                self.error_label.show()
                self.kind_list.setCurrentRow(KIND_ORDER.index(page.kind))
                page.focus_problem(problem)
                return
        self.error_label.hide()
        conn = self.ctx.connections
        saved = conn.profiles()
        active_changed = self.active_kind is not conn.active_kind
        for page in self.pages:
            page.save()
            profile = page.edited()
            if profile.to_dict() != saved[page.kind].to_dict():
                # When the active connection changes, set_active below checks it once.
                conn.save_profile(profile, reconnect=not active_changed)
        if active_changed:
            conn.set_active(self.active_kind)
        self.accept()

    def done(self, result: int) -> None:
        self.ctx.connections.stop_test()
        super().done(result)

    # -- test connection ----------------------------------------------------------------------
    def test_connection(self) -> None:
        kind = self.current_kind()
        profile = self.pages[KIND_ORDER.index(kind)].edited()
        overrides: dict[str, str] = {}
        typed = self.api_key_page.typed_key()
        if kind is ConnectionKind.GEMINI_API and typed:
            overrides[API_KEY_SECRET] = typed
        self.test_button.setEnabled(False)
        self.test_status.say(f"Checking {profile.label}…")
        self.ctx.connections.test_profile(profile, self._on_test_ok, self._on_test_failed,
                                          secrets=SecretOverlay(self.ctx.secrets, overrides))

    def _on_test_ok(self, text: str) -> None:
        self.test_button.setEnabled(True)
        self.test_status.say(f"It works: {text}.", Tone.OK)

    def _on_test_failed(self, err: UserError) -> None:
        self.test_button.setEnabled(True)
        self.test_status.error(err)

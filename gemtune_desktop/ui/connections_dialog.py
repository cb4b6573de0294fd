"""Settings → Connections: the Sandbox, a Google Cloud project, or a Gemini API key.

The dialog edits the three connection profiles and chooses the one in use. Non-secret
fields are saved with the dialog's Save button; secrets (the API key, an imported
service-account key) are saved to, changed in and removed from the system keychain at
once, always on a worker thread because a keychain call can hang. When the keychain
cannot be used the dialog says so and offers to keep the secret for this session only.
"Test connection" checks the profile as edited (even an unsaved key) with a cheap call.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskGroup, TaskSlot
from gemtune_desktop.services.backend import API_KEY_SECRET, SERVICE_ACCOUNT_SECRET
from gemtune_desktop.services.connections import (
    AGENT_PLATFORM_REGIONS,
    AuthMode,
    Backend,
    ConnectionKind,
    ConnectionProfile,
)
from gemtune_desktop.services.secrets import KeyringStatus, KeyringUnavailable, SecretOverlay, SecretStore

log = logging.getLogger(__name__)

KIND_ORDER = (ConnectionKind.SANDBOX, ConnectionKind.AGENT_PLATFORM, ConnectionKind.GEMINI_API)
REGION_NAMES = {"us-central1": "us-central1 (Iowa, USA)", "europe-west4": "europe-west4 (Netherlands, EU)"}
PROJECT_RE = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
MAX_KEY_FILE_BYTES = 64 * 1024

EXPLANATIONS = {
    ConnectionKind.SANDBOX: (
        "<b>Try everything now, offline.</b> The Sandbox is a simulation that runs on this computer: no "
        "account, no cost, nothing leaves your machine. Tuning jobs, loss curves and the tuned model's "
        "answers are simulated, so you can learn the whole workflow before you connect a real service."),
    ConnectionKind.AGENT_PLATFORM: (
        "<b>Tune for real.</b> Uses your Google Cloud project (Gemini Enterprise Agent Platform, formerly "
        "Vertex AI). You need a project with the Vertex AI API enabled, a Cloud Storage bucket for the "
        "training file, and a way to sign in: Application Default Credentials (run "
        "<code>gcloud auth application-default login</code> once) or a service-account key file. "
        "Tuning jobs are billed to the project."),
    ConnectionKind.GEMINI_API: (
        "<b>Test base models with an API key.</b> A key from Google AI Studio lets you try prompts on the "
        "Test tab. Google turned tuning off for API keys in 2025, so to tune, connect a Google Cloud project "
        "instead."),
}


def _describe(widget: QWidget, name: str, tip: str) -> None:
    widget.setAccessibleName(name)
    widget.setToolTip(tip)


def _button(parent: QWidget, text: str, object_name: str, name: str, tip: str,
            on_click: Callable[[], object]) -> QPushButton:
    """A push button with its object name, accessible name and tooltip, calling ``on_click`` when clicked."""
    button = QPushButton(text, parent)
    button.setObjectName(object_name)
    _describe(button, name, tip)
    button.clicked.connect(lambda _checked=False: on_click())
    return button


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
        self._profiles: dict[ConnectionKind, ConnectionProfile] = conn.profiles()
        self._saved = {k: p.to_dict() for k, p in self._profiles.items()}
        self.active_kind: ConnectionKind = conn.active_kind
        self.keyring_status: KeyringStatus | None = None
        # Which secrets exist: "none" | "keyring" | "session" | "broken" (unreadable) | "unknown" (not asked yet).
        self.secret_state: dict[str, str] = {API_KEY_SECRET: "unknown", SERVICE_ACCOUNT_SECRET: "unknown"}
        self._pending: tuple[str, str] | None = None  # secret waiting for "keep for this session only"
        self._editing_key = False
        self._sa_email = ""
        # A note about the last secret action, shown instead of the plain state text.
        self._notes: dict[str, str] = {API_KEY_SECRET: "", SERVICE_ACCOUNT_SECRET: ""}
        self.use_buttons: dict[ConnectionKind, QPushButton] = {}
        self._keyring_task = TaskSlot(self, ctx.executor, "keyring overview")
        self._secret_tasks: TaskGroup[str] = TaskGroup(self, ctx.executor, "secret")

        layout = QVBoxLayout(self)
        intro = QLabel("Choose where GemTune sends your training data and prompts. Secrets such as an API key "
                       "are kept in your system keychain, never in a file.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        body = QHBoxLayout()
        self.kind_list = QListWidget(self)
        self.kind_list.setObjectName("connectionKinds")
        _describe(self.kind_list, "Connections", "Pick a connection to see and edit its settings")
        self.kind_list.setMaximumWidth(260)
        self.pages = QStackedWidget(self)
        for kind in KIND_ORDER:
            item = QListWidgetItem(kind.label)
            item.setData(Qt.ItemDataRole.UserRole, kind.value)
            self.kind_list.addItem(item)
        self.pages.addWidget(self._build_sandbox_page())
        self.pages.addWidget(self._build_cloud_page())
        self.pages.addWidget(self._build_api_key_page())
        body.addWidget(self.kind_list)
        body.addWidget(self.pages, 1)
        layout.addLayout(body, 1)

        layout.addWidget(self._build_keyring_banner())

        test_row = QHBoxLayout()
        self.test_button = _button(self, "Test connection", "testConnection", "Test connection",
                                   "Check the settings shown above with a quick, free call (listing the available "
                                   "models)", self.test_connection)
        self.test_result = QLabel("", self)
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        _describe(self.test_result, "Test result", "The answer of the last connection test")
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        layout.addLayout(test_row)

        self.error_label = QLabel("", self)
        self.error_label.setObjectName("dialogError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        _describe(self.error_label, "Problem with these settings", "What must be fixed before saving")
        self.error_label.hide()
        layout.addWidget(self.error_label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        _describe(save, "Save connections", "Save these settings and use the chosen connection")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        _describe(cancel, "Cancel", "Close without saving the settings (saved or removed keys stay as they are)")
        self.buttons.accepted.connect(self.save_and_close)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.kind_list.currentRowChanged.connect(self._on_page_changed)
        self._load_profiles()
        self.kind_list.setCurrentRow(KIND_ORDER.index(self.active_kind))
        self._refresh_active_marks()
        self._refresh_secret_widgets()
        self.check_keyring()

    # -- construction -------------------------------------------------------------------------
    def _page(self, kind: ConnectionKind) -> tuple[QWidget, QVBoxLayout, QFormLayout]:
        page = QWidget(self)
        page.setObjectName(f"page_{kind.value}")
        box = QVBoxLayout(page)
        title = QLabel(f"<h3>{kind.label}</h3>", page)
        box.addWidget(title)
        explain = QLabel(EXPLANATIONS[kind], page)
        explain.setObjectName(f"explain_{kind.value}")
        explain.setWordWrap(True)
        explain.setTextFormat(Qt.TextFormat.RichText)
        box.addWidget(explain)
        use = QPushButton("Use this connection", page)
        use.setObjectName(f"use_{kind.value}")
        _describe(use, f"Use {kind.label}", f"Make “{kind.label}” the connection the app uses (saved with Save)")
        use.clicked.connect(lambda _=False, k=kind: self.choose_active(k))
        row = QHBoxLayout()
        row.addWidget(use)
        row.addStretch(1)
        box.addLayout(row)
        self.use_buttons[kind] = use
        form = QFormLayout()
        box.addLayout(form)
        return page, box, form

    def _build_sandbox_page(self) -> QWidget:
        page, box, form = self._page(ConnectionKind.SANDBOX)
        self.sandbox_api = QComboBox(page)
        self.sandbox_api.setObjectName("sandboxApi")
        self.sandbox_api.addItem("Agent Platform (Google Cloud tuning)", Backend.AGENT_PLATFORM.value)
        self.sandbox_api.addItem("Gemini API (the older API-key tuning)", Backend.GEMINI_API.value)
        _describe(self.sandbox_api, "Simulated service",
                  "Which Google service the Sandbox pretends to be when you tune; Agent Platform is what you "
                  "will use for real tuning")
        form.addRow("Simulate tuning on:", self.sandbox_api)
        self.sandbox_speed = QDoubleSpinBox(page)
        self.sandbox_speed.setObjectName("sandboxSpeed")
        self.sandbox_speed.setRange(0.5, 200.0)
        self.sandbox_speed.setDecimals(1)
        self.sandbox_speed.setSuffix(" steps per second")
        self.sandbox_speed.setValue(float(self.ctx.settings.get(S.SANDBOX_STEPS_PER_SECOND)))
        _describe(self.sandbox_speed, "Simulated training speed",
                  "How fast simulated tuning jobs advance; higher finishes sooner")
        form.addRow("Training speed:", self.sandbox_speed)
        box.addStretch(1)
        return page

    def _build_cloud_page(self) -> QWidget:
        page, box, form = self._page(ConnectionKind.AGENT_PLATFORM)
        self.project_edit = QLineEdit(page)
        self.project_edit.setObjectName("cloudProject")
        self.project_edit.setPlaceholderText("for example my-tuning-project")
        _describe(self.project_edit, "Google Cloud project ID",
                  "The project ID (not its display name) shown in the Cloud console's project picker")
        form.addRow("Project ID:", self.project_edit)
        self.region_combo = QComboBox(page)
        self.region_combo.setObjectName("cloudRegion")
        for region in AGENT_PLATFORM_REGIONS:
            self.region_combo.addItem(REGION_NAMES.get(region, region), region)
        _describe(self.region_combo, "Region", "Where tuning jobs run; tuned models are served from the matching "
                  "US or EU endpoint")
        form.addRow("Region:", self.region_combo)
        self.bucket_edit = QLineEdit(page)
        self.bucket_edit.setObjectName("cloudBucket")
        self.bucket_edit.setPlaceholderText("for example my-tuning-data (gs:// is optional)")
        _describe(self.bucket_edit, "Cloud Storage bucket",
                  "The bucket the training file is uploaded to before tuning; it should be in the same region")
        form.addRow("Storage bucket:", self.bucket_edit)

        auth_box = QFrame(page)
        auth_layout = QVBoxLayout(auth_box)
        auth_layout.setContentsMargins(0, 0, 0, 0)
        self.auth_adc = QRadioButton("Application Default Credentials (gcloud sign-in on this computer)", auth_box)
        self.auth_adc.setObjectName("authAdc")
        _describe(self.auth_adc, "Sign in with Application Default Credentials",
                  "Uses the sign-in made with “gcloud auth application-default login”")
        self.auth_sa = QRadioButton("Service-account key file", auth_box)
        self.auth_sa.setObjectName("authServiceAccount")
        _describe(self.auth_sa, "Sign in with a service-account key",
                  "Uses a JSON key file downloaded from the Cloud console (IAM → Service accounts)")
        self.auth_group = QButtonGroup(self)
        self.auth_group.addButton(self.auth_adc)
        self.auth_group.addButton(self.auth_sa)
        auth_layout.addWidget(self.auth_adc)
        auth_layout.addWidget(self.auth_sa)
        form.addRow("Sign in with:", auth_box)

        file_row = QHBoxLayout()
        self.key_file_edit = QLineEdit(page)
        self.key_file_edit.setObjectName("keyFile")
        self.key_file_edit.setPlaceholderText("path to the service-account .json file")
        _describe(self.key_file_edit, "Service-account key file", "The JSON key file of the service account")
        self.browse_button = _button(page, "Browse…", "browseKeyFile", "Choose the key file",
                                     "Pick the service-account JSON key file", self._browse_key_file)
        file_row.addWidget(self.key_file_edit, 1)
        file_row.addWidget(self.browse_button)
        form.addRow("Key file:", file_row)

        sa_row = QHBoxLayout()
        self.import_key_button = _button(page, "Keep a copy in the keychain", "importKey",
                                         "Import the key into the system keychain",
                                         "Stores the key file's contents in your system keychain, so you can delete "
                                         "the file afterwards", self.import_service_account_key)
        self.remove_sa_button = _button(page, "Remove from keychain", "removeServiceAccount",
                                        "Remove the service-account key from the keychain",
                                        "Deletes the stored copy of the key; the key file itself is not touched",
                                        self.remove_service_account_key)
        sa_row.addWidget(self.import_key_button)
        sa_row.addWidget(self.remove_sa_button)
        sa_row.addStretch(1)
        form.addRow("", sa_row)
        self.sa_status = QLabel("", page)
        self.sa_status.setObjectName("serviceAccountStatus")
        self.sa_status.setWordWrap(True)
        self.sa_status.setTextFormat(Qt.TextFormat.PlainText)
        _describe(self.sa_status, "Service-account key status", "Whether a key is stored in the keychain")
        form.addRow("", self.sa_status)
        self.auth_adc.toggled.connect(lambda _on: self._refresh_secret_widgets())
        self.key_file_edit.textChanged.connect(lambda _t: self._refresh_secret_widgets())
        box.addStretch(1)
        return page

    def _build_api_key_page(self) -> QWidget:
        page, box, form = self._page(ConnectionKind.GEMINI_API)
        key_row = QHBoxLayout()
        self.api_key_edit = QLineEdit(page)
        self.api_key_edit.setObjectName("apiKey")
        self.api_key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key_edit.setPlaceholderText("paste your API key (starts with AIza)")
        _describe(self.api_key_edit, "Gemini API key",
                  "The key from Google AI Studio (aistudio.google.com → Get API key); it is hidden as you type")
        self.show_key_button = QPushButton("Show", page)
        self.show_key_button.setObjectName("showKey")
        self.show_key_button.setCheckable(True)
        _describe(self.show_key_button, "Show or hide the API key", "Show the key you typed, to check it")
        self.show_key_button.toggled.connect(self._toggle_key_visible)
        key_row.addWidget(self.api_key_edit, 1)
        key_row.addWidget(self.show_key_button)
        form.addRow("API key:", key_row)

        buttons = QHBoxLayout()
        self.save_key_button = _button(page, "Save key", "saveKey", "Save the API key",
                                       "Store the key in your system keychain", self.save_api_key)
        self.change_key_button = _button(page, "Change key…", "changeKey", "Change the API key",
                                         "Enter a new key to replace the saved one", self.start_change_key)
        self.remove_key_button = _button(page, "Remove key", "removeKey", "Remove the API key",
                                         "Delete the saved key from this computer", self.remove_api_key)
        for button in (self.save_key_button, self.change_key_button, self.remove_key_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        form.addRow("", buttons)
        self.key_status = QLabel("", page)
        self.key_status.setObjectName("keyStatus")
        self.key_status.setWordWrap(True)
        self.key_status.setTextFormat(Qt.TextFormat.PlainText)
        _describe(self.key_status, "API key status", "Whether a key is saved, and where")
        form.addRow("", self.key_status)
        self.api_key_edit.textChanged.connect(lambda _t: self._refresh_secret_widgets())
        box.addStretch(1)
        return page

    def _build_keyring_banner(self) -> QWidget:
        self.keyring_banner = QFrame(self)
        self.keyring_banner.setObjectName("keyringBanner")
        self.keyring_banner.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(self.keyring_banner)
        self.keyring_message = QLabel("", self.keyring_banner)
        self.keyring_message.setObjectName("keyringMessage")
        self.keyring_message.setWordWrap(True)
        self.keyring_message.setTextFormat(Qt.TextFormat.PlainText)
        _describe(self.keyring_message, "Keychain problem", "Why secrets cannot be saved in the keychain")
        self.session_only_button = _button(self.keyring_banner, "Keep for this session only", "keepForSession",
                                           "Keep the secret for this session only",
                                           "Keep the secret in memory until you close GemTune; nothing is written to "
                                           "disk, and you will enter it again next time", self.keep_for_session)
        row.addWidget(self.keyring_message, 1)
        row.addWidget(self.session_only_button)
        self.keyring_banner.hide()
        return self.keyring_banner

    # -- profiles -----------------------------------------------------------------------------
    def _load_profiles(self) -> None:
        sandbox = self._profiles[ConnectionKind.SANDBOX]
        self.sandbox_api.setCurrentIndex(max(0, self.sandbox_api.findData(sandbox.sandbox_backend.value)))
        cloud = self._profiles[ConnectionKind.AGENT_PLATFORM]
        self.project_edit.setText(cloud.project)
        self.region_combo.setCurrentIndex(max(0, self.region_combo.findData(cloud.region)))
        self.bucket_edit.setText(cloud.bucket)
        (self.auth_sa if cloud.auth_mode is AuthMode.SERVICE_ACCOUNT else self.auth_adc).setChecked(True)
        self.key_file_edit.setText(cloud.service_account_file)

    def edited_profile(self, kind: ConnectionKind) -> ConnectionProfile:
        """The profile of ``kind`` as currently shown in the dialog."""
        base = ConnectionProfile.from_dict(self._profiles[kind].to_dict())
        if kind is ConnectionKind.SANDBOX:
            base.sandbox_backend = Backend(self.sandbox_api.currentData())
        elif kind is ConnectionKind.AGENT_PLATFORM:
            base.project = self.project_edit.text().strip()
            base.region = str(self.region_combo.currentData())
            base.bucket = normalize_bucket(self.bucket_edit.text())
            base.auth_mode = AuthMode.SERVICE_ACCOUNT if self.auth_sa.isChecked() else AuthMode.ADC
            base.service_account_file = self.key_file_edit.text().strip()
        return base

    def current_kind(self) -> ConnectionKind:
        return KIND_ORDER[max(0, self.kind_list.currentRow())]

    def _on_page_changed(self, row: int) -> None:
        if row >= 0:
            self.pages.setCurrentIndex(row)
            self.test_result.clear()

    def choose_active(self, kind: ConnectionKind) -> None:
        self.active_kind = kind
        self._refresh_active_marks()

    def _refresh_active_marks(self) -> None:
        for row, kind in enumerate(KIND_ORDER):
            item = self.kind_list.item(row)
            in_use = kind is self.active_kind
            item.setText(f"{kind.label}{'  ✔ in use' if in_use else ''}")
            button = self.use_buttons[kind]
            button.setText("✔ In use" if in_use else "Use this connection")
            button.setEnabled(not in_use)

    def validate(self) -> str:
        """A plain-words problem that blocks saving, or an empty string."""
        cloud = self.edited_profile(ConnectionKind.AGENT_PLATFORM)
        if cloud.project and not PROJECT_RE.match(cloud.project):
            return ("The Google Cloud project ID should be 6–30 characters: lowercase letters, digits and "
                    "hyphens, starting with a letter (for example my-tuning-project).")
        if cloud.bucket and not BUCKET_RE.match(cloud.bucket):
            return ("The bucket name should use lowercase letters, digits, dots, hyphens or underscores "
                    "(for example my-tuning-data).")
        if self.active_kind is ConnectionKind.AGENT_PLATFORM and not cloud.project:
            return "To use Google Cloud, enter the project ID (or choose another connection)."
        return ""

    def save_and_close(self) -> None:
        problem = self.validate()
        if problem:
            self.error_label.setText(f"⚠ {problem}")
            self.error_label.show()
            # Every check is about the Google Cloud fields: show them, with the cursor in the first one.
            self.kind_list.setCurrentRow(KIND_ORDER.index(ConnectionKind.AGENT_PLATFORM))
            (self.bucket_edit if "bucket" in problem else self.project_edit).setFocus()
            return
        self.error_label.hide()
        conn = self.ctx.connections
        self.ctx.settings.set(S.SANDBOX_STEPS_PER_SECOND, float(self.sandbox_speed.value()))
        active_changed = self.active_kind is not conn.active_kind
        for kind in KIND_ORDER:
            profile = self.edited_profile(kind)
            if profile.to_dict() != self._saved[kind]:
                # When the active connection changes, set_active below checks it once.
                conn.save_profile(profile, reconnect=not active_changed)
        if active_changed:
            conn.set_active(self.active_kind)
        self.accept()

    def done(self, result: int) -> None:
        self.ctx.connections.stop_test()
        super().done(result)

    # -- keyring ------------------------------------------------------------------------------
    def check_keyring(self) -> None:
        """Ask the keychain (off the GUI thread) whether it works and which secrets it holds."""
        self._keyring_task.start(_keyring_overview, self.ctx.secrets,
                                 on_result=self._on_keyring_overview, on_error=self._on_keyring_error)

    def _on_keyring_overview(self, overview: dict[str, Any]) -> None:
        self.keyring_status = overview["status"]
        self.secret_state.update(overview["secrets"])
        self._sa_email = overview.get("sa_email", "")
        for name, problem in overview.get("problems", {}).items():
            self._notes[name] = problem
        if not self.keyring_status.usable:
            self._show_keyring_problem(self.keyring_status.message, self.keyring_status.hint, offer=False)
        self._refresh_secret_widgets()

    def _on_keyring_error(self, err: UserError) -> None:
        self.keyring_status = KeyringStatus(False, err.message, err.hint)
        self._show_keyring_problem(err.message, err.hint, offer=False)
        self._refresh_secret_widgets()

    def _show_keyring_problem(self, message: str, hint: str, offer: bool) -> None:
        text = f"⚠ {message}"
        if offer:
            text += " You can keep it for this session only: it stays in memory until you close GemTune, " \
                    "nothing is written to disk, and you will enter it again next time."
        elif hint:
            text += f" {hint}"
        self.keyring_message.setText(text)
        self.session_only_button.setVisible(offer)
        self.keyring_banner.show()

    def keep_for_session(self) -> None:
        """Keep the secret that the keychain refused in memory only."""
        if self._pending is None:
            return
        name, value = self._pending
        self._pending = None
        self.ctx.secrets.set(name, value, remember=False)
        self.secret_state[name] = "session"
        if name == API_KEY_SECRET:
            self.api_key_edit.clear()
            self._editing_key = False
        else:
            self._profiles[ConnectionKind.AGENT_PLATFORM].service_account_in_keyring = True
            self._sa_email = _client_email(value)
        self.session_only_button.hide()
        self.keyring_message.setText("Kept for this session only. You will need to enter it again next time "
                                     "you open GemTune.")
        self._notes[name] = ""
        self._secret_changed(name)
        self._refresh_secret_widgets()

    def _store_secret(self, name: str, value: str, done_text: str) -> None:
        def on_saved(_result: object) -> None:
            self.secret_state[name] = "keyring"
            if name == API_KEY_SECRET:
                self.api_key_edit.clear()
                self._editing_key = False
            else:
                self._profiles[ConnectionKind.AGENT_PLATFORM].service_account_in_keyring = True
                self._sa_email = _client_email(value)
            self.keyring_banner.hide()
            self._set_secret_message(name, done_text)
            self._secret_changed(name)
            self._refresh_secret_widgets()

        def on_failed(err: UserError) -> None:
            if isinstance(err, KeyringUnavailable):
                self._pending = (name, value)
                self._show_keyring_problem(err.message, err.hint, offer=True)
                self._set_secret_message(name, "✖ Not saved: the system keychain cannot be used (see below).")
            else:
                self._set_secret_message(name, f"✖ {err.message} {err.hint}".strip())

        self._notes[name] = "Saving in the system keychain…"
        self._secret_tasks.start(name, _set_secret, self.ctx.secrets, name, value,
                                 on_result=on_saved, on_error=on_failed, on_finished=self._refresh_secret_widgets)
        self._refresh_secret_widgets()

    def _remove_secret(self, name: str, done_text: str) -> None:
        def on_removed(_result: object) -> None:
            self.secret_state[name] = "none"
            if name == SERVICE_ACCOUNT_SECRET:
                self._profiles[ConnectionKind.AGENT_PLATFORM].service_account_in_keyring = False
                self._sa_email = ""
            self._set_secret_message(name, done_text)
            self._secret_changed(name)
            self._refresh_secret_widgets()

        def on_failed(err: UserError) -> None:
            self._set_secret_message(name, f"✖ {err.message} {err.hint}".strip())

        self._notes[name] = "Removing…"
        self._secret_tasks.start(name, _delete_secret, self.ctx.secrets, name,
                                 on_result=on_removed, on_error=on_failed, on_finished=self._refresh_secret_widgets)
        self._refresh_secret_widgets()

    def _set_secret_message(self, name: str, text: str) -> None:
        self._notes[name] = text
        self._refresh_secret_widgets()

    def _secret_changed(self, name: str) -> None:
        """The in-use connection reconnects when its secret changed."""
        conn = self.ctx.connections
        uses = {API_KEY_SECRET: ConnectionKind.GEMINI_API, SERVICE_ACCOUNT_SECRET: ConnectionKind.AGENT_PLATFORM}
        if name == SERVICE_ACCOUNT_SECRET:
            # The profile remembers that its key lives in the keychain.
            profile = conn.profiles()[ConnectionKind.AGENT_PLATFORM]
            profile.service_account_in_keyring = self.secret_state[name] in ("keyring", "session")
            conn.save_profile(profile)
            self._saved[ConnectionKind.AGENT_PLATFORM]["service_account_in_keyring"] = \
                profile.service_account_in_keyring
        elif conn.active_kind is uses[name]:
            conn.reconnect()

    # -- API key ------------------------------------------------------------------------------
    def _toggle_key_visible(self, visible: bool) -> None:
        self.api_key_edit.setEchoMode(QLineEdit.EchoMode.Normal if visible else QLineEdit.EchoMode.Password)
        self.show_key_button.setText("Hide" if visible else "Show")
        self.show_key_button.setToolTip("Hide the key again" if visible else "Show the key you typed, to check it")

    def save_api_key(self) -> None:
        key = self.api_key_edit.text().strip()
        if not key:
            self._set_secret_message(API_KEY_SECRET, "✖ Paste your API key first.")
            return
        if any(ch.isspace() for ch in key):
            self._set_secret_message(API_KEY_SECRET, "✖ The key contains spaces or line breaks; copy it again "
                                                     "from AI Studio.")
            return
        self._store_secret(API_KEY_SECRET, key, "✔ The API key is saved in the system keychain.")

    def start_change_key(self) -> None:
        self._editing_key = True
        self.api_key_edit.clear()
        self._refresh_secret_widgets()
        self.api_key_edit.setFocus()
        self._set_secret_message(API_KEY_SECRET, "Paste the new key and press Save key. The old key stays "
                                                 "until then.")

    def remove_api_key(self) -> None:
        self._editing_key = False
        self.api_key_edit.clear()
        self._remove_secret(API_KEY_SECRET, "The API key was removed from this computer.")

    # -- service-account key -------------------------------------------------------------------
    def _browse_key_file(self) -> None:
        start = self.key_file_edit.text() or str(Path.home())
        path, _filter = QFileDialog.getOpenFileName(self, "Choose the service-account key", start,
                                                    "JSON key files (*.json);;All files (*)")
        if path:
            self.key_file_edit.setText(path)
            self.auth_sa.setChecked(True)

    def import_service_account_key(self) -> None:
        path = self.key_file_edit.text().strip()
        try:
            raw = read_service_account_file(path)
        except UserError as err:
            self._set_secret_message(SERVICE_ACCOUNT_SECRET, f"✖ {err.message} {err.hint}".strip())
            return
        self.auth_sa.setChecked(True)
        self._store_secret(SERVICE_ACCOUNT_SECRET, raw,
                           "✔ The key is stored in the system keychain. You may delete the key file now.")

    def remove_service_account_key(self) -> None:
        self._remove_secret(SERVICE_ACCOUNT_SECRET, "The stored service-account key was removed.")

    # -- widgets state ------------------------------------------------------------------------
    def _refresh_secret_widgets(self) -> None:
        key_state = self.secret_state[API_KEY_SECRET]
        has_key = key_state in ("keyring", "session")
        busy = self._secret_tasks.is_running(API_KEY_SECRET)
        editing = self._editing_key or not has_key
        self.api_key_edit.setEnabled(editing and not busy)
        self.show_key_button.setEnabled(editing and not busy)
        self.api_key_edit.setPlaceholderText("paste your API key (starts with AIza)" if editing
                                             else "•••••••• (a key is saved)")
        self.save_key_button.setEnabled(editing and bool(self.api_key_edit.text().strip()) and not busy)
        self.change_key_button.setEnabled(has_key and not self._editing_key and not busy)
        self.remove_key_button.setEnabled((has_key or key_state == "broken") and not busy)
        self.key_status.setText(self._notes[API_KEY_SECRET] or {
            "keyring": "A key is saved in the system keychain.",
            "session": "A key is kept for this session only (not saved on this computer).",
            "none": "No key saved yet.",
            "broken": "The saved key cannot be read; remove it and save it again.",
            "unknown": "Checking the system keychain…",
        }[key_state])

        sa_mode = self.auth_sa.isChecked()
        sa_state = self.secret_state[SERVICE_ACCOUNT_SECRET]
        has_sa = sa_state in ("keyring", "session")
        sa_busy = self._secret_tasks.is_running(SERVICE_ACCOUNT_SECRET)
        for widget in (self.key_file_edit, self.browse_button):
            widget.setEnabled(sa_mode)
        self.import_key_button.setEnabled(sa_mode and bool(self.key_file_edit.text().strip()) and not sa_busy)
        self.remove_sa_button.setEnabled((has_sa or sa_state == "broken") and not sa_busy)
        who = f" ({self._sa_email})" if self._sa_email else ""
        self.sa_status.setText(self._notes[SERVICE_ACCOUNT_SECRET] or {
            "keyring": f"A service-account key{who} is stored in the system keychain and is used instead of "
                       "the file.",
            "session": f"A service-account key{who} is kept for this session only.",
            "none": "No key stored in the keychain; the key file is read when needed." if sa_mode else "",
            "broken": "The stored key cannot be read; remove it and import it again.",
            "unknown": "",
        }[sa_state])

    # -- test connection ----------------------------------------------------------------------
    def test_connection(self) -> None:
        kind = self.current_kind()
        profile = self.edited_profile(kind)
        overrides: dict[str, str] = {}
        typed = self.api_key_edit.text().strip()
        if kind is ConnectionKind.GEMINI_API and typed:
            overrides[API_KEY_SECRET] = typed
        self.test_button.setEnabled(False)
        self.test_result.setText(f"Checking {profile.label}…")
        self.ctx.connections.test_profile(profile, self._on_test_ok, self._on_test_failed,
                                          secrets=SecretOverlay(self.ctx.secrets, overrides))

    def _on_test_ok(self, text: str) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setText(f"✔ It works: {text}.")

    def _on_test_failed(self, err: UserError) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setText(f"✖ {err.message} {err.hint}".strip())


# -- worker functions (run on a pool thread) ---------------------------------------------------
def _keyring_overview(token: CancelToken, store: SecretStore) -> dict[str, Any]:
    """Whether the keychain works, and which secrets exist (in the keychain or this session)."""
    status = store.probe()
    secrets: dict[str, str] = {}
    problems: dict[str, str] = {}
    sa_email = ""
    for name in (API_KEY_SECRET, SERVICE_ACCOUNT_SECRET):
        token.check()
        if store.is_session_only(name):
            secrets[name] = "session"
            value = store.get(name) or ""
        elif status.usable:
            try:
                value = store.get(name) or ""
            except KeyringUnavailable as err:
                value = ""
                problems[name] = f"✖ {err.message} {err.hint}".strip()
            secrets[name] = "keyring" if value else "broken" if name in problems else "none"
        else:
            value = ""
            secrets[name] = "none"
        if name == SERVICE_ACCOUNT_SECRET and value:
            sa_email = _client_email(value)
    return {"status": status, "secrets": secrets, "sa_email": sa_email, "problems": problems}


def _set_secret(token: CancelToken, store: SecretStore, name: str, value: str) -> None:
    store.set(name, value)


def _delete_secret(token: CancelToken, store: SecretStore, name: str) -> None:
    store.delete(name)


def _client_email(raw: str) -> str:
    try:
        info = json.loads(raw)
    except ValueError:
        return ""
    return str(info.get("client_email", "")) if isinstance(info, dict) else ""


def normalize_bucket(text: str) -> str:
    """``gs://my-bucket/`` → ``my-bucket``."""
    value = text.strip()
    if value.lower().startswith("gs://"):
        value = value[5:]
    return value.strip("/").split("/")[0]


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

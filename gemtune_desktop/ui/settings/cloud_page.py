"""The Google Cloud (Agent Platform) page: project, region, bucket, and how to sign in (gcloud or a key file)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.services.backend import SERVICE_ACCOUNT_SECRET
from gemtune_desktop.services.connections import (
    AGENT_PLATFORM_REGIONS,
    AuthMode,
    ConnectionKind,
    ConnectionProfile,
    ProfileProblem,
    check_profile,
    normalize_bucket,
)
from gemtune_desktop.services.secrets import SecretState, read_service_account_file
from gemtune_desktop.ui.settings.page import ConnectionPage, describe, push_button
from gemtune_desktop.ui.settings.secrets_controller import SecretsController
from gemtune_desktop.ui.widgets.status_line import error_text

REGION_NAMES = {"us-central1": "us-central1 (Iowa, USA)", "europe-west4": "europe-west4 (Netherlands, EU)"}


class CloudPage(ConnectionPage):
    def __init__(self, secrets: SecretsController, parent: QWidget | None = None) -> None:
        super().__init__(ConnectionKind.AGENT_PLATFORM, parent)
        self.secrets = secrets
        self.project_edit = QLineEdit(self)
        self.project_edit.setObjectName("cloudProject")
        self.project_edit.setPlaceholderText("for example my-tuning-project")
        describe(self.project_edit, "Google Cloud project ID",
                 "The project ID (not its display name) shown in the Cloud console's project picker")
        self.form.addRow("Project ID:", self.project_edit)
        self.region_combo = QComboBox(self)
        self.region_combo.setObjectName("cloudRegion")
        for region in AGENT_PLATFORM_REGIONS:
            self.region_combo.addItem(REGION_NAMES.get(region, region), region)
        describe(self.region_combo, "Region", "Where tuning jobs run; tuned models are served from the matching "
                 "US or EU endpoint")
        self.form.addRow("Region:", self.region_combo)
        self.bucket_edit = QLineEdit(self)
        self.bucket_edit.setObjectName("cloudBucket")
        self.bucket_edit.setPlaceholderText("for example my-tuning-data (gs:// is optional)")
        describe(self.bucket_edit, "Cloud Storage bucket",
                 "The bucket the training file is uploaded to before tuning; it should be in the same region")
        self.form.addRow("Storage bucket:", self.bucket_edit)
        self.form.addRow("Sign in with:", self._build_auth())
        self._build_key_file_rows()
        self.box.addStretch(1)
        secrets.changed.connect(self.refresh)
        secrets.stored.connect(lambda name: self._kept(name, True))
        secrets.removed.connect(lambda name: self._kept(name, False))

    def _build_auth(self) -> QFrame:
        auth_box = QFrame(self)
        auth_layout = QVBoxLayout(auth_box)
        auth_layout.setContentsMargins(0, 0, 0, 0)
        self.auth_adc = QRadioButton("Application Default Credentials (gcloud sign-in on this computer)", auth_box)
        self.auth_adc.setObjectName("authAdc")
        describe(self.auth_adc, "Sign in with Application Default Credentials",
                 "Uses the sign-in made with “gcloud auth application-default login”")
        self.auth_sa = QRadioButton("Service-account key file", auth_box)
        self.auth_sa.setObjectName("authServiceAccount")
        describe(self.auth_sa, "Sign in with a service-account key",
                 "Uses a JSON key file downloaded from the Cloud console (IAM → Service accounts)")
        self.auth_group = QButtonGroup(self)
        self.auth_group.addButton(self.auth_adc)
        self.auth_group.addButton(self.auth_sa)
        auth_layout.addWidget(self.auth_adc)
        auth_layout.addWidget(self.auth_sa)
        self.auth_adc.toggled.connect(lambda _on: self.refresh())
        return auth_box

    def _build_key_file_rows(self) -> None:
        file_row = QHBoxLayout()
        self.key_file_edit = QLineEdit(self)
        self.key_file_edit.setObjectName("keyFile")
        self.key_file_edit.setPlaceholderText("path to the service-account .json file")
        describe(self.key_file_edit, "Service-account key file", "The JSON key file of the service account")
        self.browse_button = push_button(self, "Browse…", "browseKeyFile", "Choose the key file",
                                         "Pick the service-account JSON key file")
        self.browse_button.clicked.connect(self._browse_key_file)
        file_row.addWidget(self.key_file_edit, 1)
        file_row.addWidget(self.browse_button)
        self.form.addRow("Key file:", file_row)
        sa_row = QHBoxLayout()
        self.import_button = push_button(self, "Keep a copy in the keychain", "importKey",
                                         "Import the key into the system keychain",
                                         "Stores the key file's contents in your system keychain, so you can delete "
                                         "the file afterwards")
        self.import_button.clicked.connect(self.import_key)
        self.remove_button = push_button(self, "Remove from keychain", "removeServiceAccount",
                                         "Remove the service-account key from the keychain",
                                         "Deletes the stored copy of the key; the key file itself is not touched")
        self.remove_button.clicked.connect(self.remove_key)
        sa_row.addWidget(self.import_button)
        sa_row.addWidget(self.remove_button)
        sa_row.addStretch(1)
        self.form.addRow("", sa_row)
        self.status = QLabel("", self)
        self.status.setObjectName("serviceAccountStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        describe(self.status, "Service-account key status", "Whether a key is stored in the keychain")
        self.form.addRow("", self.status)
        self.key_file_edit.textChanged.connect(lambda _t: self.refresh())

    # -- SettingsPage ---------------------------------------------------------------------
    def load(self, profile: ConnectionProfile) -> None:
        super().load(profile)
        self.project_edit.setText(profile.project)
        self.region_combo.setCurrentIndex(max(0, self.region_combo.findData(profile.region)))
        self.bucket_edit.setText(profile.bucket)
        (self.auth_sa if profile.auth_mode is AuthMode.SERVICE_ACCOUNT else self.auth_adc).setChecked(True)
        self.key_file_edit.setText(profile.service_account_file)

    def edited(self) -> ConnectionProfile:
        profile = super().edited()
        profile.project = self.project_edit.text().strip()
        profile.region = str(self.region_combo.currentData())
        profile.bucket = normalize_bucket(self.bucket_edit.text())
        profile.auth_mode = AuthMode.SERVICE_ACCOUNT if self.auth_sa.isChecked() else AuthMode.ADC
        profile.service_account_file = self.key_file_edit.text().strip()
        return profile

    def needs_secret(self) -> bool:
        """Only a service-account key can be kept in the keychain; gcloud's sign-in is not GemTune's to keep."""
        return self.auth_sa.isChecked()

    def validate(self, in_use: bool) -> ProfileProblem | None:
        return check_profile(self.edited(), in_use)

    def focus_problem(self, problem: ProfileProblem) -> None:
        (self.bucket_edit if problem.field == "bucket" else self.project_edit).setFocus()

    # -- the service-account key -----------------------------------------------------------
    def _browse_key_file(self) -> None:
        start = self.key_file_edit.text() or str(Path.home())
        path, _filter = QFileDialog.getOpenFileName(self, "Choose the service-account key", start,
                                                    "JSON key files (*.json);;All files (*)")
        if path:
            self.key_file_edit.setText(path)
            self.auth_sa.setChecked(True)

    def import_key(self) -> None:
        try:
            raw = read_service_account_file(self.key_file_edit.text().strip())
        except UserError as err:
            self.secrets.note(SERVICE_ACCOUNT_SECRET, error_text(err))
            return
        self.auth_sa.setChecked(True)
        self.secrets.store(SERVICE_ACCOUNT_SECRET, raw,
                           "✔ The key is stored in the system keychain. You may delete the key file now.")

    def remove_key(self) -> None:
        self.secrets.remove(SERVICE_ACCOUNT_SECRET, "The stored service-account key was removed.")

    def _kept(self, name: str, kept: bool) -> None:
        if name == SERVICE_ACCOUNT_SECRET:
            self._profile.service_account_in_keyring = kept

    def refresh(self) -> None:
        sa_mode = self.auth_sa.isChecked()
        state = self.secrets.state(SERVICE_ACCOUNT_SECRET)
        busy = self.secrets.busy(SERVICE_ACCOUNT_SECRET)
        for widget in (self.key_file_edit, self.browse_button):
            widget.setEnabled(sa_mode)
        self.import_button.setEnabled(sa_mode and bool(self.key_file_edit.text().strip()) and not busy)
        self.remove_button.setEnabled((state.present or state is SecretState.BROKEN) and not busy)
        email = self.secrets.service_account_email
        who = f" ({email})" if email else ""
        self.status.setText(self.secrets.notes[SERVICE_ACCOUNT_SECRET] or {
            SecretState.KEYRING: f"A service-account key{who} is stored in the system keychain and is used instead "
                                 "of the file.",
            SecretState.SESSION: f"A service-account key{who} is kept for this session only.",
            SecretState.NONE: "No key stored in the keychain; the key file is read when needed." if sa_mode else "",
            SecretState.BROKEN: "The stored key cannot be read; remove it and import it again.",
            SecretState.UNKNOWN: "",
        }[state])

"""The Gemini API key page: paste, save, change or remove the key (kept in the system keychain, never in a file)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from gemtune_desktop.services.backend import API_KEY_SECRET
from gemtune_desktop.services.connections import ConnectionKind
from gemtune_desktop.services.secrets import SecretState
from gemtune_desktop.ui.settings.page import ConnectionPage, describe, push_button
from gemtune_desktop.ui.settings.secrets_controller import SecretsController

STATE_TEXT = {
    SecretState.KEYRING: "A key is saved in the system keychain.",
    SecretState.SESSION: "A key is kept for this session only (not saved on this computer).",
    SecretState.NONE: "No key saved yet.",
    SecretState.BROKEN: "The saved key cannot be read; remove it and save it again.",
    SecretState.UNKNOWN: "Checking the system keychain…",
}

#: What the key field shows while a key is kept (never "saved" for a key kept for this session only).
SAVED_PLACEHOLDER = {
    SecretState.KEYRING: "•••••••• (a key is saved)",
    SecretState.SESSION: "•••••••• (kept for this session only)",
}


class ApiKeyPage(ConnectionPage):
    def __init__(self, secrets: SecretsController, parent: QWidget | None = None) -> None:
        super().__init__(ConnectionKind.GEMINI_API, parent)
        self.secrets = secrets
        self._editing = False
        key_row = QHBoxLayout()
        self.key_edit = QLineEdit(self)
        self.key_edit.setObjectName("apiKey")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("paste your API key (starts with AIza)")
        describe(self.key_edit, "Gemini API key",
                 "The key from Google AI Studio (aistudio.google.com → Get API key); it is hidden as you type")
        self.show_key_button = QPushButton("Show", self)
        self.show_key_button.setObjectName("showKey")
        self.show_key_button.setCheckable(True)
        describe(self.show_key_button, "Show or hide the API key", "Show the key you typed, to check it")
        self.show_key_button.toggled.connect(self._toggle_visible)
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.show_key_button)
        self.form.addRow("API key:", key_row)
        buttons = QHBoxLayout()
        self.save_button = push_button(self, "Save key", "saveKey", "Save the API key",
                                       "Store the key in your system keychain")
        self.change_button = push_button(self, "Change key…", "changeKey", "Change the API key",
                                         "Enter a new key to replace the saved one")
        self.remove_button = push_button(self, "Remove key", "removeKey", "Remove the API key",
                                         "Delete the saved key from this computer")
        for button, slot in ((self.save_button, self.save_key), (self.change_button, self.start_change),
                             (self.remove_button, self.remove_key)):
            button.clicked.connect(lambda _checked=False, s=slot: s())
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.form.addRow("", buttons)
        self.status = QLabel("", self)
        self.status.setObjectName("keyStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        describe(self.status, "API key status", "Whether a key is saved, and where")
        self.form.addRow("", self.status)
        self.key_edit.textChanged.connect(lambda _t: self.refresh())
        self.box.addStretch(1)
        secrets.changed.connect(self.refresh)
        secrets.stored.connect(self._kept)

    def needs_secret(self) -> bool:
        return True

    def typed_key(self) -> str:
        return self.key_edit.text().strip()

    def _toggle_visible(self, visible: bool) -> None:
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Normal if visible else QLineEdit.EchoMode.Password)
        self.show_key_button.setText("Hide" if visible else "Show")
        self.show_key_button.setToolTip("Hide the key again" if visible else "Show the key you typed, to check it")

    def save_key(self) -> None:
        key = self.typed_key()
        if not key:
            self.secrets.note(API_KEY_SECRET, "✖ Paste your API key first.")
            return
        if any(ch.isspace() for ch in key):
            self.secrets.note(API_KEY_SECRET, "✖ The key contains spaces or line breaks; copy it again from AI Studio.")
            return
        self.secrets.store(API_KEY_SECRET, key, "✔ The API key is saved in the system keychain.")

    def start_change(self) -> None:
        self._editing = True
        self.key_edit.clear()
        self.refresh()
        self.key_edit.setFocus()
        self.secrets.note(API_KEY_SECRET, "Paste the new key and press Save key. The old key stays until then.")

    def remove_key(self) -> None:
        self._editing = False
        self.key_edit.clear()
        self.secrets.remove(API_KEY_SECRET, "The API key was removed from this computer.")

    def _kept(self, name: str) -> None:
        if name == API_KEY_SECRET:
            self.key_edit.clear()
            self._editing = False

    def refresh(self) -> None:
        state = self.secrets.state(API_KEY_SECRET)
        busy = self.secrets.busy(API_KEY_SECRET)
        editing = self._editing or not state.present
        self.key_edit.setEnabled(editing and not busy)
        self.show_key_button.setEnabled(editing and not busy)
        self.key_edit.setPlaceholderText("paste your API key (starts with AIza)" if editing
                                         else SAVED_PLACEHOLDER.get(state, "••••••••"))
        self.save_button.setEnabled(editing and bool(self.typed_key()) and not busy)
        self.change_button.setEnabled(state.present and not self._editing and not busy)
        self.remove_button.setEnabled((state.present or state is SecretState.BROKEN) and not busy)
        self.status.setText(self.secrets.notes[API_KEY_SECRET] or STATE_TEXT[state])

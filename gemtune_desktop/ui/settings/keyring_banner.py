"""The banner under the Connections pages that says the system keychain cannot be used, and what to do."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from gemtune_desktop.ui.settings.page import describe, push_button


class KeyringBanner(QFrame):
    """Hidden while the keychain works."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyringBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(self)
        self.message = QLabel("", self)
        self.message.setObjectName("keyringMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        describe(self.message, "Keychain problem", "Why secrets cannot be saved in the keychain")
        self.session_only_button = push_button(
            self, "Keep for this session only", "keepForSession", "Keep the secret for this session only",
            "Keep the secret in memory until you close GemTune; nothing is written to disk, and you will enter it "
            "again next time")
        row.addWidget(self.message, 1)
        row.addWidget(self.session_only_button)
        self.hide()

    def show_problem(self, text: str, offer_session_only: bool) -> None:
        self.message.setText(text)
        self.session_only_button.setVisible(offer_session_only)
        self.show()

    def kept_for_session(self) -> None:
        self.session_only_button.hide()
        self.message.setText("Kept for this session only. You will need to enter it again next time you open "
                             "GemTune.")

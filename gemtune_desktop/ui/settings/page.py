"""What every settings page does (Picard's options pages): load what is saved, say what is wrong, save.

:class:`ConnectionPage` is the shared part of the three connection pages: the title, what the
connection is for, "Use this connection", and a form the page fills.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gemtune_desktop.services.connections import ConnectionKind, ConnectionProfile, ProfileProblem

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


class SettingsPage(Protocol):
    """A page of settings."""

    def load(self, profile: ConnectionProfile) -> None:
        """Show what is saved."""
        ...

    def validate(self, in_use: bool) -> ProfileProblem | None:
        """What blocks saving, in plain words (``in_use``: this is the connection chosen), or None."""
        ...

    def save(self) -> None:
        """Save the page's settings that are not part of its connection profile."""
        ...


def describe(widget: QWidget, name: str, tip: str) -> None:
    widget.setAccessibleName(name)
    widget.setToolTip(tip)


def push_button(parent: QWidget, text: str, object_name: str, name: str, tip: str) -> QPushButton:
    """A push button with its object name, accessible name and tooltip."""
    button = QPushButton(text, parent)
    button.setObjectName(object_name)
    describe(button, name, tip)
    return button


class ConnectionPage(QWidget):
    """The header of a connection page and its form.

    Signals:
        use_requested(object): the user chose this page's :class:`ConnectionKind` as the one in use.
    """

    use_requested = Signal(object)

    def __init__(self, kind: ConnectionKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setObjectName(f"page_{kind.value}")
        self.box = QVBoxLayout(self)
        self.box.addWidget(QLabel(f"<h3>{kind.label}</h3>", self))
        explain = QLabel(EXPLANATIONS[kind], self)
        explain.setObjectName(f"explain_{kind.value}")
        explain.setWordWrap(True)
        explain.setTextFormat(Qt.TextFormat.RichText)
        self.box.addWidget(explain)
        self.use_button = push_button(self, "Use this connection", f"use_{kind.value}", f"Use {kind.label}",
                                      f"Make “{kind.label}” the connection the app uses (saved with Save)")
        self.use_button.clicked.connect(lambda _=False: self.use_requested.emit(self.kind))
        row = QHBoxLayout()
        row.addWidget(self.use_button)
        row.addStretch(1)
        self.box.addLayout(row)
        self.form = QFormLayout()
        self.box.addLayout(self.form)
        self._profile = ConnectionProfile(kind=kind)

    def show_in_use(self, in_use: bool) -> None:
        self.use_button.setText("✔ In use" if in_use else "Use this connection")
        self.use_button.setEnabled(not in_use)

    def load(self, profile: ConnectionProfile) -> None:
        self._profile = ConnectionProfile.from_dict(profile.to_dict())

    def edited(self) -> ConnectionProfile:
        """The profile as shown on the page."""
        return ConnectionProfile.from_dict(self._profile.to_dict())

    def validate(self, in_use: bool) -> ProfileProblem | None:
        return None

    def needs_secret(self) -> bool:
        """Whether the connection, as set on the page, keeps a secret in the keychain (none by default)."""
        return False

    def save(self) -> None:
        """Nothing beyond the profile by default."""

    def focus_problem(self, problem: ProfileProblem) -> None:
        """Put the cursor where the problem is."""

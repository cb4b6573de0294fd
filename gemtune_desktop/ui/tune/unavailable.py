"""Shown instead of the Tune form when the connection cannot tune: a Gemini API key, or a Sandbox simulating the
Gemini API that lists no tunable model.

With an API key the panel says plainly that Google does not tune with API keys and offers the two ways
on: set up Google Cloud, or use the Sandbox. There is no form and no cost estimate to misread.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

API_KEY_TITLE = "Google does not tune models with an API key"
API_KEY_TEXT = (
    "Since May 2025 Google offers tuning only on Google Cloud (Gemini Enterprise Agent Platform, formerly Vertex "
    "AI), which needs a Google Cloud project with billing, a region and a storage bucket. Your API key still "
    "works in the Test tab, to try prompts on Google's models. To learn the whole flow first, use the Sandbox: "
    "a free simulation on this computer, from which nothing is sent.")
NO_TUNING_TITLE = "Tuning is not available with a Gemini API key"
NO_TUNING_TEXT = (
    "Google turned tuning off in the Gemini API and AI Studio in May 2025: since then the service lists no "
    "model that can be tuned with an API key, and Google has no date for bringing it back. Tuning Gemini now "
    "runs on Google Cloud (Agent Platform), which needs a Cloud project, a region and a storage bucket. "
    "You can also walk through the whole flow offline in the Sandbox, a simulation.")


class UnavailablePanel(QFrame):
    """Why tuning is off, and the ways on.

    Signals:
        setup_cloud_requested(): open Settings → Connections.
        use_sandbox_requested(): switch to the Sandbox (simulating Agent Platform).
        retry_requested(): ask the service again for tunable models.
    """

    setup_cloud_requested = Signal()
    use_sandbox_requested = Signal()
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tuneUnavailable")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.title = QLabel("", self)
        self.title.setObjectName("tuneUnavailableTitle")
        self.title.setWordWrap(True)
        self.text = QLabel("", self)
        self.text.setWordWrap(True)
        self.text.setObjectName("tuneUnavailableText")
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        row = QHBoxLayout()
        self.setup_cloud_button = QPushButton("Set up Google Cloud…", self)
        self.setup_cloud_button.setObjectName("tuneSetupCloud")
        self.setup_cloud_button.setToolTip("Open Settings → Connections to enter your Cloud project, region and "
                                           "bucket.")
        self.setup_cloud_button.clicked.connect(self.setup_cloud_requested)
        self.use_sandbox_button = QPushButton("Use the Sandbox", self)
        self.use_sandbox_button.setObjectName("tuneUseSandbox")
        self.use_sandbox_button.clicked.connect(self.use_sandbox_requested)
        self.retry_models_button = QPushButton("Look again", self)
        self.retry_models_button.setToolTip("Ask the service again for models that can be tuned.")
        self.retry_models_button.clicked.connect(self.retry_requested)
        for b in (self.setup_cloud_button, self.use_sandbox_button, self.retry_models_button):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        self.show_api_key()

    def _say(self, title: str, text: str) -> None:
        self.title.setText(f"<b>{title}</b>")
        self.text.setText(text)

    def show_api_key(self) -> None:
        """A Gemini API key: Google does not tune with it; nothing to look for again."""
        self._say(API_KEY_TITLE, API_KEY_TEXT)
        self.use_sandbox_button.setText("Use the Sandbox")
        self.use_sandbox_button.setToolTip("Switch to the Sandbox: a free simulation of Google Cloud on this "
                                           "computer, to learn the whole flow.")
        self.retry_models_button.hide()

    def show_no_tunable_model(self) -> None:
        """The Sandbox simulating the Gemini API lists no tunable model; its Agent Platform simulation tunes."""
        self._say(NO_TUNING_TITLE, NO_TUNING_TEXT)
        self.use_sandbox_button.setText("Use the Sandbox's Agent Platform simulation")
        self.use_sandbox_button.setToolTip("Keep working offline, with the Sandbox simulating Google Cloud "
                                           "(Agent Platform), where tuning is available.")
        self.retry_models_button.show()

    def focus_order(self) -> list[QWidget]:
        return [self.setup_cloud_button, self.use_sandbox_button, self.retry_models_button]

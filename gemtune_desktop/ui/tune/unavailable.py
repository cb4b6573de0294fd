"""Shown instead of the Tune form when the connection cannot tune (a Gemini API key lists no tunable model)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

NO_TUNING_TITLE = "Tuning is not available with a Gemini API key"
NO_TUNING_TEXT = (
    "Google turned tuning off in the Gemini API and AI Studio in May 2025: since then the service lists no "
    "model that can be tuned with an API key, and Google has no date for bringing it back. Tuning Gemini now "
    "runs on Google Cloud (Agent Platform), which needs a Cloud project, a region and a storage bucket. "
    "You can also walk through the whole flow offline in the Sandbox, a simulation.")


class UnavailablePanel(QFrame):
    """Why tuning is off, and the ways out.

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
        self.title = QLabel(f"<b>{NO_TUNING_TITLE}</b>", self)
        self.text = QLabel(NO_TUNING_TEXT, self)
        self.text.setWordWrap(True)
        self.text.setObjectName("tuneUnavailableText")
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        row = QHBoxLayout()
        self.setup_cloud_button = QPushButton("Set up a Google Cloud connection…", self)
        self.setup_cloud_button.setObjectName("tuneSetupCloud")
        self.setup_cloud_button.setToolTip("Open Settings → Connections to enter your Cloud project, region and "
                                           "bucket.")
        self.setup_cloud_button.clicked.connect(self.setup_cloud_requested)
        self.use_sandbox_button = QPushButton("Use the Sandbox (offline simulation)", self)
        self.use_sandbox_button.setObjectName("tuneUseSandbox")
        self.use_sandbox_button.setToolTip("Switch to the offline Sandbox: a simulation to learn the whole flow.")
        self.use_sandbox_button.clicked.connect(self.use_sandbox_requested)
        self.retry_models_button = QPushButton("Look again", self)
        self.retry_models_button.setToolTip("Ask the service again for models that can be tuned.")
        self.retry_models_button.clicked.connect(self.retry_requested)
        for b in (self.setup_cloud_button, self.use_sandbox_button, self.retry_models_button):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)

    def set_on_sandbox(self, on_sandbox: bool) -> None:
        """On the Sandbox (simulating the Gemini API) the way out is its Agent Platform simulation."""
        if on_sandbox:
            self.use_sandbox_button.setText("Use the Sandbox's Agent Platform simulation")
            self.use_sandbox_button.setToolTip("Keep working offline, with the Sandbox simulating Google Cloud "
                                               "(Agent Platform), where tuning is available.")
        else:
            self.use_sandbox_button.setText("Use the Sandbox (offline simulation)")
            self.use_sandbox_button.setToolTip("Switch to the offline Sandbox: a simulation to learn the whole "
                                               "flow.")

    def focus_order(self) -> list[QWidget]:
        return [self.setup_cloud_button, self.use_sandbox_button, self.retry_models_button]

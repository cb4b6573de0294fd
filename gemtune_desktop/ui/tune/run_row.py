"""The bottom of the Tune tab: what is happening (status line, progress), Start, Cancel, and the way to Monitor."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from gemtune_desktop.ui.widgets.status_line import StatusLine

BAR_STEPS = 1000


class RunRow(QWidget):
    """Status, progress and the Start / Cancel / Go to Monitor buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        self.status_label = QLabel("", self)
        self.status_label.setObjectName("tuneStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = StatusLine(self.status_label)
        v.addWidget(self.status_label)
        row = QHBoxLayout()
        self.progress = QProgressBar(self)
        self.progress.setObjectName("tuneProgress")
        self.progress.setAccessibleName("Submit progress")
        self.progress.setRange(0, BAR_STEPS)
        self.progress.hide()
        self.start_button = QPushButton("Start tuning", self)
        self.start_button.setObjectName("tuneStart")
        self.start_button.setToolTip("Check the dataset and settings, then start the tuning job.")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("tuneCancel")
        self.cancel_button.setToolTip("Stop before the job is created (an upload in progress is abandoned).")
        self.cancel_button.hide()
        self.monitor_button = QPushButton("Go to the Monitor tab", self)
        self.monitor_button.setObjectName("tuneGoMonitor")
        self.monitor_button.setToolTip("Watch the new job train.")
        self.monitor_button.hide()
        row.addWidget(self.progress, 1)
        row.addStretch(0)
        row.addWidget(self.monitor_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.start_button)
        v.addLayout(row)
        self.start_reason = QLabel("", self)
        self.start_reason.setObjectName("tuneStartReason")
        self.start_reason.setWordWrap(True)
        self.start_reason.hide()
        v.addWidget(self.start_reason)

    def show_blocker(self, reason: str, busy: bool) -> None:
        """Start is enabled unless there is a reason, which is said under it (not while a job is starting)."""
        self.start_button.setEnabled(not reason)
        self.start_reason.setText(reason if not busy else "")
        self.start_reason.setVisible(bool(self.start_reason.text()))
        self.start_button.setToolTip(reason or "Check the dataset and settings, then start the tuning job.")

    def set_busy(self, busy: bool) -> None:
        self.cancel_button.setVisible(busy)
        if not busy:
            self.progress.hide()

    def begin_progress(self) -> None:
        self.progress.setValue(0)
        self.progress.show()

    def report(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        else:
            self.progress.setRange(0, 0)
        if text:
            self.status.say(text)

    def complete(self) -> None:
        self.progress.setRange(0, BAR_STEPS)
        self.progress.setValue(BAR_STEPS)

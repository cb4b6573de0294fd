"""The row under the Dataset table that shows a running import: what is read, how far, and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

BAR_STEPS = 1000


class ProgressRow(QWidget):
    """Hidden until :meth:`begin`; a busy bar until the first report with a total.

    Signals:
        cancel_requested(): the user pressed Cancel.
    """

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("importProgress")
        self.bar.setAccessibleName("Import progress")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the import; nothing is added")
        self.cancel_button.clicked.connect(self.cancel_requested)
        for w in (self.label, self.bar, self.cancel_button):
            row.addWidget(w)
        row.addStretch(1)
        self.hide()  # hidden, it takes no room (not even the layout's spacing) under the table

    def begin(self, text: str) -> None:
        self.label.setText(text)
        self.bar.setRange(0, 0)
        self.show()

    def report(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.bar.setRange(0, BAR_STEPS)
            self.bar.setValue(int(BAR_STEPS * min(done, total) / total))
        if text:
            self.label.setText(text)

    def end(self) -> None:
        self.hide()

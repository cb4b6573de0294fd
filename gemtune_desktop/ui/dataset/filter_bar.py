"""The filter bar above the table: show only rows with a status, a split, a tag or some text."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.row_view import RowFilter, StatusFilter

TEXT_DELAY_MS = 250

STATUS_CHOICES = (("Any status", StatusFilter.ANY), ("With problems", StatusFilter.PROBLEMS),
                  ("With errors", StatusFilter.ERRORS), ("With warnings", StatusFilter.WARNINGS),
                  ("OK only", StatusFilter.OK))


class FilterBar(QWidget):
    """Signals:
        filter_changed(object): the new :class:`RowFilter`.
        clear_requested(): show every row in the project's order (also clears sorting).
    """

    filter_changed = Signal(object)
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = QLineEdit(self)
        self.text.setObjectName("filterText")
        self.text.setPlaceholderText("Filter rows containing…")
        self.text.setToolTip("Show only rows whose input, output, tags or note contain this text")
        self.text.setAccessibleName("Filter text")
        self.text.setClearButtonEnabled(True)
        self.status = QComboBox(self)
        self.status.setObjectName("filterStatus")
        for label, value in STATUS_CHOICES:
            self.status.addItem(label, value.value)
        self.status.setToolTip("Show only rows with this status")
        self.status.setAccessibleName("Filter by status")
        self.split = QComboBox(self)
        self.split.setObjectName("filterSplit")
        self.split.addItem("Any split", "")
        for s in Split:
            self.split.addItem(s.label, s.value)
        self.split.setToolTip("Show only Train, Validation or Test rows")
        self.split.setAccessibleName("Filter by split")
        self.tag = QLineEdit(self)
        self.tag.setObjectName("filterTag")
        self.tag.setPlaceholderText("Tag")
        self.tag.setToolTip("Show only rows with this tag")
        self.tag.setAccessibleName("Filter by tag")
        self.tag.setMaximumWidth(120)
        self.clear = QPushButton("Show all", self)
        self.clear.setToolTip("Remove the filter and the sorting: show every row in the project's order")
        self.count = QLabel(self)
        self.count.setObjectName("rowCountLabel")
        for w in (self.text, self.status, self.split, self.tag, self.clear, self.count):
            layout.addWidget(w, 2 if w is self.text else 0)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TEXT_DELAY_MS)
        self._timer.timeout.connect(self._emit)
        self.text.textChanged.connect(lambda _t: self._timer.start())
        self.tag.textChanged.connect(lambda _t: self._timer.start())
        self.status.currentIndexChanged.connect(lambda _i: self._emit())
        self.split.currentIndexChanged.connect(lambda _i: self._emit())
        self.clear.clicked.connect(self.reset)

    def current(self) -> RowFilter:
        split = self.split.currentData()
        return RowFilter(status=StatusFilter(self.status.currentData()), split=Split(split) if split else None,
                         tag=self.tag.text(), text=self.text.text())

    def _emit(self) -> None:
        self._timer.stop()
        self.filter_changed.emit(self.current())

    def reset(self) -> None:
        """Clear every field (without a burst of intermediate filter runs)."""
        self._timer.stop()
        widgets = (self.text, self.status, self.split, self.tag)
        for w in widgets:
            w.blockSignals(True)
        self.text.clear()
        self.tag.clear()
        self.status.setCurrentIndex(0)
        self.split.setCurrentIndex(0)
        for w in widgets:
            w.blockSignals(False)
        self.clear_requested.emit()

    def show_count(self, shown: int, total: int) -> None:
        self.count.setText(f"{total:,} rows" if shown == total else f"Showing {shown:,} of {total:,} rows")

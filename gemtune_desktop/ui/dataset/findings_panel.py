"""The findings panel: every validation finding in plain words; clicking one jumps to the row and cell."""

from __future__ import annotations

from collections import Counter
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from gemtune_desktop.core.validation import Finding, Severity
from gemtune_desktop.qtcore.dataset_model import status_icon
from gemtune_desktop.qtcore.project_session import ProjectSession

ModelIndex = QModelIndex | QPersistentModelIndex
REFRESH_MS = 250
_ICON_KINDS = {Severity.ERROR: "error", Severity.WARNING: "warning"}  # the rest: the "ok" mark


class FindingsModel(QAbstractTableModel):
    """Columns: Severity (icon and word), Row, Problem."""

    HEADERS = ("Severity", "Row", "Problem")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self.findings: list[Finding] = []

    def set_findings(self, session: ProjectSession | None, findings: list[Finding]) -> None:
        self.beginResetModel()
        self.session = session
        self.findings = findings
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.findings)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled

    def row_label(self, finding: Finding) -> str:
        if finding.example_id is not None and self.session is not None:
            number = self.session.row_number(finding.example_id)
            if number is not None:
                return str(number)
        if finding.row is not None:
            return str(finding.row)
        return "—"

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.DecorationRole):
            return None
        if not index.isValid() or index.row() >= len(self.findings):
            return None
        f = self.findings[index.row()]
        col = index.column()
        if col == 0:
            if role == Qt.ItemDataRole.DecorationRole:
                return status_icon(_ICON_KINDS.get(f.severity, "ok"))
            return f.severity.label
        if role == Qt.ItemDataRole.DecorationRole:
            return None
        if col == 2 and role == Qt.ItemDataRole.ToolTipRole:
            return f.message
        if col == 1:
            if role == Qt.ItemDataRole.ToolTipRole:
                return "Whole dataset" if f.example_id is None and f.row is None else "Click to go to this example"
            label = self.row_label(f)
            return f"{label}, {f.field}" if f.field and label != "—" else label
        return f.message


class FindingsPanel(QWidget):
    """Signals:
        jump_requested(int, str): example id and field ("input", "output" or "") to show.
        counts_changed(int, int): errors and warnings after a refresh.
    """

    jump_requested = Signal(int, str)
    counts_changed = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self.model = FindingsModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel(self)
        self.summary.setObjectName("findingsSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.view = QTableView(self)
        self.view.setObjectName("findingsView")
        self.view.setAccessibleName("Problems found in the dataset")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setWordWrap(True)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.view.clicked.connect(self._clicked)
        self.view.activated.connect(self._clicked)
        layout.addWidget(self.view)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    def set_session(self, session: ProjectSession | None) -> None:
        if self.session is not None:
            try:
                self.session.validation_changed.disconnect(self.schedule)
            except (RuntimeError, TypeError):
                pass
        self.session = session
        if session is not None:
            session.validation_changed.connect(self.schedule)
        self.refresh()

    def schedule(self) -> None:
        self._timer.start()

    def refresh(self) -> None:
        self._timer.stop()
        s = self.session
        if s is None or s.is_closed:
            self.model.set_findings(None, [])
            self.summary.setText("No project open.")
            self.counts_changed.emit(0, 0)
            return
        if s.checking:
            self.model.set_findings(s, [])
            self.summary.setText("Checking the examples… (a large project takes a moment; you can keep working)")
            return
        findings = list(s.validator.all_findings())
        self.model.set_findings(s, findings)
        if len(findings) <= 300:  # show whole messages; for long lists the tooltip has them
            self.view.resizeRowsToContents()
        counts = Counter(f.severity for f in findings)
        self.counts_changed.emit(counts[Severity.ERROR], counts[Severity.WARNING])
        if not findings:
            self.summary.setText("✓ No problems found.")
            return
        parts = []
        for severity, word in ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "note")):
            n = counts[severity]
            if n:
                parts.append(f"{n:,} {word}{'s' if n != 1 else ''}")
        text = ", ".join(parts) + "."
        if counts[Severity.ERROR]:
            text += " Errors must be fixed before tuning. Click a problem to go to it."
        else:
            text += " Click a problem to go to it."
        self.summary.setText(text)

    def _clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        f = self.model.findings[index.row()]
        if f.example_id is not None:
            self.jump_requested.emit(int(f.example_id), f.field or "")

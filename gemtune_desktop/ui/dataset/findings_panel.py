"""The Problems panel: one line per problem in plain words, the details of the selected one below it with its
quick fixes; clicking a problem jumps to the row and cell (the list's model and refresh are shared with the
Preference pairs view: :mod:`.findings_base`).

A cell is listed once: when several checks find something in the same cell (an output both padded with spaces
and far longer than the rest), the line shows the most serious and says how many more there are; the details
give them all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.validation import Finding, Severity
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.ui.dataset.findings_base import FindingsModelBase, ValidationFollower, count_line

if TYPE_CHECKING:
    from gemtune_desktop.ui.dataset.quick_fixes import QuickFix

MAX_FIX_BUTTONS = 2


def group_by_cell(findings: Sequence[Finding]) -> tuple[list[Finding], dict[int, list[Finding]]]:
    """(one finding per cell — the most serious first found —, the others of that cell by its index)."""
    firsts: list[Finding] = []
    more: dict[int, list[Finding]] = {}
    where: dict[tuple[int, str], int] = {}
    for f in findings:
        if f.example_id is None:
            firsts.append(f)
            continue
        key = (int(f.example_id), f.field or "")
        i = where.get(key)
        if i is None:
            where[key] = len(firsts)
            firsts.append(f)
        elif f.severity.rank < firsts[i].severity.rank:  # a lower rank is more serious
            more.setdefault(i, []).append(firsts[i])
            firsts[i] = f
        else:
            more.setdefault(i, []).append(f)
    return firsts, more


class FindingsModel(FindingsModelBase):
    """Columns: Severity (icon and word), Row, Problem (one line)."""

    HEADERS = ("Severity", "Row", "Problem")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self.findings: list[Finding] = []
        self.more: dict[int, list[Finding]] = {}

    def set_findings(self, session: ProjectSession | None, findings: list[Finding]) -> None:
        self.beginResetModel()
        self.session = session
        self.findings, self.more = group_by_cell(findings)
        self.endResetModel()

    def more_for(self, f: Finding) -> list[Finding]:
        for i, g in enumerate(self.findings):
            if g is f:
                return list(self.more.get(i, []))
        return []

    def row_label(self, finding: Finding) -> str:
        if finding.example_id is not None and self.session is not None:
            number = self.session.row_number(finding.example_id)
            if number is not None:
                return str(number)
        if finding.row is not None:
            return str(finding.row)
        return "—"

    def cell(self, f: Finding, row: int, col: int, role: int) -> Any:
        if col == 1:
            if role == Qt.ItemDataRole.ToolTipRole:
                return "Whole dataset" if f.example_id is None and f.row is None else "Click to go to this example"
            label = self.row_label(f)
            return f"{label}, {f.field}" if f.field and label != "—" else label
        more = len(self.more.get(row, ()))
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n\n".join(g.message for g in (f, *self.more.get(row, ())))
        return f.message + (f" (+{more} more in this cell)" if more else "")


class FindingsPanel(ValidationFollower[ProjectSession]):
    """Signals:
        jump_requested(int, str): example id and field ("input", "output" or "") to edit (double-click, Enter).
        reveal_requested(int, str): the same, to select in the table with the details kept in view (a click).
        counts_changed(int, int): errors and warnings after a refresh.
    """

    jump_requested = Signal(int, str)
    reveal_requested = Signal(int, str)
    model: FindingsModel
    CHECKING = "Checking the examples… (a large project takes a moment; you can keep working)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self.fixes_for: Callable[[Finding], list[QuickFix]] = lambda _f: []
        self.model = FindingsModel(self)
        layout = self._build_list(self.model, "findingsSummary", "findingsView", "Problems found in the dataset")
        self.view.setWordWrap(False)  # one line per problem; the details below
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.view.clicked.connect(self._clicked)
        self.view.doubleClicked.connect(self._activated)
        self.view.activated.connect(self._activated)
        self.details_box = QWidget(self)
        details = QVBoxLayout(self.details_box)
        details.setContentsMargins(0, 0, 0, 0)
        self.details = QLabel(self.details_box)
        self.details.setObjectName("findingDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        details.addWidget(self.details, 1)
        row = QHBoxLayout()
        self.fix_buttons = [QPushButton(self.details_box) for _ in range(MAX_FIX_BUTTONS)]
        for i, button in enumerate(self.fix_buttons):
            button.setObjectName(f"quickFix{i + 1}")
            button.hide()
            button.clicked.connect(lambda _c=False, k=i: self._run_fix(k))
            row.addWidget(button)
        row.addStretch(1)
        details.addLayout(row)
        scroll = QScrollArea(self)  # a long message scrolls; it is never cut off
        scroll.setObjectName("findingDetailsScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.details_box)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.setObjectName("findingsSplit")
        split.addWidget(self.view)
        split.addWidget(scroll)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([300, 200])
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
        self._fixes: list[QuickFix] = []
        self.view.selectionModel().currentRowChanged.connect(lambda cur, _prev: self.show_details(cur.row()))
        self.show_details(-1)

    def set_session(self, session: ProjectSession | None) -> None:
        self.session = session
        self._follow(session.validation_changed if session is not None else None)

    def summary_for(self, counts: Counter[Severity], session: ProjectSession) -> str:
        if not sum(counts.values()):
            return "✓ No problems found."
        text = count_line(counts)
        if counts[Severity.ERROR]:
            text += " Errors must be fixed before tuning."
        return text + " Click a problem for its details and fixes; right-click for more."

    def shown(self) -> None:
        self.show_details(-1)

    # -- details on demand ------------------------------------------------------------------------
    def details_text(self, f: Finding) -> str:
        where = "The whole dataset" if f.example_id is None and f.row is None else \
            f"Row {self.model.row_label(f)}" + (f", {f.field}" if f.field else "")
        lines = [f"{f.severity.label} — {where}", f.message]
        lines += [f"Also in this cell ({g.severity.label.lower()}): {g.message}" for g in self.model.more_for(f)]
        return "\n".join(lines)

    def show_details(self, row: int) -> None:
        if not 0 <= row < len(self.model.findings):
            self.details.setText("Select a problem to read it in full here, with a fix when there is an "
                                 "obvious one." if self.model.findings else "")
            self._fixes = []
        else:
            f = self.model.findings[row]
            self.details.setText(self.details_text(f))
            seen: set[str] = set()
            self._fixes = []
            for g in (f, *self.model.more_for(f)):
                for fix in self.fixes_for(g):
                    if fix.label not in seen:
                        seen.add(fix.label)
                        self._fixes.append(fix)
        for i, button in enumerate(self.fix_buttons):
            if i < len(self._fixes):
                button.setText(self._fixes[i].label)
                button.setAccessibleName(self._fixes[i].label)
                button.show()
            else:
                button.hide()

    def _run_fix(self, i: int) -> None:
        if i < len(self._fixes):
            self._fixes[i].run()

    def _clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        f = self.model.findings[index.row()]
        self.show_details(index.row())
        if f.example_id is not None:
            self.reveal_requested.emit(int(f.example_id), f.field or "")

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            f = self.model.findings[index.row()]
            if f.example_id is not None:
                self.jump_requested.emit(int(f.example_id), f.field or "")

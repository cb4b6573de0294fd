"""The Problems list of the preference view: every finding in plain words; clicking one goes to its row and field.

The findings come from :class:`~gemtune_desktop.core.preference.validation.PreferenceValidator` (kept current by
the session as the user edits): empty or identical answers, a preferred answer that another pair rejects, the
131,072-token limit per pair, the 1 GB training file, the validation-set rule and fewer pairs than recommended.
Dataset-wide findings come first and have no row. The list's model and refresh are shared with the Examples
view (:mod:`.findings_base`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHeaderView, QWidget

from gemtune_desktop.core.preference.model import FIELD_WORDS
from gemtune_desktop.core.validation import Finding, Severity
from gemtune_desktop.qtcore.preference_session import PreferenceSession
from gemtune_desktop.ui.dataset.findings_base import FindingsModelBase, ValidationFollower, count_line

RESIZE_ROWS_UP_TO = 300  # whole messages shown for short lists; for long ones the tooltip has them


class PairFindingsModel(FindingsModelBase):
    """Columns: Severity (icon and word), Problem (where, then what: "Row 5, preferred answer: …").

    Where the problem is leads its text rather than having a column of its own, so that the message keeps
    the width of the narrow side panel.
    """

    HEADERS = ("Severity", "Problem")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: PreferenceSession | None = None
        self.findings: list[Finding] = []

    def set_findings(self, session: PreferenceSession | None, findings: list[Finding]) -> None:
        self.beginResetModel()
        self.session = session
        self.findings = findings
        self.endResetModel()

    def where(self, finding: Finding) -> str:
        """"Row 5, preferred answer", "Row 5", or "All pairs" for a finding about the whole set."""
        number = None
        if finding.example_id is not None and self.session is not None:
            number = self.session.row_number(finding.example_id)
        if number is None:
            number = finding.row
        if number is None:
            return "All pairs"
        if finding.field:
            return f"Row {number:,}, {FIELD_WORDS.get(finding.field, finding.field)}"
        return f"Row {number:,}"

    def cell(self, f: Finding, row: int, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return f.message + ("" if f.example_id is None else "\n\nClick to go to this pair.")
        return f"{self.where(f)}: {f.message}"


class PreferenceFindingsPanel(ValidationFollower[PreferenceSession]):
    """Signals:
        jump_requested(int, str): pair id and field ("prompt", "preferred", "dispreferred" or "") to show.
        counts_changed(int, int): errors and warnings after a refresh.
    """

    jump_requested = Signal(int, str)
    model: PairFindingsModel
    CHECKING = "Checking the pairs… (a large set takes a moment; you can keep working)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: PreferenceSession | None = None
        self.model = PairFindingsModel(self)
        layout = self._build_list(self.model, "pairFindingsSummary", "pairFindingsView",
                                  "Problems found in the preference pairs")
        self.view.setWordWrap(True)
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.view.clicked.connect(self._clicked)
        self.view.activated.connect(self._clicked)
        layout.addWidget(self.view)
        # Row heights follow the message column's width (wrapped text), also when the panel is resized.
        self._fit = QTimer(self)
        self._fit.setSingleShot(True)
        self._fit.setInterval(0)
        self._fit.timeout.connect(self._fit_rows)
        header.sectionResized.connect(lambda *_a: self._fit.start())

    def set_session(self, session: PreferenceSession | None) -> None:
        self.session = session
        self._follow(session.validation_changed if session is not None else None)

    def summary_for(self, counts: Counter[Severity], session: PreferenceSession) -> str:
        return summary_text(counts, bool(session.examples))

    def shown(self) -> None:
        self._fit_rows()

    def _fit_rows(self) -> None:
        if 0 < self.model.rowCount() <= RESIZE_ROWS_UP_TO and self.isVisible():
            self.view.resizeRowsToContents()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit.start()

    def _clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        f = self.model.findings[index.row()]
        if f.example_id is not None:
            self.jump_requested.emit(int(f.example_id), f.field or "")


def summary_text(counts: Counter[Severity], has_pairs: bool) -> str:
    """The line above the list: how many problems of each kind, and what to do."""
    if not sum(counts.values()):
        return "✓ No problems found." if has_pairs else ""
    text = count_line(counts)
    if counts[Severity.ERROR]:
        return text + " Errors must be fixed before preference tuning. Click a problem to go to it."
    return text + " Click a problem to go to it."

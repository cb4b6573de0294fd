"""What blocks a tuning job, listed under the form: settings the service would refuse, or dataset errors.

Double-clicking a dataset error shows its row in the Dataset tab; a setting problem puts the cursor in
that setting.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.validation import Finding

MAX_LISTED = 500
ROWS_ROLE = Qt.ItemDataRole.UserRole  # example ids of a dataset problem
FIELD_ROLE = Qt.ItemDataRole.UserRole + 1  # the setting of a settings problem


class ProblemsBox(QGroupBox):
    """Hidden until there is something to fix.

    Signals:
        rows_requested(list): example ids to show in the Dataset tab.
        field_requested(str): a setting to put the cursor in.
    """

    rows_requested = Signal(list)
    field_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Problems to fix before tuning", parent)
        v = QVBoxLayout(self)
        self.intro = QLabel("", self)
        self.intro.setWordWrap(True)
        v.addWidget(self.intro)
        self.list = QListWidget(self)
        self.list.setObjectName("tuneProblems")
        self.list.setAccessibleName("Problems that block tuning")
        self.list.setToolTip("Double-click a problem to show its rows in the Dataset tab.")
        self.list.itemActivated.connect(self.activate)
        v.addWidget(self.list)
        self.show_rows_button = QPushButton("Show these rows in the Dataset tab", self)
        self.show_rows_button.setObjectName("tuneShowRows")
        self.show_rows_button.setToolTip("Select every row with a blocking problem in the Dataset tab.")
        self.show_rows_button.clicked.connect(lambda: self.rows_requested.emit(list(self.blocking_ids)))
        v.addWidget(self.show_rows_button)
        self.blocking_ids: list[int] = []
        self.hide()

    def clear(self) -> None:
        self.list.clear()
        self.blocking_ids = []
        self.hide()

    def show_spec_problems(self, problems: list[J.Problem]) -> None:
        self.list.clear()
        self.blocking_ids = []
        self.setTitle("Settings to fix before tuning")
        self.intro.setText("These settings would be refused by the service:")
        for p in problems:
            item = QListWidgetItem(f"⚠ {p.message}")
            item.setData(FIELD_ROLE, p.field)
            self.list.addItem(item)
        self.show_rows_button.hide()
        self.show()

    def show_findings(self, findings: list[Finding], examples: list[Example], backend_label: str) -> None:
        """Dataset errors; ``examples`` are the ones validated (a finding's row number counts in them)."""
        self.list.clear()
        self.setTitle("Problems to fix before tuning")
        self.intro.setText(f"The dataset has {len(findings)} error{'s' if len(findings) != 1 else ''} for "
                           f"{backend_label}. Double-click a problem to see its row in the Dataset tab.")
        ids: list[int] = []
        for f in findings[:MAX_LISTED]:
            row_ids = []
            if f.row is not None and 0 < f.row <= len(examples):
                row_ids.append(examples[f.row - 1].id)
            if f.example_id:
                row_ids.append(int(f.example_id))
            where = f.location()
            item = QListWidgetItem(f"✖ {where + ': ' if where else ''}{f.message}")
            item.setData(ROWS_ROLE, row_ids)
            item.setToolTip("Double-click to show this row in the Dataset tab." if row_ids else f.message)
            self.list.addItem(item)
            ids.extend(i for i in row_ids if i not in ids)
        self.blocking_ids = ids
        self.show_rows_button.setVisible(bool(ids))
        self.show()

    def activate(self, item: QListWidgetItem) -> None:
        ids = item.data(ROWS_ROLE)
        field = item.data(FIELD_ROLE)
        if ids:
            self.rows_requested.emit(list(ids))
        elif field:
            self.field_requested.emit(str(field))

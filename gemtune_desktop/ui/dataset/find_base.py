"""The non-modal Find and Replace dialog both Dataset views share: find and replace boxes, the fields to search,
Match case, Only the selected rows, a result line, and Find Next / Replace All / Close.

:class:`~.find_dialog.FindReplaceDialog` (examples: input and output) and
:class:`~.preference_find.PairFindDialog` (pairs: prompt, preferred and dispreferred answer) name their fields
and say when Replace is offered.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class FindReplaceBase(QDialog):
    """Signals:
        find_next_requested(): select the next row that matches.
        replace_all_requested(): replace every match (one undo step).
    """

    find_next_requested = Signal()
    replace_all_requested = Signal()

    def __init__(self, title: str, name: str, result_name: str, next_tip: str, boxes: dict[str, str],
                 selection_on_own_line: bool, parent: QWidget | None = None) -> None:
        """``boxes``: field → label of its "In …" check box (all checked at first)."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName(name)
        form = QFormLayout()
        self.find_edit = QLineEdit(self)
        self.find_edit.setAccessibleName("Find")
        self.find_edit.setToolTip("The text to look for")
        self.replace_edit = QLineEdit(self)
        self.replace_edit.setAccessibleName("Replace with")
        self.replace_edit.setToolTip("The text to put in its place (leave empty to delete the found text)")
        form.addRow("&Find:", self.find_edit)
        form.addRow("Replace &with:", self.replace_edit)
        self.in_fields = {field: QCheckBox(label, self) for field, label in boxes.items()}
        for box in self.in_fields.values():
            box.setChecked(True)
        self.match_case = QCheckBox("Match &case", self)
        self.selection_only = QCheckBox("Only the &selected rows", self)
        self.selection_only.setToolTip("Replace only in the rows selected in the table")
        checks = QHBoxLayout()
        for c in (*self.in_fields.values(), self.match_case):
            checks.addWidget(c)
        if not selection_on_own_line:
            checks.addWidget(self.selection_only)
        self.result_label = QLabel(self)
        self.result_label.setObjectName(result_name)
        self.result_label.setWordWrap(True)
        buttons = QHBoxLayout()
        self.next_button = QPushButton("Find &Next", self)
        self.next_button.setDefault(True)
        self.next_button.setToolTip(next_tip)
        self.replace_button = QPushButton("Replace &All", self)
        self.replace_button.setToolTip("Replace every match at once (Undo puts them all back)")
        close = QPushButton("Close", self)
        for b in (self.next_button, self.replace_button, close):
            buttons.addWidget(b)
        self.next_button.clicked.connect(self.find_next_requested)
        self.replace_button.clicked.connect(self.replace_all_requested)
        close.clicked.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(checks)
        if selection_on_own_line:
            layout.addWidget(self.selection_only)
        layout.addWidget(self.result_label)
        layout.addLayout(buttons)

    def fields(self) -> list[str]:
        return [f for f, box in self.in_fields.items() if box.isChecked()]

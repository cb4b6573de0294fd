"""The preference view's non-modal Find and Replace dialog: in the prompt, the preferred and the dispreferred answer."""

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


class PairFindDialog(QDialog):
    """Signals:
        find_next_requested(): select the next pair that matches.
        replace_all_requested(): replace every match (one undo step).
    """

    find_next_requested = Signal()
    replace_all_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find and Replace in Preference Pairs")
        self.setObjectName("pairFindDialog")
        form = QFormLayout()
        self.find_edit = QLineEdit(self)
        self.find_edit.setAccessibleName("Find")
        self.find_edit.setToolTip("The text to look for")
        self.replace_edit = QLineEdit(self)
        self.replace_edit.setAccessibleName("Replace with")
        self.replace_edit.setToolTip("The text to put in its place (leave empty to delete the found text)")
        form.addRow("&Find:", self.find_edit)
        form.addRow("Replace &with:", self.replace_edit)
        self.in_fields = {"prompt": QCheckBox("In &prompt", self), "preferred": QCheckBox("In p&referred", self),
                          "dispreferred": QCheckBox("In &dispreferred", self)}
        for box in self.in_fields.values():
            box.setChecked(True)
        self.match_case = QCheckBox("Match &case", self)
        self.selection_only = QCheckBox("Only the &selected rows", self)
        self.selection_only.setToolTip("Replace only in the rows selected in the table")
        checks = QHBoxLayout()
        for c in (*self.in_fields.values(), self.match_case):
            checks.addWidget(c)
        self.result_label = QLabel(self)
        self.result_label.setObjectName("pairFindResult")
        self.result_label.setWordWrap(True)
        buttons = QHBoxLayout()
        self.next_button = QPushButton("Find &Next", self)
        self.next_button.setDefault(True)
        self.next_button.setToolTip("Select the next pair containing the text")
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
        layout.addWidget(self.selection_only)
        layout.addWidget(self.result_label)
        layout.addLayout(buttons)

    def fields(self) -> list[str]:
        return [f for f, box in self.in_fields.items() if box.isChecked()]

    def show_for(self, replace: bool, editable: bool) -> None:
        for w in (self.replace_edit, self.replace_button, self.selection_only):
            w.setEnabled(editable)
        self.show()
        (self.replace_edit if replace and editable and self.find_edit.text() else self.find_edit).setFocus()

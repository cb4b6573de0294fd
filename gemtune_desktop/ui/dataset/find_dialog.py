"""The Dataset tab's non-modal Find and Replace dialog (the search: :mod:`gemtune_desktop.core.find_replace`): the
shared :class:`~.find_base.FindReplaceBase` over input and output."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from gemtune_desktop.ui.dataset.find_base import FindReplaceBase


class FindReplaceDialog(FindReplaceBase):
    """Non-modal find & replace over input and output.

    Signals:
        find_next_requested(): select the next row that matches.
        replace_all_requested(): replace every match (one undo step).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Find and Replace", "findReplaceDialog", "findResult",
                         "Select the next row containing the text", {"input": "In &input", "output": "In &output"},
                         False, parent)
        self.in_input = self.in_fields["input"]
        self.in_output = self.in_fields["output"]

    def show_for(self, replace: bool, initial: str = "") -> None:
        if initial:
            self.find_edit.setText(initial)
        self.replace_edit.setEnabled(True)
        self.show()
        (self.replace_edit if replace and self.find_edit.text() else self.find_edit).setFocus()

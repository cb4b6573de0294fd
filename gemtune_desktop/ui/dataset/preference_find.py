"""The preference view's non-modal Find and Replace dialog: in the prompt, the preferred and the dispreferred answer
(the shared :class:`~.find_base.FindReplaceBase`; Replace only where the project can be changed)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from gemtune_desktop.ui.dataset.find_base import FindReplaceBase


class PairFindDialog(FindReplaceBase):
    """Signals:
        find_next_requested(): select the next pair that matches.
        replace_all_requested(): replace every match (one undo step).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Find and Replace in Preference Pairs", "pairFindDialog", "pairFindResult",
                         "Select the next pair containing the text",
                         {"prompt": "In &prompt", "preferred": "In p&referred", "dispreferred": "In &dispreferred"},
                         True, parent)

    def show_for(self, replace: bool, editable: bool) -> None:
        for w in (self.replace_edit, self.replace_button, self.selection_only):
            w.setEnabled(editable)
        self.show()
        (self.replace_edit if replace and editable and self.find_edit.text() else self.find_edit).setFocus()

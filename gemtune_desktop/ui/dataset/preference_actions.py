"""The Edit and File menu actions of the preference view, and how they take over from the Examples view's.

The window has one Edit menu. While the Preference pairs view is shown, its own actions (Undo, Redo, Cut, Copy,
Paste, Add Row, …, Find, Replace, Split; Export) stand in the menu where the Examples view's are, with the same
shortcuts, and the Examples view's are hidden — a hidden action is disabled and its shortcut does nothing, so
Ctrl+Z, Delete or Ctrl+F always act on the view the user sees. :class:`ActionSwap` does that exchange.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from gemtune_desktop.ui.dataset import edit_actions
from gemtune_desktop.ui.dataset.edit_actions import EditActions, Shortcut, build_actions
from gemtune_desktop.ui.dataset.preference_editor import PairEditor

PAIR_TIPS = {
    "undo": "Undo the last change to the preference pairs",
    "redo": "Redo the change you undid",
    "cut": "Copy the selected pairs and remove them",
    "copy": "Copy the selection as tab-separated text for Excel or Google Sheets",
    "paste": "Paste rows copied from Excel or Google Sheets (prompt, preferred, dispreferred, …)",
    "add_row": "Add an empty preference pair",
    "duplicate": "Add copies of the selected pairs",
    "delete": "Delete the selected pairs (Undo brings them back)",
    "move_up": "Move the selected pairs up",
    "move_down": "Move the selected pairs down",
    "find": "Find text in prompts and answers",
    "replace": "Replace text in prompts and answers",
    "split": "Assign each preference pair to train, validation or test at random",
    "dedupe": "Delete the pairs that repeat an earlier pair exactly (one undo step)",
}


def build_pair_actions(owner: QObject, editor: PairEditor) -> EditActions:
    """The preference view's Edit actions (the same menu entries and shortcuts as the Examples view's), hidden
    until the view is shown (see :class:`ActionSwap`)."""
    return build_actions(owner, editor, PAIR_TIPS, prefix="action_pairs_", visible=False)


def make_action(owner: QObject, name: str, text: str, slot: Callable[[], object], shortcut: Shortcut,
                tip: str) -> QAction:
    """An action of the preference view, hidden until the view is shown (see :class:`ActionSwap`)."""
    return edit_actions.make_action(owner, name, text, slot, shortcut, tip, prefix="action_pairs_", visible=False)


class ActionSwap:
    """Pairs of (the Examples view's action, the preference view's action): one of each pair is visible.

    The preference view's actions are put into whatever menus hold the Examples view's, just before them,
    the first time they are shown (the menus are filled after the tab is built).
    """

    def __init__(self, pairs: Sequence[tuple[QAction, QAction]]) -> None:
        self.pairs = list(pairs)
        self.preference_shown = False

    def show_preference(self, on: bool) -> None:
        self.preference_shown = on
        for theirs, mine in self.pairs:
            if on:
                for menu in theirs.associatedObjects():
                    if isinstance(menu, QMenu) and mine not in menu.actions():
                        menu.insertAction(theirs, mine)
            theirs.setVisible(not on)
            mine.setVisible(on)

"""The Edit and File menu actions of the preference view, and how they take over from the Examples view's.

The window has one Edit menu. While the Preference pairs view is shown, its own actions (Undo, Redo, Cut, Copy,
Paste, Add Row, …, Find, Replace, Split; Export) stand in the menu where the Examples view's are, with the same
shortcuts, and the Examples view's are hidden — a hidden action is disabled and its shortcut does nothing, so
Ctrl+Z, Delete or Ctrl+F always act on the view the user sees. :class:`ActionSwap` does that exchange.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from gemtune_desktop.ui.dataset.edit_actions import EditActions
from gemtune_desktop.ui.dataset.preference_editor import PairEditor

K = QKeySequence
Shortcut = QKeySequence | list[QKeySequence] | None


def build_pair_actions(owner: QObject, editor: PairEditor) -> EditActions:
    """The preference view's Edit actions (the same menu entries and shortcuts as the Examples view's)."""
    table: list[tuple[str, str, Callable[[], object], Shortcut, str]] = [
        # name, text, slot, shortcut, tip
        ("undo", "&Undo", editor.undo, K(K.StandardKey.Undo), "Undo the last change to the preference pairs"),
        ("redo", "&Redo", editor.redo, [K("Ctrl+Y"), K("Ctrl+Shift+Z")], "Redo the change you undid"),
        ("cut", "Cu&t Rows", editor.cut_rows, K(K.StandardKey.Cut), "Copy the selected pairs and remove them"),
        ("copy", "&Copy", editor.copy_rows, K(K.StandardKey.Copy),
         "Copy the selection as tab-separated text for Excel or Google Sheets"),
        ("paste", "&Paste", editor.paste, K(K.StandardKey.Paste),
         "Paste rows copied from Excel or Google Sheets (prompt, preferred, dispreferred, …)"),
        ("add_row", "&Add Row", editor.add_row, K("Ctrl+Return"), "Add an empty preference pair"),
        ("duplicate", "D&uplicate Rows", editor.duplicate_rows, K("Ctrl+D"), "Add copies of the selected pairs"),
        ("delete", "&Delete Rows", editor.delete_rows, K(K.StandardKey.Delete),
         "Delete the selected pairs (Undo brings them back)"),
        ("move_up", "Move U&p", lambda: editor.move_rows(-1), K("Alt+Up"), "Move the selected pairs up"),
        ("move_down", "Move Do&wn", lambda: editor.move_rows(1), K("Alt+Down"), "Move the selected pairs down"),
        ("find", "&Find…", lambda: editor.show_find(False), K(K.StandardKey.Find),
         "Find text in prompts and answers"),
        ("replace", "Find and &Replace…", lambda: editor.show_find(True), K("Ctrl+H"),
         "Replace text in prompts and answers"),
        ("split", "&Split into Train/Validation/Test…", editor.show_split_dialog, None,
         "Assign each preference pair to train, validation or test at random"),
        ("dedupe", "Remove E&xact Duplicates", editor.remove_exact_duplicates, None,
         "Delete the pairs that repeat an earlier pair exactly (one undo step)"),
    ]
    return EditActions(*(make_action(owner, *row) for row in table))


def make_action(owner: QObject, name: str, text: str, slot: Callable[[], object], shortcut: Shortcut,
                tip: str) -> QAction:
    action = QAction(text, owner)
    action.setObjectName(f"action_pairs_{name}")
    if isinstance(shortcut, list):
        action.setShortcuts(shortcut)
    elif shortcut is not None:
        action.setShortcut(shortcut)
    action.setStatusTip(tip)
    action.setToolTip(tip)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setVisible(False)  # shown only with the preference view (see ActionSwap)
    action.triggered.connect(lambda _checked=False: slot())
    return action


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

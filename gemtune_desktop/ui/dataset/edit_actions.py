"""The Dataset tab's Edit menu: its actions (declared once in a table, for the Examples and the Preference pairs
views alike: :func:`build_actions`), their shortcuts, and when each is enabled."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMenu

from gemtune_desktop.qtcore.row_table_model import RowT
from gemtune_desktop.ui.dataset.row_edit_base import RowEditorBase
from gemtune_desktop.ui.dataset.row_editor import RowEditor

K = QKeySequence
Shortcut = QKeySequence | list[QKeySequence] | None


@dataclass(frozen=True)
class EditActions:
    undo: QAction
    redo: QAction
    cut: QAction
    copy: QAction
    paste: QAction
    add: QAction
    duplicate: QAction
    delete: QAction
    up: QAction
    down: QAction
    find: QAction
    replace: QAction
    split: QAction
    dedupe: QAction

    def groups(self) -> list[list[QAction]]:
        """The actions in menu order, one list per group between separators."""
        return [[self.undo, self.redo], [self.cut, self.copy, self.paste],
                [self.add, self.duplicate, self.delete, self.up, self.down],
                [self.find, self.replace, self.split, self.dedupe]]

    def install(self, menu: QMenu) -> None:
        for group in self.groups():
            menu.addActions(group)
            menu.addSeparator()

    def update(self, shown: bool, stack: QUndoStack | None, has_rows: bool, editable: bool, movable: bool) -> None:
        """Enable what applies now (nothing while the tab is hidden: the shortcuts belong to the window)."""
        self.undo.setEnabled(shown and stack is not None and stack.canUndo())
        self.redo.setEnabled(shown and stack is not None and stack.canRedo())
        if stack is not None:
            self.undo.setText(f"&Undo {stack.undoText()}".strip())
            self.redo.setText(f"&Redo {stack.redoText()}".strip())
        has_rows = shown and has_rows
        editable = shown and editable
        for a in (self.copy, self.find):
            a.setEnabled(has_rows)
        for a in (self.cut, self.duplicate, self.delete, self.replace, self.split, self.dedupe):
            a.setEnabled(has_rows and editable)
        for a in (self.paste, self.add):
            a.setEnabled(editable)
        self.up.setEnabled(has_rows and editable and movable)
        self.down.setEnabled(has_rows and editable and movable)


EXAMPLE_TIPS = {
    "undo": "Undo the last change",
    "redo": "Redo the change you undid",
    "cut": "Copy the selected rows and remove them",
    "copy": "Copy the selection as tab-separated text for Excel or Google Sheets",
    "paste": "Paste rows copied from Excel or Google Sheets (input, output, …)",
    "add_row": "Add an empty example",
    "duplicate": "Add copies of the selected rows",
    "delete": "Delete the selected rows (Undo brings them back)",
    "move_up": "Move the selected rows up",
    "move_down": "Move the selected rows down",
    "find": "Find text in inputs and outputs",
    "replace": "Replace text in inputs and outputs",
    "split": "Assign each example to train, validation or test at random",
    "dedupe": "Remove the rows that repeat an earlier row exactly (input, output, split, tags and note); one undo step",
}


def build_edit_actions(owner: QObject, editor: RowEditor) -> EditActions:
    """The Edit menu's actions, triggering the editor's methods."""
    return build_actions(owner, editor, EXAMPLE_TIPS)


def build_actions(owner: QObject, editor: RowEditorBase[RowT], tips: Mapping[str, str], prefix: str = "action_",
                  visible: bool = True) -> EditActions:
    """The Edit menu's actions over ``editor`` (the same entries and shortcuts in both views; ``tips`` by name)."""
    table: list[tuple[str, str, Callable[[], object], Shortcut]] = [
        # name, text, slot, shortcut
        ("undo", "&Undo", editor.undo, K(K.StandardKey.Undo)),
        ("redo", "&Redo", editor.redo, [K("Ctrl+Y"), K("Ctrl+Shift+Z")]),
        ("cut", "Cu&t Rows", editor.cut_rows, K(K.StandardKey.Cut)),
        ("copy", "&Copy", editor.copy_rows, K(K.StandardKey.Copy)),
        ("paste", "&Paste", editor.paste, K(K.StandardKey.Paste)),
        ("add_row", "&Add Row", editor.add_row, K("Ctrl+Return")),
        ("duplicate", "D&uplicate Rows", editor.duplicate_rows, K("Ctrl+D")),
        ("delete", "&Delete Rows", editor.delete_rows, K(K.StandardKey.Delete)),
        ("move_up", "Move U&p", lambda: editor.move_rows(-1), K("Alt+Up")),
        ("move_down", "Move Do&wn", lambda: editor.move_rows(1), K("Alt+Down")),
        ("find", "&Find…", lambda: editor.show_find(False), K(K.StandardKey.Find)),
        ("replace", "Find and &Replace…", lambda: editor.show_find(True), K("Ctrl+H")),
        ("split", "&Split into Train/Validation/Test…", editor.show_split_dialog, None),
        ("dedupe", "Remove E&xact Duplicates", editor.remove_exact_duplicates, None),
    ]
    return EditActions(*(make_action(owner, name, text, slot, shortcut, tips[name], prefix, visible)
                         for name, text, slot, shortcut in table))


def make_action(owner: QObject, name: str, text: str, slot: Callable[[], object], shortcut: Shortcut,
                tip: str, prefix: str = "action_", visible: bool = True) -> QAction:
    action = QAction(text, owner)
    action.setObjectName(f"{prefix}{name}")
    if isinstance(shortcut, list):
        action.setShortcuts(shortcut)
    elif shortcut is not None:
        action.setShortcut(shortcut)
    action.setStatusTip(tip)
    action.setToolTip(tip)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if not visible:
        action.setVisible(False)
    action.triggered.connect(lambda _checked=False: slot())
    return action

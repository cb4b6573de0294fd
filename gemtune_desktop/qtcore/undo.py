"""Undoable dataset edits. Each command writes through to the project file in one transaction.

Commands keep references to the ``Example`` objects they touch plus the old and new values
(never table snapshots). Widgets build a command and ``session.undo_stack.push(cmd)``; ``push``
runs ``redo()`` at once. If writing to the file fails, the command raises before changing memory;
callers catch :class:`sqlite3.Error` / ``OSError`` and tell the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand

from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.qtcore.project_session import ProjectSession, RemovedEntry

EDIT_CELL_ID = 1001
SETTINGS_TEXT_ID = 1002

FIELD_LABELS = {"input": "input", "output": "output", "split": "split", "tags": "tags", "note": "note"}


class EditCellCommand(QUndoCommand):
    """Change one field of one example; consecutive edits of the same cell merge (typing)."""

    def __init__(self, session: ProjectSession, example: Example, field: str, new: Any,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Edit {FIELD_LABELS.get(field, field)}", parent)
        self.session = session
        self.example = example
        self.field = field
        self.old = getattr(example, field)
        self.new = new

    def id(self) -> int:
        return EDIT_CELL_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditCellCommand) or other.example is not self.example or other.field != self.field:
            return False
        self.new = other.new
        if self.new == self.old:
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        self.session.set_fields([(self.example, self.field, self.new)])

    def undo(self) -> None:
        self.session.set_fields([(self.example, self.field, self.old)])


class SetFieldsCommand(QUndoCommand):
    """Many field changes as one step: find & replace, split, paste into cells, bulk set."""

    def __init__(self, session: ProjectSession, changes: Sequence[tuple[Example, str, Any]], text: str,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self.session = session
        self.changes = [(e, f, getattr(e, f), v) for e, f, v in changes]

    def redo(self) -> None:
        self.session.set_fields([(e, f, new) for e, f, _old, new in self.changes])

    def undo(self) -> None:
        self.session.set_fields([(e, f, old) for e, f, old, _new in reversed(self.changes)])


class InsertRowsCommand(QUndoCommand):
    """Add, duplicate, paste rows or import a file: new examples at one place."""

    def __init__(self, session: ProjectSession, index: int, examples: Sequence[Example], text: str,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self.session = session
        self.index = index
        self.examples = list(examples)
        self.positions: list[float] | None = None

    def redo(self) -> None:
        self.positions = self.session.insert(self.index, self.examples, self.positions)

    def undo(self) -> None:
        self.session.remove(self.examples)


class RemoveRowsCommand(QUndoCommand):
    """Delete (or cut) a set of rows; undo puts them back where they were."""

    def __init__(self, session: ProjectSession, examples: Sequence[Example], text: str = "Delete rows",
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self.session = session
        self.examples = list(examples)
        self.entries: list[RemovedEntry] = []

    def redo(self) -> None:
        self.entries = self.session.remove(self.examples)

    def undo(self) -> None:
        self.session.reinsert(self.entries)


class MoveRowsCommand(QUndoCommand):
    """Move the selected rows one place up or down."""

    def __init__(self, session: ProjectSession, rows: Sequence[int], delta: int,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__("Move rows up" if delta < 0 else "Move rows down", parent)
        self.session = session
        self.pairs = move_pairs(rows, delta, len(session.examples))

    def redo(self) -> None:
        self.session.swap(self.pairs)

    def undo(self) -> None:
        self.session.swap(list(reversed(self.pairs)))


def move_pairs(rows: Sequence[int], delta: int, n: int) -> list[tuple[int, int]]:
    """The swaps that move each selected row one step (rows blocked by the edge or by a stuck
    selected neighbour stay put)."""
    selected = set(rows)
    pairs: list[tuple[int, int]] = []
    if delta < 0:
        for i in sorted(selected):
            if i > 0 and (i - 1) not in selected:
                pairs.append((i - 1, i))
                selected.discard(i)
                selected.add(i - 1)
    else:
        for i in sorted(selected, reverse=True):
            if i < n - 1 and (i + 1) not in selected:
                pairs.append((i, i + 1))
                selected.discard(i)
                selected.add(i + 1)
    return pairs


class SettingsCommand(QUndoCommand):
    """Change the dataset settings (preamble, system instruction, target, split ratios).

    Typing in the same settings field merges into one step.
    """

    def __init__(self, session: ProjectSession, new: DatasetSettings, text: str, merge_key: str = "",
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self.session = session
        self.old = copy_settings(session.settings)
        self.new = copy_settings(new)
        self.merge_key = merge_key

    def id(self) -> int:
        return SETTINGS_TEXT_ID if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SettingsCommand) or not self.merge_key or other.merge_key != self.merge_key:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.session.set_settings(copy_settings(self.new))

    def undo(self) -> None:
        self.session.set_settings(copy_settings(self.old))


def copy_settings(s: DatasetSettings) -> DatasetSettings:
    return DatasetSettings(s.preamble, s.system_instruction, s.target, s.split_seed, s.split_ratios,
                           dict(s.extra))

"""Undoable edits of preference pairs; each command writes through to the project file in one transaction.

The same rules as the Examples view's commands: every command here is a
:class:`~gemtune_desktop.qtcore.undo_base.SafeCommand` (read :mod:`gemtune_desktop.qtcore.undo_base`). Commands
keep references to the ``PreferenceExample`` objects they touch plus old and new values; ``redo()`` and
``undo()`` catch every error themselves — an exception must never leave a ``QUndoCommand`` override under
PySide6 — and a failed command marks itself obsolete, so ``QUndoStack`` drops it (not pushed, or removed from
the history when an undo or redo of it fails), while the session reports the plain message through
``write_failed``. Setting fields and moving rows are the shared commands, under the names the pairs view uses;
this module adds what is worded or shaped for pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand

from gemtune_desktop.core.preference.model import FIELD_WORDS, PreferenceExample
from gemtune_desktop.core.project.write_errors import Action
from gemtune_desktop.qtcore.preference_session import PreferenceSession
from gemtune_desktop.qtcore.undo_base import (
    EditFieldCommand,
    MoveRowsCommand,
    RemoveRowsCommand,
    RowCommand,
    SafeCommand,
    SetFieldsCommand,
)

__all__ = ["EditPairCommand", "InsertPairsCommand", "MovePairsCommand", "RemovePairsCommand", "SafePairCommand",
           "SetPairFieldsCommand"]

EDIT_PAIR_ID = 1101

SafePairCommand = SafeCommand
SetPairFieldsCommand = SetFieldsCommand  # find & replace, split, paste into cells: many changes as one step
MovePairsCommand = MoveRowsCommand


class EditPairCommand(EditFieldCommand[PreferenceExample]):
    """Change one field of one pair; consecutive edits of the same field merge (typing)."""

    def __init__(self, session: PreferenceSession, example: PreferenceExample, field: str, new: Any,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, example, field, new, f"Edit {FIELD_WORDS.get(field, field)}", parent)

    def id(self) -> int:
        return EDIT_PAIR_ID


class InsertPairsCommand(RowCommand[PreferenceExample]):
    """Add, duplicate, paste or import pairs at one place; ``action="import"`` words a failure as an import."""

    session: PreferenceSession

    def __init__(self, session: PreferenceSession, index: int, examples: Sequence[PreferenceExample], text: str,
                 parent: QUndoCommand | None = None, action: Action = "change") -> None:
        super().__init__(session, text, parent)
        self.index = index
        self.examples = list(examples)
        self.action = action

    def apply(self) -> None:
        self.session.insert(self.index, self.examples)

    def revert(self) -> None:
        self.session.remove(self.examples)


class RemovePairsCommand(RemoveRowsCommand[PreferenceExample]):
    """Delete (or cut) pairs; undo puts them back where they were. A redo that fails keeps them."""

    def __init__(self, session: PreferenceSession, examples: Sequence[PreferenceExample], text: str = "Delete pairs",
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, examples, text, parent)

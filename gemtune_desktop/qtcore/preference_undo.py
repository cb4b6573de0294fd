"""Undoable edits of preference pairs; each command writes through to the project file in one transaction.

The same rules as :mod:`gemtune_desktop.qtcore.undo` (read its docstring): commands keep references to the
``PreferenceExample`` objects they touch plus old and new values; ``redo()`` and ``undo()`` catch every error
themselves — an exception must never leave a ``QUndoCommand`` override under PySide6 — and a failed command
marks itself obsolete, so ``QUndoStack`` drops it (not pushed, or removed from the history when an undo or
redo of it fails), while the session reports the plain message through ``write_failed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand

from gemtune_desktop.core.preference.model import FIELD_WORDS, PreferenceExample
from gemtune_desktop.core.project.write_errors import Action
from gemtune_desktop.qtcore.preference_session import PreferenceSession, RemovedPair
from gemtune_desktop.qtcore.undo import move_pairs

EDIT_PAIR_ID = 1101


class SafePairCommand(QUndoCommand):
    """A command whose failures are reported, not raised; subclasses implement :meth:`apply` and :meth:`revert`."""

    action: Action = "change"

    def __init__(self, session: PreferenceSession, text: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self.session = session
        self.failed = False
        self._applied_once = False

    def apply(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError

    def redo(self) -> None:
        if self.failed:
            return
        try:
            self.apply()
        except Exception as exc:  # every failure: see the module docstring
            self._fail(exc, "redo" if self._applied_once else self.action)
            return
        self._applied_once = True

    def undo(self) -> None:
        if self.failed:
            return
        try:
            self.revert()
        except Exception as exc:
            self._fail(exc, "undo")

    def _fail(self, exc: Exception, action: Action) -> None:
        self.failed = True
        self.setObsolete(True)
        self.session.report_failure(exc, action)

    def mergeable(self, other: QUndoCommand) -> bool:
        """A failed command (this one or the newcomer) is never merged into the history."""
        return not self.failed and not getattr(other, "failed", True) and not other.isObsolete()


class EditPairCommand(SafePairCommand):
    """Change one field of one pair; consecutive edits of the same field merge (typing)."""

    def __init__(self, session: PreferenceSession, example: PreferenceExample, field: str, new: Any,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, f"Edit {FIELD_WORDS.get(field, field)}", parent)
        self.example = example
        self.field = field
        self.old = getattr(example, field)
        self.new = new

    def id(self) -> int:
        return EDIT_PAIR_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (not isinstance(other, EditPairCommand) or other.example is not self.example
                or other.field != self.field or not self.mergeable(other)):
            return False
        self.new = other.new
        if self.new == self.old:
            self.setObsolete(True)
        return True

    def apply(self) -> None:
        self.session.set_fields([(self.example, self.field, self.new)])

    def revert(self) -> None:
        self.session.set_fields([(self.example, self.field, self.old)])


class SetPairFieldsCommand(SafePairCommand):
    """Many field changes as one step: find & replace, split, paste into cells."""

    def __init__(self, session: PreferenceSession, changes: Sequence[tuple[PreferenceExample, str, Any]], text: str,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, text, parent)
        self.changes = [(e, f, getattr(e, f), v) for e, f, v in changes]

    def apply(self) -> None:
        self.session.set_fields([(e, f, new) for e, f, _old, new in self.changes])

    def revert(self) -> None:
        self.session.set_fields([(e, f, old) for e, f, old, _new in reversed(self.changes)])


class InsertPairsCommand(SafePairCommand):
    """Add, duplicate, paste or import pairs at one place; ``action="import"`` words a failure as an import."""

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


class RemovePairsCommand(SafePairCommand):
    """Delete (or cut) pairs; undo puts them back where they were. A redo that fails keeps them."""

    def __init__(self, session: PreferenceSession, examples: Sequence[PreferenceExample], text: str = "Delete pairs",
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, text, parent)
        self.examples = list(examples)
        self.entries: list[RemovedPair] = []

    def apply(self) -> None:
        entries = self.session.remove(self.examples)  # raises before anything changes
        if entries:
            self.entries = entries

    def revert(self) -> None:
        self.session.reinsert(self.entries)


class MovePairsCommand(SafePairCommand):
    """Move the selected rows one place up or down."""

    def __init__(self, session: PreferenceSession, rows: Sequence[int], delta: int,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, "Move rows up" if delta < 0 else "Move rows down", parent)
        self.pairs = move_pairs(rows, delta, len(session.examples))

    def apply(self) -> None:
        self.session.swap(self.pairs)

    def revert(self) -> None:
        self.session.swap(list(reversed(self.pairs)))

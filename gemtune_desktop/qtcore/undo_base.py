"""Undo commands that never leave a failed write in the history: the base of every dataset edit.

Shared by the Examples view (:mod:`gemtune_desktop.qtcore.undo`) and the Preference pairs view
(:mod:`gemtune_desktop.qtcore.preference_undo`). Commands keep references to the row objects they touch plus
the old and new values (never table snapshots). Widgets build a command and call ``session.push(cmd)``;
``push`` runs ``redo()`` at once.

**A write that fails never stays in the history.** ``redo()`` and ``undo()`` catch every error themselves:
PySide6 does not let an exception out of a ``QUndoCommand`` override in a way a caller can rely on (from a
slot it goes to ``sys.excepthook`` while ``QUndoStack`` keeps the command as done, and the command's C++
object is later freed under the stack: a segfault a few edits on). Instead a failed command marks itself
obsolete — ``QUndoStack`` then drops it (not pushed; or removed from the history when an undo or redo of
it fails) — and the session reports a plain message through ``write_failed``. The sessions' mutations
(:mod:`gemtune_desktop.qtcore.row_edits`) write the file before memory, so a failure leaves the screen and
the file as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol

from PySide6.QtGui import QUndoCommand

from gemtune_desktop.core.project.write_errors import Action
from gemtune_desktop.qtcore.row_edits import Removed, RowT

if TYPE_CHECKING:
    from gemtune_desktop.core.errors import UserError


class ReportsFailures(Protocol):
    """A session that turns a failed write into the user's message (and its ``write_failed`` signal)."""

    def report_failure(self, exc: BaseException, action: Action = "change") -> UserError: ...


class CommandSession(ReportsFailures, Protocol[RowT]):
    """A session of ordered rows, as the shared commands use it."""

    examples: list[RowT]

    def set_fields(self, changes: Sequence[tuple[RowT, str, Any]]) -> None: ...
    def remove(self, examples: Iterable[RowT]) -> list[Removed[RowT]]: ...
    def reinsert(self, entries: Sequence[Removed[RowT]]) -> None: ...
    def swap(self, pairs: Sequence[tuple[int, int]]) -> None: ...


class SafeCommand(QUndoCommand):
    """A command whose failures are reported, not raised; subclasses implement :meth:`apply` and :meth:`revert`."""

    action: Action = "change"

    def __init__(self, session: ReportsFailures, text: str, parent: QUndoCommand | None = None) -> None:
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


class RowCommand(SafeCommand, Generic[RowT]):
    """A safe command over a session of ordered rows."""

    session: CommandSession[RowT]

    def __init__(self, session: CommandSession[RowT], text: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(session, text, parent)


class EditFieldCommand(RowCommand[RowT]):
    """Change one field of one row; consecutive edits of the same field of the same row merge (typing).

    Subclasses give the merge id (:meth:`id`); only commands of the same class merge.
    """

    def __init__(self, session: CommandSession[RowT], example: RowT, field: str, new: Any, text: str,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, text, parent)
        self.example = example
        self.field = field
        self.old = getattr(example, field)
        self.new = new

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (not isinstance(other, type(self)) or other.example is not self.example
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


class SetFieldsCommand(RowCommand[RowT]):
    """Many field changes as one step: find & replace, split, paste into cells, bulk set."""

    def __init__(self, session: CommandSession[RowT], changes: Sequence[tuple[RowT, str, Any]], text: str,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, text, parent)
        self.changes = [(e, f, getattr(e, f), v) for e, f, v in changes]

    def apply(self) -> None:
        self.session.set_fields([(e, f, new) for e, f, _old, new in self.changes])

    def revert(self) -> None:
        self.session.set_fields([(e, f, old) for e, f, old, _new in reversed(self.changes)])


class RemoveRowsCommand(RowCommand[RowT]):
    """Delete (or cut) a set of rows; undo puts them back where they were.

    The rows stay with the command whatever happens: a redo that fails keeps them on screen and in the file.
    """

    def __init__(self, session: CommandSession[RowT], examples: Sequence[RowT], text: str = "Delete rows",
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, text, parent)
        self.examples = list(examples)
        self.entries: list[Removed[RowT]] = []

    def apply(self) -> None:
        entries = self.session.remove(self.examples)  # raises before anything changes
        if entries:
            self.entries = entries

    def revert(self) -> None:
        self.session.reinsert(self.entries)


class MoveRowsCommand(RowCommand[RowT]):
    """Move the selected rows one place up or down."""

    def __init__(self, session: CommandSession[RowT], rows: Sequence[int], delta: int,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, "Move rows up" if delta < 0 else "Move rows down", parent)
        self.pairs = move_pairs(rows, delta, len(session.examples))

    def apply(self) -> None:
        self.session.swap(self.pairs)

    def revert(self) -> None:
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

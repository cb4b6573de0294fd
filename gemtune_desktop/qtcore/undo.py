"""Undoable dataset edits. Each command writes through to the project file in one transaction.

Commands keep references to the ``Example`` objects they touch plus the old and new values
(never table snapshots). Widgets build a command and call ``session.push(cmd)`` (or
``session.undo_stack.push(cmd)``); ``push`` runs ``redo()`` at once.

**A write that fails never stays in the history.** ``redo()`` and ``undo()`` catch every error themselves:
PySide6 does not let an exception out of a ``QUndoCommand`` override in a way a caller can rely on (from a
slot it goes to ``sys.excepthook`` while ``QUndoStack`` keeps the command as done, and the command's C++
object is later freed under the stack: a segfault a few edits on). Instead a failed command marks itself
obsolete — ``QUndoStack`` then drops it (not pushed; or removed from the history when an undo or redo of
it fails) — and the session reports a plain message through ``write_failed``. The session's mutations
write the file before memory, so a failure leaves the screen and the file as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand

from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.project.write_errors import Action
from gemtune_desktop.qtcore.project_session import ProjectSession, RemovedEntry

log = logging.getLogger(__name__)

EDIT_CELL_ID = 1001
SETTINGS_TEXT_ID = 1002

FIELD_LABELS = {"input": "input", "output": "output", "split": "split", "tags": "tags", "note": "note"}


class SafeCommand(QUndoCommand):
    """A command whose failures are reported, not raised; subclasses implement :meth:`apply` and :meth:`revert`."""

    action: Action = "change"

    def __init__(self, session: ProjectSession, text: str, parent: QUndoCommand | None = None) -> None:
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


class EditCellCommand(SafeCommand):
    """Change one field of one example; consecutive edits of the same cell merge (typing)."""

    def __init__(self, session: ProjectSession, example: Example, field: str, new: Any,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, f"Edit {FIELD_LABELS.get(field, field)}", parent)
        self.example = example
        self.field = field
        self.old = getattr(example, field)
        self.new = new

    def id(self) -> int:
        return EDIT_CELL_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (not isinstance(other, EditCellCommand) or other.example is not self.example
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


class SetFieldsCommand(SafeCommand):
    """Many field changes as one step: find & replace, split, paste into cells, bulk set."""

    def __init__(self, session: ProjectSession, changes: Sequence[tuple[Example, str, Any]], text: str,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, text, parent)
        self.changes = [(e, f, getattr(e, f), v) for e, f, v in changes]

    def apply(self) -> None:
        self.session.set_fields([(e, f, new) for e, f, _old, new in self.changes])

    def revert(self) -> None:
        self.session.set_fields([(e, f, old) for e, f, old, _new in reversed(self.changes)])


class InsertRowsCommand(SafeCommand):
    """Add, duplicate, paste rows or import a file: new examples at one place.

    ``settings`` (an import's preamble and system instruction) are saved in the same transaction and
    restored on undo; ``action="import"`` words a failure as an import that added nothing.
    """

    def __init__(self, session: ProjectSession, index: int, examples: Sequence[Example], text: str,
                 parent: QUndoCommand | None = None, settings: DatasetSettings | None = None,
                 action: Action = "change") -> None:
        super().__init__(session, text, parent)
        self.index = index
        self.examples = list(examples)
        self.new_settings = copy_settings(settings) if settings is not None else None
        self.old_settings = copy_settings(session.settings) if settings is not None else None
        self.action = action
        self.positions: list[float] | None = None

    def apply(self) -> None:
        settings = copy_settings(self.new_settings) if self.new_settings is not None else None
        self.positions = self.session.insert(self.index, self.examples, settings=settings)

    def revert(self) -> None:
        settings = copy_settings(self.old_settings) if self.old_settings is not None else None
        self.session.remove(self.examples, settings=settings)  # rows and settings together, or neither


class RemoveRowsCommand(SafeCommand):
    """Delete (or cut) a set of rows; undo puts them back where they were.

    The rows stay with the command whatever happens: a redo that fails keeps them on screen and in the file.
    """

    def __init__(self, session: ProjectSession, examples: Sequence[Example], text: str = "Delete rows",
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, text, parent)
        self.examples = list(examples)
        self.entries: list[RemovedEntry] = []

    def apply(self) -> None:
        entries = self.session.remove(self.examples)  # raises before anything changes
        if entries:
            self.entries = entries

    def revert(self) -> None:
        self.session.reinsert(self.entries)


class MoveRowsCommand(SafeCommand):
    """Move the selected rows one place up or down."""

    def __init__(self, session: ProjectSession, rows: Sequence[int], delta: int,
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


class SettingsCommand(SafeCommand):
    """Change the dataset settings (preamble, system instruction, target, split ratios).

    Typing in the same settings field merges into one step.
    """

    action: Action = "settings"

    def __init__(self, session: ProjectSession, new: DatasetSettings, text: str, merge_key: str = "",
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, text, parent)
        self.old = copy_settings(session.settings)
        self.new = copy_settings(new)
        self.merge_key = merge_key

    def id(self) -> int:
        return SETTINGS_TEXT_ID if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (not isinstance(other, SettingsCommand) or not self.merge_key or other.merge_key != self.merge_key
                or not self.mergeable(other)):
            return False
        self.new = other.new
        return True

    def apply(self) -> None:
        self.session.set_settings(copy_settings(self.new))

    def revert(self) -> None:
        self.session.set_settings(copy_settings(self.old))


class CompositeCommand(SafeCommand):
    """Several changes as one undo step, all or none: import with Replace (delete, then add) or Merge (update,
    then add). The steps are commands of this module that are not pushed themselves; when one fails, the
    steps already done are reverted before the failure is reported, so the file and the screen are as before.
    """

    def __init__(self, session: ProjectSession, text: str, steps: Sequence[SafeCommand],
                 action: Action = "change", parent: QUndoCommand | None = None) -> None:
        super().__init__(session, text, parent)
        self.steps = list(steps)
        self.action = action

    def apply(self) -> None:
        _all_or_none([(step.apply, step.revert) for step in self.steps])

    def revert(self) -> None:
        _all_or_none([(step.revert, step.apply) for step in reversed(self.steps)])


def _all_or_none(steps: Sequence[tuple[Callable[[], None], Callable[[], None]]]) -> None:
    done: list[Callable[[], None]] = []
    try:
        for do, undo in steps:
            do()
            done.append(undo)
    except BaseException:
        for undo in reversed(done):
            try:
                undo()
            except Exception as exc:  # the first error is the one to report
                log.warning("could not take back part of a failed change", exc_info=exc)
        raise


def copy_settings(s: DatasetSettings) -> DatasetSettings:
    return DatasetSettings(s.preamble, s.system_instruction, s.target, s.split_seed, s.split_ratios,
                           dict(s.extra))

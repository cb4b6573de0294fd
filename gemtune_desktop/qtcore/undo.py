"""Undoable dataset edits. Each command writes through to the project file in one transaction.

Commands keep references to the ``Example`` objects they touch plus the old and new values
(never table snapshots). Widgets build a command and call ``session.push(cmd)`` (or
``session.undo_stack.push(cmd)``); ``push`` runs ``redo()`` at once.

**A write that fails never stays in the history.** Every command here is a
:class:`~gemtune_desktop.qtcore.undo_base.SafeCommand` (read :mod:`gemtune_desktop.qtcore.undo_base`):
``redo()`` and ``undo()`` catch every error themselves — an exception must never leave a ``QUndoCommand``
override under PySide6 — and a failed command marks itself obsolete, so ``QUndoStack`` drops it (not pushed;
or removed from the history when an undo or redo of it fails), while the session reports a plain message
through ``write_failed``. The session's mutations write the file before memory, so a failure leaves the
screen and the file as they were. Editing fields, deleting and moving rows are the shared commands of
:mod:`~gemtune_desktop.qtcore.undo_base` (re-exported here); this module adds what only examples have:
inserting with an import's settings, the dataset settings, and several steps as one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand

from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.project.write_errors import Action
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.undo_base import (
    EditFieldCommand,
    MoveRowsCommand,
    RemoveRowsCommand,
    SafeCommand,
    SetFieldsCommand,
    move_pairs,
)

log = logging.getLogger(__name__)

__all__ = ["CompositeCommand", "EditCellCommand", "InsertRowsCommand", "MoveRowsCommand", "RemoveRowsCommand",
           "SafeCommand", "SetFieldsCommand", "SettingsCommand", "copy_settings", "move_pairs"]

EDIT_CELL_ID = 1001
SETTINGS_TEXT_ID = 1002

FIELD_LABELS = {"input": "input", "output": "output", "split": "split", "tags": "tags", "note": "note"}


class EditCellCommand(EditFieldCommand[Example]):
    """Change one field of one example; consecutive edits of the same cell merge (typing)."""

    def __init__(self, session: ProjectSession, example: Example, field: str, new: Any,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(session, example, field, new, f"Edit {FIELD_LABELS.get(field, field)}", parent)

    def id(self) -> int:
        return EDIT_CELL_ID


class InsertRowsCommand(SafeCommand):
    """Add, duplicate, paste rows or import a file: new examples at one place.

    ``settings`` (an import's preamble and system instruction) are saved in the same transaction and
    restored on undo; ``action="import"`` words a failure as an import that added nothing.
    """

    session: ProjectSession

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


class SettingsCommand(SafeCommand):
    """Change the dataset settings (preamble, system instruction, target, split ratios).

    Typing in the same settings field merges into one step.
    """

    action: Action = "settings"
    session: ProjectSession

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

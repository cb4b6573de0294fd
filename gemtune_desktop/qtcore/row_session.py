"""A session of ordered rows with an undo stack: what the Examples and the Preference pairs sessions share.

:class:`RowSession` sits under :class:`~gemtune_desktop.qtcore.session_edits.SessionEdits` (mixed into
:class:`~gemtune_desktop.qtcore.project_session.ProjectSession`) and
:class:`~gemtune_desktop.qtcore.preference_edits.PreferenceEdits` (mixed into
:class:`~gemtune_desktop.qtcore.preference_session.PreferenceSession`). Over the file-first mutations of
:class:`~gemtune_desktop.qtcore.row_edits.OrderedRowEdits` it adds:

* the undo stack, safely: :meth:`~RowSession.push`, :meth:`~RowSession.undo` and :meth:`~RowSession.redo` say
  whether the change was saved (a failed command reports itself and leaves the history:
  :mod:`gemtune_desktop.qtcore.undo_base`);
* validation: the first full check of a large set runs on a worker (:meth:`~RowSession.validate_in_background`)
  while edits are queued for the fresh validator; then each edit re-checks only the rows it touched;
* lookups by id, with the 1-based row numbers the user sees.

The host is a ``QObject`` that declares the signals, ``undo_stack``, ``examples``, ``validator`` and
``checking``, sets up :meth:`_init_rows` state, and says how a validator is made for its settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from gemtune_desktop.core.project.write_errors import Action
from gemtune_desktop.core.validation import Severity
from gemtune_desktop.qtcore.row_edits import OrderedRowEdits, Removed, RowT
from gemtune_desktop.qtcore.workers import TaskSlot

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtGui import QUndoCommand

    from gemtune_desktop.core.errors import UserError

UNDO_LIMIT = 500


class RowSessionObject(QObject):
    """The Qt side of a session of rows: the signals its tables and panels listen to, and its undo stack.

    Signals:
        rows_about_to_be_inserted(int, int): first index, count (before the list changes).
        rows_inserted(int, int): first index, count (after).
        rows_about_to_be_removed(int, int): first index, count of one contiguous range.
        rows_removed(int, int): the same range, after removal.
        about_to_reset(): the whole list is about to be replaced or reordered.
        reset_done(): the whole list changed.
        examples_changed(list): the rows whose fields changed (in place).
        validation_changed(): findings changed (after any edit).
        write_failed(object): a :class:`UserError` for a write that failed (the change was not kept).
        closed(): the session was closed.
    """

    rows_about_to_be_inserted = Signal(int, int)
    rows_inserted = Signal(int, int)
    rows_about_to_be_removed = Signal(int, int)
    rows_removed = Signal(int, int)
    about_to_reset = Signal()
    reset_done = Signal()
    examples_changed = Signal(list)
    validation_changed = Signal()
    write_failed = Signal(object)
    closed = Signal()

    def _new_undo_stack(self) -> QUndoStack:
        """The session's history, of at most :data:`UNDO_LIMIT` steps."""
        stack = QUndoStack(self)
        stack.setUndoLimit(UNDO_LIMIT)
        return stack


class RowSession(OrderedRowEdits[RowT]):
    """The undo stack, validation and lookups of a session of ordered rows (see the module docstring)."""

    undo_stack: QUndoStack
    validator: Any  # the table's incremental validator (Any: a worker swaps in a fresh one)
    checking: bool
    closed: SignalInstance

    if TYPE_CHECKING:
        @property
        def can_edit(self) -> bool: ...

        @property
        def is_closed(self) -> bool: ...

    def remove(self, examples: Iterable[RowT]) -> list[Removed[RowT]]:
        """Delete ``examples``; returns what :meth:`reinsert` needs to put them back (the host's table)."""
        return self._remove_rows(examples)

    def report_failure(self, exc: BaseException, action: Action = "change") -> UserError:
        """A failed write in the user's words, emitted as ``write_failed`` (the host says how)."""
        raise NotImplementedError

    def _init_rows(self, background_above: int | None) -> None:
        """Call once ``examples`` and ``validator`` are set: validate now, or later on a worker when there are
        more than ``background_above`` rows (until then the table says "Checking…" and edits are queued)."""
        self._id_index: dict[int, int] | None = None
        self.checking = background_above is not None and len(self.examples) > background_above
        self._pending_changed: dict[int, RowT] = {}
        self._pending_removed: set[int] = set()
        if not self.checking:
            self.validator.reset(self.examples)
        self._failures = 0

    # -- the undo stack, safely ---------------------------------------------------------------------
    def push(self, command: QUndoCommand) -> bool:
        """Run ``command`` and add it to the history; False (and ``write_failed``) when it could not be saved.

        A failed command is not in the history. The commands catch their own errors (an exception must never
        leave ``redo()``: PySide would drop it and keep the command).
        """
        before = self._failures
        self.undo_stack.push(command)
        return self._failures == before

    def undo(self) -> bool:
        before = self._failures
        self.undo_stack.undo()
        return self._failures == before

    def redo(self) -> bool:
        before = self._failures
        self.undo_stack.redo()
        return self._failures == before

    # -- validation -----------------------------------------------------------------------------
    def _validator_maker(self) -> Callable[[], Any]:
        """A function (run on a worker) that makes an empty validator for the current settings."""
        raise NotImplementedError

    def _catch_up_settings(self, validator: Any) -> None:
        """Give a validator made on a worker the settings changed since (if they did)."""
        raise NotImplementedError

    def validate_in_background(self, tasks: TaskSlot) -> None:
        """Run the first full validation on a worker (a large set takes a while); the GUI stays live."""
        if not self.checking:
            return
        make = self._validator_maker()

        def work(_token: Any, examples: list[RowT]) -> Any:
            v = make()
            v.reset(examples)
            return v

        tasks.start(work, list(self.examples), on_result=self._validated)

    def _validated(self, validator: Any) -> None:
        if self.is_closed:
            return
        if self._pending_removed:
            validator.remove(list(self._pending_removed))
        if self._pending_changed:
            alive = {e.id for e in self.examples}
            validator.update([e for e in self._pending_changed.values() if e.id in alive])
        self._catch_up_settings(validator)
        validator.row_of = self.row_number
        self._pending_changed.clear()
        self._pending_removed.clear()
        self.validator = validator
        self.checking = False
        self.validation_changed.emit()

    def _revalidate(self, changed: Sequence[RowT]) -> None:
        if self.checking:
            for e in changed:
                self._pending_changed[e.id] = e
                self._pending_removed.discard(e.id)
            return
        self.validator.update(changed)

    def _unvalidate(self, ids: Sequence[int]) -> None:
        if self.checking:
            for k in ids:
                self._pending_changed.pop(k, None)
                self._pending_removed.add(k)
            return
        self.validator.remove(ids)

    def status_counts(self, example: RowT) -> tuple[int, int]:
        """(errors, warnings) for one row."""
        errors = warnings = 0
        for f in self.validator.findings_for(example.id):
            if f.severity is Severity.ERROR:
                errors += 1
            elif f.severity is Severity.WARNING:
                warnings += 1
        return errors, warnings

    # -- lookups ----------------------------------------------------------------------------
    def index_of_id(self, example_id: int) -> int:
        """List index of the row with this id, or -1 (a cached map, rebuilt after rows move)."""
        if self._id_index is None:
            self._id_index = {e.id: i for i, e in enumerate(self.examples)}
        return self._id_index.get(example_id, -1)

    def row_number(self, example_id: int) -> int | None:
        """The 1-based row number the user sees for a row id."""
        i = self.index_of_id(example_id)
        return i + 1 if i >= 0 else None

    def by_id(self, example_id: int) -> RowT | None:
        i = self.index_of_id(example_id)
        return self.examples[i] if i >= 0 else None

    def _structure_changed(self) -> None:
        self._id_index = None

"""The open project as the UI sees it: the store, the examples in memory, validation and the undo stack.

A :class:`ProjectSession` wraps one :class:`~gemtune_desktop.core.project.store.ProjectStore`.
Its mutation methods (``set_fields``, ``insert``, ``remove``, ``reinsert``, ``swap``, ``set_settings``)
write to SQLite in one transaction first and only then change the in-memory list, so memory never
shows an edit the file does not have. They are called by the undo commands in
:mod:`gemtune_desktop.qtcore.undo` (never directly by widgets), so every change is undoable.

Examples are identified by object identity in memory and by ``Example.id`` on disk; undo
commands keep references to the very ``Example`` objects they touched.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.core.validation import IncrementalValidator, Severity
from gemtune_desktop.qtcore.workers import TaskSlot

log = logging.getLogger(__name__)

UNDO_LIMIT = 500
RESET_ABOVE_RANGES = 64  # more removed ranges than this → one model reset instead of many signals

RemovedEntry = tuple[int, Example, float]  # index in the list, the example, its stored position


class ProjectSession(QObject):
    """One open project.

    Signals:
        rows_about_to_be_inserted(int, int): first index, count (before the list changes).
        rows_inserted(int, int): first index, count (after).
        rows_about_to_be_removed(int, int): first index, count of one contiguous range.
        rows_removed(int, int): the same range, after removal.
        about_to_reset(): the whole list is about to be replaced or reordered.
        reset_done(): the whole list changed.
        examples_changed(list): the Example objects whose fields changed (in place).
        settings_changed(object): the new DatasetSettings.
        validation_changed(): findings changed (after any edit).
        closed(): the store was closed.
    """

    rows_about_to_be_inserted = Signal(int, int)
    rows_inserted = Signal(int, int)
    rows_about_to_be_removed = Signal(int, int)
    rows_removed = Signal(int, int)
    about_to_reset = Signal()
    reset_done = Signal()
    examples_changed = Signal(list)
    settings_changed = Signal(object)
    validation_changed = Signal()
    closed = Signal()

    def __init__(self, store: ProjectStore, parent: QObject | None = None,
                 background_above: int | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.settings: DatasetSettings = repo.load_settings(store)
        self.examples: list[Example] = repo.load_examples(store)
        self._id_index: dict[int, int] | None = None
        self.validator: Any = self._new_validator()
        # Large projects are validated on a worker (see validate_in_background); until then the
        # table shows "Checking…" and edits are queued for the fresh validator.
        self.checking = background_above is not None and len(self.examples) > background_above
        self._pending_changed: dict[int, Example] = {}
        self._pending_removed: set[int] = set()
        if not self.checking:
            self.validator.reset(self.examples)

    # -- opening and closing ------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike[str], parent: QObject | None = None) -> ProjectSession:
        return cls(ProjectStore.create(path), parent)

    @classmethod
    def open(cls, path: str | os.PathLike[str], read_only: bool = False,
             parent: QObject | None = None, background_above: int | None = None) -> ProjectSession:
        """Open a project; with ``background_above=N`` a project of more than N examples is validated
        later by :meth:`validate_in_background` instead of before this returns."""
        store = ProjectStore.open(path, read_only=read_only)
        try:
            return cls(store, parent, background_above)
        except BaseException:
            store.close()
            raise

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def display_name(self) -> str:
        return self.store.path.stem

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    @property
    def is_closed(self) -> bool:
        return self.store.closed

    def save_as(self, dest: str | os.PathLike[str]) -> Path:
        """Write a complete copy of the project to ``dest`` (the copy is closed; open it to switch)."""
        return self.store.backup_to(dest)

    def close(self) -> None:
        if self.store.closed:
            return
        self.undo_stack.clear()
        self.store.close()
        self.closed.emit()

    # -- validation -----------------------------------------------------------------------------
    def _new_validator(self) -> Any:
        return IncrementalValidator(self.settings, self.settings.target, self.row_number)

    def validate_in_background(self, tasks: TaskSlot) -> None:
        """Run the first full validation on a worker (a million rows take a while); the GUI stays live."""
        if not self.checking:
            return
        settings = self.settings

        def work(_token: Any, examples: list[Example]) -> Any:
            v = IncrementalValidator(settings, settings.target)
            v.reset(examples)
            return v

        tasks.start(work, list(self.examples), on_result=self._validated)

    def _validated(self, validator: Any) -> None:
        if self.store.closed:
            return
        if self._pending_removed:
            validator.remove(list(self._pending_removed))
        if self._pending_changed:
            alive = {e.id for e in self.examples}
            validator.update([e for e in self._pending_changed.values() if e.id in alive])
        if validator.settings is not self.settings:
            validator.set_settings(self.settings, self.settings.target)
        validator.row_of = self.row_number
        self._pending_changed.clear()
        self._pending_removed.clear()
        self.validator = validator
        self.checking = False
        self.validation_changed.emit()

    def _revalidate(self, changed: Sequence[Example]) -> None:
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

    def status_counts(self, example: Example) -> tuple[int, int]:
        """(errors, warnings) for one example."""
        errors = warnings = 0
        for f in self.validator.findings_for(example.id):
            if f.severity is Severity.ERROR:
                errors += 1
            elif f.severity is Severity.WARNING:
                warnings += 1
        return errors, warnings

    # -- lookups ----------------------------------------------------------------------------
    def index_of(self, example: Example, hint: int = -1) -> int:
        """Index of ``example`` in the list (``hint`` is tried first), or -1."""
        ex = self.examples
        if 0 <= hint < len(ex) and ex[hint] is example:
            return hint
        for i, e in enumerate(ex):
            if e is example:
                return i
        return -1

    def indices_of_ids(self, ids: Iterable[int]) -> list[int]:
        wanted = set(ids)
        return [i for i, e in enumerate(self.examples) if e.id in wanted]

    def by_id(self, example_id: int) -> Example | None:
        i = self.index_of_id(example_id)
        return self.examples[i] if i >= 0 else None

    def index_of_id(self, example_id: int) -> int:
        """List index of the example with this id, or -1 (a cached map, rebuilt after rows move)."""
        if self._id_index is None:
            self._id_index = {e.id: i for i, e in enumerate(self.examples)}
        return self._id_index.get(example_id, -1)

    def row_number(self, example_id: int) -> int | None:
        """The 1-based row number the user sees for an example id."""
        i = self.index_of_id(example_id)
        return i + 1 if i >= 0 else None

    def _structure_changed(self) -> None:
        self._id_index = None

    # -- mutations (called by undo commands) --------------------------------------------------
    def set_fields(self, changes: Sequence[tuple[Example, str, Any]]) -> None:
        """Set ``field`` of each example to ``value`` (on disk first, in one transaction)."""
        if not changes:
            return
        repo.update_fields(self.store, [(e.id, f, v) for e, f, v in changes])
        touched: dict[int, Example] = {}
        for e, f, v in changes:
            setattr(e, f, v)
            touched[id(e)] = e
        changed = list(touched.values())
        self._revalidate(changed)
        self.examples_changed.emit(changed)
        self.validation_changed.emit()

    def insert(self, index: int, examples: Sequence[Example], positions: Sequence[float] | None = None
               ) -> list[float]:
        """Insert ``examples`` before ``index``; returns their stored positions (for a later redo)."""
        if not examples:
            return []
        index = max(0, min(index, len(self.examples)))
        with self.store.transaction():
            if positions is None:
                before = self.examples[index].id if index < len(self.examples) else None
                positions = repo.positions_before(self.store, before, len(examples))
            repo.insert(self.store, examples, positions)
        self._structure_changed()
        self.rows_about_to_be_inserted.emit(index, len(examples))
        self.examples[index:index] = examples
        self.rows_inserted.emit(index, len(examples))
        self._revalidate(list(examples))
        self.validation_changed.emit()
        return list(positions)

    def remove(self, examples: Iterable[Example]) -> list[RemovedEntry]:
        """Delete ``examples``; returns what :meth:`reinsert` needs to put them back."""
        targets = {id(e) for e in examples}
        found = [(i, e) for i, e in enumerate(self.examples) if id(e) in targets]
        if not found:
            return []
        pos = repo.positions(self.store, [e.id for _i, e in found])
        repo.delete(self.store, [e.id for _i, e in found])
        entries = [(i, e, pos.get(e.id, 0.0)) for i, e in found]
        self._structure_changed()
        ranges = _ranges([i for i, _e in found])
        if len(ranges) > RESET_ABOVE_RANGES:
            self.about_to_reset.emit()
            self.examples[:] = [e for e in self.examples if id(e) not in targets]
            self.reset_done.emit()
        else:
            for first, count in reversed(ranges):
                self.rows_about_to_be_removed.emit(first, count)
                del self.examples[first:first + count]
                self.rows_removed.emit(first, count)
        self._unvalidate([e.id for _i, e in found])
        self.validation_changed.emit()
        return entries

    def reinsert(self, entries: Sequence[RemovedEntry]) -> None:
        """Undo :meth:`remove`: put the examples back at their old indices, ids and positions."""
        if not entries:
            return
        entries = sorted(entries, key=lambda t: t[0])
        repo.insert(self.store, [e for _i, e, _p in entries], [p for _i, _e, p in entries])
        ranges = _ranges([i for i, _e, _p in entries])
        self._structure_changed()
        if len(ranges) > RESET_ABOVE_RANGES:
            self.about_to_reset.emit()
            merged: list[Example] = []
            it = iter(self.examples)
            for i, e, _p in entries:
                while len(merged) < i:
                    merged.append(next(it))
                merged.append(e)
            merged.extend(it)
            self.examples[:] = merged
            self.reset_done.emit()
        else:
            k = 0
            for first, count in ranges:
                chunk = [e for _i, e, _p in entries[k:k + count]]
                k += count
                self.rows_about_to_be_inserted.emit(first, count)
                self.examples[first:first] = chunk
                self.rows_inserted.emit(first, count)
        self._revalidate([e for _i, e, _p in entries])
        self.validation_changed.emit()

    def swap(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Apply the row swaps in order (Move Up/Down); swapping in reverse order undoes it."""
        if not pairs:
            return
        ex = self.examples
        slots = sorted({i for pair in pairs for i in pair})
        before = {i: ex[i] for i in slots}
        pos = repo.positions(self.store, [e.id for e in before.values()])
        slot_pos = {i: pos[before[i].id] for i in slots}
        order = dict(before)
        for a, b in pairs:
            order[a], order[b] = order[b], order[a]
        repo.set_positions(self.store, [(order[i].id, slot_pos[i]) for i in slots])
        self._structure_changed()
        for i in slots:
            ex[i] = order[i]
        self.examples_changed.emit(list(before.values()))
        self._revalidate(list(before.values()))
        self.validation_changed.emit()

    def set_settings(self, settings: DatasetSettings) -> None:
        repo.save_settings(self.store, settings)
        self.settings = settings
        if not self.checking:  # otherwise applied when the background validation returns
            self.validator.set_settings(settings, settings.target)
        self.settings_changed.emit(settings)
        self.validation_changed.emit()

    def replace_all(self, examples: list[Example]) -> None:
        """Tell views the whole list changed (used after a large in-place reorder)."""
        self._structure_changed()
        self.about_to_reset.emit()
        self.examples[:] = examples
        self.reset_done.emit()


def _ranges(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted indices → contiguous (first, count) ranges, ascending."""
    out: list[tuple[int, int]] = []
    for i in indices:
        if out and out[-1][0] + out[-1][1] == i:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((i, 1))
    return out

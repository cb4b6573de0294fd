"""The mutations of the project's preference pairs, file first: each writes SQLite in one transaction, then memory.

Mixed into :class:`~gemtune_desktop.qtcore.preference_session.PreferenceSession`, as
:mod:`~gemtune_desktop.qtcore.session_edits` is into the supervised session: every method raises before memory
changes when the write fails, so the table never shows an edit the file does not have, and the file's order
(``pos``) always equals the list's. They are called by the undo commands of
:mod:`gemtune_desktop.qtcore.preference_undo` (never directly by widgets), which catch those errors and report them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.core.project import examples_repo
from gemtune_desktop.core.project import preference_repo as repo
from gemtune_desktop.qtcore.session_edits import RESET_ABOVE_RANGES, _ranges

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from gemtune_desktop.core.project.store import ProjectStore

RemovedPair = tuple[int, PreferenceExample, float]  # index in the list, the pair, its stored position


class PreferenceEdits:
    """File-first mutations; the host class provides the store, the list, signals and validation hooks."""

    examples: list[PreferenceExample]
    rows_about_to_be_inserted: SignalInstance
    rows_inserted: SignalInstance
    rows_about_to_be_removed: SignalInstance
    rows_removed: SignalInstance
    about_to_reset: SignalInstance
    reset_done: SignalInstance
    examples_changed: SignalInstance
    validation_changed: SignalInstance

    @property
    def store(self) -> ProjectStore:
        raise NotImplementedError

    def _revalidate(self, changed: Sequence[PreferenceExample]) -> None: ...
    def _unvalidate(self, ids: Sequence[int]) -> None: ...
    def _structure_changed(self) -> None: ...

    # -- fields -----------------------------------------------------------------------------------------
    def set_fields(self, changes: Sequence[tuple[PreferenceExample, str, Any]]) -> None:
        """Set ``field`` of each pair to ``value`` (on disk first, in one transaction)."""
        if not changes:
            return
        repo.update_fields(self.store, [(e.id, f, v) for e, f, v in changes])
        touched: dict[int, PreferenceExample] = {}
        for e, f, v in changes:
            setattr(e, f, v)
            touched[id(e)] = e
        changed = list(touched.values())
        self._revalidate(changed)
        self.examples_changed.emit(changed)
        self.validation_changed.emit()

    # -- rows -------------------------------------------------------------------------------------------
    def insert(self, index: int, examples: Sequence[PreferenceExample]) -> list[float]:
        """Insert ``examples`` before ``index``; returns their stored positions."""
        if not examples:
            return []
        index = max(0, min(index, len(self.examples)))
        with self.store.transaction():
            placed = self._place([(index, len(examples))], list(examples))
        self._structure_changed()
        self.rows_about_to_be_inserted.emit(index, len(examples))
        self.examples[index:index] = examples
        self.rows_inserted.emit(index, len(examples))
        self._revalidate(list(examples))
        self.validation_changed.emit()
        return placed

    def remove(self, examples: Iterable[PreferenceExample]) -> list[RemovedPair]:
        """Delete ``examples``; returns what :meth:`reinsert` needs to put them back."""
        targets = {id(e) for e in examples}
        found = [(i, e) for i, e in enumerate(self.examples) if id(e) in targets]
        if not found:
            return []
        with self.store.transaction():
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

    def reinsert(self, entries: Sequence[RemovedPair]) -> None:
        """Undo :meth:`remove`: the pairs back at their old indices and ids (positions from today's neighbours)."""
        if not entries:
            return
        entries = sorted(entries, key=lambda t: t[0])
        ranges = _ranges([i for i, _e, _p in entries])
        with self.store.transaction():
            self._place(ranges, [e for _i, e, _p in entries])
        self._structure_changed()
        if len(ranges) > RESET_ABOVE_RANGES:
            self.about_to_reset.emit()
            self.examples[:] = _merged(self.examples, entries)
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

    def _place(self, ranges: list[tuple[int, int]], new: list[PreferenceExample]) -> list[float]:
        """Store ``new`` so that, inserted at ``ranges`` (indices after insertion), the file's order equals the
        list; inside the caller's transaction."""
        old = self.examples
        plan: list[tuple[int | None, int | None, int]] = []
        shift = 0
        for first, count in ranges:
            before = first - shift  # current-list index of the row that follows this range
            plan.append((old[before - 1].id if before > 0 else None,
                         old[before].id if before < len(old) else None, count))
            shift += count
        ids = {k for lo, hi, _n in plan for k in (lo, hi) if k is not None}
        pos = repo.positions(self.store, list(ids))
        out: list[float] = []
        for lo, hi, count in plan:
            room = examples_repo.room_between(pos.get(lo) if lo is not None else None,
                                              pos.get(hi) if hi is not None else None, count)
            if room is None or (lo is not None and lo not in pos) or (hi is not None and hi not in pos):
                return self._renumber_with(ranges, new)
            out.extend(room)
        repo.insert(self.store, new, out)
        return out

    def _renumber_with(self, ranges: list[tuple[int, int]], new: list[PreferenceExample]) -> list[float]:
        """No room between two neighbours: every row renumbered in the list's order, in the same transaction."""
        entries: list[RemovedPair] = []
        it = iter(new)
        for first, count in ranges:
            entries.extend((first + j, next(it), 0.0) for j in range(count))
        final = {id(e): float(n + 1) for n, e in enumerate(_merged(self.examples, entries))}
        repo.set_positions(self.store, [(e.id, final[id(e)]) for e in self.examples])
        placed = [final[id(e)] for e in new]
        repo.insert(self.store, new, placed)
        return placed

    def swap(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Apply the row swaps in order (Move Up/Down); swapping in reverse order undoes it."""
        if not pairs:
            return
        ex = self.examples
        slots = sorted({i for pair in pairs for i in pair})
        before = {i: ex[i] for i in slots}
        with self.store.transaction():
            pos = repo.positions(self.store, [e.id for e in before.values()])
            if len(pos) < len(slots) or len(set(pos.values())) < len(pos):
                repo.set_positions(self.store, [(e.id, float(n + 1)) for n, e in enumerate(ex)])
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


def _merged(current: list[PreferenceExample], entries: Sequence[RemovedPair]) -> list[PreferenceExample]:
    """``current`` with each entry's pair put back at its index (entries sorted by index)."""
    merged: list[PreferenceExample] = []
    it = iter(current)
    for i, e, _p in entries:
        while len(merged) < i:
            merged.append(next(it))
        merged.append(e)
    merged.extend(it)
    return merged

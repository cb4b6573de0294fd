"""File-first mutations of an ordered list of rows, shared by the Examples and the Preference pairs sessions.

:class:`OrderedRowEdits` is mixed into :class:`~gemtune_desktop.qtcore.session_edits.SessionEdits` (examples)
and :class:`~gemtune_desktop.qtcore.preference_edits.PreferenceEdits` (preference pairs); each names the
repository module of its table (:attr:`OrderedRowEdits._rows_repo`). Every method writes SQLite in one
transaction first and changes memory only after, so it raises before memory changes when the write fails and
the table never shows an edit the file does not have. They are called by undo commands (never directly by
widgets), which catch those errors and report them (:mod:`gemtune_desktop.qtcore.undo_base`).

**The file order and the screen order always agree.** New and re-inserted rows get positions between the
*current* positions of their neighbours on screen (never positions remembered from before: a renumber may
have happened since); when there is no room left between two neighbours, every row is renumbered in the
screen's order in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from gemtune_desktop.core.project.examples_repo import room_between

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from gemtune_desktop.core.project.store import ProjectStore

RESET_ABOVE_RANGES = 64  # more removed ranges than this → one model reset instead of many signals


class Row(Protocol):
    """What the shared code needs of a row: its stable id in the project file (0 until stored)."""

    id: int


RowT = TypeVar("RowT", bound=Row)
RowT_contra = TypeVar("RowT_contra", bound=Row, contravariant=True)

Removed = tuple[int, RowT, float]  # index in the list, the row, its stored position
# Work done in the same transaction as a row change, then its effect in memory (e.g. an import's settings).
Alongside = tuple[Callable[[], None], Callable[[], None]]


class RowsRepo(Protocol[RowT_contra]):
    """The functions of a table's repository module (``examples_repo``, ``preference_repo``) used here."""

    def update_fields(self, store: ProjectStore, changes: Iterable[tuple[int, str, Any]]) -> None: ...
    def positions(self, store: ProjectStore, ids: Sequence[int]) -> dict[int, float]: ...
    def insert(self, store: ProjectStore, examples: Sequence[RowT_contra], pos: Sequence[float]) -> list[int]: ...
    def set_positions(self, store: ProjectStore, moves: Iterable[tuple[int, float]]) -> None: ...
    def delete(self, store: ProjectStore, ids: Sequence[int]) -> None: ...


class OrderedRowEdits(Generic[RowT]):
    """File-first mutations; the host class provides the store, the list, signals and validation hooks."""

    examples: list[RowT]
    rows_about_to_be_inserted: SignalInstance
    rows_inserted: SignalInstance
    rows_about_to_be_removed: SignalInstance
    rows_removed: SignalInstance
    about_to_reset: SignalInstance
    reset_done: SignalInstance
    examples_changed: SignalInstance
    validation_changed: SignalInstance

    if TYPE_CHECKING:  # the host's: an attribute, or a property that follows the project
        @property
        def store(self) -> ProjectStore: ...

    @property
    def _rows_repo(self) -> RowsRepo[RowT]:
        raise NotImplementedError

    def _revalidate(self, changed: Sequence[RowT]) -> None: ...
    def _unvalidate(self, ids: Sequence[int]) -> None: ...
    def _structure_changed(self) -> None: ...

    def _write_swap(self, before: dict[int, RowT], order: dict[int, RowT], slots: list[int]) -> None:
        """Store the positions of :meth:`swap`: the row ``order[i]`` takes the place of ``before[i]``."""
        raise NotImplementedError

    # -- fields -------------------------------------------------------------------------------------
    def set_fields(self, changes: Sequence[tuple[RowT, str, Any]]) -> None:
        """Set ``field`` of each row to ``value`` (on disk first, in one transaction)."""
        if not changes:
            return
        self._rows_repo.update_fields(self.store, [(e.id, f, v) for e, f, v in changes])
        touched: dict[int, RowT] = {}
        for e, f, v in changes:
            setattr(e, f, v)
            touched[id(e)] = e
        changed = list(touched.values())
        self._revalidate(changed)
        self.examples_changed.emit(changed)
        self.validation_changed.emit()

    # -- rows -----------------------------------------------------------------------------------------
    def _insert_rows(self, index: int, examples: Sequence[RowT], alongside: Alongside | None = None
                     ) -> list[float]:
        """Insert ``examples`` before ``index`` (``alongside`` written in the same transaction, applied after
        the rows); returns their stored positions."""
        if not examples:
            if alongside is not None:
                alongside[0]()
                alongside[1]()
            return []
        index = max(0, min(index, len(self.examples)))
        with self.store.transaction():
            if alongside is not None:
                alongside[0]()
            placed = self._place([(index, len(examples))], list(examples))
        self._structure_changed()
        self.rows_about_to_be_inserted.emit(index, len(examples))
        self.examples[index:index] = examples
        self.rows_inserted.emit(index, len(examples))
        if alongside is not None:
            alongside[1]()
        self._revalidate(list(examples))
        self.validation_changed.emit()
        return placed

    def _remove_rows(self, examples: Iterable[RowT], alongside: Alongside | None = None) -> list[Removed[RowT]]:
        """Delete ``examples`` (``alongside`` written in the same transaction, applied before the rows go);
        returns what :meth:`reinsert` needs to put them back."""
        targets = {id(e) for e in examples}
        found = [(i, e) for i, e in enumerate(self.examples) if id(e) in targets]
        if not found:
            if alongside is not None:
                alongside[0]()
                alongside[1]()
            return []
        repo = self._rows_repo
        with self.store.transaction():
            pos = repo.positions(self.store, [e.id for _i, e in found])
            repo.delete(self.store, [e.id for _i, e in found])
            if alongside is not None:
                alongside[0]()
        if alongside is not None:
            alongside[1]()
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

    def reinsert(self, entries: Sequence[Removed[RowT]]) -> None:
        """Undo a removal: put the rows back at their old indices and ids.

        Their positions in the file come from their neighbours now, not from when they were removed.
        """
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

    def _place(self, ranges: list[tuple[int, int]], new: list[RowT]) -> list[float]:
        """Store ``new`` (in order) so that, inserted at ``ranges`` (indices in the list *after* insertion),
        the file's ``ORDER BY pos`` equals the list; inside the caller's transaction. Returns the positions."""
        old = self.examples
        # neighbours of each range in the list after insertion, as indices into the current list
        plan: list[tuple[int | None, int | None, int]] = []
        shift = 0
        for first, count in ranges:
            before = first - shift  # current-list index of the row that follows this range
            plan.append((old[before - 1].id if before > 0 else None,
                         old[before].id if before < len(old) else None, count))
            shift += count
        ids = {k for lo, hi, _n in plan for k in (lo, hi) if k is not None}
        repo = self._rows_repo
        pos = repo.positions(self.store, list(ids))
        out: list[float] = []
        for lo, hi, count in plan:
            room = room_between(pos.get(lo) if lo is not None else None,
                                pos.get(hi) if hi is not None else None, count)
            if room is None or (lo is not None and lo not in pos) or (hi is not None and hi not in pos):
                return self._renumber_with(ranges, new)
            out.extend(room)
        repo.insert(self.store, new, out)
        return out

    def _renumber_with(self, ranges: list[tuple[int, int]], new: list[RowT]) -> list[float]:
        """No room between two neighbours (or damaged positions): renumber every row in the list's order."""
        entries: list[Removed[RowT]] = []
        it = iter(new)
        for first, count in ranges:
            entries.extend((first + j, next(it), 0.0) for j in range(count))
        final = {id(e): float(n + 1) for n, e in enumerate(_merged(self.examples, entries))}
        repo = self._rows_repo
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
        order = dict(before)
        for a, b in pairs:
            order[a], order[b] = order[b], order[a]
        self._write_swap(before, order, slots)
        self._structure_changed()
        for i in slots:
            ex[i] = order[i]
        self.examples_changed.emit(list(before.values()))
        self._revalidate(list(before.values()))
        self.validation_changed.emit()


def _merged(current: list[RowT], entries: Sequence[Removed[RowT]]) -> list[RowT]:
    """``current`` with each entry's row put back at its index (entries sorted by index)."""
    merged: list[RowT] = []
    it = iter(current)
    for i, e, _p in entries:
        while len(merged) < i:
            merged.append(next(it))
        merged.append(e)
    merged.extend(it)
    return merged


def _ranges(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted indices → contiguous (first, count) ranges, ascending."""
    out: list[tuple[int, int]] = []
    for i in indices:
        if out and out[-1][0] + out[-1][1] == i:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((i, 1))
    return out

"""The mutations of the project's preference pairs, file first: each writes SQLite in one transaction, then memory.

Mixed into :class:`~gemtune_desktop.qtcore.preference_session.PreferenceSession`, over the shared
:class:`~gemtune_desktop.qtcore.row_session.RowSession` (undo stack, validation, lookups). The row mutations
(``set_fields``, ``insert``, ``remove``, ``reinsert``, ``swap``) are the shared ones of
:class:`~gemtune_desktop.qtcore.row_edits.OrderedRowEdits` (read its docstring: file first, and the file's order
(``pos``) always equals the list's) over the ``preference_examples`` table. They are called by the undo commands
of :mod:`gemtune_desktop.qtcore.preference_undo` (never directly by widgets), which catch their errors and
report them.
"""

from __future__ import annotations

from collections.abc import Sequence

from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.core.project import preference_repo as repo
from gemtune_desktop.qtcore.row_edits import Removed, RowsRepo
from gemtune_desktop.qtcore.row_session import RowSession

RemovedPair = Removed[PreferenceExample]  # index in the list, the pair, its stored position


class PreferenceEdits(RowSession[PreferenceExample]):
    """File-first mutations of preference pairs; the host class provides the store, the list, signals and
    validation hooks."""

    @property
    def _rows_repo(self) -> RowsRepo[PreferenceExample]:
        return repo

    def insert(self, index: int, examples: Sequence[PreferenceExample]) -> list[float]:
        """Insert ``examples`` before ``index``; returns their stored positions."""
        return self._insert_rows(index, examples)

    def _write_swap(self, before: dict[int, PreferenceExample], order: dict[int, PreferenceExample],
                    slots: list[int]) -> None:
        with self.store.transaction():
            pos = repo.positions(self.store, [e.id for e in before.values()])
            if len(pos) < len(slots) or len(set(pos.values())) < len(pos):  # damaged positions: renumber first
                repo.set_positions(self.store, [(e.id, float(n + 1)) for n, e in enumerate(self.examples)])
                pos = repo.positions(self.store, [e.id for e in before.values()])
            slot_pos = {i: pos[before[i].id] for i in slots}
            repo.set_positions(self.store, [(order[i].id, slot_pos[i]) for i in slots])

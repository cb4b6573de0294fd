"""The project's preference examples (table ``preference_examples``, schema version 2).

Kept as the examples are (:mod:`gemtune_desktop.core.project.ordered_rows`): rows are ordered by ``pos`` (a
REAL with gaps), so inserting or moving rows rewrites only the rows concerned; ids are never reused (a
high-water mark in ``meta``); every write runs in one transaction of the given store (nested inside the
caller's when there is one), so an undoable command is on disk as one unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.preference.model import FIELDS, PreferenceExample
from gemtune_desktop.core.project.ordered_rows import OrderedTable, Store, gc_paused

_SPLITS = {s.value: s for s in Split}
_COLUMNS = "prompt, preferred, dispreferred, system_instruction, split, tags, note, source, id"
EDITABLE = FIELDS  # prompt, preferred, dispreferred, system_instruction, split, tags, note
_ROWS = OrderedTable("preference_examples", "next_preference_id",
                     ("prompt", "preferred", "dispreferred", "system_instruction", "split", "tags", "note", "source"))


def _example(row: Sequence[Any]) -> PreferenceExample:
    return PreferenceExample(row[0], row[1], row[2], row[3], _SPLITS.get(row[4], Split.TRAIN), row[5], row[6],
                             row[7], int(row[8]))


# -- reading -------------------------------------------------------------------------------
def load(store: Store) -> list[PreferenceExample]:
    """All preference examples in the user's order."""
    cur = store.conn.execute(f"SELECT {_COLUMNS} FROM preference_examples ORDER BY pos, id")
    with gc_paused():  # many new objects, none of them garbage
        return [_example(r) for r in cur]


def count(store: Store) -> int:
    return int(store.conn.execute("SELECT COUNT(*) FROM preference_examples").fetchone()[0])


def get(store: Store, example_id: int) -> PreferenceExample | None:
    row = store.conn.execute(f"SELECT {_COLUMNS} FROM preference_examples WHERE id = ?", (example_id,)).fetchone()
    return _example(row) if row is not None else None


def sources(store: Store, prefix: str = "") -> set[str]:
    """The non-empty ``source`` of every stored example (those starting with ``prefix``, when given)."""
    if prefix:
        # ">= prefix AND < prefix + U+10FFFF" uses the index, unlike LIKE (whose wildcards a prefix could contain).
        rows = store.conn.execute("SELECT source FROM preference_examples WHERE source >= ? AND source < ?",
                                  (prefix, prefix + "\U0010ffff"))
    else:
        rows = store.conn.execute("SELECT source FROM preference_examples WHERE source != ''")
    return {str(r[0]) for r in rows}


def positions(store: Store, ids: Sequence[int]) -> dict[int, float]:
    return _ROWS.positions(store, ids)


# -- positions -----------------------------------------------------------------------------
def renumber(store: Store) -> None:
    """Give every row the position 1.0, 2.0, … in the current order (when gaps got too small)."""
    _ROWS.renumber(store)


def positions_before(store: Store, before_id: int | None, count_: int) -> list[float]:
    """``count_`` increasing positions for new rows placed just before ``before_id`` (None: at the end)."""
    return _ROWS.positions_before(store, before_id, count_)


# -- writing -------------------------------------------------------------------------------
def _values(e: PreferenceExample, ident: int, pos: float) -> tuple[Any, ...]:
    return (ident, pos, e.prompt, e.preferred, e.dispreferred, e.system_instruction, str(e.split), e.tags, e.note,
            e.source)


def insert(store: Store, examples: Sequence[PreferenceExample], pos: Sequence[float]) -> list[int]:
    """Store ``examples`` at the given positions; examples with ``id == 0`` get a new id (set on them once
    stored).

    An example keeping its id (undo of a delete) must not be stored already.
    """
    return _ROWS.insert(store, examples, pos, _values)


def update_fields(store: Store, changes: Iterable[tuple[int, str, Any]]) -> None:
    """Apply ``(id, field, value)`` changes; field is one of :data:`EDITABLE`."""
    _ROWS.update_fields(store, changes, EDITABLE)


def set_positions(store: Store, moves: Iterable[tuple[int, float]]) -> None:
    _ROWS.set_positions(store, moves)


def delete(store: Store, ids: Sequence[int]) -> None:
    _ROWS.delete(store, ids)

"""The project's preference examples (table ``preference_examples``, schema version 2).

The same patterns as :mod:`gemtune_desktop.core.project.examples_repo`: rows are ordered by ``pos`` (a REAL
with gaps), so inserting or moving rows rewrites only the rows concerned; ids are never reused (a high-water
mark in ``meta``); every write runs in one transaction of the given store (nested inside the caller's when
there is one), so an undoable command is on disk as one unit.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.preference.model import FIELDS, PreferenceExample

_SPLITS = {s.value: s for s in Split}
_CHUNK = 500  # ids per "IN (...)" query
_COLUMNS = "prompt, preferred, dispreferred, system_instruction, split, tags, note, source, id"
_NEXT_ID = "next_preference_id"
EDITABLE = FIELDS  # prompt, preferred, dispreferred, system_instruction, split, tags, note


class Store(Protocol):
    conn: sqlite3.Connection

    def transaction(self) -> Any: ...


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _example(row: Sequence[Any]) -> PreferenceExample:
    return PreferenceExample(row[0], row[1], row[2], row[3], _SPLITS.get(row[4], Split.TRAIN), row[5], row[6],
                             row[7], int(row[8]))


# -- reading -------------------------------------------------------------------------------
def load(store: Store) -> list[PreferenceExample]:
    """All preference examples in the user's order."""
    cur = store.conn.execute(f"SELECT {_COLUMNS} FROM preference_examples ORDER BY pos, id")
    was_enabled = gc.isenabled()
    gc.disable()  # many new objects, none of them garbage
    try:
        return [_example(r) for r in cur]
    finally:
        if was_enabled:
            gc.enable()


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
    out: dict[int, float] = {}
    for chunk in _chunks(list(ids)):
        marks = ",".join("?" * len(chunk))
        for k, p in store.conn.execute(f"SELECT id, pos FROM preference_examples WHERE id IN ({marks})", list(chunk)):
            out[int(k)] = float(p)
    return out


# -- positions -----------------------------------------------------------------------------
def renumber(store: Store) -> None:
    """Give every row the position 1.0, 2.0, … in the current order (when gaps got too small)."""
    with store.transaction():
        ids = [r[0] for r in store.conn.execute("SELECT id FROM preference_examples ORDER BY pos, id")]
        store.conn.executemany("UPDATE preference_examples SET pos = ? WHERE id = ?",
                               ((float(n + 1), k) for n, k in enumerate(ids)))


def positions_before(store: Store, before_id: int | None, count_: int) -> list[float]:
    """``count_`` increasing positions for new rows placed just before ``before_id`` (None: at the end)."""
    if count_ <= 0:
        return []
    conn = store.conn
    if before_id is None:
        row = conn.execute("SELECT MAX(pos) FROM preference_examples").fetchone()
        start = float(row[0]) if row and row[0] is not None else 0.0
        return [start + n + 1 for n in range(count_)]
    for _attempt in range(2):
        row = conn.execute("SELECT pos FROM preference_examples WHERE id = ?", (before_id,)).fetchone()
        if row is None:
            return positions_before(store, None, count_)
        hi = float(row[0])
        row = conn.execute("SELECT MAX(pos) FROM preference_examples WHERE pos < ?", (hi,)).fetchone()
        lo = float(row[0]) if row and row[0] is not None else hi - count_ - 1
        step = (hi - lo) / (count_ + 1)
        if step > max(1e-9, abs(hi) * 1e-12):
            return [lo + step * (n + 1) for n in range(count_)]
        renumber(store)
    raise RuntimeError("could not find room for new rows")  # unreachable after renumbering


# -- writing -------------------------------------------------------------------------------
def _values(e: PreferenceExample, pos: float) -> tuple[Any, ...]:
    return (e.id, pos, e.prompt, e.preferred, e.dispreferred, e.system_instruction, str(e.split), e.tags, e.note,
            e.source)


_INSERT = ("INSERT INTO preference_examples (id, pos, prompt, preferred, dispreferred, system_instruction, split, "
           "tags, note, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def insert(store: Store, examples: Sequence[PreferenceExample], pos: Sequence[float]) -> list[int]:
    """Store ``examples`` at the given positions; examples with ``id == 0`` get a new id (set on them).

    An example keeping its id (undo of a delete) must not be stored already.
    """
    if len(examples) != len(pos):
        raise ValueError("one position per example")
    with store.transaction():
        conn = store.conn
        fresh = [e for e in examples if not e.id]
        if fresh:
            row = conn.execute("SELECT COALESCE(MAX(id), 0) FROM preference_examples").fetchone()
            mark = conn.execute("SELECT value FROM meta WHERE key = ?", (_NEXT_ID,)).fetchone()
            next_id = max(int(row[0]) + 1, int(mark[0]) if mark else 1,
                          *(e.id + 1 for e in examples if e.id))
            new_ids = list(range(next_id, next_id + len(fresh)))
            conn.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = "
                         "excluded.value", (_NEXT_ID, str(next_id + len(fresh))))
        else:
            new_ids = []
        given = iter(new_ids)
        rows = []
        for e, p in zip(examples, pos, strict=True):
            ident = e.id or next(given)
            rows.append((ident, *_values(e, p)[1:]))
        conn.executemany(_INSERT, rows)
    # Only now, with the transaction committed, do the new ids become the examples' own.
    given = iter(new_ids)
    for e in examples:
        if not e.id:
            e.id = next(given)
    return [e.id for e in examples]


def update_fields(store: Store, changes: Iterable[tuple[int, str, Any]]) -> None:
    """Apply ``(id, field, value)`` changes; field is one of :data:`EDITABLE`."""
    by_field: dict[str, list[tuple[str, int]]] = {}
    for example_id, field, value in changes:
        if field not in EDITABLE:
            raise KeyError(field)
        by_field.setdefault(field, []).append((str(value), int(example_id)))
    with store.transaction():
        for field, rows in by_field.items():
            store.conn.executemany(f"UPDATE preference_examples SET {field} = ? WHERE id = ?", rows)


def set_positions(store: Store, moves: Iterable[tuple[int, float]]) -> None:
    with store.transaction():
        store.conn.executemany("UPDATE preference_examples SET pos = ? WHERE id = ?",
                               ((float(p), int(k)) for k, p in moves))


def delete(store: Store, ids: Sequence[int]) -> None:
    with store.transaction():
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            store.conn.execute(f"DELETE FROM preference_examples WHERE id IN ({marks})", list(chunk))

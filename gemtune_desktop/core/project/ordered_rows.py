"""A project table whose rows the user orders: positions with gaps, ids never reused, writes in one transaction.

The examples table and the preference examples table keep their rows the same way, so this module holds it
once. Rows are ordered by ``pos`` (a REAL with gaps), so inserting or moving rows rewrites only the rows
concerned; when a gap is too small to split, every row is renumbered 1.0, 2.0, …. Ids are never reused (other
tables and the undo history refer to them): a high-water mark in ``meta`` outlives deleted rows. Every write
runs in one transaction of the given store (nested inside the caller's when there is one), so an undoable
command is on disk as one unit. A table given an ``expect`` check reports an update, move or delete that
found fewer rows than it was given (the file no longer holds what the screen shows).
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from gemtune_desktop.core.project.transactions import Store

CHUNK = 500  # ids per "IN (...)" query; SQLite's default variable limit is 32766


class Stored(Protocol):
    """A row object: ``id`` is 0 until the row is stored."""

    id: int


R = TypeVar("R", bound=Stored)
Expect = Callable[[int, int, str], None]  # (rows touched, rows given, what the write was)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Build many new objects (a whole table's rows) without the full collections that would find nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def room_between(lo: float | None, hi: float | None, count_: int) -> list[float] | None:
    """``count_`` increasing positions strictly between ``lo`` and ``hi`` (None: no neighbour on that side),
    or None when the gap is too small to split (then renumber)."""
    if count_ <= 0:
        return []
    if lo is None and hi is None:
        return [float(n + 1) for n in range(count_)]
    if hi is None:
        assert lo is not None
        return [lo + n + 1 for n in range(count_)]
    if lo is None:
        lo = hi - count_ - 1
    step = (hi - lo) / (count_ + 1)
    if step > max(1e-9, abs(hi) * 1e-12, abs(lo) * 1e-12):
        return [lo + step * (n + 1) for n in range(count_)]
    return None


class OrderedTable:
    """The table ``name`` (columns ``id``, ``pos`` and ``columns``); ``next_key`` names its id mark in ``meta``."""

    def __init__(self, name: str, next_key: str, columns: Sequence[str], expect: Expect | None = None) -> None:
        self.name = name
        self.next_key = next_key
        self.insert_sql = (f"INSERT INTO {name} (id, pos, {', '.join(columns)}) "
                           f"VALUES ({', '.join('?' * (len(columns) + 2))})")
        self._expect = expect

    def _check(self, touched: int, wanted: int, what: str) -> None:
        if self._expect is not None:
            self._expect(touched, wanted, what)

    # -- positions ---------------------------------------------------------------------------------------------
    def positions(self, store: Store, ids: Sequence[int]) -> dict[int, float]:
        """``pos`` of each stored id (a damaged file may hold anything there; such rows are left out)."""
        out: dict[int, float] = {}
        for chunk in chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for k, p in store.conn.execute(f"SELECT id, pos FROM {self.name} WHERE id IN ({marks})", list(chunk)):
                if isinstance(p, (int, float)):
                    out[int(k)] = float(p)
        return out

    def renumber(self, store: Store) -> None:
        """Give every row the position 1.0, 2.0, … in the current order (when gaps got too small)."""
        with store.transaction():
            ids = [r[0] for r in store.conn.execute(f"SELECT id FROM {self.name} ORDER BY pos, id")]
            store.conn.executemany(f"UPDATE {self.name} SET pos = ? WHERE id = ?",
                                   ((float(n + 1), k) for n, k in enumerate(ids)))

    def renumber_to(self, store: Store, ids_in_order: Sequence[int]) -> None:
        """Give the rows the positions 1.0, 2.0, … in the given order (every stored row must be listed)."""
        with store.transaction():
            cur = store.conn.executemany(f"UPDATE {self.name} SET pos = ? WHERE id = ?",
                                         ((float(n + 1), k) for n, k in enumerate(ids_in_order)))
            self._check(cur.rowcount, len(ids_in_order), "renumber")

    def positions_before(self, store: Store, before_id: int | None, count_: int) -> list[float]:
        """``count_`` increasing positions for new rows placed just before ``before_id`` (None: at the end)."""
        if count_ <= 0:
            return []
        conn = store.conn
        if before_id is None:
            row = conn.execute(f"SELECT MAX(pos) FROM {self.name}").fetchone()
            start = float(row[0]) if row and row[0] is not None else 0.0
            return [start + n + 1 for n in range(count_)]
        for _attempt in range(2):
            row = conn.execute(f"SELECT pos FROM {self.name} WHERE id = ?", (before_id,)).fetchone()
            if row is None:
                return self.positions_before(store, None, count_)
            hi = float(row[0])
            row = conn.execute(f"SELECT MAX(pos) FROM {self.name} WHERE pos < ?", (hi,)).fetchone()
            lo = float(row[0]) if row and row[0] is not None else hi - count_ - 1
            step = (hi - lo) / (count_ + 1)
            if step > max(1e-9, abs(hi) * 1e-12):
                return [lo + step * (n + 1) for n in range(count_)]
            self.renumber(store)
        raise RuntimeError("could not find room for new rows")  # unreachable after renumbering

    # -- writing -----------------------------------------------------------------------------------------------
    def _new_ids(self, conn: sqlite3.Connection, count_: int, above: int) -> list[int]:
        """``count_`` ids above every stored id, ``above`` and the mark; moves the mark past them."""
        row = conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.name}").fetchone()
        mark = conn.execute("SELECT value FROM meta WHERE key = ?", (self.next_key,)).fetchone()
        first = max(int(row[0]) + 1, int(mark[0]) if mark else 1, above + 1)
        conn.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = "
                     "excluded.value", (self.next_key, str(first + count_)))
        return list(range(first, first + count_))

    def insert(self, store: Store, rows: Sequence[R], pos: Sequence[float],
               values: Callable[[R, int, float], tuple[Any, ...]]) -> list[int]:
        """Store ``rows`` at the given positions; ``values(row, id, pos)`` is the table row (id and pos first).

        Rows with ``id == 0`` get a new id, set on them only once the write has succeeded. A row keeping its
        id (undo of a delete) must not be stored already.
        """
        if len(rows) != len(pos):
            raise ValueError("one position per example")
        fresh = sum(1 for r in rows if not r.id)
        with store.transaction():
            conn = store.conn
            new_ids = self._new_ids(conn, fresh, max((r.id for r in rows), default=0)) if fresh else []
            given = iter(new_ids)
            conn.executemany(self.insert_sql, (values(r, r.id or next(given), p)
                                               for r, p in zip(rows, pos, strict=True)))
        given = iter(new_ids)
        for r in rows:
            if not r.id:
                r.id = next(given)
        return [r.id for r in rows]

    def update_fields(self, store: Store, changes: Iterable[tuple[int, str, Any]], editable: Iterable[str]) -> None:
        """Apply ``(id, field, value)`` changes; KeyError for a field not in ``editable``."""
        allowed = set(editable)
        by_field: dict[str, list[tuple[str, int]]] = {}
        for row_id, field, value in changes:
            if field not in allowed:
                raise KeyError(field)
            by_field.setdefault(field, []).append((str(value), int(row_id)))
        with store.transaction():
            for field, rows in by_field.items():
                cur = store.conn.executemany(f"UPDATE {self.name} SET {field} = ? WHERE id = ?", rows)
                self._check(cur.rowcount, len(rows), "change")

    def set_positions(self, store: Store, moves: Iterable[tuple[int, float]]) -> None:
        rows = [(float(p), int(k)) for k, p in moves]
        with store.transaction():
            cur = store.conn.executemany(f"UPDATE {self.name} SET pos = ? WHERE id = ?", rows)
            self._check(cur.rowcount, len(rows), "move")

    def delete(self, store: Store, ids: Sequence[int]) -> None:
        wanted = list(dict.fromkeys(ids))
        with store.transaction():
            gone = 0
            for chunk in chunks(wanted):
                marks = ",".join("?" * len(chunk))
                gone += store.conn.execute(f"DELETE FROM {self.name} WHERE id IN ({marks})", list(chunk)).rowcount
            self._check(gone, len(wanted), "delete")

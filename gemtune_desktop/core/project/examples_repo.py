"""The project's examples and dataset settings (tables ``examples`` and ``dataset_settings``).

Rows are ordered by ``pos`` (a REAL with gaps), so inserting or moving rows rewrites only the
rows concerned. Every write function runs in one transaction of the given store (nested inside
the caller's transaction when there is one), so an undoable command is on disk as one unit.
An update or delete that finds fewer rows than it was given raises :class:`RowsMissingError`: the
file no longer holds what the screen shows, and that is never reported as a success.

Reading tolerates a damaged or hand-edited file: a cell that is not text (NULL, a number, binary
data, text that is not valid UTF-8) is read as text and reported in ``repairs``; nothing crashes.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.project.write_errors import RowsMissingError

FIELDS = ("input", "output", "split", "tags", "note")
_SPLITS = {s.value: s for s in Split}
_CHUNK = 500  # ids per "IN (...)" query; SQLite's default variable limit is 32766


class Store(Protocol):
    conn: sqlite3.Connection

    def transaction(self) -> Any: ...


def _split(value: str) -> Split:
    return _SPLITS.get(value, Split.TRAIN)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# -- reading -------------------------------------------------------------------------------
def load_examples(store: Store, repairs: Counter[str] | None = None) -> list[Example]:
    """All examples in the user's order (about 1 s for a million rows).

    Values that are not text are read as text; ``repairs`` (when given) counts them by kind
    ("empty", "number", "binary", "undecodable").
    """
    found: Counter[str] = Counter() if repairs is None else repairs
    conn = store.conn

    def coerce(value: object) -> str:
        # Called by SQLite only for cells that are not TEXT (see _LOAD_SQL), so a clean file pays nothing.
        if value is None:
            found["empty"] += 1
            return ""
        if isinstance(value, bytes):
            found["binary"] += 1
            return value.decode("utf-8", "replace")
        found["number"] += 1
        return repr(value) if isinstance(value, float) else str(value)

    conn.create_function("gt_text", 1, coerce, deterministic=True)
    try:
        return _load(conn.execute(_LOAD_SQL))
    except sqlite3.OperationalError as exc:
        if "decode" not in str(exc).lower():
            raise
    # Text that is not valid UTF-8 (a damaged page, another program's bytes): read it with replacements.
    found.clear()
    found["undecodable"] += 1
    old = conn.text_factory
    conn.text_factory = lambda b: b.decode("utf-8", "replace")
    try:
        return _load(conn.execute(_LOAD_SQL))
    finally:
        conn.text_factory = old


_COLS = ("input", "output", "split", "tags", "note")
_LOAD_SQL = ("SELECT " + ", ".join(f"CASE typeof({c}) WHEN 'text' THEN {c} ELSE gt_text({c}) END" for c in _COLS)
             + ", id FROM examples ORDER BY pos, id")


def _load(cur: sqlite3.Cursor) -> list[Example]:
    splits = _SPLITS
    train = Split.TRAIN
    # A million new objects would trigger many full garbage collections that find nothing to free.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return [Example(i, o, splits.get(s, train), t, n, k) for i, o, s, t, n, k in cur]
    finally:
        if was_enabled:
            gc.enable()


def count(store: Store) -> int:
    row = store.conn.execute("SELECT COUNT(*) FROM examples").fetchone()
    return int(row[0])


def get_example(store: Store, example_id: int) -> Example | None:
    row = store.conn.execute("SELECT input, output, split, tags, note, id FROM examples WHERE id = ?",
                             (example_id,)).fetchone()
    if row is None:
        return None
    return Example(row[0], row[1], _split(row[2]), row[3], row[4], row[5])


def positions(store: Store, ids: Sequence[int]) -> dict[int, float]:
    """``pos`` of each stored id."""
    out: dict[int, float] = {}
    for chunk in _chunks(list(ids)):
        marks = ",".join("?" * len(chunk))
        for k, p in store.conn.execute(f"SELECT id, pos FROM examples WHERE id IN ({marks})", list(chunk)):
            if isinstance(p, (int, float)):  # a damaged file may hold anything; such rows get renumbered
                out[int(k)] = float(p)
    return out


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


def renumber_to(store: Store, ids_in_order: Sequence[int]) -> None:
    """Give the rows the positions 1.0, 2.0, … in the given order (every stored row must be listed)."""
    with store.transaction():
        cur = store.conn.executemany("UPDATE examples SET pos = ? WHERE id = ?",
                                     ((float(n + 1), k) for n, k in enumerate(ids_in_order)))
        _expect(cur.rowcount, len(ids_in_order), "renumber")


# -- positions -----------------------------------------------------------------------------
def renumber(store: Store) -> None:
    """Give every row the position 1.0, 2.0, … in the current order (when gaps got too small)."""
    with store.transaction():
        ids = [r[0] for r in store.conn.execute("SELECT id FROM examples ORDER BY pos, id")]
        store.conn.executemany("UPDATE examples SET pos = ? WHERE id = ?",
                               ((float(n + 1), k) for n, k in enumerate(ids)))


def positions_before(store: Store, before_id: int | None, count_: int) -> list[float]:
    """``count_`` increasing positions for new rows placed just before ``before_id`` (None: at the end)."""
    if count_ <= 0:
        return []
    conn = store.conn
    if before_id is None:
        row = conn.execute("SELECT MAX(pos) FROM examples").fetchone()
        start = float(row[0]) if row and row[0] is not None else 0.0
        return [start + n + 1 for n in range(count_)]
    for _attempt in range(2):
        row = conn.execute("SELECT pos FROM examples WHERE id = ?", (before_id,)).fetchone()
        if row is None:
            return positions_before(store, None, count_)
        hi = float(row[0])
        row = conn.execute("SELECT MAX(pos) FROM examples WHERE pos < ?", (hi,)).fetchone()
        lo = float(row[0]) if row and row[0] is not None else hi - count_ - 1
        step = (hi - lo) / (count_ + 1)
        if step > max(1e-9, abs(hi) * 1e-12):
            return [lo + step * (n + 1) for n in range(count_)]
        renumber(store)
    raise RuntimeError("could not find room for new rows")  # unreachable after renumbering


# -- writing -------------------------------------------------------------------------------
def insert(store: Store, examples: Sequence[Example], pos: Sequence[float]) -> list[int]:
    """Store ``examples`` at the given positions; examples with ``id == 0`` get a new id (set on them)."""
    if len(examples) != len(pos):
        raise ValueError("one position per example")
    with store.transaction():
        conn = store.conn
        keep = [(e.id, p, e.input, e.output, str(e.split), e.tags, e.note)
                for e, p in zip(examples, pos, strict=True) if e.id]
        if keep:
            conn.executemany("INSERT INTO examples (id, pos, input, output, split, tags, note) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", keep)
        fresh = [(e, p) for e, p in zip(examples, pos, strict=True) if not e.id]
        if fresh:
            # Ids are never reused (other tables and undo history refer to them): keep a high-water mark.
            row = conn.execute("SELECT COALESCE(MAX(id), 0) FROM examples").fetchone()
            mark = conn.execute("SELECT value FROM meta WHERE key = 'next_example_id'").fetchone()
            next_id = max(int(row[0]) + 1, int(mark[0]) if mark else 1)
            for e, _p in fresh:
                e.id = next_id
                next_id += 1
            conn.execute("INSERT INTO meta(key, value) VALUES('next_example_id', ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(next_id),))
            conn.executemany("INSERT INTO examples (id, pos, input, output, split, tags, note) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             ((e.id, p, e.input, e.output, str(e.split), e.tags, e.note) for e, p in fresh))
    return [e.id for e in examples]


def update_fields(store: Store, changes: Iterable[tuple[int, str, Any]]) -> None:
    """Apply ``(id, field, value)`` changes; field is one of :data:`FIELDS`."""
    by_field: dict[str, list[tuple[str, int]]] = {}
    for example_id, field, value in changes:
        if field not in FIELDS:
            raise KeyError(field)
        by_field.setdefault(field, []).append((str(value), int(example_id)))
    with store.transaction():
        for field, rows in by_field.items():
            cur = store.conn.executemany(f"UPDATE examples SET {field} = ? WHERE id = ?", rows)
            _expect(cur.rowcount, len(rows), "change")


def set_positions(store: Store, moves: Iterable[tuple[int, float]]) -> None:
    rows = [(float(p), int(k)) for k, p in moves]
    with store.transaction():
        cur = store.conn.executemany("UPDATE examples SET pos = ? WHERE id = ?", rows)
        _expect(cur.rowcount, len(rows), "move")


def delete(store: Store, ids: Sequence[int]) -> None:
    wanted = list(dict.fromkeys(ids))
    with store.transaction():
        gone = 0
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            gone += store.conn.execute(f"DELETE FROM examples WHERE id IN ({marks})", list(chunk)).rowcount
        _expect(gone, len(wanted), "delete")


def _expect(touched: int, wanted: int, what: str) -> None:
    """An update that touches fewer rows than it was given did not happen as the user sees it."""
    if touched != wanted:
        raise RowsMissingError(f"The {what} could not be saved: {wanted - touched:,} of the {wanted:,} examples it "
                               f"concerns are no longer in the project file.",
                               "Another program may have changed the file. Save a copy with Save Project As….",
                               detail=f"{what}: {touched} of {wanted} rows")


# -- dataset settings ----------------------------------------------------------------------
def load_settings(store: Store) -> DatasetSettings:
    from gemtune_desktop.core.formats.project_file import settings_from_rows

    rows = store.conn.execute("SELECT key, value FROM dataset_settings").fetchall()
    return settings_from_rows({str(k): str(v) for k, v in rows})


def save_settings(store: Store, settings: DatasetSettings) -> None:
    rows = {
        "preamble": settings.preamble,
        "system_instruction": settings.system_instruction,
        "target": settings.target.value,
        "split_seed": str(settings.split_seed),
        "split_ratios": json.dumps(list(settings.split_ratios)),
        **{k: str(v) for k, v in settings.extra.items()},
    }
    with store.transaction():
        store.conn.execute("DELETE FROM dataset_settings")
        store.conn.executemany("INSERT INTO dataset_settings (key, value) VALUES (?, ?)", rows.items())


def ids_in_split(store: Store, split: Split) -> list[int]:
    """The ids of the examples in ``split``, in the project's order (how a tuning service numbers them)."""
    rows = store.conn.execute("SELECT id FROM examples WHERE split = ? ORDER BY pos", (split.value,)).fetchall()
    return [int(r[0]) for r in rows]

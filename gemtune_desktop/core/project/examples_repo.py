"""The project's examples and dataset settings (tables ``examples`` and ``dataset_settings``).

Rows are ordered by ``pos`` (a REAL with gaps), so inserting or moving rows rewrites only the
rows concerned. Every write function runs in one transaction of the given store (nested inside
the caller's transaction when there is one), so an undoable command is on disk as one unit.
An update or delete that finds fewer rows than it was given raises :class:`RowsMissingError`: the
file no longer holds what the screen shows, and that is never reported as a success. (The ordering,
the ids and these checks are :mod:`gemtune_desktop.core.project.ordered_rows`, shared with the
preference examples.)

Reading tolerates a damaged or hand-edited file: a cell that is not text (NULL, a number, binary
data, text that is not valid UTF-8) is read as text and reported in ``repairs``; nothing crashes.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.project.ordered_rows import OrderedTable, Store, gc_paused
from gemtune_desktop.core.project.ordered_rows import room_between as room_between  # re-exported (session_edits)
from gemtune_desktop.core.project.write_errors import RowsMissingError

FIELDS = ("input", "output", "split", "tags", "note")
_SPLITS = {s.value: s for s in Split}


def _split(value: str) -> Split:
    return _SPLITS.get(value, Split.TRAIN)


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
    with gc_paused():  # a million new objects, none of them garbage
        return [Example(i, o, splits.get(s, train), t, n, k) for i, o, s, t, n, k in cur]


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
    """``pos`` of each stored id (rows whose position a damaged file garbled are left out, then renumbered)."""
    return _ROWS.positions(store, ids)


def renumber_to(store: Store, ids_in_order: Sequence[int]) -> None:
    """Give the rows the positions 1.0, 2.0, … in the given order (every stored row must be listed)."""
    _ROWS.renumber_to(store, ids_in_order)


# -- positions -----------------------------------------------------------------------------
def renumber(store: Store) -> None:
    """Give every row the position 1.0, 2.0, … in the current order (when gaps got too small)."""
    _ROWS.renumber(store)


def positions_before(store: Store, before_id: int | None, count_: int) -> list[float]:
    """``count_`` increasing positions for new rows placed just before ``before_id`` (None: at the end)."""
    return _ROWS.positions_before(store, before_id, count_)


# -- writing -------------------------------------------------------------------------------
def _values(e: Example, ident: int, pos: float) -> tuple[Any, ...]:
    return (ident, pos, e.input, e.output, str(e.split), e.tags, e.note)


def insert(store: Store, examples: Sequence[Example], pos: Sequence[float]) -> list[int]:
    """Store ``examples`` at the given positions; examples with ``id == 0`` get a new id (set on them)."""
    return _ROWS.insert(store, examples, pos, _values)


def update_fields(store: Store, changes: Iterable[tuple[int, str, Any]]) -> None:
    """Apply ``(id, field, value)`` changes; field is one of :data:`FIELDS`."""
    _ROWS.update_fields(store, changes, FIELDS)


def set_positions(store: Store, moves: Iterable[tuple[int, float]]) -> None:
    _ROWS.set_positions(store, moves)


def delete(store: Store, ids: Sequence[int]) -> None:
    _ROWS.delete(store, ids)


def _expect(touched: int, wanted: int, what: str) -> None:
    """An update that touches fewer rows than it was given did not happen as the user sees it."""
    if touched != wanted:
        raise RowsMissingError(f"The {what} could not be saved: {wanted - touched:,} of the {wanted:,} examples it "
                               f"concerns are no longer in the project file.",
                               "Another program may have changed the file. Save a copy with Save Project As….",
                               detail=f"{what}: {touched} of {wanted} rows")


_ROWS = OrderedTable("examples", "next_example_id", FIELDS, expect=_expect)


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

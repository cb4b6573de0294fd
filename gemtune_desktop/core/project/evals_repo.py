"""Batch evaluation runs in the project (tables ``eval_runs``, ``eval_rows``, ``eval_reviews``).

A run lists the examples it covers and the model(s) it calls; each answer is stored as it
arrives, so a stopped run resumes with only the rows still missing. Blind-review votes
are kept per example. Functions take an open project store and run on the GUI thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gemtune_desktop.core.jobs import now_iso
from gemtune_desktop.core.project.batched_writer import BatchedWriter
from gemtune_desktop.core.project.batched_writer import SideStore as SideStore  # re-exported: services use it here
from gemtune_desktop.core.project.transactions import Store

RUNNING, STOPPED, DONE = "running", "stopped", "done"


@dataclass(slots=True)
class EvalRun:
    """One evaluation run. ``settings`` holds the generation and safety settings, the model labels,
    the texts applied (preamble, system instruction) and ``example_ids`` (the rows covered)."""

    models: list[str]
    source: str = "validation"
    name: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    status: str = RUNNING
    metrics: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=now_iso)
    id: int = 0

    @property
    def example_ids(self) -> list[int]:
        return [int(i) for i in self.settings.get("example_ids", [])]

    @property
    def labels(self) -> list[str]:
        labels = list(self.settings.get("labels", []))
        return [str(labels[i]) if i < len(labels) and labels[i] else m for i, m in enumerate(self.models)]

    @property
    def expected_rows(self) -> int:
        return len(self.example_ids) * len(self.models)


@dataclass(slots=True)
class EvalRow:
    run_id: int
    example_id: int
    slot: int
    input: str
    expected: str
    actual: str = ""
    finish_reason: str = ""
    blocked: str = ""
    latency_ms: int = 0
    error: str = ""


def _loads(text: str, default: Any) -> Any:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, type(default)) else default


def create_run(store: Store, run: EvalRun) -> int:
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO eval_runs (created_at, name, source, models, settings, status, metrics) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run.created_at, run.name, run.source, json.dumps(run.models), json.dumps(run.settings, ensure_ascii=False),
             run.status, json.dumps(run.metrics)))
    run.id = int(cur.lastrowid or 0)
    return run.id


def _run_from(row: tuple[Any, ...]) -> EvalRun:
    return EvalRun(id=int(row[0]), created_at=row[1], name=row[2], source=row[3], models=_loads(row[4], []),
                   settings=_loads(row[5], {}), status=row[6], metrics=_loads(row[7], {}))


_RUN_COLS = "id, created_at, name, source, models, settings, status, metrics"


def get_run(store: Store, run_id: int) -> EvalRun | None:
    row = store.conn.execute(f"SELECT {_RUN_COLS} FROM eval_runs WHERE id = ?", (run_id,)).fetchone()
    return _run_from(row) if row else None


def list_runs(store: Store) -> list[EvalRun]:
    """Newest first."""
    rows = store.conn.execute(f"SELECT {_RUN_COLS} FROM eval_runs ORDER BY id DESC").fetchall()
    return [_run_from(r) for r in rows]


def update_run(store: Store, run_id: int, *, status: str | None = None, metrics: dict[str, Any] | None = None,
               name: str | None = None) -> None:
    sets: list[str] = []
    args: list[Any] = []
    if status is not None:
        sets.append("status = ?")
        args.append(status)
    if metrics is not None:
        sets.append("metrics = ?")
        args.append(json.dumps(metrics, ensure_ascii=False))
    if name is not None:
        sets.append("name = ?")
        args.append(name)
    if not sets:
        return
    with store.transaction():
        store.conn.execute(f"UPDATE eval_runs SET {', '.join(sets)} WHERE id = ?", [*args, run_id])


def delete_run(store: Store, run_id: int) -> None:
    with store.transaction():
        store.conn.execute("DELETE FROM eval_reviews WHERE run_id = ?", (run_id,))
        store.conn.execute("DELETE FROM eval_rows WHERE run_id = ?", (run_id,))
        store.conn.execute("DELETE FROM eval_runs WHERE id = ?", (run_id,))


def store_rows(store: Store, rows: Iterable[EvalRow]) -> int:
    """Insert (or replace) answers in one transaction; returns how many."""
    data = [(r.run_id, r.example_id, r.slot, r.input, r.expected, r.actual, r.finish_reason, r.blocked,
             int(r.latency_ms), r.error) for r in rows]
    if not data:
        return 0
    with store.transaction():
        store.conn.executemany(
            "INSERT OR REPLACE INTO eval_rows (run_id, example_id, slot, input, expected, actual, finish_reason, "
            "blocked, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", data)
    return len(data)


def list_rows(store: Store, run_id: int, slot: int | None = None) -> list[EvalRow]:
    sql = ("SELECT run_id, example_id, slot, input, expected, actual, finish_reason, blocked, latency_ms, error "
           "FROM eval_rows WHERE run_id = ?")
    args: list[Any] = [run_id]
    if slot is not None:
        sql += " AND slot = ?"
        args.append(slot)
    sql += " ORDER BY example_id, slot"
    return [EvalRow(*r) for r in store.conn.execute(sql, args).fetchall()]


def done_keys(store: Store, run_id: int) -> set[tuple[int, int]]:
    """(example_id, slot) of answers already stored without an error: a resumed run skips them."""
    rows = store.conn.execute("SELECT example_id, slot FROM eval_rows WHERE run_id = ? AND error = ''",
                              (run_id,)).fetchall()
    return {(int(a), int(b)) for a, b in rows}


def set_review(store: Store, run_id: int, example_id: int, choice: str) -> None:
    """Record a blind-review vote: "a" (slot 0 better), "b" (slot 1 better) or "tie"."""
    if choice not in ("a", "b", "tie"):
        raise ValueError(choice)
    with store.transaction():
        store.conn.execute("INSERT OR REPLACE INTO eval_reviews (run_id, example_id, choice) VALUES (?, ?, ?)",
                           (run_id, example_id, choice))


def reviews(store: Store, run_id: int) -> dict[int, str]:
    rows = store.conn.execute("SELECT example_id, choice FROM eval_reviews WHERE run_id = ?", (run_id,)).fetchall()
    return {int(a): str(b) for a, b in rows}


class RowWriter(BatchedWriter[EvalRow]):
    """Stores answers from worker threads through its own connection to the project file, in batches
    (see :mod:`gemtune_desktop.core.project.batched_writer`); ``close()`` writes what is left and re-raises a
    write error, if one happened."""

    def __init__(self, path: str | Path, flush_every_s: float = 0.25) -> None:
        super().__init__(path, store_rows, flush_every_s, thread_name="eval-row-writer")

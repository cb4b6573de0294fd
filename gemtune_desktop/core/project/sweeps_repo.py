"""Settings sweeps in the project (tables ``sweeps`` and ``sweep_points``; schema version 2).

A sweep runs the same examples with one model over a grid of settings. Each grid point is an
ordinary evaluation run (``eval_runs``, source ``sweep``, named after the point) so its answers
are stored, resumed and shown like any run; ``sweep_points`` ties the points to their runs.
Everything a restart needs to resume is here: the grid, the settings not swept, the texts applied
and the example ids. Functions take an open project store or a ``SideStore``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.jobs import now_iso
from gemtune_desktop.core.project import evals_repo
from gemtune_desktop.core.project.evals_repo import EvalRun, Store

RUNNING, STOPPED, DONE = "running", "stopped", "done"
SOURCE = "sweep"


@dataclass(slots=True)
class Sweep:
    """``base`` holds ``generation`` and ``safety`` (dicts), ``preamble``, ``system_instruction``, ``label``."""

    model: str
    grid: dict[str, list[Any]]
    base: dict[str, Any] = field(default_factory=dict)
    example_ids: list[int] = field(default_factory=list)
    name: str = ""
    estimate: dict[str, Any] = field(default_factory=dict)
    status: str = RUNNING
    created_at: str = field(default_factory=now_iso)
    id: int = 0


@dataclass(slots=True)
class SweepPoint:
    sweep_id: int
    point: int
    settings: dict[str, Any]
    run_id: int


def _loads(text: str, default: Any) -> Any:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, type(default)) else default


def create_sweep(store: Store, sweep: Sweep, points: Sequence[tuple[dict[str, Any], str, dict[str, Any]]]) -> int:
    """Store the sweep and one evaluation run per point: (axis values, run name, run settings)."""
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO sweeps (created_at, name, model, grid, base, example_ids, estimate, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (sweep.created_at, sweep.name, sweep.model, json.dumps(sweep.grid), json.dumps(sweep.base,
             ensure_ascii=False), json.dumps(sweep.example_ids), json.dumps(sweep.estimate), sweep.status))
        sweep.id = int(cur.lastrowid or 0)
        for index, (values, name, settings) in enumerate(points):
            run = EvalRun(models=[sweep.model], source=SOURCE, name=name,
                          settings={**settings, "example_ids": list(sweep.example_ids), "sweep_id": sweep.id})
            evals_repo.create_run(store, run)
            store.conn.execute("INSERT INTO sweep_points (sweep_id, point, settings, run_id) VALUES (?, ?, ?, ?)",
                               (sweep.id, index, json.dumps(values), run.id))
    return sweep.id


_COLS = "id, created_at, name, model, grid, base, example_ids, estimate, status"


def _sweep_from(row: tuple[Any, ...]) -> Sweep:
    return Sweep(id=int(row[0]), created_at=row[1], name=row[2], model=row[3], grid=_loads(row[4], {}),
                 base=_loads(row[5], {}), example_ids=[int(i) for i in _loads(row[6], [])],
                 estimate=_loads(row[7], {}), status=row[8])


def get_sweep(store: Store, sweep_id: int) -> Sweep | None:
    row = store.conn.execute(f"SELECT {_COLS} FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()
    return _sweep_from(row) if row else None


def list_sweeps(store: Store) -> list[Sweep]:
    """Newest first."""
    return [_sweep_from(r) for r in store.conn.execute(f"SELECT {_COLS} FROM sweeps ORDER BY id DESC").fetchall()]


def points(store: Store, sweep_id: int) -> list[SweepPoint]:
    rows = store.conn.execute("SELECT sweep_id, point, settings, run_id FROM sweep_points WHERE sweep_id = ? "
                              "ORDER BY point", (sweep_id,)).fetchall()
    return [SweepPoint(int(r[0]), int(r[1]), _loads(r[2], {}), int(r[3])) for r in rows]


def set_status(store: Store, sweep_id: int, status: str) -> None:
    with store.transaction():
        store.conn.execute("UPDATE sweeps SET status = ? WHERE id = ?", (status, sweep_id))


def delete_sweep(store: Store, sweep_id: int) -> None:
    """The sweep and its points' evaluation runs (with their answers)."""
    with store.transaction():
        run_ids = [p.run_id for p in points(store, sweep_id)]
        store.conn.execute("DELETE FROM sweep_points WHERE sweep_id = ?", (sweep_id,))
        store.conn.execute("DELETE FROM sweeps WHERE id = ?", (sweep_id,))
        for run_id in run_ids:
            evals_repo.delete_run(store, run_id)


def example_texts(store: Store, example_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(input, output) of the project's examples with these ids (deleted ones are missing)."""
    out: dict[int, tuple[str, str]] = {}
    ids = list(example_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for eid, inp, outp in store.conn.execute(f"SELECT id, input, output FROM examples WHERE id IN ({marks})",
                                                 chunk).fetchall():
            out[int(eid)] = (str(inp), str(outp))
    return out

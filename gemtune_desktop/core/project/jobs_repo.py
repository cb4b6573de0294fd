"""The project's job records and their cached loss curves (tables ``jobs`` and ``loss_points``).

Functions take an open project store (anything with ``.conn`` and ``.transaction()``,
see ``store.ProjectStore``). Writes happen on the GUI thread, each in one transaction, so a
job is on disk before the first poll and a curve point as soon as it arrives.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

from gemtune_desktop.core.jobs import JobRecord, JobState, now_iso
from gemtune_desktop.core.project.transactions import Store

_COLUMNS = [f.name for f in fields(JobRecord) if f.name != "id"]


def _row_dict(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


def add_job(store: Store, record: JobRecord) -> int:
    """Insert a job; a record whose ``submit_key`` is already stored is not added twice.

    Returns the job's id (the existing one for a repeated submit key).
    """
    row = record.to_row()
    row.pop("id", None)
    with store.transaction():
        if record.submit_key:
            found = store.conn.execute("SELECT id FROM jobs WHERE submit_key = ?",
                                       (record.submit_key,)).fetchone()
            if found:
                return int(found[0])
        cols = ", ".join(_COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        cur = store.conn.execute(f"INSERT INTO jobs ({cols}) VALUES ({marks})",
                                 [row[c] for c in _COLUMNS])
        job_id = int(cur.lastrowid or 0)
    record.id = job_id
    return job_id


def update_job(store: Store, job_id: int, **changes: Any) -> None:
    """Change some fields of a job (names as in :class:`JobRecord`)."""
    if not changes:
        return
    probe = JobRecord(connection_kind="", backend="")
    for key, value in changes.items():
        if key not in _COLUMNS:
            raise KeyError(key)
        setattr(probe, key, value)
    row = probe.to_row()
    changes.setdefault("updated_at", now_iso())
    row["updated_at"] = changes["updated_at"]
    assignments = ", ".join(f"{k} = ?" for k in changes)
    with store.transaction():
        store.conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?",
                           [row[k] for k in changes] + [job_id])


def get_job(store: Store, job_id: int) -> JobRecord | None:
    cur = store.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,))
    row = cur.fetchone()
    return JobRecord.from_row(_row_dict(cur, row)) if row else None


def find_by_resource(store: Store, resource_name: str) -> JobRecord | None:
    cur = store.conn.execute("SELECT * FROM jobs WHERE resource_name = ? ORDER BY id DESC LIMIT 1",
                             (resource_name,))
    row = cur.fetchone()
    return JobRecord.from_row(_row_dict(cur, row)) if row else None


def list_jobs(store: Store, connection_kind: str | None = None, include_deleted: bool = False) -> list[JobRecord]:
    """Newest first."""
    sql = "SELECT * FROM jobs"
    where: list[str] = []
    args: list[Any] = []
    if connection_kind is not None:
        where.append("connection_kind = ?")
        args.append(connection_kind)
    if not include_deleted:
        where.append("deleted = 0")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id DESC"
    cur = store.conn.execute(sql, args)
    return [JobRecord.from_row(_row_dict(cur, r)) for r in cur.fetchall()]


def unfinished_jobs(store: Store) -> list[JobRecord]:
    """Jobs to keep polling (after a restart too)."""
    return [j for j in list_jobs(store) if j.state.active and j.resource_name]


def mark_deleted(store: Store, job_id: int) -> None:
    update_job(store, job_id, deleted=True)


# -- loss curves ----------------------------------------------------------------------------
LossPoint = tuple[int, float | None, float]  # step, epoch, value


def append_loss_points(store: Store, job_id: int, series: str, points: Iterable[LossPoint]) -> int:
    """Store points (a point for a step already stored replaces it); returns how many."""
    rows = [(job_id, series, int(step), None if epoch is None else float(epoch), float(value))
            for step, epoch, value in points]
    if not rows:
        return 0
    with store.transaction():
        store.conn.executemany(
            "INSERT OR REPLACE INTO loss_points (job_id, series, step, epoch, value) VALUES (?, ?, ?, ?, ?)",
            rows)
    return len(rows)


def loss_points(store: Store, job_id: int, series: str = "train") -> list[LossPoint]:
    cur = store.conn.execute(
        "SELECT step, epoch, value FROM loss_points WHERE job_id = ? AND series = ? ORDER BY step",
        (job_id, series))
    return [(int(s), e, float(v)) for s, e, v in cur.fetchall()]


def loss_series_names(store: Store, job_id: int) -> list[str]:
    cur = store.conn.execute("SELECT DISTINCT series FROM loss_points WHERE job_id = ? ORDER BY series",
                             (job_id,))
    return [r[0] for r in cur.fetchall()]


def last_step(store: Store, job_id: int, series: str = "train") -> int:
    row = store.conn.execute("SELECT MAX(step) FROM loss_points WHERE job_id = ? AND series = ?",
                             (job_id, series)).fetchone()
    return int(row[0]) if row and row[0] is not None else -1


def active_states() -> Sequence[JobState]:
    return [s for s in JobState if s.active]


# -- submits whose outcome is not known (appended for the exactly-once submit) --------------------
def submits_to_check(store: Store) -> list[JobRecord]:
    """Jobs sent (or being sent) to the service that are not known to exist there: SUBMITTING or
    SUBMIT_UNKNOWN, with a submit key and no resource name (oldest first)."""
    cur = store.conn.execute(
        "SELECT * FROM jobs WHERE state IN (?, ?) AND deleted = 0 AND resource_name = '' "
        "AND submit_key IS NOT NULL AND submit_key != '' ORDER BY id",
        (JobState.SUBMITTING.value, JobState.SUBMIT_UNKNOWN.value))
    return [JobRecord.from_row(_row_dict(cur, r)) for r in cur.fetchall()]


def find_by_submit_key(store: Store, submit_key: str) -> JobRecord | None:
    cur = store.conn.execute("SELECT * FROM jobs WHERE submit_key = ?", (submit_key,))
    row = cur.fetchone()
    return JobRecord.from_row(_row_dict(cur, row)) if row else None


def loss_points_after(store: Store, job_id: int, series: str, after_step: int) -> list[LossPoint]:
    """The points of one curve newer than ``after_step``, by step (what arrived since the curve was read)."""
    cur = store.conn.execute(
        "SELECT step, epoch, value FROM loss_points WHERE job_id = ? AND series = ? AND step > ? ORDER BY step",
        (job_id, series, after_step))
    return [(int(s), e, float(v)) for s, e, v in cur.fetchall()]

"""Batch-engine jobs in the project (table ``batch_jobs``; schema version 2).

Each job answers one model slot of an evaluation run on Google's batch engine. The record is
written before anything is sent and updated as the job is polled, so a job survives closing
the app: on the next start the open jobs are polled again and their results stored in the run.
Functions take an open project store or a ``SideStore``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from gemtune_desktop.core.jobs import now_iso
from gemtune_desktop.core.project.evals_repo import Store

SUBMITTING = "SUBMITTING"
ENDED_STATES = frozenset({"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED",
                          "JOB_STATE_PARTIALLY_SUCCEEDED", "SUBMIT_FAILED"})


@dataclass(slots=True)
class BatchJobRecord:
    run_id: int
    backend: str  # agent-platform | gemini-api
    model: str
    slot: int = 0
    connection_kind: str = ""
    resource_name: str = ""
    input_ref: str = ""
    output_ref: str = ""
    state: str = SUBMITTING
    rows: int = 0
    succeeded: int = 0
    failed: int = 0
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""
    error: str = ""
    ingested: bool = False
    id: int = 0

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def pending(self) -> int:
        return max(0, self.rows - self.succeeded - self.failed)


_COLUMNS = [f.name for f in fields(BatchJobRecord) if f.name != "id"]


def create_job(store: Store, record: BatchJobRecord) -> int:
    values = [int(getattr(record, c)) if c == "ingested" else getattr(record, c) for c in _COLUMNS]
    with store.transaction():
        cur = store.conn.execute(f"INSERT INTO batch_jobs ({', '.join(_COLUMNS)}) VALUES "
                                 f"({', '.join('?' * len(_COLUMNS))})", values)
    record.id = int(cur.lastrowid or 0)
    return record.id


def _from_row(row: tuple[object, ...]) -> BatchJobRecord:
    data = dict(zip(["id", *_COLUMNS], row, strict=True))
    data["ingested"] = bool(data["ingested"])
    return BatchJobRecord(**data)  # type: ignore[arg-type]


def get_job(store: Store, job_id: int) -> BatchJobRecord | None:
    row = store.conn.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM batch_jobs WHERE id = ?", (job_id,)).fetchone()
    return _from_row(row) if row else None


def list_jobs(store: Store, run_id: int | None = None) -> list[BatchJobRecord]:
    """Newest first; only the run's when ``run_id`` is given."""
    sql = f"SELECT id, {', '.join(_COLUMNS)} FROM batch_jobs"
    args: list[object] = []
    if run_id is not None:
        sql += " WHERE run_id = ?"
        args.append(run_id)
    return [_from_row(r) for r in store.conn.execute(sql + " ORDER BY id DESC", args).fetchall()]


def open_jobs(store: Store) -> list[BatchJobRecord]:
    """Jobs still to poll or whose results are not stored yet."""
    return [j for j in list_jobs(store) if not j.ended or (not j.ingested and j.state != "SUBMIT_FAILED")]


def update_job(store: Store, record: BatchJobRecord) -> None:
    record.updated_at = now_iso()
    values = [int(getattr(record, c)) if c == "ingested" else getattr(record, c) for c in _COLUMNS]
    with store.transaction():
        store.conn.execute(f"UPDATE batch_jobs SET {', '.join(f'{c} = ?' for c in _COLUMNS)} WHERE id = ?",
                           [*values, record.id])

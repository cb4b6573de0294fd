"""Merge the jobs the service lists into the project's job records.

A job the project does not know yet is added (marked as found on the service); a known one takes the
service's news, except the jobs being polled, whose poller writes their state and final curve. A job
that may be the one a submit of unknown outcome made (same name and base model) is left to that
submit's check, which attaches it to the project's own record, so one job never shows twice; records
of one job already kept twice are folded into one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.jobs_repo import Store
from gemtune_desktop.services.monitor import JobStatus


@dataclass(frozen=True)
class MergeResult:
    listed: int  # jobs the service listed
    added: int  # of them, new to the project
    held: int = 0  # of them, left to the check of a submit whose outcome is not known yet

    def words(self) -> str:
        text = f"{self.listed} job{'s' if self.listed != 1 else ''} on the service"
        text += f", {self.added} new to this list." if self.added else "."
        if self.held:
            text += (f" {self.held} of them may be the job GemTune is checking on; it shows once that check "
                     "has found it.")
        return text


def connection_jobs(store: Store, connection_kind: str, backend: str) -> list[JobRecord]:
    """The project's jobs of one connection and API (newest first)."""
    return [j for j in jobs_repo.list_jobs(store, connection_kind=connection_kind) if j.backend == backend]


def _short(model: str) -> str:
    return model.rstrip("/").rsplit("/", 1)[-1]


def merge_service_jobs(store: Store, statuses: Sequence[JobStatus], connection_kind: str, backend: str,
                       polled: Collection[int] = ()) -> MergeResult:
    """Write what the service listed into the project; ``polled`` are job ids left to the poller.

    Raises :class:`~gemtune_desktop.core.errors.UserError` or ``sqlite3.Error`` when the project cannot be
    written (a read-only project, a full disk); what was merged until then stays.
    """
    fold_duplicates(store, connection_kind, backend)
    records = connection_jobs(store, connection_kind, backend)
    mine = {j.resource_name: j for j in records if j.resource_name}
    checking = {(j.display_name, _short(j.base_model)) for j in records
                if j.state.being_submitted and not j.resource_name}
    added = held = 0
    for status in statuses:
        record = mine.get(status.resource_name)
        if record is None:
            if (status.display_name, _short(status.base_model)) in checking:
                held += 1
                continue
            jobs_repo.add_job(store, status.to_record(connection_kind, backend))
            added += 1
            continue
        if record.id in polled:
            continue
        changes = status.record_changes(record)
        if changes:
            jobs_repo.update_job(store, record.id, **changes)
    return MergeResult(len(statuses), added, held)


def fold_duplicates(store: Store, connection_kind: str, backend: str) -> int:
    """Keep one record per job on the service: the project's own (else the oldest); returns how many went."""
    by_name: dict[str, list[JobRecord]] = {}
    for job in connection_jobs(store, connection_kind, backend):
        if job.resource_name:
            by_name.setdefault(job.resource_name, []).append(job)
    removed = 0
    for same in by_name.values():
        if len(same) < 2:
            continue
        keep = min(same, key=lambda j: (not j.from_project, j.id))
        for job in same:
            if job.id != keep.id:
                jobs_repo.mark_deleted(store, job.id)
                removed += 1
    return removed

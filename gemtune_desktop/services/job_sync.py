"""Merge the jobs the service lists into the project's job records.

A job the project does not know yet is added (marked as found on the service); a known one takes the
service's news, except the jobs being polled, whose poller writes their state and final curve.
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

    def words(self) -> str:
        text = f"{self.listed} job{'s' if self.listed != 1 else ''} on the service"
        return text + (f", {self.added} new to this list." if self.added else ".")


def connection_jobs(store: Store, connection_kind: str, backend: str) -> list[JobRecord]:
    """The project's jobs of one connection and API (newest first)."""
    return [j for j in jobs_repo.list_jobs(store, connection_kind=connection_kind) if j.backend == backend]


def merge_service_jobs(store: Store, statuses: Sequence[JobStatus], connection_kind: str, backend: str,
                       polled: Collection[int] = ()) -> MergeResult:
    """Write what the service listed into the project; ``polled`` are job ids left to the poller.

    Raises :class:`~gemtune_desktop.core.errors.UserError` or ``sqlite3.Error`` when the project cannot be
    written (a read-only project, a full disk); what was merged until then stays.
    """
    mine = {j.resource_name: j for j in connection_jobs(store, connection_kind, backend) if j.resource_name}
    added = 0
    for status in statuses:
        record = mine.get(status.resource_name)
        if record is None:
            jobs_repo.add_job(store, status.to_record(connection_kind, backend))
            added += 1
            continue
        if record.id in polled:
            continue
        changes = status.record_changes(record)
        if changes:
            jobs_repo.update_job(store, record.id, **changes)
    return MergeResult(len(statuses), added)

"""One poll of a tuning job on a worker thread, its new loss points written to the project file there.

:func:`poll_and_store` asks the service for the job's state and new loss points
(:func:`~gemtune_desktop.services.monitor.poll_job`) within one wall-clock deadline, then writes the points
through a second connection to the project file, in small transactions, so a million points never stall the
GUI thread. An answer of the wrong shape (wrong field types, nesting too deep) becomes
:class:`~gemtune_desktop.services.http_guard.UnreadableAnswer`, a plain and retryable error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.http_guard import UnreadableAnswer, deadline
from gemtune_desktop.services.monitor import JobStatus, poll_job

POLL_DEADLINE_S = 120.0  # one poll, every call of it included
POINTS_PER_TRANSACTION = 5_000


@dataclass(slots=True)
class Polled:
    """One poll's answer as the GUI thread gets it: the status, and how many points were stored."""

    status: JobStatus
    added: dict[str, int] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    loss_error: UserError | None = None
    points: dict[str, list[Any]] = field(default_factory=dict)  # only when there is no file to write here


def poll_and_store(token: CancelToken, session: BackendSession, record: JobRecord, last: dict[str, int],
                   source: dict[str, Any], db_path: str | None) -> Polled:
    """Poll one job (worker thread) and store its new loss points in the project file at ``db_path``.

    The whole poll ends within ``POLL_DEADLINE_S``. An answer of the wrong shape (a field of the
    wrong type, nesting too deep) becomes :class:`UnreadableAnswer`, which the poller retries.
    """
    try:
        with deadline(POLL_DEADLINE_S):
            result = poll_job(token, session, record, last, source)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError, RecursionError) as exc:
        raise UnreadableAnswer(f"unexpected answer shape ({type(exc).__name__})") from None
    added: dict[str, int] = {}
    if db_path is not None:
        added = _store_points(token, db_path, record.id, result.points)
    if db_path is None:  # no file to write from here: the GUI thread stores them
        return Polled(result.status, {}, result.source, result.loss_error, result.points)
    return Polled(result.status, added, result.source, result.loss_error)


def _store_points(token: CancelToken, db_path: str, job_id: int, points: dict[str, list[Any]]) -> dict[str, int]:
    from gemtune_desktop.core.project.evals_repo import SideStore

    added: dict[str, int] = {}
    if not any(points.values()):
        return added
    side = SideStore(db_path)
    try:
        for series, pts in points.items():
            for start in range(0, len(pts), POINTS_PER_TRANSACTION):
                added[series] = added.get(series, 0) + jobs_repo.append_loss_points(
                    side, job_id, series, pts[start:start + POINTS_PER_TRANSACTION])
    finally:
        side.close()
    return added

"""Polls unfinished tuning jobs on a GUI-thread timer, one poll in flight per job, with back-off.

The :class:`JobPoller` keeps a small schedule per job. When a job is due and no poll for it is
running (one task slot per job), it asks the connection's service to poll it on a worker thread; the
result comes back on the GUI thread, where the job record and its new loss points are written to the store at once
(so a crash or restart loses nothing). Intervals grow when nothing changes, double on errors,
and follow ``Retry-After`` on 429. After a restart, :meth:`sync` picks the unfinished jobs up
again from the project file.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.loss import TRAIN
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.qtcore.workers import TaskGroup
from gemtune_desktop.services.monitor import PollResult

log = logging.getLogger(__name__)

SANDBOX_INTERVALS = (0.5, 5.0)  # seconds: first, longest (the Sandbox trains fast)
SERVICE_INTERVALS = (15.0, 120.0)  # Google asks for polls every 30–60 s; we start a bit faster
BACKOFF_QUIET = 1.5  # nothing changed
BACKOFF_ERROR = 2.0  # a retryable error (5xx, timeout, dropped connection)
MAX_HARD_FAILURES = 3  # non-retryable errors in a row before a job stops being polled
TICK_MS = 200
MAX_RATE_LIMIT_WAIT = 600.0


@dataclass(slots=True)
class _Watch:
    job_id: int
    interval: float
    due: float
    source: dict[str, Any] = field(default_factory=dict)
    ended: bool = False  # the job has ended; poll once more for the full curve, then stop
    hard_failures: int = 0
    last_error: str = ""


class JobPoller(QObject):
    """Keeps the project's unfinished jobs up to date.

    Args:
        ctx: the AppContext (executor, connections, jobs_changed).
        intervals: (first, longest) seconds; default depends on whether the connection is the Sandbox.

    Signals:
        job_updated(int): a job's record changed (state, progress, tuned model…).
        points_added(int): new loss points of a job are in the store.
        job_ended(int): a job reached an end state while being watched.
        poll_failed(int, str): a poll failed; the text says what and when it is tried again.
    """

    job_updated = Signal(int)
    points_added = Signal(int)
    job_ended = Signal(int)
    poll_failed = Signal(int, str)

    def __init__(self, ctx: Any, intervals: tuple[float, float] | None = None,
                 clock: Callable[[], float] = time.monotonic, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.store: Any = None
        self._intervals = intervals
        self._clock = clock
        self._watches: dict[int, _Watch] = {}
        self._polls: TaskGroup[int] = TaskGroup(self, ctx.executor, "poll")
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._stopped = False

    # -- what to watch ----------------------------------------------------------------------
    def intervals(self) -> tuple[float, float]:
        if self._intervals is not None:
            return self._intervals
        return SANDBOX_INTERVALS if self.ctx.connections.profile.is_sandbox else SERVICE_INTERVALS

    def set_intervals(self, first: float, longest: float) -> None:
        """Override the polling intervals (seconds), e.g. for a very fast Sandbox in tests."""
        self._intervals = (first, longest)

    def set_store(self, store: Any) -> None:
        """Watch the jobs of ``store`` (a project store, or None); forgets the previous store's jobs."""
        if store is not self.store:
            self._polls.shutdown()
            self._watches.clear()
            self.store = store
        self.sync()

    def _connection_matches(self, record: JobRecord) -> bool:
        profile = self.ctx.connections.profile
        return record.connection_kind == profile.kind.value and record.backend == profile.backend.value

    def sync(self) -> None:
        """Start watching every unfinished job of the active connection that is not watched yet.

        A job already watched stays watched until its final poll (even if another view marked
        it ended meanwhile), so its last loss points are always fetched.
        """
        if self.store is None or self._stopped or getattr(self.store, "read_only", False):
            return
        first, _longest = self.intervals()
        now = self._clock()
        records = [r for r in jobs_repo.list_jobs(self.store) if self._connection_matches(r)]
        wanted = {r.id for r in records if r.state.active and r.resource_name}
        for job_id in wanted - set(self._watches):
            self._watches[job_id] = _Watch(job_id, first, now)
        known = {r.id for r in records}
        for job_id in set(self._watches) - known:  # deleted, or of another connection
            self._polls.shutdown(job_id)
            del self._watches[job_id]
        if self._watches and not self._timer.isActive():
            self._timer.start()
            self._tick()

    def watch(self, job_id: int) -> None:
        """Poll ``job_id`` now (even an ended job: once, to fetch its full curve)."""
        if self.store is None or self._stopped:
            return
        first, _ = self.intervals()
        w = self._watches.get(job_id)
        if w is None:
            record = jobs_repo.get_job(self.store, job_id)
            if record is None or not record.resource_name:
                return
            w = self._watches[job_id] = _Watch(job_id, first, self._clock(), ended=record.state.ended)
        w.due = self._clock()
        if not self._timer.isActive():
            self._timer.start()
        self._tick()

    def watched(self) -> list[int]:
        return sorted(self._watches)

    def interval_of(self, job_id: int) -> float | None:
        w = self._watches.get(job_id)
        return w.interval if w else None

    def last_error(self, job_id: int) -> str:
        w = self._watches.get(job_id)
        return w.last_error if w else ""

    def stop(self) -> None:
        """Stop polling for good (window closing)."""
        self._stopped = True
        self._timer.stop()
        self._polls.shutdown()
        self._watches.clear()

    # -- polling ----------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.store is None or not self._watches:
            self._timer.stop()
            return
        now = self._clock()
        for w in list(self._watches.values()):
            if w.due <= now and not self._polls.is_running(w.job_id):
                self._start_poll(w)

    def _start_poll(self, w: _Watch) -> None:
        record = jobs_repo.get_job(self.store, w.job_id)
        if record is None or not record.resource_name:
            self._watches.pop(w.job_id, None)
            return
        last = {name: jobs_repo.last_step(self.store, w.job_id, name)
                for name in jobs_repo.loss_series_names(self.store, w.job_id)}
        last.setdefault(TRAIN, -1)
        store = self.store
        w.due = float("inf")  # not due again until this poll answers
        source = dict(w.source)
        self.ctx.connections.start(
            self._polls.slot(w.job_id), lambda token, api: api.poll(token, record, last, source),
            on_result=lambda result, w=w, store=store: self._answered(w, store, result),
            on_error=lambda err, w=w, store=store: self._failed(w, store, err),
            on_cancelled=lambda w=w: self._reschedule(w, w.interval))

    def _answered(self, w: _Watch, store: Any, result: PollResult) -> None:
        if store is not self.store or self._watches.get(w.job_id) is not w:
            return  # the project or connection changed meanwhile
        record = jobs_repo.get_job(store, w.job_id)
        if record is None:
            self._watches.pop(w.job_id, None)
            return
        was_active = record.state.active
        changes = result.status.record_changes(record)
        added = 0
        try:
            if changes:
                jobs_repo.update_job(store, w.job_id, **changes)
            for series, points in result.points.items():
                added += jobs_repo.append_loss_points(store, w.job_id, series, points)
        except (UserError, sqlite3.Error) as exc:  # read-only project, disk full…
            self._watches.pop(w.job_id, None)
            text = exc.message if isinstance(exc, UserError) else f"The project file could not be written ({exc})."
            self.poll_failed.emit(w.job_id, f"{text} GemTune stopped checking this job.")
            return
        if result.source:
            w.source = result.source
        w.hard_failures = 0
        w.last_error = ""
        if changes:
            self.job_updated.emit(w.job_id)
        if added:
            self.points_added.emit(w.job_id)
        state_changed = "state" in changes
        ended_now = was_active and result.status.state.ended
        if state_changed:
            self.ctx.jobs_changed.emit()
        if ended_now:
            self.job_ended.emit(w.job_id)
        first, longest = self.intervals()
        if result.status.state.ended:
            if result.loss_error is not None:  # keep trying for the final curve, with back-off
                w.ended = True
                self._note_error(w, result.loss_error)
                return
            if w.ended:
                self._watches.pop(w.job_id, None)  # the final curve is in
                return
            w.ended = True
            if not result.status.experiment and not added:
                self._watches.pop(w.job_id, None)
                return
            self._reschedule(w, first)  # one more poll for points written at the very end
            return
        if result.loss_error is not None:
            self._note_error(w, result.loss_error)
            return
        if changes or added:
            self._reschedule(w, first)
        else:
            self._reschedule(w, min(longest, w.interval * BACKOFF_QUIET))

    def _failed(self, w: _Watch, store: Any, err: UserError) -> None:
        if store is not self.store or self._watches.get(w.job_id) is not w:
            return
        self._note_error(w, err)

    def _note_error(self, w: _Watch, err: UserError) -> None:
        _first, longest = self.intervals()
        code = getattr(err, "code", 0)
        retry_after = getattr(err, "retry_after", None)
        if code == 429:  # rate-limited: wait as long as the service asks, and at least twice as long as before
            wait = min(MAX_RATE_LIMIT_WAIT, max(float(retry_after or 0), w.interval * BACKOFF_ERROR))
        elif err.retryable:
            wait = min(longest, w.interval * BACKOFF_ERROR)
        else:
            w.hard_failures += 1
            wait = min(longest, w.interval * BACKOFF_ERROR)
        w.last_error = err.message
        log.info("poll of job %s failed (%s); next try in %.1f s", w.job_id, err.message, wait)
        if w.hard_failures >= MAX_HARD_FAILURES:
            self._watches.pop(w.job_id, None)
            self.poll_failed.emit(w.job_id, f"{err.message} GemTune stopped checking this job; "
                                            "use Refresh to try again.")
            return
        self._reschedule(w, wait)
        self.poll_failed.emit(w.job_id, f"{err.message} Trying again in {wait:.0f} s.")

    def _reschedule(self, w: _Watch, interval: float) -> None:
        w.interval = interval
        w.due = self._clock() + interval

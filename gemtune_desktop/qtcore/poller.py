"""Polls unfinished tuning jobs on a GUI-thread timer, one poll in flight per job, with back-off.

The :class:`JobPoller` keeps a small schedule per job. When a job is due and no poll for it is
running (one task slot per job), it asks the connection's service to poll it on a worker thread
(:func:`~gemtune_desktop.services.polling.poll_and_store`: the job's state, then its new loss points written
to the project file through a second connection, in small transactions, so a million points never stall
the GUI thread). The job record's changes come back to the GUI thread and are written at once (so a
crash or restart loses nothing). Intervals grow when nothing changes, back off on errors (the
app's :class:`~gemtune_desktop.core.retry.RetryPolicy`), and follow ``Retry-After`` on 429. An
answer that cannot be read (malformed, wrong field types, too deep) is a plain, retryable error:
polling goes on.

It also checks, in the background, the submits whose outcome is not known (``SUBMITTING`` left by
a crash, or ``SUBMIT_UNKNOWN``): each is looked up by its label or model id (purpose
``check``) until it is found (then polled like any job) or shown never to have started.
After a restart, :meth:`sync` picks both kinds up again from the project file.
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
from gemtune_desktop.core.retry import RetryPolicy
from gemtune_desktop.qtcore.workers import TaskGroup
from gemtune_desktop.services.polling import Polled
from gemtune_desktop.services.submit_flow import NOT_STARTED_AFTER_S, apply_check, pending_checks

log = logging.getLogger(__name__)

SANDBOX_INTERVALS = (0.5, 5.0)  # seconds: first, longest (the Sandbox trains fast)
SERVICE_INTERVALS = (15.0, 120.0)  # Google asks for polls every 30–60 s; we start a bit faster
BACKOFF_QUIET = 1.5  # nothing changed
BACKOFF_ERROR = 2.0  # a retryable error (5xx, timeout, dropped connection)
MAX_HARD_FAILURES = 3  # non-retryable errors in a row before a job stops being polled
TICK_MS = 200
MAX_RATE_LIMIT_WAIT = 600.0


def again_in(seconds: float) -> str:
    """``"in a moment"`` for under a second and a half, else ``"in 12 s"`` / ``"in 3 min"``."""
    if seconds < 1.5:
        return "in a moment"
    return f"in {round(seconds)} s" if seconds < 90 else f"in {round(seconds / 60)} min"


@dataclass(slots=True)
class _Watch:
    job_id: int
    interval: float
    due: float
    source: dict[str, Any] = field(default_factory=dict)
    ended: bool = False  # the job has ended; poll once more for the full curve, then stop
    hard_failures: int = 0
    failures: int = 0  # in a row, for the back-off
    last_error: str = ""


class JobPoller(QObject):
    """Keeps the project's unfinished jobs up to date, and finds out what became of unconfirmed submits.

    Args:
        ctx: the AppContext (executor, connections, jobs_changed).
        intervals: (first, longest) seconds; default depends on whether the connection is the Sandbox.
        not_started_after_s: how long after a submit a look-up that still finds nothing means it
            never started (see :data:`~gemtune_desktop.services.submit_flow.NOT_STARTED_AFTER_S`).

    Signals:
        job_updated(int): a job's record changed (state, progress, tuned model…).
        points_added(int): new loss points of a job are in the store.
        job_ended(int): a job reached an end state while being watched.
        poll_failed(int, str): a poll (or a check of a submit) failed; the text says what and when it
            is tried again.
        submit_resolved(int): a submit whose outcome was not known is known now (started, or not).
    """

    job_updated = Signal(int)
    points_added = Signal(int)
    job_ended = Signal(int)
    poll_failed = Signal(int, str)
    submit_resolved = Signal(int)

    def __init__(self, ctx: Any, intervals: tuple[float, float] | None = None,
                 clock: Callable[[], float] = time.monotonic, parent: QObject | None = None,
                 not_started_after_s: float = NOT_STARTED_AFTER_S) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.store: Any = None
        self.not_started_after_s = not_started_after_s
        self._intervals = intervals
        self._clock = clock
        self._watches: dict[int, _Watch] = {}
        self._checks: dict[int, _Watch] = {}
        self._polls: TaskGroup[int] = TaskGroup(self, ctx.executor, "poll")
        self._lookups: TaskGroup[int] = TaskGroup(self, ctx.executor, "check")
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

    def _backoff(self, failures: int, retry_after: float | None = None, longest: float | None = None) -> float:
        first, most = self.intervals()
        policy = RetryPolicy(initial_delay_s=first * BACKOFF_ERROR, max_delay_s=longest or most, jitter=False)
        return policy.backoff(failures, retry_after)

    def set_store(self, store: Any) -> None:
        """Watch the jobs of ``store`` (a project store, or None); forgets the previous store's jobs."""
        if store is not self.store:
            self._polls.shutdown()
            self._lookups.shutdown()
            self._watches.clear()
            self._checks.clear()
            self.store = store
        self.sync()

    def _connection_matches(self, record: JobRecord) -> bool:
        profile = self.ctx.connections.profile
        return record.connection_kind == profile.kind.value and record.backend == profile.backend.value

    def sync(self) -> None:
        """Start watching every unfinished job of the active connection that is not watched yet, and
        checking every submit of it whose outcome is not known.

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
        profile = self.ctx.connections.profile
        to_check = {r.id for r in pending_checks(self.store, profile.kind.value, profile.backend.value)}
        for job_id in to_check - set(self._checks):
            self._checks[job_id] = _Watch(job_id, first, now)
        for job_id in set(self._checks) - to_check:
            if not self._lookups.is_running(job_id):
                del self._checks[job_id]
        if (self._watches or self._checks) and not self._timer.isActive():
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

    def checking(self) -> list[int]:
        """The submits whose outcome is being looked up in the background."""
        return sorted(self._checks)

    def interval_of(self, job_id: int) -> float | None:
        w = self._watches.get(job_id) or self._checks.get(job_id)
        return w.interval if w else None

    def last_error(self, job_id: int) -> str:
        w = self._watches.get(job_id) or self._checks.get(job_id)
        return w.last_error if w else ""

    def stop(self) -> None:
        """Stop polling for good (window closing)."""
        self._stopped = True
        self._timer.stop()
        self._polls.shutdown()
        self._lookups.shutdown()
        self._watches.clear()
        self._checks.clear()

    # -- polling ----------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.store is None or not (self._watches or self._checks):
            self._timer.stop()
            return
        now = self._clock()
        for w in list(self._watches.values()):
            if w.due <= now and not self._polls.is_running(w.job_id):
                self._start_poll(w)
        for w in list(self._checks.values()):
            if w.due <= now and not self._lookups.is_running(w.job_id):
                self._start_check(w)

    def _start_poll(self, w: _Watch) -> None:
        record = jobs_repo.get_job(self.store, w.job_id)
        if record is None or not record.resource_name:
            self._watches.pop(w.job_id, None)
            return
        last = {name: jobs_repo.last_step(self.store, w.job_id, name)
                for name in jobs_repo.loss_series_names(self.store, w.job_id)}
        last.setdefault(TRAIN, -1)
        store = self.store
        path = getattr(store, "path", None)
        db_path = str(path) if path is not None else None
        source = dict(w.source)
        w.due = float("inf")  # not due again until this poll answers
        self.ctx.connections.start(
            self._polls.slot(w.job_id), lambda token, api: api.poll(token, record, last, source, db_path),
            on_result=lambda result, w=w, store=store: self._answered(w, store, result),
            on_error=lambda err, w=w, store=store: self._failed(w, store, err),
            on_cancelled=lambda w=w: self._reschedule(w, w.interval))

    def _answered(self, w: _Watch, store: Any, result: Polled) -> None:
        if store is not self.store or self._watches.get(w.job_id) is not w:
            return  # the project or connection changed meanwhile
        record = jobs_repo.get_job(store, w.job_id)
        if record is None:
            self._watches.pop(w.job_id, None)
            return
        was_active = record.state.active
        changes = result.status.record_changes(record)
        if changes.get("error"):
            from gemtune_desktop.logging_setup import redact

            changes["error"] = redact(str(changes["error"]))  # a service may echo a key in a job's error
        added = sum(result.added.values())
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
        w.failures = 0
        w.last_error = ""
        if changes:
            self.job_updated.emit(w.job_id)
        if added:
            self.points_added.emit(w.job_id)
        if "state" in changes:
            self.ctx.jobs_changed.emit()
        if was_active and result.status.state.ended:
            self.job_ended.emit(w.job_id)
        self._after_answer(w, result, bool(changes or added))

    def _after_answer(self, w: _Watch, result: Polled, news: bool) -> None:
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
            if not result.status.experiment and not news:
                self._watches.pop(w.job_id, None)
                return
            self._reschedule(w, first)  # one more poll for points written at the very end
            return
        if result.loss_error is not None:
            self._note_error(w, result.loss_error)
            return
        self._reschedule(w, first if news else min(longest, w.interval * BACKOFF_QUIET))

    def _failed(self, w: _Watch, store: Any, err: UserError) -> None:
        if store is not self.store or self._watches.get(w.job_id) is not w:
            return
        self._note_error(w, err)

    def _note_error(self, w: _Watch, err: UserError, give_up: bool = True) -> None:
        code = getattr(err, "code", 0)
        retry_after = getattr(err, "retry_after", None)
        w.failures += 1
        if code == 429:  # rate-limited: as long as the service asks, and at least the back-off
            wait = min(MAX_RATE_LIMIT_WAIT, max(float(retry_after or 0),
                                                self._backoff(w.failures, longest=MAX_RATE_LIMIT_WAIT)))
        else:
            wait = self._backoff(w.failures)
            if not err.retryable:
                w.hard_failures += 1
        w.last_error = err.message
        log.info("poll of job %s failed (%s); next try in %.1f s", w.job_id, err.message, wait)
        if give_up and w.hard_failures >= MAX_HARD_FAILURES:
            self._watches.pop(w.job_id, None)
            self.poll_failed.emit(w.job_id, f"{err.message} GemTune stopped checking this job; "
                                            "use Refresh to try again.")
            return
        self._reschedule(w, wait)
        self.poll_failed.emit(w.job_id, f"{err.message} Trying again {again_in(wait)}.")

    def _reschedule(self, w: _Watch, interval: float) -> None:
        w.interval = interval
        w.due = self._clock() + interval

    # -- submits whose outcome is not known -------------------------------------------------
    def _start_check(self, w: _Watch) -> None:
        record = jobs_repo.get_job(self.store, w.job_id)
        if record is None or not record.state.being_submitted or record.resource_name:
            self._checks.pop(w.job_id, None)
            return
        store = self.store
        w.due = float("inf")
        self.ctx.connections.start(
            self._lookups.slot(w.job_id), lambda token, api: api.check_submit(token, record),
            on_result=lambda found, w=w, store=store: self._checked(w, store, found),
            on_error=lambda err, w=w, store=store: self._check_failed(w, store, err),
            on_cancelled=lambda w=w: self._reschedule(w, w.interval))

    def _checked(self, w: _Watch, store: Any, found: Any) -> None:
        if store is not self.store or self._checks.get(w.job_id) is not w:
            return
        try:
            known = apply_check(store, w.job_id, found, self.not_started_after_s)
        except (UserError, sqlite3.Error) as exc:
            log.warning("could not record what became of submit %s: %s", w.job_id, type(exc).__name__)
            self._reschedule(w, self._backoff(w.failures + 1))
            return
        if not known:  # nothing found yet, and too early to say it never started
            w.failures += 1
            self._reschedule(w, self._backoff(w.failures))
            return
        self._checks.pop(w.job_id, None)
        self.job_updated.emit(w.job_id)
        self.submit_resolved.emit(w.job_id)
        self.ctx.jobs_changed.emit()
        self.sync()  # a job that was found is polled from now on

    def _check_failed(self, w: _Watch, store: Any, err: UserError) -> None:
        if store is not self.store or self._checks.get(w.job_id) is not w:
            return
        w.failures += 1
        retry_after = getattr(err, "retry_after", None)
        wait = self._backoff(w.failures, retry_after, longest=MAX_RATE_LIMIT_WAIT if retry_after else None)
        w.last_error = err.message
        self._reschedule(w, wait)  # never given up: the job may exist
        self.poll_failed.emit(w.job_id, f"Checking whether the job started: {err.message} Trying again "
                                        f"{again_in(wait)}.")

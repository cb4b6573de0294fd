"""Run blocking, Qt-free calls off the GUI thread; deliver results as signals on it.

One small API for the whole app::

    runner = TaskRunner(parent)
    runner.run("poll:42", poll_job, session, name,
               on_result=self._show, on_error=self._explain, on_progress=self._bar)

* ``fn(token, *args)`` runs on a pool thread; ``token`` is a
  :class:`~gemtune_desktop.core.cancel.CancelToken` it checks and reports progress to.
* ``on_result``, ``on_error`` (a :class:`UserError`, never a traceback) and
  ``on_progress(done, total, text)`` are called on the GUI thread.
* At most one task runs per *purpose*: ``run`` returns ``None`` while one is in flight,
  or cancels it first with ``replace=True``.
* ``shutdown()`` cancels everything and waits for running tasks.

A :class:`QRunnable` on the thread pool with a signals object living on the GUI thread (the
pattern of superqt's ``create_worker``). It is written here rather than imported because
importing superqt loads every superqt widget module and qtpy's wrappers: ~0.3–0.6 s on the
GUI thread the first time a task starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, UserError

log = logging.getLogger(__name__)


class _WorkerSignals(QObject):
    """Emitted from the pool thread; delivered (queued) on the GUI thread, in order."""

    returned = Signal(object)
    errored = Signal(object)
    finished = Signal()


class _Worker(QRunnable):
    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], signals: _WorkerSignals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._args = args
        self._signals = signals

    def run(self) -> None:
        signals = self._signals
        try:
            value = self._fn(*self._args)
        except BaseException as exc:  # every failure goes to the GUI thread as a message
            signals.errored.emit(exc)
        else:
            signals.returned.emit(value)
        finally:
            signals.finished.emit()
            self._fn = self._args = None  # type: ignore[assignment]


class Task(QObject):
    """One running call.

    Signals:
        progressed(int, int, str): done, total, text; emitted on the GUI thread.
        succeeded(object): the function's return value.
        failed(object): a :class:`UserError` describing the failure.
        cancelled(): the user cancelled it.
        finished(): always last.
    """

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, purpose: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.purpose = purpose
        self.token = CancelToken(on_progress=self._report)
        self._worker: Any = None
        self.done = False

    def _report(self, done: int, total: int, text: str) -> None:
        # Called on the worker thread; the signal is queued to the GUI thread.
        self.progressed.emit(int(done), int(total), str(text))

    def cancel(self) -> None:
        self.token.cancel()


class TaskRunner(QObject):
    """Starts :class:`Task` s on a thread pool, one per purpose.

    Signals:
        busy_changed(bool): whether any task is running (for a busy indicator).
    """

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._tasks: dict[str, Task] = {}
        self._pool = pool or QThreadPool.globalInstance()

    def is_running(self, purpose: str) -> bool:
        return purpose in self._tasks

    def running(self) -> list[str]:
        return list(self._tasks)

    def run(self, purpose: str, fn: Callable[..., Any], *args: Any,
            on_result: Callable[[Any], None] | None = None,
            on_error: Callable[[UserError], None] | None = None,
            on_progress: Callable[[int, int, str], None] | None = None,
            on_cancelled: Callable[[], None] | None = None,
            on_finished: Callable[[], None] | None = None,
            replace: bool = False) -> Task | None:
        """Start ``fn(token, *args)`` unless a task for ``purpose`` is running."""
        old = self._tasks.get(purpose)
        if old is not None:
            if not replace:
                return None
            self._forget(old)
            old.cancel()
        task = Task(purpose, self)
        if on_result is not None:
            task.succeeded.connect(on_result)
        if on_error is not None:
            task.failed.connect(on_error)
        else:
            task.failed.connect(lambda err: log.warning("%s failed: %s", purpose, err.message))
        if on_progress is not None:
            task.progressed.connect(on_progress)
        if on_cancelled is not None:
            task.cancelled.connect(on_cancelled)
        if on_finished is not None:
            task.finished.connect(on_finished)

        signals = _WorkerSignals()  # no parent: kept alive by the reference below until finished
        signals.returned.connect(lambda value, t=task: self._on_returned(t, value))
        signals.errored.connect(lambda exc, t=task: self._on_errored(t, exc))
        signals.finished.connect(lambda t=task: self._on_finished(t))
        worker = _Worker(fn, (task.token, *args), signals)
        # Strong references until the task is done: Python must not collect the runnable (the
        # pool owns and deletes its C++ side after run()) nor the signals while it may emit.
        task._worker = (worker, signals)
        was_busy = bool(self._tasks)
        self._tasks[purpose] = task
        if not was_busy:
            self.busy_changed.emit(True)
        self._pool.start(worker)
        return task

    def cancel(self, purpose: str) -> None:
        task = self._tasks.get(purpose)
        if task is not None:
            task.cancel()

    def cancel_all(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until every pool task is done (used at shutdown and in tests)."""
        return bool(self._pool.waitForDone(timeout_ms))

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        self.cancel_all()
        return self.wait(timeout_ms)

    # -- worker callbacks (GUI thread) ------------------------------------------------------
    def _on_returned(self, task: Task, value: Any) -> None:
        if task.token.cancelled:
            task.cancelled.emit()
            return
        task.succeeded.emit(value)

    def _on_errored(self, task: Task, exc: BaseException) -> None:
        if isinstance(exc, Cancelled) or task.token.cancelled:
            task.cancelled.emit()
            return
        from gemtune_desktop.services.errors import describe

        err = describe(exc)
        if not isinstance(exc, UserError):
            log.warning("task %s raised %s", task.purpose, type(exc).__name__, exc_info=exc)
        task.failed.emit(err)

    def _on_finished(self, task: Task) -> None:
        task.done = True
        self._forget(task)
        task.finished.emit()
        task.deleteLater()

    def _forget(self, task: Task) -> None:
        if self._tasks.get(task.purpose) is task:
            del self._tasks[task.purpose]
            if not self._tasks:
                self.busy_changed.emit(False)

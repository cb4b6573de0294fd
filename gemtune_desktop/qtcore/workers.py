"""Tasks owned by the widget that starts them: blocking, Qt-free calls off the GUI thread, results as signals.

The pattern of Orange's ``ConcurrentMixin`` and napari's workers, by composition::

    self._import = TaskSlot(self, ctx.executor)          # one slot per thing the widget does
    self._import.start(read_dataset, path, on_result=self._imported, on_error=self._explain,
                       on_progress=self._bar, on_cancelled=self._said_cancelled)

* ``fn(token, *args)`` runs on a pool thread; ``token`` is a :class:`~gemtune_desktop.core.cancel.CancelToken`
  it checks and reports progress to.
* The callbacks run on the GUI thread, always after ``start`` has returned: ``on_progress(done, total,
  text)``, then one of ``on_result(value)``, ``on_error(UserError)`` (plain words, never a traceback) or
  ``on_cancelled()``, then ``on_finished()``.
* A slot holds at most one task. Starting a new one cancels the old one and disconnects it (its
  results are never delivered); so does destroying the owner or calling :meth:`TaskSlot.shutdown`.
  :meth:`TaskSlot.cancel` asks the task to stop and still reports ``on_cancelled``.
* :class:`TaskGroup` is a slot per key (one poll per job, one stream per answer pane).

Where tasks run is the :class:`TaskExecutor` given to the slot: :class:`ThreadExecutor` (the app's,
over the global ``QThreadPool``) or :class:`InlineExecutor` (tests: runs the call at once on the GUI
thread, delivers its results on the next event-loop turn, the way the thread pool does).

The runnable and its signals are written here rather than taken from superqt: importing superqt loads
every superqt widget module and qtpy's wrappers, ~0.3–0.6 s on the GUI thread the first time a task starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from PySide6.QtCore import (
    QCoreApplication,
    QElapsedTimer,
    QMetaObject,
    QObject,
    QRunnable,
    QThreadPool,
    Signal,
)

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, UserError

if TYPE_CHECKING:
    from PySide6.QtCore import Qt

log = logging.getLogger(__name__)

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[UserError], None]
ProgressCallback = Callable[[int, int, str], None]
PlainCallback = Callable[[], None]


def _queued() -> Qt.ConnectionType:
    # Imported here: importing ``Qt`` builds its ~90 enums, which the start-up path leaves until later.
    from PySide6.QtCore import Qt

    return Qt.ConnectionType.QueuedConnection


class Task(QObject):
    """One call of a function on a worker.

    Signals (on the GUI thread, never while :meth:`TaskSlot.start` is running):
        progressed(int, int, str): done, total, text.
        succeeded(object): the function's return value.
        failed(object): a :class:`UserError` describing the failure.
        cancelled(): the call was cancelled.
        finished(): always last.
    """

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    finished = Signal()

    # Emitted by the worker (any thread); delivered queued to this object's slots on the GUI thread.
    _raw_progress = Signal(int, int, str)
    _raw_returned = Signal(object)
    _raw_errored = Signal(object)
    _raw_finished = Signal()

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.token = CancelToken(on_progress=self._raw_progress.emit)
        self.done = False
        self._detached = False
        self._links: list[QMetaObject.Connection] = []
        self._on_done: list[Callable[[Task], None]] = []
        queued = _queued()
        self._raw_progress.connect(self._deliver_progress, queued)
        self._raw_returned.connect(self._deliver_result, queued)
        self._raw_errored.connect(self._deliver_error, queued)
        self._raw_finished.connect(self._deliver_finished, queued)

    def cancel(self) -> None:
        """Ask the call to stop (it sees ``token.cancelled``); ``cancelled`` is still reported."""
        self.token.cancel()

    def detach(self) -> None:
        """Cancel, and deliver nothing more to whoever connected to this task."""
        self.token.cancel()
        if self._detached:
            return
        self._detached = True
        links, self._links = self._links, []
        for link in links:
            QObject.disconnect(link)

    @property
    def detached(self) -> bool:
        return self._detached

    def connect_callbacks(self, on_result: ResultCallback | None = None, on_error: ErrorCallback | None = None,
                          on_progress: ProgressCallback | None = None, on_cancelled: PlainCallback | None = None,
                          on_finished: PlainCallback | None = None) -> None:
        links = self._links
        if on_progress is not None:
            links.append(self.progressed.connect(on_progress))
        if on_result is not None:
            links.append(self.succeeded.connect(on_result))
        if on_error is None:
            name = self.name

            def on_error(err: UserError) -> None:
                log.warning("task %s failed: %s", name, err.message)
        links.append(self.failed.connect(on_error))
        if on_cancelled is not None:
            links.append(self.cancelled.connect(on_cancelled))
        if on_finished is not None:
            links.append(self.finished.connect(on_finished))

    def when_done(self, callback: Callable[[Task], None]) -> None:
        """Call ``callback(task)`` just before ``finished`` (bookkeeping of slots and executors)."""
        self._on_done.append(callback)

    # -- delivery on the GUI thread --------------------------------------------------------------
    def _deliver_progress(self, done: int, total: int, text: str) -> None:
        if not self._detached and not self.token.cancelled:
            self.progressed.emit(done, total, text)

    def _deliver_result(self, value: object) -> None:
        if self._detached:
            return
        if self.token.cancelled:
            self.cancelled.emit()
        else:
            self.succeeded.emit(value)

    def _deliver_error(self, exc: BaseException) -> None:
        if self._detached:
            return
        if isinstance(exc, Cancelled) or self.token.cancelled:
            self.cancelled.emit()
            return
        from gemtune_desktop.services.errors import describe

        if not isinstance(exc, UserError):
            log.warning("task %s raised %s", self.name, type(exc).__name__, exc_info=exc)
        self.failed.emit(describe(exc))

    def _deliver_finished(self) -> None:
        self.done = True
        callbacks, self._on_done = self._on_done, []
        for callback in callbacks:  # the slot is free again by the time the owner hears ``finished``
            callback(self)
        if not self._detached:
            self.finished.emit()


def run_call(task: Task, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
    """Run ``fn(task.token, *args)`` here and post its outcome to ``task`` (queued to the GUI thread)."""
    try:
        value = fn(task.token, *args)
    except BaseException as exc:  # every failure goes to the GUI thread as a message
        task._raw_errored.emit(exc)
    else:
        task._raw_returned.emit(value)
    finally:
        task._raw_finished.emit()


class TaskExecutor(Protocol):
    """Where tasks run."""

    def submit(self, task: Task, fn: Callable[..., object], args: tuple[Any, ...]) -> None: ...

    def busy(self) -> bool: ...

    def wait(self, timeout_ms: int = 10000) -> bool: ...

    def shutdown(self, timeout_ms: int = 5000) -> bool: ...


class _Runnable(QRunnable):
    def __init__(self, task: Task, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._call: tuple[Task, Callable[..., object], tuple[Any, ...]] | None = (task, fn, args)

    def run(self) -> None:
        call, self._call = self._call, None
        if call is not None:
            run_call(*call)


class ThreadExecutor(QObject):
    """Runs tasks on a thread pool (the global one by default).

    Signals:
        busy_changed(bool): whether any task is running (for a busy indicator).
    """

    busy_changed = Signal(bool)

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        # Until each task's last signal is delivered (the worker still reports to it).
        self._live: set[Task] = set()

    def submit(self, task: Task, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
        was_busy = bool(self._live)
        self._live.add(task)
        task.setParent(self)
        task.when_done(self._forget)
        if not was_busy:
            self.busy_changed.emit(True)
        self._pool.start(_Runnable(task, fn, args))

    def _forget(self, task: Task) -> None:
        self._live.discard(task)
        task.deleteLater()  # not at once: this runs inside the task's own event
        if not self._live:
            self.busy_changed.emit(False)

    def busy(self) -> bool:
        return bool(self._live)

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until every pool thread is idle (at shutdown and in tests); results are delivered later."""
        return bool(self._pool.waitForDone(timeout_ms))

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel every task, disconnect it, and wait for the threads."""
        for task in list(self._live):
            task.detach()
        return self.wait(timeout_ms)


class InlineExecutor(QObject):
    """Runs each task at once on the calling (GUI) thread; its signals arrive on the next event-loop turn.

    For tests of widgets whose service is an in-process fake: no threads, deterministic order, and the
    same "callbacks never run inside start()" rule as the thread pool. :meth:`wait` delivers everything.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._live: set[Task] = set()
        self.started: list[str] = []  # names of the tasks run, oldest first

    def submit(self, task: Task, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
        self._live.add(task)
        self.started.append(task.name)
        task.setParent(self)
        task.when_done(self._forget)
        run_call(task, fn, args)

    def _forget(self, task: Task) -> None:
        self._live.discard(task)
        task.deleteLater()

    def busy(self) -> bool:
        return bool(self._live)

    def wait(self, timeout_ms: int = 10000) -> bool:
        timer = QElapsedTimer()
        timer.start()
        while self._live and timer.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
        return not self._live

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        for task in list(self._live):
            task.detach()
        return self.wait(timeout_ms)


class TaskSlot:
    """At most one task at a time, owned by ``owner`` (see the module docstring).

    Args:
        owner: the widget or object the results are for; when it is destroyed, the task is cancelled and
            disconnected.
        executor: where the tasks run.
        name: for log messages.
    """

    def __init__(self, owner: QObject, executor: TaskExecutor, name: str = "") -> None:
        self._executor = executor
        self.name = name or type(owner).__name__
        self._task: Task | None = None
        owner.destroyed.connect(self._owner_destroyed)

    @property
    def task(self) -> Task | None:
        """The running task, or None."""
        return self._task

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, fn: Callable[..., object], *args: Any, on_result: ResultCallback | None = None,
              on_error: ErrorCallback | None = None, on_progress: ProgressCallback | None = None,
              on_cancelled: PlainCallback | None = None, on_finished: PlainCallback | None = None) -> Task:
        """Run ``fn(token, *args)``; a task still running in this slot is cancelled and disconnected first."""
        self.shutdown()
        task = Task(self.name)
        task.connect_callbacks(on_result, on_error, on_progress, on_cancelled, on_finished)
        task.when_done(self._forget)
        self._task = task
        self._executor.submit(task, fn, args)
        return task

    def cancel(self) -> None:
        """Ask the running task to stop; its owner still hears ``on_cancelled`` and ``on_finished``."""
        if self._task is not None:
            self._task.cancel()

    def shutdown(self) -> None:
        """Cancel the running task and disconnect it: nothing more reaches the owner."""
        task, self._task = self._task, None
        if task is not None:
            task.detach()

    def _forget(self, task: Task) -> None:
        if self._task is task:
            self._task = None

    def _owner_destroyed(self, *_args: object) -> None:
        self.shutdown()


class TaskGroup(Generic[K]):
    """One :class:`TaskSlot` per key, all owned by ``owner`` (a poll per job, a stream per answer pane)."""

    def __init__(self, owner: QObject, executor: TaskExecutor, name: str = "") -> None:
        self._owner = owner
        self._executor = executor
        self.name = name or type(owner).__name__
        self._slots: dict[K, TaskSlot] = {}

    def slot(self, key: K) -> TaskSlot:
        found = self._slots.get(key)
        if found is None:
            found = self._slots[key] = TaskSlot(self._owner, self._executor, f"{self.name}[{key}]")
        return found

    def start(self, key: K, fn: Callable[..., object], *args: Any, **callbacks: Any) -> Task:
        return self.slot(key).start(fn, *args, **callbacks)

    def is_running(self, key: K) -> bool:
        found = self._slots.get(key)
        return found is not None and found.running

    def running_keys(self) -> list[K]:
        return [k for k, s in self._slots.items() if s.running]

    @property
    def running(self) -> bool:
        return any(s.running for s in self._slots.values())

    def cancel(self, key: K) -> None:
        found = self._slots.get(key)
        if found is not None:
            found.cancel()

    def cancel_all(self) -> None:
        for found in self._slots.values():
            found.cancel()

    def shutdown(self, key: K | None = None) -> None:
        """Cancel and disconnect the task for ``key`` (every task when None)."""
        if key is not None:
            found = self._slots.pop(key, None)
            if found is not None:
                found.shutdown()
            return
        for found in self._slots.values():
            found.shutdown()

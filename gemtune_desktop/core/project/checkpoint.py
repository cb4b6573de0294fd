"""Keeping the ``.gemtune`` file itself current, off the GUI thread (Qt-free).

The project runs in WAL mode: a commit appends to ``<name>.gemtune-wal`` and is safe from a crash at once,
but the main file alone does not hold it until a *checkpoint* copies the log into it. A user who e-mails,
backs up or syncs "the project file" must get their work, so :class:`Checkpointer` runs on its own thread
with its own SQLite connection and

* syncs the log to the disk :data:`FLUSH_DELAY_S` after each commit (one ``fsync`` per burst of edits), so
  an edit survives a power cut a moment later without the GUI thread waiting for the disk;
* checkpoints once the edits pause for :data:`CHECKPOINT_DELAY_S`, or :data:`CHECKPOINT_MAX_WAIT_S` after
  the first unsaved commit while edits keep coming, or at once when asked (:meth:`request`: focus loss,
  Save As, export), and reports when the main file holds every commit (``on_saved``).

A checkpoint first copies what it can without blocking the writer (``PASSIVE``); only when that got
everything does it reset the log (``TRUNCATE``), which waits briefly for the writer. Before writing the
main file it checks that the path still names the file the project opened (``watch``); when it does not,
it writes nothing and reports the loss (``on_lost``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from gemtune_desktop.core.project.identity import FileProblem, FileWatch

log = logging.getLogger(__name__)

FLUSH_DELAY_S = 0.25
CHECKPOINT_DELAY_S = 2.0
CHECKPOINT_MAX_WAIT_S = 10.0
RETRY_AFTER_ERROR_S = 5.0


class Checkpointer:
    """The project's background flush-and-checkpoint thread. All public methods are thread-safe."""

    def __init__(self, conn: sqlite3.Connection, wal_path: Path, watch: FileWatch, *,
                 on_saved: Callable[[], None], on_lost: Callable[[FileProblem], None],
                 on_synced: Callable[[], None]) -> None:
        self._conn = conn  # opened by the store (check_same_thread=False); used only by this thread
        self._wal = wal_path
        self._watch = watch
        self._on_saved = on_saved
        self._on_lost = on_lost
        self._on_synced = on_synced
        self._cond = threading.Condition()
        self._latest = 0        # number of the last commit
        self._saved = 0         # every commit up to this one is in the main file
        self._unsynced = False
        self._last_commit = 0.0
        self._dirty_since: float | None = None
        self._now = False
        self._retry_at = 0.0
        self._stop = False
        self._busy = False
        self.last_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="project-checkpoint", daemon=True)
        self._thread.start()

    # -- called from the GUI thread ---------------------------------------------------------------
    def poke(self, commit_no: int) -> None:
        """A commit happened (number ``commit_no``)."""
        with self._cond:
            now = time.monotonic()
            self._latest = commit_no
            self._last_commit = now
            if self._dirty_since is None:
                self._dirty_since = now
            self._unsynced = True
            self._cond.notify()

    def request(self) -> None:
        """Checkpoint as soon as possible."""
        with self._cond:
            self._now = True
            self._retry_at = 0.0
            self._cond.notify()

    def wait_saved(self, commit_no: int, timeout: float) -> bool:
        """Block until every commit up to ``commit_no`` is in the main file (or ``timeout`` seconds pass)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._saved < commit_no and not self._stop:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._now = True
                self._cond.notify()
                self._cond.wait(left)
            return self._saved >= commit_no

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until the log is synced and no checkpoint runs (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._unsynced or self._busy) and not self._stop:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    @property
    def saved(self) -> int:
        with self._cond:
            return self._saved

    def mark_saved(self, commit_no: int) -> None:
        """The main file was checkpointed by someone else (the store's own connection) up to ``commit_no``."""
        with self._cond:
            self._saved = max(self._saved, commit_no)
            if self._saved >= self._latest:
                self._dirty_since = None
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=10.0)
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()

    # -- the thread -----------------------------------------------------------------------------
    def _due(self, now: float) -> tuple[bool, bool, float]:
        """(sync now, checkpoint now, seconds until something may be due)."""
        sync = self._unsynced and now - self._last_commit >= FLUSH_DELAY_S
        wait = FLUSH_DELAY_S - (now - self._last_commit) if self._unsynced else 3600.0
        pending = self._latest > self._saved
        if pending and now >= self._retry_at:
            quiet = now - self._last_commit
            since = now - (self._dirty_since if self._dirty_since is not None else now)
            if self._now or quiet >= CHECKPOINT_DELAY_S or since >= CHECKPOINT_MAX_WAIT_S:
                return self._unsynced, True, 0.0
            wait = min(wait, CHECKPOINT_DELAY_S - quiet, CHECKPOINT_MAX_WAIT_S - since)
        elif pending:
            wait = min(wait, self._retry_at - now)
        return sync, False, max(0.01, wait)

    def _run(self) -> None:
        while True:
            with self._cond:
                sync = checkpoint = False
                while not self._stop:
                    sync, checkpoint, wait = self._due(time.monotonic())
                    if sync or checkpoint:
                        break
                    self._cond.wait(wait)
                stopping = self._stop
                if stopping:
                    sync = self._unsynced
                    checkpoint = False
                target = self._latest
                if sync:
                    self._unsynced = False
                self._busy = True
            if sync:
                self._sync()
            if checkpoint:
                self._checkpoint(target)
            with self._cond:
                self._busy = False
                self._cond.notify_all()
            if stopping:
                return

    def _sync(self) -> None:
        try:
            fd = os.open(self._wal, os.O_RDWR)
        except OSError:
            return  # no log yet, or folded into the file by a checkpoint (which synced it)
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
        try:
            self._on_synced()
        except Exception:  # a callback must not end the thread
            log.exception("after syncing the project log")

    def _checkpoint(self, target: int) -> None:
        problem = self._watch.problem()
        if problem is not None:
            with self._cond:
                self._now = False
                self._retry_at = float("inf")  # never write a file that is not ours
            self._on_lost(problem)
            return
        complete = False
        try:
            with self._watch.writing():
                busy, frames, done = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                complete = busy == 0 and frames == done
                if complete and frames > 0:
                    with contextlib.suppress(sqlite3.OperationalError):  # the writer is busy: reset next time
                        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            self.last_error = None
        except sqlite3.Error as exc:
            self.last_error = exc
            log.warning("checkpoint of the project failed: %s", exc)
        with self._cond:
            self._now = False
            if complete:
                self._saved = max(self._saved, target)
                if self._saved >= self._latest:
                    self._dirty_since = None
            else:
                self._retry_at = time.monotonic() + (RETRY_AFTER_ERROR_S if self.last_error else 0.2)
            self._cond.notify_all()
        if complete:
            try:
                self._on_saved()
            except Exception:
                log.exception("after a checkpoint of the project")

"""The open project file (``.gemtune``, one SQLite database): create, open, lock, migrate, write, keep current.

Safety rules this module enforces:

* **Every committed edit survives a kill at once, a power cut a moment later, and is in the main file a few
  seconds later.** The database runs in WAL mode; a commit is in the operating system's hands as soon as it
  returns. The :class:`~gemtune_desktop.core.project.checkpoint.Checkpointer` thread syncs the log shortly
  after each commit and folds it into the ``.gemtune`` file after each burst of edits, so a copy of that file
  alone holds the work (:meth:`ProjectStore.flush` does it now: before Save As, export, on focus loss).
  :attr:`ProjectStore.saved_in_file` says whether it does at this moment.
* **Writes go only to the file the user opened.** Every write transaction first checks that the path still
  names that file (``identity.py``); once it does not (deleted, replaced, overwritten), nothing more is
  written, :attr:`ProjectStore.lost` says why, and :meth:`ProjectStore.save_as` writes everything (the open
  connection still reads it) to a new file.
* **One editor at a time, by any name.** Opening for writing takes OS locks beside the resolved file and
  by its device and inode (``locking.py``); a second window or process gets :class:`ProjectLockedError`.
  Save As takes the target's locks before anything is replaced.
* **A refused open changes nothing.** Every check runs before SQLite writes (``opening.py``); a file or
  folder that cannot be written opens read-only (:attr:`ProjectStore.read_only_reason`).
* **Older files are upgraded after a backup.** Opening an older project copies it to
  ``<name>.gemtune.bak-v<old>-<date>`` and runs :data:`schema.MIGRATIONS` in one transaction; if the
  upgrade fails, the file is unchanged and the backup is removed again (no pile of copies).

``conn`` is used on the thread that opened the store (the GUI thread); write through
``with store.transaction():`` (``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on an exception; nested
blocks become savepoints).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gemtune_desktop.core.errors import ProjectLockedError, UserError
from gemtune_desktop.core.project import locking, schema
from gemtune_desktop.core.project.checkpoint import Checkpointer
from gemtune_desktop.core.project.identity import (
    FileIdentity,
    FileProblem,
    FileWatch,
    ProjectFileLostError,
    identity_of,
)
from gemtune_desktop.core.project.locking import ProjectLock, lock_path_for
from gemtune_desktop.core.project.opening import (
    ProjectOpenError,
    check_header,
    check_wal_is_ours,
    resolve,
    shm_path_for,
    wal_header,
    wal_path_for,
    wal_salts,
    writable,
)
from gemtune_desktop.core.project.sqlfile import (
    APP_ID_VALUE,
    BUSY_TIMEOUT_MS,
    OPEN_ERRORS,
    backup,
    configure,
    connect,
    damaged,
    migrate,
    probe,
    run_script,
    set_meta,
)
from gemtune_desktop.core.project.transactions import immediate
from gemtune_desktop.core.project.write_errors import ReadOnlyProjectError

__all__ = ["APP_ID_VALUE", "PROJECT_SUFFIX", "ProjectLockedError", "ProjectOpenError", "ProjectStore",
           "lock_path_for"]

PROJECT_SUFFIX = ".gemtune"


class ProjectStore:
    """One open project file. Build with :meth:`create` or :meth:`open`.

    Attributes:
        path: the ``.gemtune`` file as the user named it (a symlink stays a symlink).
        real_path: the file itself (symlinks followed); locks and SQLite use this one.
        conn: the SQLite connection (autocommit mode; write inside :meth:`transaction`).
        read_only: writes raise; ``read_only_reason`` is "requested", "file" or "folder".
        backup_path: the backup written before a migration during this open, if any.
        lost: why the path no longer names the open file (None while it does); writes stop then.
        on_state_change: called after each commit, checkpoint and loss (from the checkpoint thread too).
    """

    def __init__(self, path: Path, real: Path, conn: sqlite3.Connection, lock: ProjectLock | None,
                 read_only_reason: str = "") -> None:
        self.path = path
        self.real_path = real
        self.conn = conn
        self.read_only = bool(read_only_reason)
        self.read_only_reason = read_only_reason
        self.backup_path: Path | None = None
        self.lost: FileProblem | None = None
        self.on_state_change: Callable[[], None] | None = None
        self.commit_count = 0
        self._lock = lock
        self._keep_beside_lock = False
        self._depth = 0
        self._closed = False
        self._watch = FileWatch(real, os.stat(real))
        self._wal_identity: FileIdentity | None = None
        self._shm_identity: FileIdentity | None = None
        self._salts = b""
        self._checkpointer: Checkpointer | None = None
        if not self.read_only:
            self._checkpointer = self._start_checkpointer()
            self._note_wal()
            if os.path.exists(wal_path_for(real)) and os.path.getsize(wal_path_for(real)) > 32:
                self.commit_count = 1  # a log left by a crash: not in the main file yet
                self._checkpointer.poke(1)
                self._checkpointer.request()

    # -- opening ----------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike[str], *, overwrite: bool = False) -> ProjectStore:
        """Create a new empty project at ``path`` (refuses an existing file unless ``overwrite``)."""
        p = Path(path)
        try:
            real = p.resolve()
        except (RuntimeError, OSError) as exc:
            raise ProjectOpenError(f"“{p.name}” cannot be created here.", "Choose another name.",
                                   detail=str(exc)) from None
        if real.exists() and not overwrite:
            raise ProjectOpenError(f"“{p.name}” already exists.", "Choose another name or open the existing project.")
        real.parent.mkdir(parents=True, exist_ok=True)
        lock = locking.acquire(real, identity_of(real))
        with locking.released_on_error(lock):
            for extra in (real, wal_path_for(real), shm_path_for(real)):  # stale logs would be replayed
                with contextlib.suppress(FileNotFoundError):
                    extra.unlink()
            conn = connect(real, read_only=False)
            try:
                configure(conn, read_only=False)
                conn.execute("BEGIN IMMEDIATE")
                run_script(conn, schema.SCHEMA_SQL)
                set_meta(conn, "schema_version", str(schema.SCHEMA_VERSION))
                set_meta(conn, "app", APP_ID_VALUE)
                set_meta(conn, "created_at", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
                conn.execute("COMMIT")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                identity = identity_of(real)
                if identity is not None:
                    locking.add_identity_lock(lock, identity)
                return cls(p, real, conn, lock)
            except BaseException:
                conn.close()
                raise

    @classmethod
    def open(cls, path: str | os.PathLike[str], read_only: bool = False) -> ProjectStore:
        """Open an existing project; migrate it (after a backup) when it is from an older version.

        A file or folder that cannot be written opens read-only (``read_only_reason`` says which).
        Raises :class:`ProjectOpenError` (or :class:`ProjectLockedError`); a refused file is not changed.
        """
        p = Path(path)
        real = resolve(p)
        check_header(real, p.name)
        reason = "requested" if read_only else writable(real)
        if reason:
            check_wal_is_ours(real, p.name, None)
            return cls._open_read_only(p, real, reason)
        lock = locking.acquire(real, identity_of(real), p.name)
        with locking.released_on_error(lock):
            check_wal_is_ours(real, p.name, lock.previous_record)
            store = cls._open_locked(p, real, lock)
            if store is None:  # SQLite found it read-only after all (network shares, ACLs)
                lock.release()
                return cls._open_read_only(p, real, "file")
            return store

    @classmethod
    def _open_read_only(cls, p: Path, real: Path, reason: str) -> ProjectStore:
        try:
            conn = connect(real, read_only=True)
        except OPEN_ERRORS as exc:
            raise ProjectOpenError(f"“{p.name}” cannot be opened read-only.",
                                   "Copy it (with the files beside it that start with its name) to a folder you "
                                   "can write, then open the copy.", detail=str(exc)) from None
        try:
            version = probe(conn, p.name)
            if version < schema.SCHEMA_VERSION:
                raise ProjectOpenError(f"“{p.name}” is from an older version of GemTune Desktop and cannot be "
                                       f"upgraded where it is (it is read-only).",
                                       "Copy it to a folder you can write, then open the copy.")
            configure(conn, read_only=True)
            return cls(p, real, conn, None, reason)
        except BaseException:
            conn.close()
            raise

    @classmethod
    def _open_locked(cls, p: Path, real: Path, lock: ProjectLock) -> ProjectStore | None:
        """Open ``real`` for writing under ``lock`` (held); None when SQLite says it is read-only."""
        before = identity_of(real)
        try:
            conn = connect(real, read_only=False)
        except OPEN_ERRORS as exc:
            raise damaged(p.name, exc) from None
        try:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            version = probe(conn, p.name)
            upgraded_from = migrate(conn, p, version) if version < schema.SCHEMA_VERSION else None
            try:
                configure(conn, read_only=False)
            except sqlite3.OperationalError as exc:
                if "readonly" in str(exc) or getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY"):
                    conn.close()
                    return None
                raise
            if identity_of(real) != before:
                raise ProjectOpenError(f"“{p.name}” was replaced while it was being opened.", "Open it again.")
            store = cls(p, real, conn, lock)
            store.backup_path = upgraded_from
            return store
        except ProjectOpenError:
            conn.close()
            raise
        except OPEN_ERRORS as exc:
            conn.close()
            raise damaged(p.name, exc) from None
        except BaseException:
            conn.close()
            raise

    # -- state ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def schema_version(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    @property
    def saved_through(self) -> int:
        """Every commit up to this number is in the main file."""
        return self._checkpointer.saved if self._checkpointer is not None else self.commit_count

    @property
    def saved_in_file(self) -> bool:
        """Whether the ``.gemtune`` file alone holds every committed change right now."""
        return self.lost is None and self.saved_through >= self.commit_count

    @property
    def checkpoint_error(self) -> BaseException | None:
        return self._checkpointer.last_error if self._checkpointer is not None else None

    def check_file(self) -> FileProblem | None:
        """Whether the path still names the open file (call on focus); once lost, it stays lost."""
        if self.lost is None and not self.read_only and not self._closed:
            problem = self._watch.problem()
            if problem is not None:
                self._set_lost(problem)
        return self.lost

    def _set_lost(self, problem: FileProblem) -> None:
        if self.lost is not None:
            return
        self.lost = problem
        self._changed()

    def _changed(self) -> None:
        callback = self.on_state_change
        if callback is not None:
            callback()

    # -- writing ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error); nested blocks are savepoints.

        Raises :class:`ReadOnlyProjectError` on a read-only project and :class:`ProjectFileLostError` when the
        path no longer names the open file, before anything is written.
        """
        if self.read_only:
            raise ReadOnlyProjectError("This project is open read-only.", "Save a copy to edit it.")
        if self._closed:
            raise UserError("This project is closed.")
        conn = self.conn
        if self._depth == 0:
            problem = self.check_file()
            if problem is not None:
                raise ProjectFileLostError(self.path.name, problem)
            self._depth = 1
            try:
                with immediate(conn):
                    yield conn
            finally:
                self._depth = 0
            self._after_commit()
        else:
            name = f"sp{self._depth}"
            conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield conn
            except BaseException:
                self._depth -= 1
                # After a full disk or an I/O error SQLite may have rolled back the whole transaction
                # already; then there is no savepoint left, and the original error is the one to report.
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute(f"ROLLBACK TO {name}")
                        conn.execute(f"RELEASE {name}")
                raise
            self._depth -= 1
            conn.execute(f"RELEASE {name}")

    def _after_commit(self) -> None:
        self.commit_count += 1
        if self._wal_identity is None:
            self._note_wal()
        if self._checkpointer is not None:
            self._checkpointer.poke(self.commit_count)
        self._changed()

    def _note_wal(self) -> None:
        """Record which ``-wal`` this process writes in the lock beside the project (see opening.py)."""
        wal = wal_path_for(self.real_path)
        self._wal_identity = identity_of(wal)
        self._shm_identity = identity_of(shm_path_for(self.real_path))
        if self._lock is not None and self._wal_identity is not None:
            self._salts = wal_salts(wal_header(wal))
            # Not synced here (the GUI thread does not wait for the disk): the checkpoint thread syncs it
            # together with the first commit's log, which is the first time it matters.
            self._lock.record_wal(self._wal_identity, self._salts, sync=False)
            self._record_unsynced = True

    _record_unsynced = False

    def _synced(self) -> None:
        """After the log was synced (checkpoint thread): note a new log's salts beside the project, durably."""
        lock = self._lock
        if lock is None:
            return
        salts = wal_salts(wal_header(wal_path_for(self.real_path)))
        if salts and salts != self._salts:
            self._salts = salts
            lock.record_wal(self._wal_identity, salts, sync=True)
            self._record_unsynced = False
        elif self._record_unsynced:
            lock.beside.sync()
            self._record_unsynced = False

    def _start_checkpointer(self) -> Checkpointer:
        conn = sqlite3.connect(str(self.real_path), isolation_level=None, check_same_thread=False, timeout=0.2)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the file and its log now
        if identity_of(self.real_path) != self._watch.identity:
            conn.close()
            raise ProjectOpenError(f"“{self.path.name}” was replaced while it was being opened.", "Open it again.")
        return Checkpointer(conn, wal_path_for(self.real_path), self._watch, on_saved=self._changed,
                            on_lost=self._set_lost, on_synced=self._synced)

    def flush(self, timeout: float = 10.0) -> bool:
        """Fold every commit into the main file now (before Save As, export, close; a few ms after an edit).

        Returns whether the ``.gemtune`` file alone now holds everything.
        """
        if self.read_only or self._closed or self._checkpointer is None:
            return self.read_only
        if self.check_file() is not None:
            return False
        if self.saved_through >= self.commit_count:
            return True
        return self._checkpointer.wait_saved(self.commit_count, timeout)

    def flush_soon(self) -> None:
        """Ask for a checkpoint as soon as possible, without waiting for it (focus loss, idle)."""
        if self._checkpointer is not None and self.commit_count > self.saved_through:
            self._checkpointer.request()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until the log is on the disk and no checkpoint runs (tests, shutdown)."""
        return self._checkpointer.wait_idle(timeout) if self._checkpointer is not None else True

    def set_busy_timeout(self, ms: int) -> None:
        """How long a write waits for another program's lock on the file before failing (plainly)."""
        self.conn.execute(f"PRAGMA busy_timeout={int(ms)}")

    def get_meta(self, key: str, default: str = "") -> str:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            set_meta(self.conn, key, value)

    def integrity_ok(self) -> bool:
        row = self.conn.execute("PRAGMA integrity_check").fetchone()
        return bool(row) and row[0] == "ok"

    # -- copies -------------------------------------------------------------------------------
    def backup_to(self, dest: str | os.PathLike[str]) -> Path:
        """Write a consistent copy of the whole project to ``dest`` (SQLite backup API; no lock taken)."""
        d = Path(dest)
        if d.resolve() == self.real_path:
            raise UserError("Choose a different file name for the copy.")
        return backup(self.conn, d)

    def save_as(self, dest: str | os.PathLike[str]) -> ProjectStore:
        """Copy everything to ``dest`` under ``dest``'s locks and return the project opened there.

        Refuses a target open in another window (before anything is replaced) and the open file itself.
        Works when this file was lost: the copy is read through the open connection. The caller switches to
        the returned store and closes this one.
        """
        from gemtune_desktop.core.project.save_as import save_as

        return save_as(self, Path(dest))

    # -- closing --------------------------------------------------------------------------------
    def close(self) -> None:
        """Fold the log into the file (so it can be copied alone) and release the locks.

        When the path no longer names the open file, nothing is written to whatever is there now.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._checkpointer is not None:
                self._checkpointer.stop()
            if not self.read_only:
                problem = self.lost or self._watch.problem()
                if problem is None:
                    with self._watch.writing(), contextlib.suppress(sqlite3.Error):
                        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                elif problem is FileProblem.CHANGED:
                    # Another program rewrote the file in place; SQLite would copy our log into it on close.
                    self._remove_own(wal_path_for(self.real_path), self._wal_identity, truncate=True)
            self.conn.close()
            if not self.read_only and (self.lost or self._watch.problem()):
                # A log left beside a file that replaced ours would be replayed into it by the next open.
                self._remove_own(wal_path_for(self.real_path), self._wal_identity)
                self._remove_own(shm_path_for(self.real_path), self._shm_identity)
        finally:
            if self._lock is not None:
                self._lock.release(keep_beside=self._keep_beside_lock)

    @staticmethod
    def _remove_own(path: Path, identity: FileIdentity | None, truncate: bool = False) -> None:
        if identity is None or identity_of(path) != identity:
            return
        with contextlib.suppress(OSError):
            if truncate:
                os.truncate(path, 0)
            else:
                path.unlink()

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()



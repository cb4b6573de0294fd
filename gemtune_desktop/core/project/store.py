"""The open project file (``.gemtune``, one SQLite database): create, open, lock, migrate, transactions.

Safety rules this module enforces:

* **Every committed edit survives a kill at once, and a power cut after a moment.** The database
  runs in WAL mode: a commit is in the operating system's hands as soon as it returns (a killed
  process loses nothing), and a background thread flushes the write-ahead log to the disk within
  :data:`FLUSH_DELAY_S` of every commit (:class:`_WalFlusher`), so an edit survives a power cut a
  moment later without the GUI thread waiting for the disk on every keystroke. SQLite never leaves
  a half-written file (a torn write is rolled back on the next open).
* **One editor at a time.** Opening for writing takes an OS lock (``flock`` / ``msvcrt.locking``)
  on a small ``<name>.gemtune.lock`` file next to the project. The OS drops the lock when the
  owning process dies, so a crash never leaves a stale lock; a second window or process gets
  :class:`ProjectLockedError`. ``read_only=True`` opens without the lock and never writes.
* **Older files are upgraded after a backup.** The schema version lives in ``meta``; opening an
  older project first copies it to ``<name>.gemtune.bak-v<old>-<date>`` and then runs the steps in
  :data:`schema.MIGRATIONS` in one transaction.

``conn`` is used on the thread that opened the store (the GUI thread); write through
``with store.transaction():`` (``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on an exception;
nested blocks become savepoints).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from gemtune_desktop.core.errors import ProjectLockedError, UserError
from gemtune_desktop.core.project import schema

PROJECT_SUFFIX = ".gemtune"
APP_ID_VALUE = "gemtune-desktop"

MigrationStep = str | Callable[[sqlite3.Connection], None]
FLUSH_DELAY_S = 0.25


class _WalFlusher:
    """Flushes the write-ahead log to the disk shortly after each commit, off the GUI thread.

    With ``synchronous=NORMAL`` SQLite syncs the log only at checkpoints; ``fsync`` on the log
    file from this thread makes each commit durable within ``FLUSH_DELAY_S`` (batched, so a
    burst of edits costs one flush).
    """

    def __init__(self, db_path: Path) -> None:
        self._wal = db_path.with_name(db_path.name + "-wal")
        self._event = threading.Event()
        self._stop = False
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="project-flush", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        self._idle.clear()
        self._event.set()

    def _run(self) -> None:
        while True:
            self._event.wait()
            if self._stop:
                self._flush()
                self._idle.set()
                return
            time.sleep(FLUSH_DELAY_S)
            self._event.clear()
            if self._stop:  # stop() came during the delay; its wake-up was just cleared (issue 7: 5 s hang)
                self._flush()
                self._idle.set()
                return
            self._flush()
            if not self._event.is_set():
                self._idle.set()

    def _flush(self) -> None:
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

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every commit so far is on the disk (tests, shutdown)."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        self._stop = True
        self._event.set()
        self._thread.join(timeout=5.0)


class ProjectOpenError(UserError):
    """The file is missing, not a project, or from a newer version of the app."""


def lock_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


class _FileLock:
    """An exclusive OS lock on ``<project>.lock``, released by the OS if the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    def acquire(self) -> bool:
        for _ in range(5):  # retry when the lock file was replaced under us (see below)
            fh = open(self.path, "a+b")  # noqa: SIM115 - kept open while locked
            if not _try_lock(fh):
                fh.close()
                return False
            # A previous owner may have deleted the file between our open and our lock; then we
            # hold a lock on an orphan inode. Check that the path still names the file we locked.
            try:
                same = os.path.samestat(os.fstat(fh.fileno()), os.stat(self.path))
            except OSError:
                same = False
            if same:
                try:
                    fh.seek(0)
                    fh.truncate()
                    fh.write(f"{os.getpid()}\n".encode())
                    fh.flush()
                except OSError:
                    pass
                self._fh = fh
                return True
            _unlock(fh)
            fh.close()
        return False

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)  # unlink while still locked, so nobody locks an orphan
        _unlock(fh)
        fh.close()


if sys.platform == "win32":  # pragma: no cover - exercised on Windows builds
    import msvcrt

    def _try_lock(fh: IO[bytes]) -> bool:
        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fh: IO[bytes]) -> None:
        with contextlib.suppress(OSError):
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fh: IO[bytes]) -> bool:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(fh: IO[bytes]) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    if read_only:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=5.0)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=5.0)
    return conn


def _configure(conn: sqlite3.Connection, read_only: bool) -> None:
    if not read_only:
        conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL: commits do not wait for the disk; _WalFlusher syncs the log right after them.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")


def _stamp() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


class ProjectStore:
    """One open project file. Build with :meth:`create` or :meth:`open`.

    Attributes:
        path: the ``.gemtune`` file.
        conn: the SQLite connection (autocommit mode; write inside :meth:`transaction`).
        read_only: opened without the lock; writes raise.
        backup_path: the backup written before a migration during this open, if any.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, lock: _FileLock | None, read_only: bool) -> None:
        self.path = path
        self.conn = conn
        self.read_only = read_only
        self.backup_path: Path | None = None
        self._lock = lock
        self._depth = 0
        self._closed = False
        self._flusher = None if read_only else _WalFlusher(path)

    # -- opening ----------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike[str], *, overwrite: bool = False) -> ProjectStore:
        """Create a new empty project at ``path`` (refuses an existing file unless ``overwrite``)."""
        p = Path(path)
        if p.exists() and not overwrite:
            raise ProjectOpenError(f"“{p.name}” already exists.", "Choose another name or open the existing project.")
        p.parent.mkdir(parents=True, exist_ok=True)
        lock = cls._lock_or_raise(p)
        try:
            if p.exists():
                for extra in (p, p.with_name(p.name + "-wal"), p.with_name(p.name + "-shm")):
                    with contextlib.suppress(FileNotFoundError):
                        extra.unlink()
            conn = _connect(p, read_only=False)
            _configure(conn, read_only=False)
            store = cls(p, conn, lock, read_only=False)
            with store.transaction():
                _run_script(conn, schema.SCHEMA_SQL)
                _set_meta(conn, "schema_version", str(schema.SCHEMA_VERSION))
                _set_meta(conn, "app", APP_ID_VALUE)
                _set_meta(conn, "created_at", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
            return store
        except BaseException:
            lock.release()
            raise

    @classmethod
    def open(cls, path: str | os.PathLike[str], read_only: bool = False) -> ProjectStore:
        """Open an existing project; migrate it (after a backup) when it is from an older version."""
        p = Path(path)
        if not p.is_file():
            raise ProjectOpenError(f"The project “{p.name}” was not found.", f"Looked for {p}.")
        lock = None if read_only else cls._lock_or_raise(p)
        conn: sqlite3.Connection | None = None
        try:
            conn = _connect(p, read_only)
            try:
                _configure(conn, read_only)
                version = _read_version(conn)
            except sqlite3.DatabaseError as exc:
                raise ProjectOpenError(f"“{p.name}” is not a GemTune project file.",
                                       "Open a .gemtune file, or use Import Dataset for spreadsheets and JSONL.",
                                       detail=str(exc)) from exc
            if version is None:
                raise ProjectOpenError(f"“{p.name}” is not a GemTune project file.",
                                       "Open a .gemtune file, or use Import Dataset for spreadsheets and JSONL.")
            if version > schema.SCHEMA_VERSION:
                raise ProjectOpenError(f"“{p.name}” was saved by a newer version of GemTune Desktop.",
                                       "Update the app to open it; the file was not changed.")
            store = cls(p, conn, lock, read_only)
            if version < schema.SCHEMA_VERSION:
                if read_only:
                    raise ProjectOpenError(f"“{p.name}” is from an older version of GemTune Desktop.",
                                           "Open it in the app once to upgrade it.")
                store._migrate(version)
            return store
        except BaseException:
            if conn is not None:
                conn.close()
            if lock is not None:
                lock.release()
            raise

    @staticmethod
    def _lock_or_raise(path: Path) -> _FileLock:
        lock = _FileLock(lock_path_for(path))
        try:
            ok = lock.acquire()
        except OSError as exc:
            raise ProjectOpenError(f"Cannot open “{path.name}” for editing.",
                                   "Check that the folder is writable.", detail=str(exc)) from exc
        if not ok:
            raise ProjectLockedError(f"The project “{path.name}” is already open in another window.",
                                     "Close it in the other window, then open it here.", detail=str(path))
        return lock

    def _migrate(self, version: int, migrations: dict[int, MigrationStep] | None = None,
                 target: int | None = None) -> None:
        steps = schema.MIGRATIONS if migrations is None else migrations
        target = schema.SCHEMA_VERSION if target is None else target
        backup = self.path.with_name(f"{self.path.name}.bak-v{version}-{_stamp()}")
        n = 1
        while backup.exists():
            n += 1
            backup = self.path.with_name(f"{self.path.name}.bak-v{version}-{_stamp()}-{n}")
        self.backup_to(backup)
        self.backup_path = backup
        with self.transaction():
            for v in range(version, target):
                step = steps.get(v)
                if step is None:
                    raise ProjectOpenError(f"“{self.path.name}” uses an old file layout this version cannot upgrade.",
                                           f"Your original is kept as {backup.name}.")
                if callable(step):
                    step(self.conn)
                else:
                    _run_script(self.conn, step)
            _run_script(self.conn, schema.SCHEMA_SQL)  # tables added since (IF NOT EXISTS)
            _set_meta(self.conn, "schema_version", str(target))

    # -- use --------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def schema_version(self) -> int:
        return _read_version(self.conn) or 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error); nested blocks are savepoints."""
        if self.read_only:
            raise UserError("This project is open read-only.", "Open it for editing to change it.")
        conn = self.conn
        if self._depth == 0:
            conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield conn
            except BaseException:
                self._depth = 0
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self._depth = 0
            conn.execute("COMMIT")
            if self._flusher is not None:
                self._flusher.poke()
        else:
            name = f"sp{self._depth}"
            conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield conn
            except BaseException:
                self._depth -= 1
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            self._depth -= 1
            conn.execute(f"RELEASE {name}")

    def get_meta(self, key: str, default: str = "") -> str:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            _set_meta(self.conn, key, value)

    def backup_to(self, dest: str | os.PathLike[str]) -> Path:
        """Write a consistent copy of the whole project to ``dest`` (SQLite backup API; for Save As)."""
        d = Path(dest)
        if d.resolve() == self.path.resolve():
            raise UserError("Choose a different file name for the copy.")
        tmp = d.with_name(d.name + ".part")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        target = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            self.conn.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, d)
        return d

    def integrity_ok(self) -> bool:
        row = self.conn.execute("PRAGMA integrity_check").fetchone()
        return bool(row) and row[0] == "ok"

    def close(self) -> None:
        """Fold the write-ahead log into the file (so it can be copied alone) and release the lock."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._flusher is not None:
                self._flusher.stop()
            if not self.read_only:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.conn.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the current transaction (``executescript`` would commit)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            stmt = buf.strip()
            if stmt:
                conn.execute(stmt)
            buf = ""
    if buf.strip() and not buf.strip().startswith("--"):
        conn.execute(buf)


def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 (key, value))


def _read_version(conn: sqlite3.Connection) -> int | None:
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    if not has_meta:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return None
    try:
        return int(row[0])
    except (TypeError, ValueError):
        return None

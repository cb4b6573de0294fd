"""The SQLite side of a project file: connecting, reading the version without writing, configuring,
upgrading after a backup, and consistent copies (Qt-free; used by ``store.py`` and ``save_as.py``)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from gemtune_desktop.core.project import schema
from gemtune_desktop.core.project.opening import (
    NOT_A_PROJECT_HINT,
    ProjectOpenError,
    shm_path_for,
    wal_path_for,
)

APP_ID_VALUE = "gemtune-desktop"
BUSY_TIMEOUT_MS = 2000  # another program holding the file's write lock: give up (and say so) after this
OPEN_ERRORS = (sqlite3.Error, UnicodeError, ValueError, OverflowError, MemoryError)

MigrationStep = str | Callable[[sqlite3.Connection], None]


def connect(real: Path, read_only: bool) -> sqlite3.Connection:
    if not read_only:
        return sqlite3.connect(str(real), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    uri = real.as_uri()
    try:
        conn = sqlite3.connect(uri + "?mode=ro", uri=True, isolation_level=None, timeout=5.0)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return conn
    except sqlite3.OperationalError:
        # A WAL-mode file in a folder that cannot be written: SQLite cannot create the -shm beside it.
        # With no log to replay, the file alone is the whole project and may be read as it is.
        if os.path.exists(wal_path_for(real)) and os.path.getsize(wal_path_for(real)) > 32:
            raise
        return sqlite3.connect(uri + "?immutable=1", uri=True, isolation_level=None)


def probe(conn: sqlite3.Connection, name: str) -> int:
    """The project's schema version, reading only; ProjectOpenError for anything that is not our project."""
    try:
        has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        if not has_meta:
            raise ProjectOpenError(f"“{name}” is not a GemTune project file.", NOT_A_PROJECT_HINT)
        rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('schema_version', 'app')").fetchall())
        version = int(rows["schema_version"]) if "schema_version" in rows else None
        app = rows.get("app")
    except ProjectOpenError:
        raise
    except (KeyError, TypeError, *OPEN_ERRORS) as exc:
        raise damaged(name, exc) from None
    if version is None or (app is not None and app != APP_ID_VALUE):
        raise ProjectOpenError(f"“{name}” is not a GemTune project file.", NOT_A_PROJECT_HINT)
    if version > schema.SCHEMA_VERSION:
        raise ProjectOpenError(f"“{name}” was saved by a newer version of GemTune Desktop.",
                               "Update the app to open it; the file was not changed.")
    return version


def damaged(name: str, exc: BaseException) -> ProjectOpenError:
    return ProjectOpenError(f"“{name}” is damaged and cannot be opened.",
                            "Restore it from a backup copy (a .bak file beside it, if there is one). The file was "
                            "not changed.", detail=f"{type(exc).__name__}: {exc!r}"[:500])


def configure(conn: sqlite3.Connection, read_only: bool) -> None:
    if not read_only:
        conn.execute("PRAGMA journal_mode=WAL").fetchall()
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the Checkpointer thread does it, off the GUI thread
    # NORMAL: commits do not wait for the disk; the Checkpointer syncs the log right after them.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _stamp() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def migrate(conn: sqlite3.Connection, path: Path, version: int,
             migrations: dict[int, MigrationStep] | None = None, target: int | None = None) -> Path:
    """Upgrade a version-``version`` file in one transaction, after a backup; returns the backup.

    Runs before the file is switched to WAL mode, so a failed upgrade leaves the file exactly as it was;
    the backup is then removed again (a copy per failed attempt would pile up).
    """
    steps = schema.MIGRATIONS if migrations is None else migrations
    target = schema.SCHEMA_VERSION if target is None else target
    target_path = path.with_name(f"{path.name}.bak-v{version}-{_stamp()}")
    n = 1
    while target_path.exists():
        n += 1
        target_path = path.with_name(f"{path.name}.bak-v{version}-{_stamp()}-{n}")
    backup(conn, target_path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for v in range(version, target):
                step = steps.get(v)
                if step is None:
                    raise ProjectOpenError(f"“{path.name}” uses an old file layout this version cannot upgrade.",
                                           "The file was not changed.")
                if callable(step):
                    step(conn)
                else:
                    run_script(conn, step)
            run_script(conn, schema.SCHEMA_SQL)  # tables added since (IF NOT EXISTS)
            set_meta(conn, "schema_version", str(target))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
    except ProjectOpenError:
        remove_quietly(target_path)
        raise
    except sqlite3.Error as exc:
        remove_quietly(target_path)
        raise ProjectOpenError(f"“{path.name}” could not be upgraded to this version of GemTune Desktop.",
                               "The file was not changed. Report the problem (Help → About shows the log folder).",
                               detail=str(exc)) from exc
    except BaseException:
        remove_quietly(target_path)
        raise
    return target_path


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def backup(conn: sqlite3.Connection, dest: Path) -> Path:
    """A consistent copy of the database behind ``conn`` at ``dest`` (written aside, then renamed over)."""
    tmp = dest.with_name(dest.name + ".part")
    remove_quietly(tmp)
    try:
        target = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            conn.backup(target)
            target.execute("PRAGMA journal_mode=DELETE").fetchall()
        finally:
            target.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        for stale in (wal_path_for(dest), shm_path_for(dest)):  # another file's logs must not meet the copy
            remove_quietly(stale)
        os.replace(tmp, dest)
    except BaseException:
        remove_quietly(tmp)
        raise
    sync_dir(dest.parent)
    return dest


def sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # makes a rename durable (not possible on Windows)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def run_script(conn: sqlite3.Connection, script: str) -> None:
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


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 (key, value))

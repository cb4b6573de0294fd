"""Looking at a file before SQLite touches it: is it a project, can it be written, is its ``-wal`` its own? (Qt-free.)

Opening a file with SQLite can change it: SQLite turns any file (a 0-byte one included) into a database on the
first write, replays a ``-wal`` it finds beside the file, and ``PRAGMA journal_mode=WAL`` rewrites the header
of another program's database. So every check that can refuse a file runs first, on the bytes, and a refused
open leaves the file and its folder as they were:

* :func:`resolve` follows symlinks (a loop is a plain message) and refuses folders, missing and empty files;
* :func:`check_header` refuses anything that is not an SQLite database;
* :func:`check_wal_is_ours` refuses a ``-wal`` that this project's last owner did not write (left by another
  project, or copied in): replaying it would mix another database's pages into this one;
* :func:`writable` tells whether the file and its folder can be written (otherwise the project opens read-only).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.project.identity import identity_of
from gemtune_desktop.core.project.locking import lock_is_held, lock_path_for, wal_record

SQLITE_MAGIC = b"SQLite format 3\x00"
WAL_HEADER = 32
WAL_MAGIC = (0x377F0682, 0x377F0683)

NOT_A_PROJECT_HINT = "Open a .gemtune file, or use Import Dataset for spreadsheets and JSONL."


class ProjectOpenError(UserError):
    """The file is missing, not a project, damaged, or from a newer version of the app. The file was not changed."""


def wal_path_for(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def shm_path_for(path: Path) -> Path:
    return path.with_name(path.name + "-shm")


def resolve(path: Path) -> Path:
    """The real file behind ``path`` (symlinks followed), or ProjectOpenError saying why there is none."""
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise ProjectOpenError(f"The project “{path.name}” was not found.", f"Looked for {path}.") from None
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        raise _loop(path) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _loop(path) from None
        raise ProjectOpenError(f"“{path.name}” cannot be opened: {exc.strerror or exc}.",
                               "Check that the file is there and that you may read it.", detail=str(exc)) from None
    try:
        st = os.stat(real)
    except OSError as exc:
        raise ProjectOpenError(f"“{path.name}” cannot be opened: {exc.strerror or exc}.",
                               "Check that the file is there and that you may read it.", detail=str(exc)) from None
    if real.is_dir():
        raise ProjectOpenError(f"“{path.name}” is a folder, not a project file.", "Choose a .gemtune file.")
    if st.st_size == 0:
        raise ProjectOpenError(f"“{path.name}” is empty, so it is not a GemTune project.",
                               "Open another .gemtune file, or create a new project. The empty file was left as it "
                               "was.")
    return real


def _loop(path: Path) -> ProjectOpenError:
    return ProjectOpenError(f"“{path.name}” is a link that leads back to itself, so there is no file to open.",
                            "Delete the link, or point it at the project file.", detail=str(path))


def check_header(real: Path, name: str) -> None:
    """Refuse a file that is not an SQLite database, from its first bytes."""
    try:
        with open(real, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise ProjectOpenError(f"“{name}” cannot be read: {exc.strerror or exc}.",
                               "Check that you are allowed to read it.", detail=str(exc)) from None
    if not head.startswith(SQLITE_MAGIC):
        raise ProjectOpenError(f"“{name}” is not a GemTune project file.", NOT_A_PROJECT_HINT)
    if len(head) < 100:
        raise ProjectOpenError(f"“{name}” is damaged: it ends inside its header.",
                               "Restore it from a backup copy (a .bak file beside it, if there is one).")


def wal_header(wal: Path) -> bytes:
    """The first 32 bytes of a ``-wal`` file (empty when there is none or it holds no header)."""
    try:
        with open(wal, "rb") as f:
            head = f.read(WAL_HEADER)
    except OSError:
        return b""
    return head if len(head) == WAL_HEADER else b""


def wal_salts(head: bytes) -> bytes:
    """The two salt words of a WAL header (bytes 16–23): random per log, copied into every frame."""
    return head[16:24] if len(head) == WAL_HEADER else b""


def check_wal_is_ours(real: Path, name: str, previous_record: str | None) -> None:
    """Refuse to open ``real`` when the ``-wal`` beside it holds frames its last owner did not write.

    ``previous_record`` is what the lock file beside the project said before this process locked it
    (None: not locked by us — a read-only open; the check then runs only when nobody holds the lock).
    """
    wal = wal_path_for(real)
    try:
        size = os.stat(wal).st_size
    except OSError:
        return
    if size <= WAL_HEADER:
        return  # no frames: nothing would be replayed
    head = wal_header(wal)
    if not head or int.from_bytes(head[:4], "big") not in WAL_MAGIC:
        return  # SQLite ignores a log without a valid header
    if previous_record is None:
        if lock_is_held(real):
            return  # another window is writing it: the log is that window's
        try:
            previous_record = lock_path_for(real).read_text("utf-8", errors="replace")
        except OSError:
            previous_record = ""
    recorded_wal, recorded_salts, ours = wal_record(previous_record)
    if recorded_wal is not None and recorded_wal == identity_of(wal):
        return  # the log the last owner created (a crash left it): SQLite replays it
    if recorded_salts and recorded_salts == wal_salts(head):
        return  # the same log, copied together with its project
    if ours and recorded_wal is None and not recorded_salts:
        return  # left by an older version of the app, which did not note its log
    raise ProjectOpenError(
        f"“{name}” was not opened: beside it is a change log (“{wal.name}”) that was not written for this file, "
        f"perhaps left there by another project. Opening it could mix another project's data into this one.",
        f"Move “{wal.name}” out of the folder, then open the project again. “{name}” itself was not changed.",
        detail=str(wal))


def writable(real: Path) -> str:
    """"" when the project can be edited; otherwise why not: "file" (read-only file) or "folder"."""
    if not os.access(real, os.W_OK):
        return "file"
    if not os.access(real.parent, os.W_OK | os.X_OK):
        return "folder"
    return ""

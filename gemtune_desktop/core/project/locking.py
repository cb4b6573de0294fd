"""One editor per project file, however it is reached: the OS locks that keep a second window out (Qt-free).

A project is locked twice, and both locks are OS locks (``flock`` / ``msvcrt.locking``) that the OS drops
when the owning process dies, so a crash never leaves a stale lock:

* ``<resolved path>.lock`` beside the file, after following symlinks: two names for the file through a
  symlink meet at the same lock, and so do two computers on a shared folder;
* ``<app data>/locks/<device>-<inode>.lock``: a hard link is a second name with no common path, but the
  same device and inode, so two windows that reach one file through two hard links meet here.

The lock beside the file also records who wrote the ``-wal`` beside the project (see :func:`wal_record`):
the identity of the write-ahead log the owner created, so that after a crash the next open can tell its
own log (replayed by SQLite) from one another project left there (refused, see ``opening.py``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gemtune_desktop.core.errors import ProjectLockedError, UserError
from gemtune_desktop.core.project.identity import FileIdentity


def lock_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def identity_lock_dir() -> Path:
    from gemtune_desktop import paths

    return paths.data_dir() / "locks"


class FileLock:
    """An exclusive OS lock on one small file, released by the OS if the process dies.

    ``previous`` holds what the file said before this process took it (the last owner's record).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.previous = ""
        self._fh: IO[bytes] | None = None
        self._write_lock = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> bool:
        for _ in range(5):  # retry when the lock file was replaced under us (see below)
            # Read-write without O_APPEND, so the record can be rewritten in place (see write()).
            fh = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644), "r+b")
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
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    fh.seek(0)
                    self.previous = fh.read(4096).decode("utf-8")
                self._fh = fh
                self.write(f"{os.getpid()}\n")
                return True
            _unlock(fh)
            fh.close()
        return False

    def write(self, text: str, sync: bool = False) -> None:
        """Replace the lock file's text (the owner's record); errors are ignored (the lock still holds)."""
        fh = self._fh
        if fh is None:
            return
        data = text.encode("utf-8")
        # Overwrite from the start, then cut the tail: a kill between the two leaves the new record
        # followed by old bytes (ignored when read), never an empty file.
        with self._write_lock, contextlib.suppress(OSError, ValueError):
            fh.seek(0)
            fh.write(data)
            fh.flush()
            fh.truncate()
            if sync:
                os.fsync(fh.fileno())

    def sync(self) -> None:
        """Make the record durable (after a power cut, too)."""
        fh = self._fh
        if fh is not None:
            with self._write_lock, contextlib.suppress(OSError, ValueError):
                os.fsync(fh.fileno())

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


def lock_is_held(path: Path) -> bool:
    """True when another process (or another window of this one) holds the project's lock beside it."""
    lock_file = lock_path_for(path)
    try:
        if not lock_file.exists():
            return False
        fh = open(lock_file, "rb")  # noqa: SIM115
    except OSError:
        return False
    try:
        if _try_lock(fh):
            _unlock(fh)
            return False
        return True
    finally:
        fh.close()


class ProjectLock:
    """The two locks of one open project file (beside it, and by its identity)."""

    def __init__(self, beside: FileLock, by_identity: FileLock | None) -> None:
        self.beside = beside
        self.by_identity = by_identity

    @property
    def previous_record(self) -> str:
        return self.beside.previous

    def record_wal(self, wal: FileIdentity | None, salts: bytes = b"", sync: bool = False) -> None:
        """Note which ``-wal`` file this process writes (and its current salts) in the lock beside the project."""
        lines = [str(os.getpid())]
        if wal is not None:
            lines.append(f"wal {wal.dev}:{wal.ino}")
        if salts:
            lines.append(f"salt {salts.hex()}")
        self.beside.write("\n".join(lines) + "\n", sync)

    def release(self, keep_beside: bool = False) -> None:
        if self.by_identity is not None:
            self.by_identity.release()
        if not keep_beside:
            self.beside.release()


def wal_record(text: str) -> tuple[FileIdentity | None, bytes, bool]:
    """(the ``-wal`` identity, its salts, whether the record is from this app at all) from a lock file's text."""
    wal: FileIdentity | None = None
    salts = b""
    ours = False
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key.isdigit() and not value:
            ours = True
        elif key == "wal":
            dev, _, ino = value.partition(":")
            with contextlib.suppress(ValueError):
                wal = FileIdentity(int(dev), int(ino))
        elif key == "salt":
            with contextlib.suppress(ValueError):
                salts = bytes.fromhex(value)
    return wal, salts, ours


def acquire(path: Path, identity: FileIdentity | None, name: str = "") -> ProjectLock:
    """Lock ``path`` (already resolved) for editing, or raise :class:`ProjectLockedError`.

    ``identity`` is the file's identity when it exists (a new file has none yet; it is locked by path only
    until it exists — a file being created has no other names). ``name`` is the name the user opened it by.
    """
    beside = FileLock(lock_path_for(path))
    try:
        ok = beside.acquire()
    except OSError as exc:
        raise UserError(f"Cannot open “{path.name}” for editing.", "Check that the folder is writable.",
                        detail=str(exc)) from exc
    if not ok:
        raise locked_error(path, name)
    by_identity = None
    if identity is not None:
        by_identity, held = _identity_lock(identity)
        if held:
            beside.release()
            raise locked_error(path, name)
    return ProjectLock(beside, by_identity)


def _identity_lock(identity: FileIdentity) -> tuple[FileLock | None, bool]:
    """(the lock named after the file's identity, or None when its folder cannot be used; whether another
    window holds it)."""
    try:
        folder = identity_lock_dir()
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(folder / f"{identity.dev}-{identity.ino}.lock")
        return (lock, False) if lock.acquire() else (None, True)
    except OSError:
        return None, False  # the lock beside the file still keeps out every other name but hard links


def add_identity_lock(lock: ProjectLock, identity: FileIdentity) -> None:
    """Lock a file created under ``lock`` by its new identity too (raises when another window holds it)."""
    if lock.by_identity is not None:
        return
    got, held = _identity_lock(identity)
    if held:
        raise locked_error(lock.beside.path.with_name(lock.beside.path.name.removesuffix(".lock")))
    lock.by_identity = got


def locked_error(path: Path, name: str = "") -> ProjectLockedError:
    shown = f"“{name}” (the file “{path.name}”)" if name and name != path.name else f"“{path.name}”"
    return ProjectLockedError(f"The project {shown} is already open in another window.",
                              "Close it in the other window, then open it here.", detail=str(path))


@contextlib.contextmanager
def released_on_error(lock: ProjectLock) -> Iterator[ProjectLock]:
    try:
        yield lock
    except BaseException:
        lock.release()
        raise

"""Real ways for a project file to fail under the app, shared by the reliability and undo tests.

* :class:`ForeignWriteLock`: another program (a separate process, e.g. a database browser) holding the
  SQLite write lock on the project, so every write of the app fails with "database is locked";
* :func:`small_disk`: a small tmpfs mounted for the test (needs root; skipped with the reason otherwise),
  and :func:`fill_disk` to make it full, so SQLite gets ENOSPC;
* :func:`read_only`: a file or folder the app cannot write (``chmod``; as root, whose writes ignore the
  mode, the immutable attribute with ``chattr +i``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

LOCKER = textwrap.dedent("""
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")  # the write lock, held until this process is told to stop
    print("LOCKED", flush=True)
    sys.stdin.readline()
    conn.execute("ROLLBACK")
    conn.close()
""")


class ForeignWriteLock:
    """Another process holding the write lock of ``path`` until :meth:`release` (or the ``with`` block ends)."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "LOCKED", line + (self.proc.stderr.read() if self.proc.stderr else "")

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)

    def __enter__(self) -> ForeignWriteLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def small_disk(parent: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted under ``parent`` for the duration; skips the test where mount is refused."""
    if not sys.platform.startswith("linux"):
        pytest.skip("a small tmpfs needs Linux")
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (to fill the disk for real) needs root; this run is not root")
    mnt = parent / f"disk-{uuid.uuid4().hex[:8]}"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"this machine does not allow mounting a tmpfs: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill_disk(folder: Path) -> Path:
    """Fill the file system holding ``folder`` to the last byte; returns the filler (delete it to free)."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as f:
        block = b"\0" * 65536
        with contextlib.suppress(OSError):
            while True:
                f.write(block)
        with contextlib.suppress(OSError):
            while True:  # the last few bytes
                f.write(b"\0")
    assert shutil.disk_usage(folder).free < 65536
    return filler


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` (a file or folder) unwritable for this process for the duration, or skip."""
    mode = path.stat().st_mode
    os.chmod(path, mode & ~0o222)
    immutable = False
    try:
        if os.access(path, os.W_OK):  # root ignores the mode bits; the immutable attribute stops root too
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True) \
                if shutil.which("chattr") else None
            if done is None or done.returncode != 0 or os.access(path, os.W_OK):
                pytest.skip("cannot make a file read-only for this user (root without chattr +i)")
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        os.chmod(path, mode)

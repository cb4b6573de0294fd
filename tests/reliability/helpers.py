"""Real ways for a project file to fail under the app, shared by the reliability and undo tests.

* :class:`ForeignWriteLock`: another program (a separate process, e.g. a database browser) holding the
  SQLite write lock on the project, so every write of the app fails with "database is locked";
* :func:`small_disk`: a small tmpfs mounted for the test (needs root; skipped with the reason otherwise),
  and :func:`fill_disk` to make it full, so SQLite gets ENOSPC;
* :func:`read_only`: a file or folder the app cannot write (``chmod``; as root, whose writes ignore the
  mode, the immutable attribute with ``chattr +i``);
* :func:`write_minimal_xlsx`: a workbook written streaming, for sheets too large or too hostile to build
  with openpyxl;
* :func:`in_background`: a call on its own thread, its value or exception handed back to the test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

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
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

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


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
        'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
}
_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def write_minimal_xlsx(path: Path, rows: Iterable[bytes], *, shared: Sequence[bytes | tuple[bytes, int]] = (),
                       header: bytes = b"", dimension: str = "", compresslevel: int = 6) -> None:
    """A minimal workbook, written streaming: ``rows`` are ``<row>`` XML chunks of the one sheet, ``shared``
    the shared strings (``(chunk, n)`` repeats a chunk n times, so a gigabyte string costs no memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        for name, text in _XLSX_PARTS.items():
            z.writestr(name, text)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst ' + _NS + b">")
            for s in shared:
                f.write(b"<si><t>")
                if isinstance(s, tuple):
                    for _ in range(s[1]):
                        f.write(s[0])
                else:
                    f.write(s)
                f.write(b"</t></si>")
            f.write(b"</sst>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet ' + _NS + b">")
            if dimension:
                f.write(f'<dimension ref="{dimension}"/>'.encode())
            f.write(b"<sheetData>" + header)
            for chunk in rows:
                f.write(chunk)
            f.write(b"</sheetData></worksheet>")


def in_background(call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Start ``call`` on a daemon thread; once it ends, ``box["value"]`` holds its value or the exception it
    raised (handed back to the test)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed back to the test
            box["value"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box

"""Is the project path still the file the app has open? (Qt-free.)

Cloud sync clients, a copy in the file manager or a Save As from another program can delete, replace or
overwrite a ``.gemtune`` file while the app has it open. SQLite keeps working on the file it opened (an
unlinked inode, or pages another program has since overwritten), so without a check every later edit
would go to a file nobody will ever see again, and the app would still say "saved".

:class:`FileWatch` remembers the identity of the opened file — its device and inode (``st_dev``/``st_ino``;
on Windows Python fills them with the volume serial number and the file index) — and the size and
modification time the app itself last gave it. :meth:`FileWatch.problem` compares them with what the path
names now:

* nothing there (deleted, moved or renamed away) → :attr:`FileProblem.DELETED`;
* another file there (replaced: a sync client's rename, ``mv``, a Save As from another program) →
  :attr:`FileProblem.REPLACED`;
* the same file, but resized or rewritten by someone else (``cp`` over it) → :attr:`FileProblem.CHANGED`;
* the folder or drive cannot be reached → :attr:`FileProblem.UNREACHABLE`.

Only the app's own checkpoints write the main file (commits go to the ``-wal`` beside it), so a size or
modification time that differs from the one noted after the last checkpoint means another program wrote it.
A checkpoint that is running while the check looks is announced through :meth:`FileWatch.writing`, and the
size/time comparison is skipped for that look.
"""

from __future__ import annotations

import contextlib
import enum
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gemtune_desktop.core.errors import UserError


class FileProblem(enum.StrEnum):
    DELETED = "deleted"
    REPLACED = "replaced"
    CHANGED = "changed"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class FileIdentity:
    dev: int
    ino: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_dev, st.st_ino)


def identity_of(path: Path) -> FileIdentity | None:
    """The identity of the file at ``path`` (symlinks followed), or None when there is none."""
    try:
        return FileIdentity.of(os.stat(path))
    except OSError:
        return None


class ProjectFileLostError(UserError):
    """The project path no longer names the file the app has open; nothing more is written to it."""

    def __init__(self, name: str, problem: FileProblem) -> None:
        message, hint = lost_text(name, problem)
        super().__init__(message, hint)
        self.problem = problem


_LOST = {
    FileProblem.DELETED: "“{name}” was deleted, moved or renamed by another program.",
    FileProblem.REPLACED: "“{name}” was replaced by another file (for example by a sync service, a copy, or a save "
                          "from another program).",
    FileProblem.CHANGED: "“{name}” was overwritten by another program.",
    FileProblem.UNREACHABLE: "“{name}” can no longer be reached (its folder or drive is not available).",
}
LOST_HINT = ("Your work is still open here and nothing you typed is lost: use Save Project As… to keep it in a "
             "new file. Until then nothing is saved.")


def lost_text(name: str, problem: FileProblem) -> tuple[str, str]:
    """(message, hint) telling the user the file is gone and what to do."""
    return "Not saved: " + _LOST[problem].format(name=name), LOST_HINT


class FileWatch:
    """The identity and last own-write signature of one open project file."""

    def __init__(self, path: Path, st: os.stat_result) -> None:
        self.path = path
        self.identity = FileIdentity.of(st)
        self._signature = (st.st_size, st.st_mtime_ns)
        self._generation = 0  # odd while the app itself is writing the file (a checkpoint)
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Wrap the app's own writes to the main file (checkpoints); the signature is noted afterwards."""
        with self._lock:
            self._generation += 1
        try:
            yield
        finally:
            with self._lock:
                with contextlib.suppress(OSError):
                    st = os.stat(self.path)
                    if FileIdentity.of(st) == self.identity:
                        self._signature = (st.st_size, st.st_mtime_ns)
                self._generation += 1

    def problem(self) -> FileProblem | None:
        """What is wrong with the path now, or None when it still names the file as the app left it."""
        generation = self._generation
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return FileProblem.DELETED
        except OSError:
            return FileProblem.UNREACHABLE
        if FileIdentity.of(st) != self.identity:
            return FileProblem.REPLACED
        if generation % 2 or generation != self._generation:
            return None  # our own checkpoint is writing the file right now
        if (st.st_size, st.st_mtime_ns) != self._signature:
            return FileProblem.CHANGED
        return None

"""Plain words for a write to the project file that failed (Qt-free).

A failed write never looks like a success: the edit is not kept, and the user is told what happened and
what to do, in one message such as "The project could not be saved: the disk is full. Your last change
was not kept." :func:`save_failure` turns whatever SQLite or the OS raised into that
:class:`SaveFailedError`; ``reason`` is a stable key the UI and the tests can use.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Literal

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.project.identity import ProjectFileLostError

Action = Literal["change", "undo", "redo", "import", "settings"]

_OUTCOME: dict[str, str] = {
    "change": "Your last change was not kept.",
    "settings": "Your last change to the dataset settings was not kept.",
    "undo": "Nothing was undone; your work is as it was.",
    "redo": "Nothing was redone; your work is as it was.",
    "import": "No examples were added.",
}

# reason → (what happened, what to do)
_REASONS: dict[str, tuple[str, str]] = {
    "disk-full": ("the disk is full", "Free some space on the disk (or save a copy on another drive with Save "
                                      "Project As…), then make the change again."),
    "read-only": ("the file or its folder is read-only", "Save a copy somewhere you can write with Save Project "
                                                         "As…, and keep working in the copy."),
    "busy": ("another program is using “{name}”", "Close the other program that has the file open (for example "
                                                  "a database browser or a backup tool), then try again."),
    "io": ("the disk reported an error while writing", "Check the disk or drive, then try again. If it keeps "
                                                       "failing, save a copy elsewhere with Save Project As…"),
    "missing-row": ("an example it changes is no longer in “{name}”", "Another program may have changed the "
                                                                      "file. Save a copy with Save Project As…, "
                                                                      "then reopen the copy."),
    "read-only-session": ("the project is open read-only", "Save a copy with Save Project As… to edit it."),
    "internal": ("an unexpected error occurred", "Try again; if it keeps happening, save a copy with Save "
                                                 "Project As… and report the problem (Help → About shows the log "
                                                 "folder)."),
}


class SaveFailedError(UserError):
    """A write to the project file failed; ``reason`` is one of the keys of ``_REASONS`` or a lost-file reason."""

    def __init__(self, message: str, hint: str, detail: str = "", reason: str = "internal") -> None:
        super().__init__(message, hint, detail)
        self.reason = reason


class RowsMissingError(UserError):
    """An update or delete found fewer rows than it was given: the file no longer matches what is shown."""


class ReadOnlyProjectError(UserError):
    """A write was attempted on a project open read-only."""


def classify(exc: BaseException) -> str:
    """The reason key for an exception raised while writing the project file."""
    if isinstance(exc, RowsMissingError):
        return "missing-row"
    if isinstance(exc, ReadOnlyProjectError):
        return "read-only-session"
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc).lower()
        if name.startswith("SQLITE_FULL") or "disk is full" in text or "database or disk is full" in text:
            return "disk-full"
        if name.startswith("SQLITE_READONLY") or "readonly database" in text or "read-only" in text:
            return "read-only"
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
            return "busy"
        if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")) or "i/o error" in text:
            return "io"
        return "internal"
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return "disk-full"
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return "read-only"
        return "io"
    return "internal"


def save_failure(exc: BaseException, name: str, action: Action = "change") -> SaveFailedError:
    """The message for a failed write of ``action`` to the project ``name`` (a file name)."""
    outcome = _OUTCOME[action]
    detail = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    if isinstance(exc, ProjectFileLostError):
        return SaveFailedError(f"{exc.message} {outcome}", exc.hint, detail, reason=f"lost-{exc.problem.value}")
    reason = classify(exc)
    what, hint = _REASONS[reason]
    what = what.format(name=name)
    if action == "import":
        message = f"The examples could not be added: {what}. {outcome}"
    else:
        message = f"The project could not be saved: {what}. {outcome}"
    return SaveFailedError(message, hint.format(name=name), detail, reason=reason)

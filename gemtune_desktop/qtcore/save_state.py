"""What the window may say about saving: a typed state and its words (Qt-free enum, used by the session).

"Saved" is claimed only when it is true: :attr:`SaveState.SAVED_IN_FILE` means the ``.gemtune`` file
alone holds every change (a copy of it holds the work). Right after an edit the change is committed —
safe from a crash — but still in the ``-wal`` beside the file for a few seconds: :attr:`SaveState.PENDING`.
The other states say why nothing is being saved.
"""

from __future__ import annotations

import enum

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.project.identity import FileProblem


class SaveState(enum.Enum):
    SAVED_IN_FILE = "saved"
    PENDING = "pending"                    # committed (survives a crash) but only in the -wal beside the file
    NOT_SAVED_FILE_LOST = "file-lost"      # the path no longer names the open file; writes stopped
    READ_ONLY = "read-only"                # opened read-only (asked for, or the file/folder is not writable)
    WRITE_FAILED = "write-failed"          # the last write failed; that change was not kept

    @property
    def saving(self) -> bool:
        """Whether edits are being written (the project can be edited)."""
        return self in (SaveState.SAVED_IN_FILE, SaveState.PENDING, SaveState.WRITE_FAILED)


# Short words for the title bar or a status label.
LABELS = {
    SaveState.SAVED_IN_FILE: "Saved",
    SaveState.PENDING: "Saving…",
    SaveState.NOT_SAVED_FILE_LOST: "Not saved: the file was replaced or deleted",
    SaveState.READ_ONLY: "Read-only: save a copy to edit",
    SaveState.WRITE_FAILED: "Not saved: the last change failed",
}

_LOST_LABELS = {
    FileProblem.DELETED: "Not saved: the file was deleted or moved",
    FileProblem.REPLACED: "Not saved: the file was replaced",
    FileProblem.CHANGED: "Not saved: the file was overwritten",
    FileProblem.UNREACHABLE: "Not saved: the file cannot be reached",
}


def label(state: SaveState, problem: FileProblem | None = None) -> str:
    """A few words for the title bar or a status label."""
    if state is SaveState.NOT_SAVED_FILE_LOST and problem is not None:
        return _LOST_LABELS[problem]
    return LABELS[state]


READ_ONLY_WHY = {
    "requested": "“{name}” is open read-only.",
    "file": "“{name}” is read-only (the file cannot be written).",
    "folder": "“{name}” is read-only (its folder cannot be written).",
}


def describe(state: SaveState, name: str, error: UserError | None = None, read_only_reason: str = "") -> str:
    """One or two sentences for a tooltip or a status line: what is true about the user's work now."""
    if state is SaveState.SAVED_IN_FILE:
        return f"Every change is saved in “{name}”."
    if state is SaveState.PENDING:
        return (f"Your changes are kept and are being written into “{name}” (a few seconds; they already survive "
                f"a crash).")
    if state is SaveState.READ_ONLY:
        why = READ_ONLY_WHY.get(read_only_reason, READ_ONLY_WHY["requested"]).format(name=name)
        return f"{why} Save a copy (Save Project As…) to edit it."
    if error is not None:
        return f"{error.message} {error.hint}".strip()
    return LABELS[state]

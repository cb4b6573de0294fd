"""Errors that carry a message meant for the person using the app.

Every layer raises :class:`UserError` (or a subclass) for problems the user can act on;
the Qt layer shows ``message`` and ``hint`` and never a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem explained in plain words.

    Args:
        message: what went wrong, in one sentence.
        hint: what to do about it.
        detail: technical detail for the diagnostics view (never secrets).
        retryable: whether trying again later may work.
    """

    def __init__(self, message: str, hint: str = "", detail: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.detail = detail
        self.retryable = retryable

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class Cancelled(Exception):
    """The user cancelled a running task."""


class DatasetReadError(UserError):
    """A file cannot be read as a dataset at all."""


class ProjectLockedError(UserError):
    """Another window or process has the project open."""

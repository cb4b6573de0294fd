"""Errors that carry a message meant for the person using the app.

Every layer raises :class:`UserError` (or a subclass) for problems the user can act on;
the Qt layer shows ``message`` and ``hint`` and never a traceback. ``kind`` says what sort of
failure it is (a timeout, an unreachable service, an unreadable answer…), so callers decide by
kind rather than by matching the English message.
"""

from __future__ import annotations

import enum


class ErrorKind(enum.Enum):
    """What sort of failure a :class:`UserError` describes."""

    GENERAL = "general"
    TIMEOUT = "timeout"  # the service did not answer within the call's deadline
    NETWORK = "network"  # the service could not be reached, or the connection dropped
    UNREADABLE = "unreadable"  # an answer arrived but could not be read (cut short, malformed, too large)
    BUSY = "busy"  # 429 and 5xx: the service is overloaded or having a problem
    REFUSED = "refused"  # the service refused the request (4xx other than 429)
    REDIRECTED = "redirected"  # the service sent the call to another host; nothing was sent there
    STOPPED = "stopped"  # the call was stopped because its connection was closed or replaced
    CANCELLED = "cancelled"  # the user cancelled


#: Kinds for which trying the same call again later may work.
TRANSIENT_KINDS = frozenset({ErrorKind.TIMEOUT, ErrorKind.NETWORK, ErrorKind.UNREADABLE, ErrorKind.BUSY})


class UserError(Exception):
    """A problem explained in plain words.

    Args:
        message: what went wrong, in one sentence.
        hint: what to do about it.
        detail: technical detail for the diagnostics view (never secrets).
        retryable: whether trying again later may work.
        kind: what sort of failure it is (see :class:`ErrorKind`).
    """

    def __init__(self, message: str, hint: str = "", detail: str = "", retryable: bool = False,
                 kind: ErrorKind = ErrorKind.GENERAL) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.detail = detail
        self.retryable = retryable
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()

    @property
    def timed_out(self) -> bool:
        return self.kind is ErrorKind.TIMEOUT


class Cancelled(Exception):
    """The user cancelled a running task."""


class DatasetReadError(UserError):
    """A file cannot be read as a dataset at all."""


class ProjectLockedError(UserError):
    """Another window or process has the project open."""

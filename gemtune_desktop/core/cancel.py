"""A cancel-and-progress handle passed to long-running Qt-free functions.

Services and importers take ``token: CancelToken | None``; they call
``token.check()`` between steps and ``token.report(done, total, text)`` for progress.
The Qt worker layer creates the token and turns reports into signals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from gemtune_desktop.core.errors import Cancelled

ProgressCallback = Callable[[int, int, str], None]


class CancelToken:
    def __init__(self, on_progress: ProgressCallback | None = None) -> None:
        self._event = threading.Event()
        self._on_progress = on_progress

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the user asked to stop."""
        if self._event.is_set():
            raise Cancelled()

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking (and raising) at once on cancel."""
        if self._event.wait(seconds):
            raise Cancelled()

    def report(self, done: int, total: int, text: str = "") -> None:
        if self._on_progress is not None:
            self._on_progress(done, total, text)


def check(token: CancelToken | None) -> None:
    if token is not None:
        token.check()


def report(token: CancelToken | None, done: int, total: int, text: str = "") -> None:
    if token is not None:
        token.report(done, total, text)

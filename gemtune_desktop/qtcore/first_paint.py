"""Notice the main window's first paint: start deferred work then, and report it to benchmarks.

The start-up path ends when the window is first painted. Work that is not needed to show
the window (importing google-genai in the background, the first reachability check)
waits for this moment so that it does not compete with the first paint for the GIL.

With ``GEMTUNE_REPORT_FIRST_PAINT=1`` the app prints ``GEMTUNE_FIRST_PAINT <unix time> <CPU
seconds used so far>`` on stdout at the first paint event, and ``GEMTUNE_READY <unix time> <CPU
seconds>`` when the shown tab has been built, the last project opened and the tab painted with
it (``benchmarks/startup.py`` reports both); with ``GEMTUNE_REPORT_FIRST_PAINT=modules`` it also
prints ``GEMTUNE_MODULES <json list>`` of the modules imported by the first paint
(``tests/test_startup_imports.py`` checks that list) and ``GEMTUNE_QT_NAMESPACE_ENUMS <n>``, how many of
the ``Qt`` namespace's enums exist by then (``tests/qtcore/test_first_paint.py`` checks it is none).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

REPORT_ENV = "GEMTUNE_REPORT_FIRST_PAINT"


class FirstPaintWatcher(QObject):
    """Calls ``callbacks`` once, just after ``window`` is painted for the first time (``report`` at that paint)."""

    def __init__(self, window: QWidget, callbacks: list[Callable[[], None]], fallback_ms: int = 3000,
                 report: Callable[[], None] | None = None) -> None:
        super().__init__(window)
        self._window = window
        self._callbacks = list(callbacks)
        self._report = report or report_first_paint
        self.painted = False
        window.installEventFilter(self)
        # A window that is never painted (started minimised) must not hold the deferred work forever.
        QTimer.singleShot(fallback_ms, self._run_callbacks)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.painted and watched is self._window and event.type() == QEvent.Type.Paint:
            self.painted = True
            self._report()
            self._window.removeEventFilter(self)
            # After this paint has been flushed to the screen.
            QTimer.singleShot(0, self._run_callbacks)
        return False

    def _run_callbacks(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()


def report_first_paint() -> None:
    """Print the first-paint time (and the loaded modules) when a benchmark or test asks."""
    mode = os.environ.get(REPORT_ENV, "")
    if not mode:
        return
    print(f"GEMTUNE_FIRST_PAINT {time.time():.6f} {time.process_time():.6f}", flush=True)
    if mode == "modules":
        import json

        print("GEMTUNE_MODULES " + json.dumps(sorted(sys.modules)), flush=True)
        print(f"GEMTUNE_QT_NAMESPACE_ENUMS {qt_namespace_enums()}", flush=True)


def qt_namespace_enums() -> int:
    """How many of ``PySide6.QtCore.Qt``'s enums exist (importing ``Qt`` creates about 90, ~15 ms)."""
    import enum

    seen: set[type] = set()
    stack: list[type] = [enum.Enum]
    while stack:
        subclasses: list[type] = type.__subclasses__(stack.pop())
        for sub in subclasses:
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    return sum(1 for cls in seen if cls.__module__ == "PySide6.QtCore" and cls.__qualname__.startswith("Qt."))


def report_ready() -> None:
    """Print the moment the shown tab was first painted with its content, when a benchmark asks."""
    if os.environ.get(REPORT_ENV, ""):
        print(f"GEMTUNE_READY {time.time():.6f} {time.process_time():.6f}", flush=True)

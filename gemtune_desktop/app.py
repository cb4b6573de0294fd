"""Composition root: builds the QApplication, the shared context and the main window.

Keeps the start-up path short: google-genai is imported on a background thread after
the first paint, pyqtgraph only when a plot is first shown.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gemtune_desktop import APP_ID, APP_NAME, ORG_NAME, __version__

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def _prewarm_imports() -> None:
    """Import the heavy SDKs in the background so the first network call is quick."""
    try:
        from gemtune_desktop.core import eval_metrics
        from gemtune_desktop.services.backend import import_sdk

        import_sdk()  # under the lock the first call to Google also takes
        eval_metrics.prewarm()  # before the collector is frozen: see eval_metrics.prewarm
    except Exception:  # the call that needs it will report a real error
        log.warning("importing the SDKs ahead of the first call failed", exc_info=True)


def create_app(argv: Sequence[str] = ()) -> QApplication:
    """The QApplication, with names, icon and style set (shared by the tests)."""
    os.environ.setdefault("QT_API", "pyside6")
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    # HiDPI: Qt 6 scales by the screen's exact factor (rounding policy PassThrough) by default.
    existing = QApplication.instance()
    # argv[0] names the window on X11 (WM_CLASS instance, which the desktop file's StartupWMClass matches):
    # "gemtune-desktop", never "__main__.py" when started with ``python -m``.
    app = existing if isinstance(existing, QApplication) else QApplication([APP_ID, *argv])
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    from gemtune_desktop.resources import resource_path

    icon = resource_path("icons", "gemtune.svg")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def build_window(ctx: AppContext | None = None, lazy_tabs: bool = False) -> MainWindow:
    """The main window over a fresh :class:`AppContext` (or the one given).

    ``lazy_tabs``: build only the first-shown tab now, the others after the first paint.
    """
    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.qtcore.settings import Settings
    from gemtune_desktop.ui.main_window import MainWindow

    if ctx is None:
        ctx = AppContext(Settings())
    return MainWindow(ctx, lazy_tabs=lazy_tabs)


def _freeze_gc() -> None:
    """Move the start-up objects out of the collector's sight.

    A full collection walks every object and pauses all threads, the GUI's included: with
    the SDKs loaded it took ~250 ms in the batch-evaluation benchmark. After ``gc.freeze()``
    the long-lived start-up objects are no longer traversed, so later collections stay short.
    """
    import gc

    gc.collect()
    gc.freeze()


class _EarlyLogBuffer(logging.Handler):
    """Holds the records logged before the first paint; the log file is opened after it.

    Opening the rotating log file imports ``logging.handlers`` (and with it pickle and
    socket), tens of milliseconds of start-up; :func:`_start_file_logging` replays these.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _buffer_early_logging() -> _EarlyLogBuffer:
    root = logging.getLogger()
    buffer = _EarlyLogBuffer()
    root.addHandler(buffer)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return buffer


def _start_file_logging(buffer: _EarlyLogBuffer) -> None:
    """Open the log file and write what was logged before it (idempotent)."""
    from gemtune_desktop.logging_setup import setup_logging

    root = logging.getLogger()
    setup_logging()
    if buffer in root.handlers:
        root.removeHandler(buffer)
        for handler in [h for h in root.handlers if getattr(h, "_gemtune", False)]:
            for record in buffer.records:
                if record.levelno >= handler.level:
                    handler.handle(record)
        buffer.records.clear()


def _end_startup_gc_pause() -> None:
    import gc

    gc.enable()


def _install_crash_handler(window: MainWindow) -> None:
    from gemtune_desktop import crash

    # Uncaught exceptions: logged, shown in a plain-words dialog with "Copy diagnostics"; the app keeps running.
    crash.install(connection_kind=lambda: window.ctx.connections.active_kind.value)


def run_gui(argv: Sequence[str]) -> int:
    import gc

    # Importing Qt and building the window allocates a few hundred thousand objects and nothing
    # that is garbage: the cycle collector would only walk them again and again (~15 ms of
    # start-up). It is switched back on right after the first paint.
    gc.disable()
    early_log = _buffer_early_logging()
    app = create_app()
    from PySide6.QtCore import QTimer

    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.qtcore.first_paint import FirstPaintWatcher, report_ready
    from gemtune_desktop.qtcore.settings import Settings

    ctx = AppContext(Settings())
    ctx.connections.hold_checks()  # the first reachability check waits for the first paint
    ctx.hold_until_painted()  # so does opening the last project
    window = build_window(ctx, lazy_tabs=True)
    prewarm = threading.Thread(target=_prewarm_imports, name="prewarm-imports", daemon=True)
    # Start-up in three steps, each waiting for the previous one's paint:
    # 1. the window with its menus, tab bar and status bar, the shown tab saying "Opening…";
    # 2. that tab built and the last project opened in it ("ready": reported to the benchmark);
    # 3. the rest: the other tabs (one per event-loop turn), the log file, the first reachability
    #    check, importing google-genai in the background, and the garbage collector back on.
    rest = [_end_startup_gc_pause, lambda: _start_file_logging(early_log), window.build_pending_tabs,
            ctx.connections.release_checks, prewarm.start, lambda: QTimer.singleShot(3000, _freeze_gc)]

    def watch_ready() -> None:
        FirstPaintWatcher(window.tabs.currentWidget(), rest, report=report_ready)

    FirstPaintWatcher(window, [lambda: _install_crash_handler(window), window.build_shown_tab, ctx.window_painted,
                               watch_ready])
    window.show()
    if argv:
        ctx.after_first_paint(lambda: window.open_path(argv[0]))
    if os.environ.get("GEMTUNE_EXIT_AFTER_SHOW"):
        # Used by the start-up benchmark and the packaged-build smoke test.
        QTimer.singleShot(int(os.environ["GEMTUNE_EXIT_AFTER_SHOW"]), app.quit)
    code = int(app.exec())
    # Quitting without closing the window (GEMTUNE_EXIT_AFTER_SHOW) still stops the workers cleanly.
    ctx.shutdown()
    _start_file_logging(early_log)  # nothing logged is lost, even if the window was never painted
    return code

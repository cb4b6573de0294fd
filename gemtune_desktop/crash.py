"""Last-resort handling of unexpected errors: log them, tell the user in plain words, keep running.

:func:`install` replaces ``sys.excepthook`` and ``threading.excepthook``. An uncaught exception
(in a slot, a paint event, a worker thread) is written to the rotating log with its traceback,
and the :class:`~gemtune_desktop.ui.dialogs.error_dialog.ErrorDialog` is shown on the GUI thread with a
plain message, "Copy diagnostics" and "Open log folder". The event loop carries on, so the
user keeps their window and their work (the project file is written on every edit anyway).

:func:`diagnostics_text` builds the text a support request needs: versions, operating system,
the active connection kind and the last lines of the log, with secrets redacted.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from gemtune_desktop import paths
from gemtune_desktop.logging_setup import log_file, redact

log = logging.getLogger(__name__)

LOG_TAIL_LINES = 200
MAX_REPORTS_PER_DIALOG = 50


@dataclass(frozen=True)
class CrashReport:
    """One uncaught exception, ready for display."""

    summary: str  # "ValueError: bad value" (redacted)
    details: str  # the formatted traceback (redacted)
    thread: str
    when: str
    user_message: str = ""  # a UserError's own message and hint, when it was one


def make_report(exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None,
                thread: str | None = None) -> CrashReport:
    from gemtune_desktop.core.errors import UserError

    summary = redact(f"{exc_type.__name__}: {exc}" if str(exc or "") else exc_type.__name__)
    details = redact("".join(traceback.format_exception(exc_type, exc, tb)))
    user_message = str(exc) if isinstance(exc, UserError) else ""
    return CrashReport(summary=summary, details=details,
                       thread=thread or threading.current_thread().name,
                       when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                       user_message=redact(user_message))


def recent_log_lines(limit: int = LOG_TAIL_LINES, path: str | Path | None = None) -> list[str]:
    """The last ``limit`` lines of the app's log, redacted (empty when there is no log yet)."""
    target = Path(path or log_file())
    if not target.is_file():
        return []
    with target.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 256_000))
        data = handle.read().decode("utf-8", errors="replace")
    lines = data.splitlines()[-limit:]
    return [redact(line) for line in lines]


def diagnostics_text(connection_kind: str = "unknown", reports: list[CrashReport] | None = None) -> str:
    """Everything a support request needs, safe to paste anywhere: no secrets, no personal files."""
    try:
        from gemtune_desktop.ui.dialogs.about_dialog import component_versions

        versions = component_versions()
    except Exception as exc:  # Qt missing or broken: still give what we can
        from gemtune_desktop import APP_NAME, __version__

        versions = [(APP_NAME, __version__), ("Python", platform.python_version()),
                    ("Qt", f"unavailable ({type(exc).__name__})")]
    names = {name for name, _ in versions}
    lines = ["GemTune Desktop diagnostics", "=" * 27]
    lines += [f"{name}: {value}" for name, value in versions]
    if "Operating system" not in names:
        lines.append(f"Operating system: {platform.platform()}")
    lines.append(f"Platform detail: {platform.platform()}")
    lines.append(f"Frozen build: {'yes' if getattr(sys, 'frozen', False) else 'no'}")
    lines.append(f"Connection: {connection_kind}")
    lines.append(f"Log folder: {paths.log_dir()}")
    for report in reports or []:
        lines += ["", f"Error at {report.when} (thread {report.thread}): {report.summary}", report.details.rstrip()]
    tail = recent_log_lines()
    lines += ["", f"Last {len(tail)} log lines", "-" * 20, *tail]
    return redact("\n".join(lines)) + "\n"


class CrashHandler:
    """Receives uncaught exceptions from any thread and shows them on the GUI thread.

    ``show`` is called on the GUI thread with each :class:`CrashReport`; by default it opens
    (or adds to) the error dialog. Installed by :func:`install`; :meth:`uninstall` restores the
    previous hooks.
    """

    def __init__(self, connection_kind: Callable[[], str] | None = None,
                 show: Callable[[CrashReport], None] | None = None) -> None:
        self.connection_kind = connection_kind or (lambda: "unknown")
        self._show = show
        self._previous_sys: Any = None
        self._previous_thread: Any = None
        self._bridge: Any = None
        self.dialog: Any = None
        self.reports: list[CrashReport] = []

    # -- hooks ----------------------------------------------------------------------------
    def install(self) -> CrashHandler:
        from PySide6.QtCore import QObject, Qt, Signal

        class _Bridge(QObject):
            report = Signal(object)

        self._bridge = _Bridge()
        self._bridge.report.connect(self._on_report, Qt.ConnectionType.QueuedConnection)
        self._previous_sys = sys.excepthook
        self._previous_thread = threading.excepthook
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook
        return self

    def uninstall(self) -> None:
        if self._previous_sys is not None:
            sys.excepthook = self._previous_sys
        if self._previous_thread is not None:
            threading.excepthook = self._previous_thread
        self._previous_sys = self._previous_thread = None

    def excepthook(self, exc_type: type[BaseException], exc: BaseException | None,
                   tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt | SystemExit) and exc is not None:
            (self._previous_sys or sys.__excepthook__)(exc_type, exc, tb)
            return
        self.handle(make_report(exc_type, exc, tb))

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "unknown"
        self.handle(make_report(args.exc_type, args.exc_value, args.exc_traceback, thread=name))

    # -- reporting ------------------------------------------------------------------------
    def handle(self, report: CrashReport) -> None:
        """Log the report and show it on the GUI thread (safe to call from any thread)."""
        log.error("Unexpected error in thread %s: %s\n%s", report.thread, report.summary, report.details)
        bridge = self._bridge
        if bridge is not None:
            try:
                bridge.report.emit(report)
                return
            except RuntimeError:  # the bridge was deleted with the application
                pass
        print(report.details, file=sys.stderr)

    def _on_report(self, report: CrashReport) -> None:
        self.reports.append(report)
        try:
            if self._show is not None:
                self._show(report)
            else:
                self._show_dialog(report)
        except Exception:  # never let the error reporter itself raise into the event loop
            log.exception("could not show the error dialog")

    def _show_dialog(self, report: CrashReport) -> None:
        from PySide6.QtWidgets import QApplication

        from gemtune_desktop.ui.dialogs.error_dialog import ErrorDialog

        if self.dialog is not None and self.dialog.isVisible():
            if len(self.dialog.reports) < MAX_REPORTS_PER_DIALOG:
                self.dialog.add_report(report)
            return
        parent = QApplication.activeWindow()
        self.dialog = ErrorDialog([report], connection_kind=self.connection_kind, parent=parent)
        self.dialog.show()


def install(connection_kind: Callable[[], str] | None = None) -> CrashHandler:
    """Install the hooks for the running app (after the QApplication exists); returns the handler."""
    return CrashHandler(connection_kind=connection_kind).install()

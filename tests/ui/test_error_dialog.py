"""Uncaught exceptions: a plain-words dialog with diagnostics; the app keeps running; no secret leaks."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QPushButton

from gemtune_desktop import __version__, crash, paths
from gemtune_desktop.logging_setup import log_file, register_secret, setup_logging
from gemtune_desktop.ui.dialogs.error_dialog import PLAIN_MESSAGE, ErrorDialog
from tests.helpers.urls import opened_urls

SECRET = "AIzaSyTotallySecretKey_0123456789abcdef"
TYPED_SECRET = "hunter2-correct-horse-battery"


class Boom(QObject):
    fire = Signal()

    @Slot()
    def explode(self) -> None:
        raise ValueError(f"bad value from a slot, key {SECRET} and {TYPED_SECRET}")


@pytest.fixture
def handler(qapp):
    h = crash.CrashHandler(connection_kind=lambda: "sandbox").install()
    yield h
    h.uninstall()
    if h.dialog is not None:
        h.dialog.close()
        h.dialog.deleteLater()


@pytest.fixture
def logging_to_file(app_home):
    setup_logging()
    yield
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, "_gemtune", False)]:
        root.removeHandler(h)
        h.close()


def _error_dialogs() -> list[ErrorDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, ErrorDialog) and w.isVisible()]


@pytest.mark.qt_no_exception_capture  # let the exception reach the installed hook, as in the running app
@pytest.mark.logs_errors  # the unexpected error is logged, then shown
def test_exception_in_a_slot_shows_plain_dialog_and_app_keeps_running(handler, qtbot, logging_to_file) -> None:
    register_secret(TYPED_SECRET)
    boom = Boom()
    boom.fire.connect(boom.explode)
    QTimer.singleShot(0, boom.fire.emit)  # raised inside a slot run by Qt's event loop
    qtbot.waitUntil(lambda: len(handler.reports) == 1)
    qtbot.waitUntil(lambda: len(_error_dialogs()) == 1)
    dialog = _error_dialogs()[0]
    assert dialog.message_label.text() == PLAIN_MESSAGE
    assert "Traceback" not in dialog.message_label.text()
    assert not dialog.details.isVisible()  # technical detail only on request
    qtbot.mouseClick(dialog.details_button, Qt.MouseButton.LeftButton)
    assert dialog.details.isVisible()
    assert "ValueError" in dialog.details.toPlainText()
    assert SECRET not in dialog.details.toPlainText() and TYPED_SECRET not in dialog.details.toPlainText()

    # The event loop keeps running: a timer still fires after the error.
    fired: list[bool] = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: fired == [True])

    # The error was logged (with its traceback) to the rotating log, redacted.
    text = Path(log_file()).read_text(encoding="utf-8")
    assert "bad value from a slot" in text and "Traceback" in text
    assert SECRET not in text and TYPED_SECRET not in text


@pytest.mark.logs_errors  # the unexpected error is logged, then shown
def test_copy_diagnostics_has_versions_connection_log_and_no_secret(handler, qtbot, logging_to_file) -> None:
    register_secret(TYPED_SECRET)
    logging.getLogger("gemtune_desktop.test").warning("user typed %s while key %s was set", TYPED_SECRET, SECRET)
    try:
        raise RuntimeError(f"failure with {TYPED_SECRET}")
    except RuntimeError as exc:
        handler.excepthook(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(lambda: len(_error_dialogs()) == 1)
    dialog = _error_dialogs()[0]
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    text = QGuiApplication.clipboard().text()
    assert f"GemTune Desktop: {__version__}" in text
    for name in ("Python:", "Qt:", "PySide6:", "google-genai:", "Operating system:"):
        assert name in text
    assert "Connection: sandbox" in text
    assert "RuntimeError: failure with [redacted]" in text
    assert "user typed [redacted]" in text  # recent log lines are included, redacted
    assert SECRET not in text and TYPED_SECRET not in text
    assert "copied" in dialog.feedback.text().lower()


def test_open_log_folder_opens_the_apps_log_folder(handler, qtbot) -> None:
    with opened_urls("file") as opened:
        dialog = ErrorDialog([], connection_kind=lambda: "sandbox")
        qtbot.addWidget(dialog)
        button = dialog.findChild(QPushButton, "openLogFolder")
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert [u.toLocalFile() for u in opened] == [str(paths.log_dir())]


@pytest.mark.logs_errors  # the unexpected error is logged, then shown
def test_worker_thread_exception_reaches_the_gui_thread_dialog(handler, qtbot) -> None:
    def work() -> None:
        raise KeyError("missing thing in a background thread")

    thread = threading.Thread(target=work, name="gemtune-test-worker")
    # pytest's own thread hook would turn this into a failure; ours is called directly with its arguments.
    try:
        work()
    except KeyError as exc:
        args = threading.ExceptHookArgs((type(exc), exc, exc.__traceback__, thread))
    worker = threading.Thread(target=lambda: handler.thread_excepthook(args))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(_error_dialogs()) == 1)
    dialog = _error_dialogs()[0]
    assert dialog.reports[0].thread == "gemtune-test-worker"
    assert "KeyError" in dialog.reports[0].summary


@pytest.mark.logs_errors  # the unexpected error is logged, then shown
def test_repeated_errors_share_one_dialog(handler, qtbot) -> None:
    for i in range(3):
        try:
            raise ZeroDivisionError(f"division {i}")
        except ZeroDivisionError as exc:
            handler.excepthook(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(lambda: len(handler.reports) == 3)
    assert len(_error_dialogs()) == 1
    dialog = _error_dialogs()[0]
    assert "3 times" in dialog.count_label.text()


@pytest.mark.logs_errors  # the unexpected error is logged, then shown
def test_a_user_error_shows_its_own_message(handler, qtbot) -> None:
    from gemtune_desktop.core.errors import UserError

    try:
        raise UserError("The project file is read-only.", "Save it under another name with File → Save As.")
    except UserError as exc:
        handler.excepthook(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(lambda: len(_error_dialogs()) == 1)
    dialog = _error_dialogs()[0]
    assert dialog.user_label.isVisible()
    assert "read-only" in dialog.user_label.text() and "Save As" in dialog.user_label.text()


def test_install_and_uninstall_restore_previous_hooks(qapp) -> None:
    import sys

    before_sys, before_thread = sys.excepthook, threading.excepthook
    h = crash.install(connection_kind=lambda: "gemini_api")
    assert sys.excepthook == h.excepthook and threading.excepthook == h.thread_excepthook
    h.uninstall()
    assert sys.excepthook is before_sys and threading.excepthook is before_thread


def test_logs_rotate_in_the_apps_log_folder(logging_to_file) -> None:
    import logging.handlers

    root = logging.getLogger()
    handler = next(h for h in root.handlers if getattr(h, "_gemtune", False))
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    assert Path(handler.baseFilename).parent == paths.log_dir()
    assert handler.maxBytes > 0 and handler.backupCount >= 2
    line = "x" * 1000
    for _ in range(handler.maxBytes // 1000 + 50):
        logging.getLogger("gemtune_desktop.rotation").info(line)
    assert (paths.log_dir() / "gemtune-desktop.log.1").is_file()
    assert Path(handler.baseFilename).stat().st_size < handler.maxBytes


def test_help_menu_copies_diagnostics_any_time(fake_window) -> None:
    action = next(a for a in fake_window.menus.help.actions() if a.objectName() == "action_copy_diagnostics")
    QGuiApplication.clipboard().clear()
    action.trigger()
    text = QGuiApplication.clipboard().text()
    assert f"GemTune Desktop: {__version__}" in text and "Connection: sandbox" in text
    assert "copied" in fake_window.statusBar().currentMessage().lower()

"""The worker helper: results, errors, progress and cancellation arrive on the GUI thread."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore.workers import TaskRunner


def test_result_arrives_on_gui_thread(qtbot) -> None:
    runner = TaskRunner()
    seen: dict[str, object] = {}
    gui = QThread.currentThread()

    def work(token: CancelToken, x: int) -> int:
        seen["worker_thread"] = threading.current_thread().name
        token.report(1, 2, "half")
        return x * 2

    def on_result(value: int) -> None:
        seen["value"] = value
        seen["on_gui"] = QThread.currentThread() is gui

    progress: list[tuple[int, int, str]] = []
    task = runner.run("double", work, 21, on_result=on_result, on_progress=lambda *a: progress.append(a))
    assert task is not None
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert seen["value"] == 42
    assert seen["on_gui"] is True
    assert seen["worker_thread"] != threading.main_thread().name
    assert progress == [(1, 2, "half")]
    assert not runner.is_running("double")


def test_exception_becomes_plain_message(qtbot) -> None:
    runner = TaskRunner()
    errors: list[UserError] = []

    def boom(token: CancelToken) -> None:
        raise ConnectionRefusedError("refused")

    task = runner.run("boom", boom, on_error=errors.append)
    assert task is not None
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert len(errors) == 1
    assert "Could not reach the service" in errors[0].message
    assert "Traceback" not in str(errors[0])


def test_one_task_per_purpose_and_cancel(qtbot) -> None:
    runner = TaskRunner()
    started = threading.Event()
    cancelled: list[bool] = []

    def slow(token: CancelToken) -> str:
        started.set()
        for _ in range(200):
            token.wait(0.01)
        return "finished"

    task = runner.run("slow", slow, on_cancelled=lambda: cancelled.append(True),
                      on_result=lambda v: cancelled.append(False))
    assert task is not None
    assert started.wait(5)
    assert runner.run("slow", slow) is None, "a second task for the same purpose must not start"
    with qtbot.waitSignal(task.finished, timeout=5000):
        runner.cancel("slow")
    assert cancelled == [True]


def test_shutdown_waits_for_running_tasks(qtbot) -> None:
    runner = TaskRunner()
    done = threading.Event()

    def work(token: CancelToken) -> None:
        time.sleep(0.2)
        done.set()

    runner.run("w", work)
    assert runner.shutdown(5000)
    assert done.is_set()

"""Tasks owned by their widget: results on the GUI thread, one task per slot, nothing after the owner is gone."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QWidget

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore.workers import InlineExecutor, TaskGroup, TaskSlot, ThreadExecutor


def test_result_arrives_on_gui_thread(qtbot) -> None:
    owner = QObject()
    slot = TaskSlot(owner, ThreadExecutor())
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
    task = slot.start(work, 21, on_result=on_result, on_progress=lambda *a: progress.append(a))
    assert slot.running
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert seen["value"] == 42
    assert seen["on_gui"] is True
    assert seen["worker_thread"] != threading.main_thread().name
    assert progress == [(1, 2, "half")]
    assert not slot.running


def test_exception_becomes_plain_message(qtbot) -> None:
    owner = QObject()
    slot = TaskSlot(owner, ThreadExecutor())
    errors: list[UserError] = []

    def boom(token: CancelToken) -> None:
        raise ConnectionRefusedError("refused")

    task = slot.start(boom, on_error=errors.append)
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert len(errors) == 1
    assert "Could not reach the service" in errors[0].message
    assert "Traceback" not in str(errors[0])


def test_cancel_is_reported_to_the_owner(qtbot) -> None:
    owner = QObject()
    slot = TaskSlot(owner, ThreadExecutor())
    started = threading.Event()
    outcome: list[str] = []

    def slow(token: CancelToken) -> str:
        started.set()
        for _ in range(200):
            token.wait(0.01)
        return "finished"

    task = slot.start(slow, on_cancelled=lambda: outcome.append("cancelled"), on_result=outcome.append)
    assert started.wait(5)
    with qtbot.waitSignal(task.finished, timeout=5000):
        slot.cancel()
    assert outcome == ["cancelled"]


def test_a_new_task_cancels_and_disconnects_the_old_one(qtbot) -> None:
    owner = QObject()
    executor = ThreadExecutor()
    slot = TaskSlot(owner, executor)
    release = threading.Event()
    heard: list[str] = []

    def first(token: CancelToken) -> str:
        release.wait(5)
        return "first"

    old = slot.start(first, on_result=heard.append, on_cancelled=lambda: heard.append("first cancelled"),
                     on_finished=lambda: heard.append("first finished"))
    new = slot.start(lambda _token: "second", on_result=heard.append)
    assert old.token.cancelled and old.detached
    with qtbot.waitSignal(new.finished, timeout=5000):
        pass
    release.set()
    qtbot.waitUntil(lambda: not executor.busy(), timeout=5000)
    assert heard == ["second"]  # nothing of the replaced task reached the owner


def test_destroying_the_owner_cancels_and_disconnects(qtbot) -> None:
    executor = ThreadExecutor()
    owner = QWidget()
    slot = TaskSlot(owner, executor)
    release = threading.Event()
    seen_cancel: list[bool] = []
    heard: list[object] = []

    def work(token: CancelToken) -> str:
        release.wait(5)
        seen_cancel.append(token.cancelled)
        return "late"

    task = slot.start(work, on_result=heard.append, on_cancelled=lambda: heard.append("cancelled"))
    owner.deleteLater()
    qtbot.waitUntil(lambda: task.token.cancelled, timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: not executor.busy(), timeout=5000)
    assert seen_cancel == [True] and heard == []
    assert not slot.running


def test_group_runs_one_task_per_key(qtbot) -> None:
    owner = QObject()
    group: TaskGroup[int] = TaskGroup(owner, InlineExecutor())
    results: list[tuple[int, int]] = []
    for key in (1, 2):
        group.start(key, lambda _token, k=key: k * 10, on_result=lambda v, k=key: results.append((k, v)))
    assert group.running_keys() == [1, 2]
    qtbot.waitUntil(lambda: not group.running, timeout=2000)
    assert results == [(1, 10), (2, 20)]


def test_inline_executor_delivers_after_start_returns(qtbot) -> None:
    owner = QObject()
    executor = InlineExecutor()
    slot = TaskSlot(owner, executor)
    order: list[str] = []

    def work(token: CancelToken) -> str:
        order.append("ran")
        token.report(1, 1, "done")
        return "value"

    slot.start(work, on_progress=lambda *_a: order.append("progress"), on_result=order.append,
               on_finished=lambda: order.append("finished"))
    order.append("start returned")
    assert executor.wait(2000)
    assert order == ["ran", "start returned", "progress", "value", "finished"]


def test_shutdown_waits_for_running_tasks(qtbot) -> None:
    executor = ThreadExecutor()
    slot = TaskSlot(QObject(), executor)
    done = threading.Event()

    def work(token: CancelToken) -> None:
        time.sleep(0.2)
        done.set()

    slot.start(work)
    assert executor.shutdown(5000)
    assert done.is_set()


def test_replacing_the_connection_cancels_its_tasks_before_closing_it(qtbot, cloud) -> None:
    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.qtcore.settings import Settings
    from gemtune_desktop.services.connections import ConnectionKind
    from tests.helpers.fakes import FakeService

    tokens: list[CancelToken] = []
    cancelled_at_close: list[bool] = []

    class Watched(FakeService):
        def close(self) -> None:
            cancelled_at_close.append(all(t.cancelled for t in tokens))
            super().close()

    ctx = AppContext(Settings(), executor=ThreadExecutor(), service_factory=lambda p, s: Watched(p, cloud))
    owner = QObject()
    started = threading.Event()
    heard: list[str] = []

    def long_call(token: CancelToken, service: object) -> str:
        tokens.append(token)
        started.set()
        while not token.cancelled:
            time.sleep(0.01)
        return "done"

    task = ctx.connections.start(TaskSlot(owner, ctx.executor), long_call, on_result=heard.append,
                                 on_cancelled=lambda: heard.append("cancelled"))
    assert started.wait(5)
    with qtbot.waitSignal(task.finished, timeout=5000):
        ctx.connections.set_active(ConnectionKind.GEMINI_API)
    assert cancelled_at_close == [True]  # the task was told to stop before its service closed
    assert heard == ["cancelled"]
    ctx.shutdown()

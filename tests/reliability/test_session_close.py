"""Reconnecting while calls are in flight (issue 14, item 9): a session waits for its calls or stops them,
and never breaks one with "Cannot send a request, as the client has been closed"."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from gemtune_desktop.core.errors import ErrorKind
from gemtune_desktop.services import console
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.errors import describe
from tests.reliability.helpers import in_background

MODEL = "gemini-3.5-flash"


def _generate(session: Any) -> Any:
    return console.generate(None, session, console.ConsoleRequest(model=MODEL, prompt="Is clause 4 binding?"),
                            timeout_s=30)


def _wait_in_flight(session: Any) -> None:
    for _ in range(200):
        if session.in_flight:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the call never started")


@pytest.mark.parametrize("backend", [Backend.GEMINI_API, Backend.AGENT_PLATFORM], ids=["gemini-api", "agent-platform"])
def test_close_waits_for_a_call_in_flight(sandbox: Any, sandbox_session: Any, backend: Backend) -> None:
    session = sandbox_session(backend)
    session.client().models.list()
    sandbox.faults.add(route=r":generateContent$", kind="latency", latency_s=1.0, count=1)
    thread, box = in_background(lambda: _generate(session))
    _wait_in_flight(session)
    assert session.close(wait_s=20) is True  # returned once the call had ended
    thread.join(5)
    assert isinstance(box["value"], console.ConsoleResult) and box["value"].text
    later = in_background(lambda: _generate(session))
    later[0].join(5)
    err = describe(later[1]["value"])
    assert err.kind is ErrorKind.STOPPED and "closed or changed" in err.message
    assert not sandbox.requests.matching(":generateContent")[1:], "a call was sent on a closed session"


def test_close_without_waiting_lets_the_call_finish_then_closes(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    session.client().models.list()
    sandbox.faults.add(route=r":generateContent$", kind="latency", latency_s=0.6, count=1)
    thread, box = in_background(lambda: _generate(session))
    _wait_in_flight(session)
    assert session.close() is False  # the GUI thread does not wait
    thread.join(10)
    assert isinstance(box["value"], console.ConsoleResult), describe(box["value"]).message
    assert session.in_flight == 0


def test_cancel_all_stops_a_call_at_once_with_a_plain_message(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    session.client().models.list()
    sandbox.faults.add(route=r":generateContent$", kind="latency", latency_s=4.0, count=1)
    thread, box = in_background(lambda: _generate(session))
    _wait_in_flight(session)
    assert session.close(wait_s=0.05, cancel=True) is False
    thread.join(2.0)  # far less than the 4 s the service takes, and the 30 s timeout
    assert not thread.is_alive(), "the stopped call waited for the service anyway"
    err = describe(box["value"])
    assert err.kind is ErrorKind.STOPPED and err.message == "The call was stopped because its connection was " \
                                                           "closed or changed."
    assert "client has been closed" not in f"{err.message} {err.detail}"


def test_reconnecting_in_the_app_does_not_break_a_call_in_flight(sandbox: Any, ctx: Any) -> None:
    session = ctx.connections.session()
    session.client().models.list()
    sandbox.faults.add(route=r":generateContent$", kind="latency", latency_s=0.8, count=1)
    thread, box = in_background(lambda: _generate(session))
    _wait_in_flight(session)
    ctx.connections.reconnect()  # Settings → Connections saved: the session is replaced
    thread.join(10)
    assert isinstance(box["value"], console.ConsoleResult), describe(box["value"]).message
    assert ctx.connections.session() is not session and session.closed
    assert _generate(ctx.connections.session()).text  # the new session answers
    ctx.executor.wait(10000)


def test_a_submit_on_a_closed_session_is_not_started_and_says_why(sandbox: Any, sandbox_session: Any,
                                                                  tmp_path: Any) -> None:
    from gemtune_desktop.core.cancel import CancelToken
    from gemtune_desktop.core.project.store import ProjectStore
    from gemtune_desktop.services.submit_flow import SubmitState, SubmitWorkflow
    from tests.reliability.submit_helpers import FAST, plan

    session = sandbox_session(Backend.GEMINI_API)
    session.close()
    store = ProjectStore.create(tmp_path / "closed.gemtune")
    try:
        report = SubmitWorkflow(store).run(CancelToken(), session, plan(Backend.GEMINI_API), FAST)
    finally:
        store.close()
    assert report.state is SubmitState.NOT_STARTED and report.may_start_again
    assert "closed or changed" in report.message and "busy" not in report.message
    assert not sandbox.requests.matching("/tunedModels", "POST")

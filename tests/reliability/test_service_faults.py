"""Faults from the service, injected by the Sandbox, against the real services code (issue 7).

The matrix: submit (both backends, through the Tune tab's own protocol in
:mod:`gemtune_desktop.services.submit_flow`), polling, upload, console and batch evaluation, each under
a 429 with Retry-After, 500, 503, a dropped connection, a truncated body, a malformed body and latency
beyond a (shortened) client timeout. The outcome is always either a successful automatic retry or a
plain message (a :class:`UserError` with no traceback text) — and a submit never makes a second job
on the service and never loses its job record in the project file. The fixed fault sequences and
random faults with several submits in flight are in ``test_exactly_once.py``.

A last test runs calls with 3 s of latency from the real window and checks its event loop keeps
turning (counts of timer ticks and a tab switch, no timed assertions).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.core.retry import RETRYABLE_STATUS
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services import batch_eval, console, monitor, upload
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.errors import describe
from gemtune_desktop.services.submit_flow import SubmitState, SubmitWorkflow
from tests.reliability.submit_helpers import FAST, LATENCY_S, assert_exactly_once, fast_calls, plan
from tests.services.test_monitor import start_agent_job, start_gemini_job

pytestmark = pytest.mark.filterwarnings("ignore:.*tuning implementation is experimental")

MODEL = "gemini-3.5-flash"
SHORT_TIMEOUT_S = 0.4

# name → (fault rule arguments, whether it lasts for every request)
FAULTS: dict[str, dict[str, Any]] = {
    "429-retry-after": {"kind": "status", "status": 429, "retry_after": 0.05, "count": 1},
    "500": {"kind": "status", "status": 500, "count": 1},
    "503": {"kind": "status", "status": 503, "count": 1},
    "drop": {"kind": "drop", "count": 1},
    "truncate": {"kind": "truncate", "count": 1},
    "malformed": {"kind": "malformed", "count": 1},
    "latency": {"kind": "latency", "latency_s": 1.2, "count": 1},  # beyond SHORT_TIMEOUT_S
}
ONE_SHOT = list(FAULTS)
PERSISTENT = ["503", "drop"]  # the same fault on every request


def _rule(name: str, persistent: bool = False) -> dict[str, Any]:
    rule = dict(FAULTS[name])
    if persistent:
        rule.pop("count")
    return rule


def assert_plain(err: BaseException) -> UserError:
    """What the user would read (the task runner passes every error through ``describe``) is plain words."""
    user = describe(err)
    text = f"{user.message} {user.hint}"
    assert user.message.strip(), repr(err)
    for technical in ("Traceback", "Exception", "Error(", "127.0.0.1", "httpx", "urllib3", "{", "errno",
                      "Something went wrong"):
        assert technical not in text, text
    return user


# -- submit --------------------------------------------------------------------------------------------------
SUBMIT_CASES = [(b, f, False) for b in Backend for f in ONE_SHOT] + [(b, f, True) for b in Backend for f in PERSISTENT]


@pytest.mark.parametrize(("backend", "fault", "persistent"), SUBMIT_CASES,
                         ids=[f"{b.value}-{f}-{'always' if p else 'once'}" for b, f, p in SUBMIT_CASES])
def test_submit_under_faults_never_duplicates_or_loses_the_job(sandbox: Any, sandbox_session: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch, backend: Backend,
                                                               fault: str, persistent: bool) -> None:
    """The Tune tab's own protocol (:class:`SubmitWorkflow`): the record is on disk before the create is sent,
    and afterwards says started, not started, or not known yet, never "failed" for a job that exists."""
    fast_calls(monkeypatch)
    session = sandbox_session(backend)
    session.client().models.list()  # warm the clients up before the faults start
    route = r"tuningJobs$" if backend is Backend.AGENT_PLATFORM else r"tunedModels$"
    rule = _rule(fault, persistent)
    if fault == "latency":
        rule["latency_s"] = LATENCY_S
    sandbox.faults.add(route=route, method="POST", **rule)
    store = ProjectStore.create(tmp_path / "faults.gemtune")
    try:
        report = SubmitWorkflow(store).run(CancelToken(), session, plan(backend), FAST)
        sandbox.faults.clear()
        record = assert_exactly_once(session, store, report.job_id, report, late_creates=fault == "latency")
        (only,) = jobs_repo.list_jobs(store, include_deleted=True)
        assert only.id == report.job_id
    finally:
        store.close()
    if report.state is SubmitState.NOT_STARTED:
        user = assert_plain(report.error or UserError(report.message))
        assert record.error.startswith(user.message)
    if not persistent and fault != "latency":  # one failed request is always retried to success
        assert report.state is SubmitState.STARTED, report.message


# -- polling -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="function")
def polled(sandbox_session: Any, request: pytest.FixtureRequest) -> tuple[Any, JobRecord]:
    backend = request.param
    session = sandbox_session(backend)
    if backend is Backend.AGENT_PLATFORM:
        name = start_agent_job(session, examples=10, epochs=1, validation=False)
    else:
        name = start_gemini_job(session, examples=10, epochs=1)
    return session, JobRecord(connection_kind="sandbox", backend=backend.value, resource_name=name, id=1)


@pytest.mark.parametrize("fault", ONE_SHOT)
@pytest.mark.parametrize("polled", [Backend.AGENT_PLATFORM, Backend.GEMINI_API], ids=["agent-platform", "gemini-api"],
                         indirect=True)
def test_poll_under_faults_is_a_plain_error_then_recovers(sandbox: Any, polled: tuple[Any, JobRecord],
                                                          monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    session, record = polled
    monkeypatch.setattr(monitor, "TIMEOUT_S", SHORT_TIMEOUT_S)
    sandbox.faults.add(route=r"(tuningJobs|tunedModels)/[^/:]+$", method="GET", **_rule(fault))
    with pytest.raises(Exception) as info:
        monitor.poll_job(CancelToken(), session, record)
    user = assert_plain(info.value)
    assert user.retryable or getattr(user, "code", 0) in RETRYABLE_STATUS  # the poller backs off and tries again
    if fault == "429-retry-after":
        assert getattr(info.value, "retry_after", None) == pytest.approx(0.05)  # the poller follows Retry-After
    again = monitor.poll_job(CancelToken(), session, record)
    assert again.status.resource_name == record.resource_name


@pytest.mark.parametrize("fault", ["503", "truncate", "latency"])
def test_loss_curve_faults_keep_the_status(sandbox: Any, sandbox_session: Any, monkeypatch: pytest.MonkeyPatch,
                                           fault: str) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    name = start_agent_job(session, examples=10, epochs=1, validation=False)
    record = JobRecord(connection_kind="sandbox", backend="agent-platform", resource_name=name, id=1)
    monkeypatch.setattr(monitor, "TIMEOUT_S", SHORT_TIMEOUT_S)
    monitor.poll_job(CancelToken(), session, record)  # warm the client
    sandbox.faults.add(route=r"(:batchRead|/runs$|/timeSeries$)", **_rule(fault))
    result = monitor.poll_job(CancelToken(), session, record)
    assert result.status.resource_name == name and result.status.state is not JobState.UNKNOWN
    if result.loss_error is not None:  # the status is kept; the curve is tried again next time
        assert_plain(result.loss_error)


@pytest.mark.parametrize("fault", ["429-retry-after", "drop", "latency"])
@pytest.mark.parametrize("backend", [Backend.AGENT_PLATFORM, Backend.GEMINI_API], ids=["agent-platform", "gemini-api"])
def test_job_list_under_faults_is_a_plain_error(sandbox: Any, sandbox_session: Any, monkeypatch: pytest.MonkeyPatch,
                                                backend: Backend, fault: str) -> None:
    session = sandbox_session(backend)
    monkeypatch.setattr(monitor, "TIMEOUT_S", SHORT_TIMEOUT_S)
    sandbox.faults.add(route=r"(tuningJobs|tunedModels)$", method="GET", **_rule(fault))
    with pytest.raises(Exception) as info:
        monitor.list_jobs(CancelToken(), session)
    assert_plain(info.value)
    assert monitor.list_jobs(CancelToken(), session) == []


# -- upload --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ONE_SHOT)
def test_upload_under_faults_is_a_plain_error_and_a_retry_completes(sandbox: Any, sandbox_session: Any,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    fault: str) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    monkeypatch.setattr(upload, "UPLOAD_TIMEOUT_S", SHORT_TIMEOUT_S)
    data = b'{"contents": []}\n' * 2000
    session.storage_client()
    sandbox.faults.add(route=r"/upload/storage", **_rule(fault))
    try:
        uri = upload.upload_bytes(CancelToken(), session, "faults/train.jsonl", data)
    except Exception as exc:
        assert_plain(exc)
        uri = upload.upload_bytes(CancelToken(), session, "faults/train.jsonl", data)  # the user's "try again"
    bucket, name = uri[5:].split("/", 1)
    assert session.storage_client().bucket(bucket).blob(name).download_as_bytes() == data


def test_resumable_upload_survives_a_failed_chunk_or_says_so(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    data = bytes(range(256)) * 4096  # 1 MiB in 256 KiB chunks
    sandbox.faults.add(route=r"/upload/storage", method="PUT", kind="status", status=503, count=1)
    try:
        uri = upload.upload_bytes(CancelToken(), session, "faults/big.jsonl", data, chunk_size=256 * 1024,
                                  resumable_threshold=1024)
    except Exception as exc:
        assert_plain(exc)
        uri = upload.upload_bytes(CancelToken(), session, "faults/big.jsonl", data, chunk_size=256 * 1024,
                                  resumable_threshold=1024)
    bucket, name = uri[5:].split("/", 1)
    assert session.storage_client().bucket(bucket).blob(name).download_as_bytes() == data


# -- console -------------------------------------------------------------------------------------------------
CONSOLE_CASES = [(b, f, False) for b in Backend for f in ONE_SHOT] + \
    [(Backend.AGENT_PLATFORM, f, True) for f in ("drop", "truncate", "malformed", "latency")]


@pytest.mark.parametrize(("backend", "fault", "streamed"), CONSOLE_CASES,
                         ids=[f"{b.value}-{f}-{'stream' if st else 'generate'}" for b, f, st in CONSOLE_CASES])
def test_console_under_faults_is_a_plain_error_and_the_next_call_answers(sandbox: Any, sandbox_session: Any,
                                                                         backend: Backend, fault: str,
                                                                         streamed: bool) -> None:
    session = sandbox_session(backend)
    request = console.ConsoleRequest(model=MODEL, prompt="Is clause 4 binding?")

    def call() -> console.ConsoleResult:
        if streamed:
            return console.stream(CancelToken(), session, request, lambda _i, _t: None, timeout_s=SHORT_TIMEOUT_S)
        return console.generate(CancelToken(), session, request, timeout_s=SHORT_TIMEOUT_S)

    call()  # warm the client
    sandbox.faults.add(route=r"enerateContent", **_rule(fault))
    with pytest.raises(Exception) as info:  # a stream cut midway is an error too, not a silently short answer
        call()
    assert_plain(info.value)
    assert call().text  # the same client answers the next prompt


# -- batch evaluation ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ONE_SHOT)
def test_batch_rows_are_retried_through_faults(sandbox: Any, sandbox_session: Any, fault: str) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    policy = batch_eval.RetryPolicy(max_attempts=5, initial_delay_s=0.01, max_delay_s=0.05, timeout_s=SHORT_TIMEOUT_S)
    rule = dict(_rule(fault))
    rule["count"] = 3
    sandbox.faults.add(route=r"generateContent", **rule)
    items = [batch_eval.EvalItem(i, 0, MODEL, f"Question {i}?", f"Answer {i}.") for i in range(1, 7)]
    rows: list[batch_eval.EvalOutcome] = []
    lock = threading.Lock()

    def on_row(o: batch_eval.EvalOutcome) -> None:
        with lock:
            rows.append(o)

    stats = batch_eval.run_batch(CancelToken(), session, items, console.GenerationSettings(),
                                 console.SafetySettings(), on_row, concurrency=3, policy=policy)
    assert sorted(o.example_id for o in rows) == list(range(1, 7))  # every row reported exactly once
    for o in rows:
        assert o.actual and not o.error, f"row {o.example_id}: {o.error}"
    assert stats.done == 6 and stats.failed == 0
    assert stats.retries_429 + stats.retries_other == 3


def test_batch_with_a_service_that_stays_down_records_plain_errors(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    policy = batch_eval.RetryPolicy(max_attempts=2, initial_delay_s=0.01, max_delay_s=0.02, timeout_s=SHORT_TIMEOUT_S)
    sandbox.faults.add(route=r"generateContent", kind="status", status=503)
    items = [batch_eval.EvalItem(i, 0, MODEL, f"Question {i}?", "yes") for i in range(1, 4)]
    rows: list[batch_eval.EvalOutcome] = []
    stats = batch_eval.run_batch(CancelToken(), session, items, console.GenerationSettings(),
                                 console.SafetySettings(), rows.append, concurrency=2, policy=policy)
    assert stats.failed == 3 and len(rows) == 3
    for o in rows:
        assert o.error and not o.actual
        assert_plain(UserError(o.error))


# -- the window stays responsive ------------------------------------------------------------------------------
def test_window_keeps_turning_while_slow_calls_are_in_flight(sandbox: Any, main_window: Any, qtbot: Any) -> None:
    from PySide6.QtCore import QTimer

    ctx = main_window.ctx
    session = ctx.connections.session()  # the in-app Sandbox connection the tabs use
    record = JobRecord(connection_kind="sandbox", backend=session.backend.value,
                       resource_name=start_agent_job(session, examples=10, epochs=1, validation=False), id=1)
    sandbox.faults.add(route=r"(tuningJobs|tunedModels)/|enerateContent", kind="latency", latency_s=3.0)
    done: dict[str, Any] = {}
    ticks = [0]
    timer = QTimer(main_window)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start(10)
    TaskSlot(main_window, ctx.executor).start(
        monitor.poll_job, session, record,
        on_result=lambda r: done.__setitem__("poll", r), on_error=lambda e: done.__setitem__("poll", e))
    TaskSlot(main_window, ctx.executor).start(
        console.generate, session, console.ConsoleRequest(model=MODEL, prompt="Slow answer please"),
        on_result=lambda r: done.__setitem__("console", r), on_error=lambda e: done.__setitem__("console", e))
    tabs = ["dataset", "tune", "monitor", "test"]
    switched_in_flight = 0
    for turn in range(200):  # the user keeps clicking through the tabs meanwhile
        if done:
            break
        main_window.show_tab(tabs[turn % 4])
        qtbot.wait(5)
        if not done and main_window.tab_widgets[tabs[turn % 4]].isVisible():
            switched_in_flight += 1
    qtbot.waitUntil(lambda: len(done) == 2, timeout=30000)
    timer.stop()
    assert isinstance(done["console"], console.ConsoleResult) and done["console"].text
    assert isinstance(done["poll"], monitor.PollResult)
    assert switched_in_flight >= 4, "the window did not switch tabs while the calls were waiting"
    assert ticks[0] >= 50, f"the event loop ran only {ticks[0]} timer ticks during two 3-second calls"

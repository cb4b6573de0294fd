"""The job poller under bad answers, a flood of loss points, and submits whose outcome is not known
(issue 14, items 2 and 7), with the real poller, the real SDK and the Sandbox over real HTTP."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.qtcore.poller import JobPoller
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.submit_flow import NEVER_STARTED, SubmitState, SubmitWorkflow
from tests.reliability.submit_helpers import AP_CREATE, AP_LOOKUP, FAST, TECHNICAL, fast_calls, jobs_of, plan
from tests.services.test_monitor import start_agent_job, start_gemini_job

pytestmark = pytest.mark.filterwarnings("ignore:.*tuning implementation is experimental")


def _use(ctx: Any, backend: Backend) -> None:
    ctx.connections.save_profile(ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=backend))
    ctx.connections.set_active(ConnectionKind.SANDBOX)


def _poller(ctx: Any, store: Any, **kw: Any) -> JobPoller:
    poller = JobPoller(ctx, intervals=(0.05, 0.3), **kw)
    poller.set_store(store)
    return poller


def _job(store: Any, session: Any, name: str, backend: Backend) -> int:
    return jobs_repo.add_job(store, JobRecord(connection_kind="sandbox", backend=backend.value, resource_name=name,
                                              display_name="polled", state=JobState.RUNNING))


@pytest.mark.parametrize("backend", [Backend.AGENT_PLATFORM, Backend.GEMINI_API], ids=["agent-platform", "gemini-api"])
def test_deep_and_wrongly_typed_answers_are_plain_and_polling_goes_on(sandbox: Any, sandbox_session: Any, ctx: Any,
                                                                      qtbot: Any, tmp_path: Path,
                                                                      backend: Backend) -> None:
    _use(ctx, backend)
    session = sandbox_session(backend)
    if backend is Backend.AGENT_PLATFORM:
        name = start_agent_job(session, examples=10, epochs=1, validation=False)
    else:
        name = start_gemini_job(session, examples=10, epochs=1)
    route = r"(tuningJobs|tunedModels)/[^/:]+$"
    sandbox.faults.add(route=route, method="GET", kind="deep", count=2)
    sandbox.faults.add(route=route, method="GET", kind="wrong_types", count=3, skip=2)
    store = ProjectStore.create(tmp_path / "bad-answers.gemtune")
    messages: list[str] = []
    try:
        job_id = _job(store, session, name, backend)
        poller = _poller(ctx, store)
        poller.poll_failed.connect(lambda _id, text: messages.append(text))
        qtbot.waitUntil(lambda: jobs_repo.get_job(store, job_id).state is JobState.SUCCEEDED, timeout=60000)
        poller.stop()
    finally:
        ctx.executor.wait(10000)
        store.close()
    assert len(messages) >= 5  # five bad answers in a row: more than the three that used to stop polling
    for text in messages:
        assert "could not be read" in text and "Trying again" in text, text
        for technical in TECHNICAL:
            assert technical not in text, text


def test_a_million_loss_points_are_stored_off_the_gui_thread(sandbox: Any, sandbox_session: Any, ctx: Any,
                                                             qtbot: Any, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _use(ctx, Backend.GEMINI_API)
    session = sandbox_session(Backend.GEMINI_API)
    name = start_gemini_job(session, examples=10, epochs=1)
    total = 1_000_000
    answer = {"name": name, "displayName": "flood", "state": "CREATING",  # about 30 MB: under the answer cap
              "tuningTask": {"snapshots": [{"step": i, "meanLoss": round(1.0 / i, 6)} for i in range(1, total + 1)]}}
    sandbox.faults.add(route=r"tunedModels/[^/:]+$", method="GET", kind="body", count=1,
                       body=json.dumps(answer, separators=(",", ":")).encode())
    del answer
    writers: list[str] = []
    original = jobs_repo.append_loss_points

    def spy(store: Any, job_id: int, series: str, points: Any) -> int:
        points = list(points)
        if points:
            writers.append(threading.current_thread().name)
        return original(store, job_id, series, points)

    monkeypatch.setattr(jobs_repo, "append_loss_points", spy)
    store = ProjectStore.create(tmp_path / "flood.gemtune")
    try:
        job_id = _job(store, session, name, Backend.GEMINI_API)
        poller = _poller(ctx, store)
        qtbot.waitUntil(lambda: jobs_repo.last_step(store, job_id) >= total, timeout=120000)
        poller.stop()
        assert len(jobs_repo.loss_points(store, job_id)) == total
    finally:
        ctx.executor.wait(30000)
        store.close()
    assert writers and threading.main_thread().name not in writers, "loss points were written on the GUI thread"


def test_an_unknown_submit_is_found_after_a_restart_and_then_polled(sandbox: Any, sandbox_session: Any, ctx: Any,
                                                                    qtbot: Any, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fast_calls(monkeypatch)
    _use(ctx, Backend.AGENT_PLATFORM)
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.faults.add(**AP_CREATE, kind="malformed", count=1)
    sandbox.faults.add(**AP_LOOKUP, kind="status", status=429, retry_after=0.01)
    path = tmp_path / "restart.gemtune"
    store = ProjectStore.create(path)
    the_plan = plan(Backend.AGENT_PLATFORM)
    report = SubmitWorkflow(store).run(CancelToken(), session, the_plan, FAST)
    assert report.state is SubmitState.NOT_KNOWN_YET
    store.close()  # the app quits; the service comes back later
    sandbox.faults.clear()
    store = ProjectStore.open(path)  # the next start opens the project
    try:
        poller = _poller(ctx, store)
        assert report.job_id in poller.checking()
        with qtbot.waitSignal(poller.submit_resolved, timeout=30000):
            pass
        record = jobs_repo.get_job(store, report.job_id)
        assert record is not None and record.resource_name == jobs_of(session, record)[0]
        qtbot.waitUntil(lambda: jobs_repo.get_job(store, report.job_id).state is JobState.SUCCEEDED, timeout=60000)
        poller.stop()
    finally:
        ctx.executor.wait(10000)
        store.close()


def test_a_submit_that_never_reached_the_service_is_said_not_to_have_started(sandbox: Any, sandbox_session: Any,
                                                                             ctx: Any, qtbot: Any, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash right after the record was written (still SUBMITTING): checked, found absent, then not started."""
    _use(ctx, Backend.GEMINI_API)
    store = ProjectStore.create(tmp_path / "crashed.gemtune")
    try:
        record = plan(Backend.GEMINI_API).record
        job_id = jobs_repo.add_job(store, record)  # ... and the app died before sending anything
        poller = _poller(ctx, store, not_started_after_s=0.5)
        qtbot.waitUntil(lambda: jobs_repo.get_job(store, job_id).state is JobState.SUBMIT_FAILED, timeout=30000)
        assert jobs_repo.get_job(store, job_id).error == NEVER_STARTED
        assert not poller.checking()
        poller.stop()
    finally:
        ctx.executor.wait(10000)
        store.close()

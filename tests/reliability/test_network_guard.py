"""The network layer's limits, over real HTTP with the real SDK (issue 14, items 3, 6, 7, 8 and 9).

* a redirect to another host is refused before anything is sent there (every Gemini operation,
  Agent Platform and the Cloud Storage upload);
* a server that trickles its answer is cut off at the call's deadline;
* a compressed "bomb" is not unpacked past the answer cap;
* a key echoed by a service's error message is redacted from what is stored and shown;
* closing a session waits for its calls in flight, or stops them at once, and never breaks one
  with "the client has been closed".
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import ErrorKind, UserError
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.services import console, monitor, upload
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.errors import describe
from gemtune_desktop.services.http_guard import MAX_ANSWER_BYTES
from gemtune_desktop.services.submit_flow import SubmitState, SubmitWorkflow
from gemtune_desktop.services.tuning import SubmitOutcome
from tests.reliability.foreign_host import ForeignHost
from tests.reliability.foreign_host import foreign_host as foreign_host  # the fixture
from tests.reliability.helpers import in_background
from tests.reliability.submit_helpers import FAST, TECHNICAL, fast_calls, plan
from tests.services.test_monitor import start_agent_job, start_gemini_job

pytestmark = pytest.mark.filterwarnings("ignore:.*tuning implementation is experimental")

MODEL = "gemini-3.5-flash"


def _plain(err: BaseException) -> UserError:
    user = describe(err)
    text = f"{user.message} {user.hint}"
    for technical in TECHNICAL:
        assert technical not in text, text
    return user


def _outcome(call: Callable[[], Any]) -> UserError:
    try:
        call()
    except Exception as exc:  # the call must fail, plainly
        return _plain(exc)
    raise AssertionError("the call succeeded although the service redirected it")


# -- redirects ---------------------------------------------------------------------------------------------
def _submit(session: BackendSession, tmp_path: Path) -> Any:
    store = ProjectStore.create(tmp_path / "redirect.gemtune")
    try:
        report = SubmitWorkflow(store).run(CancelToken(), session, plan(session.backend), FAST)
        assert report.state is SubmitState.NOT_STARTED, report.message
        assert report.error is not None
        raise report.error
    finally:
        store.close()


REDIRECTED_CALLS: dict[str, tuple[Backend, str, Callable[[BackendSession, Path], Any]]] = {
    "gemini-generate": (Backend.GEMINI_API, r":generateContent$",
                        lambda s, _p: console.generate(None, s, console.ConsoleRequest(model=MODEL, prompt="hi"))),
    "gemini-stream": (Backend.GEMINI_API, r":streamGenerateContent$",
                      lambda s, _p: console.stream(None, s, console.ConsoleRequest(model=MODEL, prompt="hi"),
                                                   lambda _i, _t: None)),
    "gemini-list-models": (Backend.GEMINI_API, r"/models$", lambda s, _p: console.list_base_models(None, s)),
    "gemini-create-tuned-model": (Backend.GEMINI_API, r"/tunedModels$", _submit),
    "gemini-list-tuned-models": (Backend.GEMINI_API, r"/tunedModels$",
                                 lambda s, _p: monitor.list_jobs(CancelToken(), s)),
    "gemini-poll": (Backend.GEMINI_API, r"/tunedModels/[^/:]+$",
                    lambda s, _p: monitor.poll_job(CancelToken(), s, JobRecord(
                        connection_kind="sandbox", backend="gemini-api", resource_name=start_gemini_job(s), id=1))),
    "agent-platform-generate": (Backend.AGENT_PLATFORM, r":generateContent$",
                                lambda s, _p: console.generate(None, s, console.ConsoleRequest(model=MODEL,
                                                                                               prompt="hi"))),
    "agent-platform-create-job": (Backend.AGENT_PLATFORM, r"/tuningJobs$", _submit),
    "storage-upload": (Backend.AGENT_PLATFORM, r"/upload/storage",
                       lambda s, _p: upload.upload_bytes(None, s, "redirect/train.jsonl", b'{"a": 1}\n' * 100)),
    "storage-resumable-upload": (Backend.AGENT_PLATFORM, r"/upload/storage",
                                 lambda s, _p: upload.upload_bytes(None, s, "redirect/big.jsonl", b"x" * 600_000,
                                                                   chunk_size=256 * 1024, resumable_threshold=1024)),
}


@pytest.mark.parametrize("name", list(REDIRECTED_CALLS))
def test_a_redirect_to_another_host_sends_it_nothing(sandbox: Any, sandbox_session: Any, foreign_host: ForeignHost,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     name: str) -> None:
    fast_calls(monkeypatch)
    backend, route, call = REDIRECTED_CALLS[name]
    session = sandbox_session(backend)
    session.storage_client()
    if name == "gemini-poll":  # the job exists first; only its poll is redirected
        resource = start_gemini_job(session)
        sandbox.faults.add(route=route, kind="redirect", location=f"{foreign_host.url}/v1beta/{resource}")
        err = _outcome(lambda: monitor.poll_job(CancelToken(), session, JobRecord(
            connection_kind="sandbox", backend="gemini-api", resource_name=resource, id=1)))
    else:
        sandbox.faults.add(route=route, kind="redirect", location=f"{foreign_host.url}/stolen")
        err = _outcome(lambda: call(session, tmp_path))
    assert foreign_host.requests == [], f"{len(foreign_host.requests)} request(s) reached the other host"
    assert err.kind is ErrorKind.REDIRECTED, err.message
    assert "another address" in err.message and "credentials were not sent" in err.message


def test_a_redirect_within_the_same_host_is_followed(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    sandbox.faults.add(route=r"/v1beta/tunedModels$", method="GET", kind="redirect",
                       location=f"{sandbox.base_url}v1beta/tunedModels?pageSize=5", count=1)
    assert session.rest("GET", "tunedModels") == {"tunedModels": []}


# -- deadlines ---------------------------------------------------------------------------------------------
def _ends(call: Callable[[], Any], within_s: float = 20.0) -> BaseException | Any:
    """Run ``call`` on a thread; fail if it is still running after ``within_s`` (it has a 1 s deadline)."""
    thread, box = in_background(call)
    thread.join(within_s)
    assert not thread.is_alive(), "the call was still running long after its deadline"
    return box["value"]


TRICKLED = {
    "gemini-generate": (Backend.GEMINI_API, r":generateContent$",
                        lambda s: console.generate(None, s, console.ConsoleRequest(model=MODEL, prompt="hi"),
                                                   timeout_s=1.0)),
    "gemini-list-tuned-models": (Backend.GEMINI_API, r"/tunedModels$",
                                 lambda s: monitor.list_jobs(CancelToken(), s)),
    "agent-platform-list-jobs": (Backend.AGENT_PLATFORM, r"/tuningJobs$",
                                 lambda s: monitor.list_jobs(CancelToken(), s)),
    "agent-platform-poll": (Backend.AGENT_PLATFORM, r"/tuningJobs/[^/:]+$",
                            lambda s: monitor.poll_job(CancelToken(), s, JobRecord(
                                connection_kind="sandbox", backend="agent-platform", id=1,
                                resource_name=str(s.client().tunings.list()[0].name)))),
}


@pytest.mark.parametrize("name", list(TRICKLED))
def test_an_answer_trickling_in_is_cut_off_at_the_deadline(sandbox: Any, sandbox_session: Any,
                                                           monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    backend, route, call = TRICKLED[name]
    session = sandbox_session(backend)
    monkeypatch.setattr(monitor, "TIMEOUT_S", 1.0)
    if backend is Backend.AGENT_PLATFORM:
        start_agent_job(session, examples=10, epochs=1, validation=False)
    else:
        start_gemini_job(session, examples=10, epochs=1)
    sandbox.faults.add(route=route, method="GET" if "list" in name or "poll" in name else None, kind="trickle",
                       latency_s=0.2)  # one byte every 0.2 s: each read is quick, the whole answer takes minutes
    outcome = _ends(lambda: call(session))
    assert isinstance(outcome, BaseException), "a trickled answer was waited for to its end"
    err = _plain(outcome)
    assert err.kind is ErrorKind.TIMEOUT and err.message == "The service did not answer in time."


def test_a_trickled_create_answer_still_starts_exactly_one_job(sandbox: Any, sandbox_session: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.reliability.submit_helpers import assert_exactly_once

    fast_calls(monkeypatch)
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.faults.add(route=r"tuningJobs$", method="POST", kind="trickle", latency_s=0.2, count=1)
    store = ProjectStore.create(tmp_path / "trickle.gemtune")
    try:
        flow = SubmitWorkflow(store)
        the_plan = plan(Backend.AGENT_PLATFORM)
        job_id = flow.record(the_plan)  # the store belongs to this thread; only the sending runs on another
        outcome = SubmitOutcome()
        sent = _ends(lambda: flow.send(CancelToken(), session, the_plan.request, outcome,
                                       FAST.with_values(timeout_s=1.0)))
        assert not isinstance(sent, BaseException), describe(sent).message
        report = flow.finished(job_id, sent)
        assert report.state is SubmitState.STARTED  # the answer was arriving: the job exists and is found
        sandbox.faults.clear()
        assert assert_exactly_once(session, store, report.job_id, report).resource_name
    finally:
        store.close()


# -- answers too large -------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", [r":generateContent$", r"/tunedModels$"])
def test_a_compressed_bomb_is_not_unpacked(sandbox: Any, sandbox_session: Any, route: str) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    session.client().models.list()
    sandbox.faults.add(route=route, kind="bomb", size_mb=300)
    call = (lambda: console.generate(None, session, console.ConsoleRequest(model=MODEL, prompt="hi"))) \
        if "generate" in route else (lambda: monitor.list_jobs(CancelToken(), session))
    tracemalloc.start()
    try:
        err = _outcome(call)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.kind is ErrorKind.UNREADABLE and "larger than 64 MB" in err.message
    # The answer cap, and its copy when joined: a fraction of the 900 MB a 300 MB bomb cost before.
    assert peak < 2 * MAX_ANSWER_BYTES + 32 * 1024 * 1024, f"{peak / 2**20:.0f} MB held while refusing a 300 MB bomb"


# -- secrets in service messages ---------------------------------------------------------------------------
KEY = "AIzaSyD-echoed-by-the-service-0123456789"


def test_a_key_echoed_by_the_service_is_stored_and_shown_redacted(sandbox: Any, sandbox_session: Any,
                                                                  tmp_path: Path) -> None:
    from gemtune_desktop.services import batch_eval
    from gemtune_desktop.services.secrets import SecretStore

    SecretStore().set("gemini-api-key", KEY, remember=False)  # the active key, as Settings → Connections keeps it
    session = sandbox_session(Backend.GEMINI_API)
    echo = f"API key {KEY} is not allowed to use this model"
    sandbox.faults.add(route=r"/tunedModels$", method="POST", kind="status", status=400, message=echo)
    sandbox.faults.add(route=r":generateContent$", kind="status", status=400, message=echo)
    path = tmp_path / "secrets.gemtune"
    store = ProjectStore.create(path)
    try:
        report = SubmitWorkflow(store).run(CancelToken(), session, plan(Backend.GEMINI_API), FAST)
        record = jobs_repo.get_job(store, report.job_id)
        assert record is not None and report.state is SubmitState.NOT_STARTED
        assert KEY not in record.error and "[redacted]" in record.error
        assert KEY not in f"{report.message} {report.hint}"
        from gemtune_desktop.core.project import evals_repo

        run_id = evals_repo.create_run(store, evals_repo.EvalRun(models=[MODEL], name="echo",
                                                                 settings={"example_ids": [1]}))
        items = [batch_eval.EvalItem(1, 0, MODEL, "Question?", "Answer.")]
        batch_eval.run_and_store(CancelToken(), session, items, run_id, str(path), 1, console.GenerationSettings(),
                                 console.SafetySettings(), policy=FAST.with_values(max_attempts=1))
        (row,) = evals_repo.list_rows(store, run_id)
        assert row.error and KEY not in row.error and "[redacted]" in row.error
    finally:
        store.close()

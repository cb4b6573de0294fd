"""A tuning job starts exactly once and is never lost, whatever the network does (issue 14, items 1 and 2).

Real HTTP against the Sandbox with the real google-genai SDK; faults injected by the Sandbox. The
protocol under test is the one the Tune tab uses (:class:`SubmitWorkflow`): the record is on disk
before the create is sent, and the outcome is recorded as started, not started, or not known yet.
After the faults end, unknown outcomes are checked the way the poller checks them; then every
submit must have exactly one job on the service and a record that names it, or no job and a
record that says it did not start.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.jobs import JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.submit_flow import SubmitState, SubmitWorkflow
from tests.reliability.submit_helpers import (
    AP_CREATE,
    AP_LOOKUP,
    FAST,
    GEMINI_CREATE,
    GEMINI_LOOKUP,
    LATENCY_S,
    assert_exactly_once,
    fast_calls,
    plan,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*tuning implementation is experimental")

AP = Backend.AGENT_PLATFORM
GEMINI = Backend.GEMINI_API

# name → (backend, fault rules, the outcomes the submit itself may report)
SEQUENCES: dict[str, tuple[Backend, list[dict[str, Any]], set[SubmitState]]] = {
    "ap-truncated-create+1-failed-lookup": (AP, [
        {**AP_CREATE, "kind": "truncate", "count": 1},
        {**AP_LOOKUP, "kind": "status", "status": 503, "count": 1}], {SubmitState.STARTED}),
    "ap-truncated-create+3-failed-lookups": (AP, [
        {**AP_CREATE, "kind": "truncate", "count": 1},
        {**AP_LOOKUP, "kind": "mixed", "kinds": ["status", "drop", "truncate"], "count": 3}], {SubmitState.STARTED}),
    "ap-malformed-create+429-on-every-lookup": (AP, [
        {**AP_CREATE, "kind": "malformed", "count": 1},
        {**AP_LOOKUP, "kind": "status", "status": 429, "retry_after": 0.01}], {SubmitState.NOT_KNOWN_YET}),
    "ap-timed-out-create+4-failed-lookups": (AP, [
        {**AP_CREATE, "kind": "latency", "latency_s": LATENCY_S, "count": 1},
        {**AP_LOOKUP, "kind": "status", "status": 503, "count": 4}], {SubmitState.STARTED, SubmitState.NOT_KNOWN_YET}),
    "ap-dropped-before-the-service-got-it+failed-lookup": (AP, [
        {**AP_CREATE, "kind": "drop", "count": 1},
        {**AP_LOOKUP, "kind": "status", "status": 500, "count": 1}], {SubmitState.STARTED}),
    "ap-dropped-after-the-service-made-it+2-failed-lookups": (AP, [
        {**AP_CREATE, "kind": "drop_after", "count": 1},
        {**AP_LOOKUP, "kind": "drop", "count": 2}], {SubmitState.STARTED}),
    "ap-two-503s+failed-lookup": (AP, [
        {**AP_CREATE, "kind": "status", "status": 503, "count": 2},
        {**AP_LOOKUP, "kind": "status", "status": 503, "count": 1}], {SubmitState.STARTED}),
    "gemini-malformed-create+429-on-every-lookup": (GEMINI, [
        {**GEMINI_CREATE, "kind": "malformed", "count": 1},
        {**GEMINI_LOOKUP, "kind": "status", "status": 429, "retry_after": 0.01}], {SubmitState.STARTED}),
    "gemini-timed-out-create+failed-lookups": (GEMINI, [
        {**GEMINI_CREATE, "kind": "latency", "latency_s": LATENCY_S, "count": 1},
        {**GEMINI_LOOKUP, "kind": "status", "status": 503, "count": 3}],
        {SubmitState.STARTED, SubmitState.NOT_KNOWN_YET}),
}


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_fixed_fault_sequences_start_exactly_one_job(sandbox: Any, sandbox_session: Any, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    fast_calls(monkeypatch)
    backend, rules, allowed = SEQUENCES[name]
    session = sandbox_session(backend)
    session.client().models.list()  # connect before the faults start
    for rule in rules:
        sandbox.faults.add(**rule)
    store = ProjectStore.create(tmp_path / "faults.gemtune")
    try:
        the_plan = plan(backend)
        report = SubmitWorkflow(store).run(CancelToken(), session, the_plan, FAST)
        assert report.state in allowed, f"{report.state}: {report.message} {report.hint}"
        sandbox.faults.clear()
        record = assert_exactly_once(session, store, report.job_id, report,
                                     late_creates=any(r["kind"] == "latency" for r in rules))
        assert record.resource_name, "every sequence above does create the job: it must be found, not lost"
        if report.state is SubmitState.STARTED:
            assert report.result is not None and report.result.resource_name == record.resource_name
    finally:
        store.close()


def test_unknown_outcome_is_recorded_as_such_and_never_as_failed(sandbox: Any, sandbox_session: Any, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fast_calls(monkeypatch)
    session = sandbox_session(AP)
    sandbox.faults.add(**AP_CREATE, kind="malformed", count=1)
    sandbox.faults.add(**AP_LOOKUP, kind="status", status=429, retry_after=0.01)
    store = ProjectStore.create(tmp_path / "unknown.gemtune")
    try:
        report = SubmitWorkflow(store).run(CancelToken(), session, plan(AP), FAST)
        record = jobs_repo.get_job(store, report.job_id)
        assert record is not None and record.state is JobState.SUBMIT_UNKNOWN and not record.resource_name
        assert report.message == "Checking whether the job started…"
        assert record.state_words == "checking whether it started…"
        assert "GemTune keeps looking for it" in record.error
        assert not report.may_start_again
    finally:
        store.close()


def _submit_under_random_faults(sandbox: Any, sandbox_session: Any, tmp_path: Path, share: float,
                                seed: int) -> None:
    sandbox.faults.seed(seed)
    sessions = {b: sandbox_session(b) for b in (AP, GEMINI)}
    for s in sessions.values():
        s.client().models.list()
        s.storage_client()
    sandbox.faults.add(route=r"(tuningJobs|tunedModels)(/[^/:]+)?$", kind="mixed", share=share,
                       kinds=["status", "drop", "drop_after", "truncate", "malformed", "latency"],
                       latency_s=LATENCY_S, retry_after=0.01)
    sandbox.faults.add(route=r"/upload/storage", kind="mixed", share=share / 3, kinds=["status", "drop"])
    store = ProjectStore.create(tmp_path / f"random-{seed}.gemtune")
    flow = SubmitWorkflow(store)
    backends = [AP, GEMINI, AP, GEMINI]
    plans = [plan(b, name=f"random {i}") for i, b in enumerate(backends)]
    job_ids = [flow.record(p) for p in plans]  # GUI thread: all four recorded before anything is sent
    reports: dict[int, Any] = {}
    outcomes: dict[int, Any] = {}
    errors: dict[int, BaseException] = {}

    def send(i: int) -> None:
        from gemtune_desktop.services.tuning import SubmitOutcome

        outcome = outcomes[i] = SubmitOutcome()
        try:
            reports[i] = flow.send(CancelToken(), sessions[backends[i]], plans[i].request, outcome, FAST)
        except BaseException as exc:  # recorded below, on this (the "GUI") thread
            errors[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        from gemtune_desktop.services.errors import describe

        final = [flow.finished(job_ids[i], reports[i]) if i in reports else
                 flow.failed(job_ids[i], describe(errors[i]), outcomes[i]) for i in range(4)]
        sandbox.faults.clear()
        for i, report in enumerate(final):
            assert_exactly_once(sessions[backends[i]], store, job_ids[i], report, late_creates=i == 0)
    finally:
        store.close()


@pytest.mark.parametrize(("share", "seed"), [(0.3, 7), (0.3, 8), (0.6, 9), (0.6, 10)])
def test_random_faults_with_four_submits_in_flight(sandbox: Any, sandbox_session: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, share: float, seed: int) -> None:
    fast_calls(monkeypatch)
    _submit_under_random_faults(sandbox, sandbox_session, tmp_path, share, seed)


def test_a_create_refused_for_good_is_not_started_and_may_be_started_again(sandbox: Any, sandbox_session: Any,
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fast_calls(monkeypatch)
    session = sandbox_session(AP)
    sandbox.faults.add(**AP_CREATE, kind="status", status=403)
    store = ProjectStore.create(tmp_path / "refused.gemtune")
    try:
        report = SubmitWorkflow(store).run(CancelToken(), session, plan(AP), FAST)
        assert report.state is SubmitState.NOT_STARTED and report.may_start_again
        assert "Permission denied" in report.message
        record = jobs_repo.get_job(store, report.job_id)
        assert record is not None and record.state is JobState.SUBMIT_FAILED and "Permission denied" in record.error
        assert len(sandbox.requests.matching("/tuningJobs", "POST")) == 1  # a refusal is not sent again
    finally:
        store.close()


def test_cancel_while_the_create_may_have_landed_is_not_known_yet(sandbox: Any, sandbox_session: Any,
                                                                  tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancel pressed while looking for a job whose create answer was lost: the job is checked, not dropped."""
    fast_calls(monkeypatch)
    session = sandbox_session(AP)
    sandbox.faults.add(**AP_CREATE, kind="truncate", count=1)
    sandbox.faults.add(**AP_LOOKUP, kind="status", status=503)
    store = ProjectStore.create(tmp_path / "cancel.gemtune")
    token = CancelToken()
    threading.Timer(0.4, token.cancel).start()  # while the look-ups fail
    try:
        report = SubmitWorkflow(store).run(token, session, plan(AP), FAST.with_values(max_attempts=50))
        assert report.state is SubmitState.NOT_KNOWN_YET
        sandbox.faults.clear()
        record = assert_exactly_once(session, store, report.job_id, report)
        assert record.resource_name
    finally:
        store.close()

"""Shared pieces of the submit fault tests: a fast policy, plans, and what the service really holds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.retry import RetryPolicy
from gemtune_desktop.services import tuning, upload
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.submit_flow import SubmitPlan, SubmitReport, apply_check, check_submit, plan_submit

CALL_TIMEOUT_S = 0.5
LATENCY_S = 1.0  # beyond CALL_TIMEOUT_S: a create that gets no answer in time, and is carried out after it
FAST = RetryPolicy(max_attempts=4, initial_delay_s=0.02, max_delay_s=0.1, timeout_s=CALL_TIMEOUT_S, deadline_s=20.0)
SETTLE_S = 0.2
TECHNICAL = ("Traceback", "Exception", "Error(", "127.0.0.1", "httpx", "urllib3", "{", "errno", "Something went wrong")

AP_CREATE = {"route": r"tuningJobs$", "method": "POST"}
AP_LOOKUP = {"route": r"tuningJobs$", "method": "GET"}
GEMINI_CREATE = {"route": r"tunedModels$", "method": "POST"}
GEMINI_LOOKUP = {"route": r"tunedModels/[^/:]+$", "method": "GET"}


def fast_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts and waits, so a fault costs a fraction of a second."""
    monkeypatch.setattr(tuning, "LOOKUP_TIMEOUT_S", CALL_TIMEOUT_S)
    monkeypatch.setattr(tuning, "SETTLE_S", SETTLE_S)
    monkeypatch.setattr(upload, "UPLOAD_TIMEOUT_S", 5.0)


def examples(n: int = 12) -> list[Example]:
    return [Example(f"Classify ticket {i}: billing or shipping?", "billing" if i % 2 else "shipping", id=i + 1)
            for i in range(n)]


def plan(backend: Backend, name: str = "fault test") -> SubmitPlan:
    if backend is Backend.AGENT_PLATFORM:
        spec = J.JobSpec.defaults(J.AGENT_PLATFORM, "gemini-3.5-flash", name)
    else:
        spec = J.JobSpec.defaults(J.GEMINI_API, "models/sandbox-flash-001-tuning", name)
    profile = ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=backend)
    return plan_submit(spec.with_values({"use_validation": False}), examples(), DatasetSettings(), profile,
                       dataset_name="faults")


def jobs_of(session: BackendSession, record: JobRecord) -> list[str]:
    """The service's jobs made by this record's submit (by its label, or its Gemini API model id)."""
    if session.backend is Backend.AGENT_PLATFORM:
        wanted = J.label_value(record.submit_key or "")
        return [str(j.name) for j in session.client().tunings.list(config={"page_size": 100})
                if (j.labels or {}).get(J.LABEL_KEY) == wanted]
    model_id = J.tuned_model_id(record.display_name, record.submit_key or "")
    return [str(m["name"]) for m in session.rest("GET", "tunedModels", params={"pageSize": 1000})
            .get("tunedModels", []) if m["name"] == f"tunedModels/{model_id}"]


def resolve(store: Any, session: BackendSession, job_id: int, tries: int = 40) -> JobRecord:
    """Check an unknown submit the way the poller does, until its outcome is known."""
    for _ in range(tries):
        record = jobs_repo.get_job(store, job_id)
        assert record is not None
        if not record.state.being_submitted:
            return record
        try:
            found = check_submit(None, session, record)
        except Exception:  # the look-up failed: still not known, look again
            time.sleep(0.05)
            continue
        apply_check(store, job_id, found, not_started_after_s=0.0)
    raise AssertionError(f"submit {job_id} still not known after {tries} checks")


def assert_plain(report: SubmitReport) -> None:
    text = f"{report.message} {report.hint}"
    for technical in TECHNICAL:
        assert technical not in text, text


def assert_exactly_once(session: BackendSession, store: Any, job_id: int, report: SubmitReport,
                        late_creates: bool = False) -> JobRecord:
    """0 duplicates and 0 lost jobs: one job on the service ⇔ the record names it; none ⇔ recorded as not started.

    ``late_creates``: a create may still be sleeping in the Sandbox (a latency fault): wait until it has landed.
    """
    from gemtune_desktop.services.submit_flow import SubmitState

    if late_creates:
        time.sleep(LATENCY_S)
    record = resolve(store, session, job_id)
    on_service = jobs_of(session, record)
    assert len(on_service) <= 1, f"{len(on_service)} jobs for one submit: {on_service}"
    if on_service:
        assert record.resource_name == on_service[0], "a job exists on the service but the record does not name it"
        assert record.state is not JobState.SUBMIT_FAILED and not record.state.being_submitted, record.state
        assert report.state is not SubmitState.NOT_STARTED, "the user was told to start again, but the job exists"
    else:
        assert record.state is JobState.SUBMIT_FAILED or record.deleted, record.state
        assert not record.resource_name
    assert_plain(report)
    if report.state is SubmitState.NOT_KNOWN_YET:
        assert not report.may_start_again and "try again" not in f"{report.message} {report.hint}".lower()
    return record


def store_path(tmp_path: Path, name: str = "faults.gemtune") -> Path:
    return tmp_path / name

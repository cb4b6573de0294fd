"""Watching jobs against the Sandbox over real HTTP with the real SDK: status, loss points, list, cancel, delete."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, UserError
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.services import monitor
from gemtune_desktop.services.backend import BackendSession, ServiceError
from gemtune_desktop.services.connections import Backend


def wait_for(predicate: Callable[[], Any], timeout: float = 120.0, every: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(every)


def _jsonl(n: int, prefix: str) -> str:
    return "\n".join(json.dumps({"contents": [{"role": "user", "parts": [{"text": f"{prefix} question {i}"}]},
                                              {"role": "model", "parts": [{"text": f"answer {i}"}]}]})
                     for i in range(n))


def start_agent_job(session: BackendSession, examples: int = 20, epochs: int = 3, validation: bool = True,
                    multiplier: float | None = None, name: str = "monitor-test") -> str:
    """Upload a small JSONL dataset and start an Agent Platform tuning job with the SDK; returns its name."""
    from google.genai import types

    bucket = session.storage_client().bucket(session.bucket)
    stamp = f"{name}-{time.monotonic_ns()}"
    bucket.blob(f"{stamp}/train.jsonl").upload_from_string(_jsonl(examples, "train"))
    config: dict[str, Any] = {"tuned_model_display_name": name, "epoch_count": epochs}
    if multiplier is not None:
        config["learning_rate_multiplier"] = multiplier
    if validation:
        bucket.blob(f"{stamp}/val.jsonl").upload_from_string(_jsonl(max(5, examples // 4), "val"))
        config["validation_dataset"] = types.TuningValidationDataset(
            gcs_uri=f"gs://{session.bucket}/{stamp}/val.jsonl")
    job = session.client().tunings.tune(
        base_model="gemini-3.5-flash",
        training_dataset=types.TuningDataset(gcs_uri=f"gs://{session.bucket}/{stamp}/train.jsonl"),
        config=types.CreateTuningJobConfig(**config))
    assert job.name
    return job.name


def start_gemini_job(session: BackendSession, examples: int = 20, epochs: int = 3, name: str = "gem-test",
                     batch_size: int = 4) -> str:
    """Create a Gemini API tuned model with inline examples (raw REST, as the app does); returns its name."""
    body = {"displayName": name, "baseModel": "models/sandbox-flash-001-tuning",
            "tuningTask": {"hyperparameters": {"epochCount": epochs, "batchSize": batch_size},
                           "trainingData": {"examples": {"examples": [
                               {"textInput": f"q{i}", "output": f"a{i}"} for i in range(examples)]}}}}
    op = session.rest("POST", "tunedModels", body=body)
    return str(op["metadata"]["tunedModel"])


def _record(session: BackendSession, name: str, train_count: int = 0) -> JobRecord:
    return JobRecord(connection_kind="sandbox", backend=session.backend.value, resource_name=name,
                     train_count=train_count, id=1)


def _ended(session: BackendSession, name: str) -> tuple[JobRecord, monitor.JobStatus]:
    """The job's record once it has ended, with the tuned model it made, and its last status."""
    token = CancelToken()
    final = wait_for(lambda: (s := monitor.poll_job(token, session, _record(session, name)).status).state.ended
                     and s)
    record = _record(session, name)
    record.tuned_model = final.tuned_model
    return record, final


def test_agent_platform_job_status_and_curves(sandbox: Any, sandbox_session: Any) -> None:
    sandbox.steps_per_second = 20.0  # slow enough to see every phase
    session = sandbox_session(Backend.AGENT_PLATFORM)
    name = start_agent_job(session, examples=40, epochs=3)
    record = _record(session, name)
    token = CancelToken()
    states: list[JobState] = []
    phases: list[str] = []
    points: dict[str, list[tuple[int, float | None, float]]] = {"train": [], "validation": []}
    source: dict[str, Any] = {}

    def poll() -> bool:
        last = {k: (v[-1][0] if v else -1) for k, v in points.items()}
        result = monitor.poll_job(token, session, record, last, source)
        assert result.loss_error is None
        source.update(result.source)
        if not states or states[-1] is not result.status.state:
            states.append(result.status.state)
        if result.status.phase and (not phases or phases[-1] != result.status.phase):
            phases.append(result.status.phase)
        for k, pts in result.points.items():
            assert all(p[0] > last[k] for p in pts)  # only new points come back
            points[k].extend(pts)
        return result.status.state.ended

    wait_for(poll)
    final = monitor.poll_job(token, session, record, {}, source).status
    assert states[-1] is JobState.SUCCEEDED
    order = [JobState.QUEUED, JobState.PENDING, JobState.RUNNING, JobState.SUCCEEDED]
    assert [s for s in order if s in states] == states  # never out of order
    assert "TUNING_JOB_STATE_TUNING" in phases
    assert len(points["train"]) > 0
    assert final.total_steps == final.completed_steps > 0
    assert final.display_name == "monitor-test" and final.base_model.endswith("gemini-3.5-flash")
    assert final.tuned_model and final.endpoint and len(final.checkpoints) == 3
    assert final.data_stats["tuning_dataset_example_count"] == 40
    assert final.data_stats["hyper_parameters"]["epoch_count"] == 3
    steps = [p[0] for p in points["train"]]
    assert steps == sorted(steps) and steps[-1] == final.total_steps
    assert points["validation"], "a validation file gives a validation curve"
    assert points["train"][-1][1] == pytest.approx(3.0)  # epochs derived from steps
    # Once both series were known, the names were reused: no more lookups in the last polls.
    lookups = [i for i, r in enumerate(sandbox.requests) if r.path.endswith("/runs")]
    reads = [i for i, r in enumerate(sandbox.requests) if r.path.endswith(":read")]
    assert lookups and len([i for i in reads if i > lookups[-1]]) >= 4  # two series, read in two polls or more
    assert not any(r.path.endswith(":batchRead") for r in sandbox.requests)  # it thins curves past 1,000 points


def _poll_until_ended(token: CancelToken, session: BackendSession, record: JobRecord, source: dict[str, Any],
                      points: dict[str, dict[int, float]]) -> monitor.PollResult:
    """Poll like the app's poller: keep the source between polls, store points by step."""
    while True:
        last = {k: max(v) if v else -1 for k, v in points.items()}
        result = monitor.poll_job(token, session, record, last, source)
        assert result.loss_error is None
        source.clear()
        source.update(result.source)
        for key, pts in result.points.items():
            points.setdefault(key, {}).update({p[0]: p[2] for p in pts})
        if result.status.state.ended:
            return result
        time.sleep(0.02)


def test_validation_curve_appears_when_its_series_is_created_after_the_training_series(
        sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.steps_per_second = 20.0
    name = start_agent_job(session, examples=40, epochs=3)  # 10 steps an epoch, evaluated every 5 steps
    record = _record(session, name)
    token = CancelToken()
    wait_for(lambda: monitor.poll_job(token, session, record).status.completed_steps >= 1)
    sandbox.steps_per_second = 2.0  # the first poll of the curve comes before the first evaluation (step 5)
    source: dict[str, Any] = {}
    points: dict[str, dict[int, float]] = {}
    first = monitor.poll_job(token, session, record, {}, source)
    assert first.status.completed_steps < 5 and set(first.points) == {"train"}
    source.update(first.source)
    sandbox.steps_per_second = 200.0
    final = _poll_until_ended(token, session, record, source, points)
    _poll_until_ended(token, session, record, source, points)  # the poller's last poll after the end
    assert sorted(points["validation"]) == [5, 10, 15, 20, 25, 30]
    assert sorted(points["train"]) == list(range(1, final.status.total_steps + 1))


def test_a_5000_step_job_keeps_every_step_of_both_curves(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.steps_per_second = 50_000.0
    name = start_agent_job(session, examples=1600, epochs=50)  # batch 16: 100 steps an epoch, 5,000 steps
    record = _record(session, name)
    token = CancelToken()
    done = wait_for(lambda: (r := monitor.poll_job(token, session, record)).status.state.ended and r)
    assert done.status.total_steps == 5000
    assert [p[0] for p in done.points["train"]] == list(range(1, 5001))
    assert [p[0] for p in done.points["validation"]] == list(range(50, 5001, 50))


def test_the_curve_is_filled_in_after_a_restart(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.steps_per_second = 50_000.0
    name = start_agent_job(session, examples=400, epochs=40, validation=False)  # batch 8: 2,000 steps
    record = _record(session, name)
    token = CancelToken()
    wait_for(lambda: monitor.poll_job(token, session, record).status.state.ended)
    # The project holds a thinned curve up to the last step (what reading only batchRead left behind).
    stored = {step: 0.0 for step in range(1, 2001, 7)} | {2000: 0.0}
    restarted = monitor.poll_job(token, session, record, {"train": max(stored)}, {})
    assert [p[0] for p in restarted.points["train"]] == list(range(1, 2001))  # the gaps are filled in
    again = monitor.poll_job(token, session, record, {"train": 2000}, restarted.source)
    assert again.points["train"] == []  # then only new points


def test_delete_undeploys_then_deletes_with_progress(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    name = start_agent_job(session, examples=10, epochs=2, validation=False, name="to-delete")
    record, _final = _ended(session, name)
    record.display_name = "to-delete"
    assert record.tuned_model.endswith("@1")
    reports: list[tuple[int, int, str]] = []
    sandbox.steps_per_second = 40.0  # each undeploy takes 0.1 s
    monitor.delete_tuned_model(CancelToken(lambda d, t, text: reports.append((d, t, text))), session, record)
    texts = [text for _d, _t, text in reports]
    assert "Removing the model from endpoint 1 of 3…" in texts  # the model's endpoint and two checkpoints
    assert texts[-1] == "The tuned model was deleted."
    assert [d for d, t, _ in reports if t] == sorted(d for d, t, _ in reports if t)
    deletes = [r.path for r in sandbox.requests if r.method == "DELETE"]
    assert deletes == [f"/v1beta1/{record.tuned_model.split('@')[0]}"]  # no @1
    with pytest.raises(ServiceError) as err:
        session.rest("GET", record.tuned_model.split("@")[0])
    assert err.value.code == 404


def test_delete_can_be_cancelled_between_steps(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    name = start_agent_job(session, examples=10, epochs=1, validation=False)
    record, _final = _ended(session, name)
    sandbox.steps_per_second = 0.5  # an undeploy takes 8 s: the cancel comes first
    cancel = CancelToken()
    cancel._on_progress = lambda done, total, text: cancel.cancel() if text.startswith("Removing") else None
    with pytest.raises(Cancelled):
        monitor.delete_tuned_model(cancel, session, record)
    assert session.rest("GET", record.tuned_model.split("@")[0])["name"]  # not deleted
    assert not [r for r in sandbox.requests if r.method == "DELETE"]


def test_a_refused_delete_says_what_to_do_in_the_cloud_console(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    name = start_agent_job(session, examples=10, epochs=1, validation=False)
    token = CancelToken()
    record, final = _ended(session, name)
    record.display_name = "Capitals"
    sandbox.faults.add(route=r":undeployModel$", kind="status", status=403)
    with pytest.raises(UserError) as err:
        monitor.delete_tuned_model(token, session, record)
    assert err.value.message.startswith("Google did not let GemTune remove the tuned model from its endpoint")
    assert "Agent Platform → Endpoints" in err.value.hint and "Model Registry" in err.value.hint
    assert "“Capitals”" in err.value.hint and final.endpoint in err.value.hint


def test_gemini_api_snapshots_are_the_curve(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    name = start_gemini_job(session, examples=20, epochs=3)
    record = _record(session, name, train_count=20)
    token = CancelToken()
    result = wait_for(lambda: (r := monitor.poll_job(token, session, record)).status.state.ended and r)
    assert result.status.state is JobState.SUCCEEDED
    assert result.status.total_steps == 15  # 3 epochs x ceil(20 / 4)
    train = result.points["train"]
    assert [p[0] for p in train] == list(range(1, 16))
    assert {p[1] for p in train} == {1.0, 2.0, 3.0}
    assert result.status.tuned_model == name
    listed = monitor.list_jobs(token, session)
    assert name in [s.resource_name for s in listed]
    with pytest.raises(UserError, match="cannot stop"):
        monitor.cancel_job(token, session, name)
    monitor.delete_tuned_model(token, session, record)
    with pytest.raises(ServiceError) as err:
        monitor.poll_job(token, session, record)
    assert err.value.code == 404


def test_list_cancel_and_delete_on_agent_platform(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    token = CancelToken()
    running = start_agent_job(session, examples=200, epochs=50, validation=False, name="long-one")
    listed = {s.resource_name: s for s in monitor.list_jobs(token, session)}
    assert listed[running].display_name == "long-one"
    monitor.cancel_job(token, session, running)
    status = wait_for(lambda: (s := monitor.poll_job(token, session, _record(session, running)).status).state.ended
                      and s)
    assert status.state is JobState.CANCELLED
    assert status.error == ""  # cancelling is not an error
    done = start_agent_job(session, examples=10, epochs=1, validation=False, name="short-one")
    record, final = _ended(session, done)
    assert final.state is JobState.SUCCEEDED
    monitor.delete_tuned_model(token, session, record)
    with pytest.raises(ServiceError) as err:
        session.rest("GET", final.tuned_model.split("@")[0])
    assert err.value.code == 404


@pytest.mark.parametrize("backend", [Backend.GEMINI_API, Backend.AGENT_PLATFORM])
def test_rate_limit_answer_carries_retry_after(sandbox: Any, sandbox_session: Any, backend: Backend) -> None:
    session = sandbox_session(backend)
    if backend is Backend.GEMINI_API:
        name = start_gemini_job(session, examples=8, epochs=1)
    else:
        name = start_agent_job(session, examples=8, epochs=1, validation=False)
    sandbox.faults.add(route=r"(tunedModels|tuningJobs)/", kind="status", status=429, retry_after=7, count=1)
    with pytest.raises(ServiceError) as err:
        monitor.poll_job(CancelToken(), session, _record(session, name))
    assert err.value.code == 429 and err.value.retry_after == 7
    assert monitor.poll_job(CancelToken(), session, _record(session, name)).status.resource_name == name


def test_failed_job_error_in_plain_words() -> None:
    status = monitor.status_from_tuning_job({
        "name": "projects/p/locations/l/tuningJobs/1", "state": "JOB_STATE_FAILED",
        "error": {"code": 3, "message": "Training dataset has no usable examples"}})
    assert status.state is JobState.FAILED
    assert status.error.startswith("The job stopped because the training data or the settings were refused")
    assert "no usable examples" in status.error

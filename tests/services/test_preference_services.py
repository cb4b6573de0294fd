"""The services the Tune, Monitor and Test tabs call for preference tuning, continued tuning and rebase, against
the Sandbox over real HTTP with the real SDK and a real project file: Google's recommended order (supervised tuning
on the preferred answers, then preference tuning from its checkpoint), both followed to the end with every curve,
the lineage, refusals mapped to form fields, and a rebase with progress and cancel."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.genai import types

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.model_catalog import connection_models
from gemtune_desktop.core.preference.from_review import supervised_from_preferences
from gemtune_desktop.core.preference.lineage import lineage_of
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.preference.spec import PreferenceSpec, StartingPoint
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.core.retry import RetryPolicy
from gemtune_desktop.core.series import series_label
from gemtune_desktop.resources import read_json
from gemtune_desktop.services import monitor
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.rebase import plan_rebase, rebase_offer
from gemtune_desktop.services.submit_flow import (
    SubmitState,
    SubmitWorkflow,
    apply_check,
    check_submit,
    plan_preference_submit,
    plan_submit,
)
from tests.sandbox.helpers import lease_pairs

FAST = RetryPolicy(max_attempts=4, initial_delay_s=0.05, max_delay_s=0.2, timeout_s=30, deadline_s=60)
AP_PROFILE = ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=Backend.AGENT_PLATFORM)
SETTINGS = PreferenceSettings(preamble="Lease question:", system_instruction="Answer from the lease.")


def preference_examples(n: int = 24, n_val: int = 4) -> list[PreferenceExample]:
    pairs = lease_pairs(n + n_val)
    return [PreferenceExample(p, good, bad, split=Split.TRAIN if i < n else Split.VALIDATION, id=i + 1)
            for i, (p, good, bad) in enumerate(pairs)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ProjectStore]:
    project = ProjectStore.create(tmp_path / "lease.gemtune")
    try:
        yield project
    finally:
        project.close()


@pytest.fixture
def ap(sandbox_session: Any) -> BackendSession:
    session: BackendSession = sandbox_session(Backend.AGENT_PLATFORM)
    return session


def follow(store: ProjectStore, session: BackendSession, job_id: int,
           timeout_s: float = 30.0) -> tuple[JobRecord, dict[str, list[tuple[int, float | None, float]]]]:
    """Poll a recorded job to its end the way the app's poller does, keeping every series it reports."""
    points: dict[str, list[tuple[int, float | None, float]]] = {}
    source: dict[str, Any] = {}
    deadline = time.monotonic() + timeout_s
    ended_polls = 0
    while ended_polls < 2:  # the poller polls once more after the end
        record = jobs_repo.get_job(store, job_id)
        assert record is not None
        last = {k: v[-1][0] if v else -1 for k, v in points.items()}
        result = monitor.poll_job(CancelToken(), session, record, last, source)
        assert result.loss_error is None
        source = dict(result.source)
        for key, pts in result.points.items():
            points.setdefault(key, []).extend(pts)
        changes = result.status.record_changes(record)
        if changes:
            jobs_repo.update_job(store, job_id, **changes)
        ended_polls += int(result.status.state.ended)
        assert time.monotonic() < deadline, f"job {job_id} did not end"
        time.sleep(0.02)
    final = jobs_repo.get_job(store, job_id)
    assert final is not None
    return final, points


def supervised_first(store: ProjectStore, ap: BackendSession, base: str = "gemini-3.5-flash",
                     epochs: int = 2) -> JobRecord:
    """Google's first step: 1–2 epochs of supervised tuning on the preferred answers."""
    built = supervised_from_preferences(preference_examples())
    examples = [Example(e.input, e.output, e.split, id=i + 1) for i, e in enumerate(built.examples)]
    spec = J.JobSpec.defaults(J.AGENT_PLATFORM, base, "Lease desk").with_values({"epochs": epochs})
    report = SubmitWorkflow(store).run(CancelToken(), ap, plan_submit(spec, examples, DatasetSettings(), AP_PROFILE,
                                                                       dataset_name="Lease"), FAST)
    assert report.state is SubmitState.STARTED, report.message
    record, points = follow(store, ap, report.job_id)
    assert record.state is JobState.SUCCEEDED and points["train"]
    return record


def test_supervised_then_preference_from_its_checkpoint(store: ProjectStore, ap: BackendSession,
                                                        sandbox: Any) -> None:
    sft = supervised_first(store, ap)
    assert sft.hyperparameters["method"] == "supervised" and len(sft.checkpoints) == 2
    start = StartingPoint(sft.tuned_model, "1", sft.base_model, f"“{sft.display_name}”")
    spec = PreferenceSpec(start, "", epochs=2, beta=0.2)
    plan = plan_preference_submit(spec, preference_examples(), SETTINGS, AP_PROFILE, dataset_name="Lease")
    report = SubmitWorkflow(store).run(CancelToken(), ap, plan, FAST)
    assert report.state is SubmitState.STARTED, report.message
    record = jobs_repo.get_job(store, report.job_id)
    assert record is not None and record.base_model == "gemini-3.5-flash", "the base the chain started from"
    assert record.hyperparameters["method"] == "preference" and record.hyperparameters["beta"] == 0.2
    assert (record.hyperparameters["start_model"], record.hyperparameters["start_checkpoint"]) == \
        (sft.tuned_model, "1")
    assert (record.train_count, record.validation_count) == (24, 4)
    sent = sandbox.requests.matching("/tuningJobs", "POST")[-1].json
    assert sent["preTunedModel"] == {"tuned_model_name": sft.tuned_model, "checkpoint_id": "1"}
    assert sent["preferenceOptimizationSpec"]["hyperParameters"] == {"epochCount": 2, "beta": 0.2}
    assert sent["labels"] == {J.LABEL_KEY: J.label_value(record.submit_key or "")}
    uri = sent["preferenceOptimizationSpec"]["trainingDatasetUri"]
    bucket, name = uri[5:].split("/", 1)
    lines = [json.loads(x) for x in ap.storage_client().bucket(bucket).blob(name).download_as_bytes().splitlines()]
    assert len(lines) == 24 and lines[0]["system_instruction"]["parts"][0]["text"] == "Answer from the lease."
    assert lines[0]["contents"][0]["parts"][0]["text"].startswith("Lease question:")
    assert [c["score"] for c in lines[0]["completions"]] == [1, 0]

    done, points = follow(store, ap, report.job_id)
    assert done.state is JobState.SUCCEEDED and done.tuned_model.endswith("@2")
    assert done.total_steps == done.completed_steps == 12
    assert set(points) == {"train_preference_loss", "train_reward_margin", "eval_preference_loss",
                           "eval_reward_margin"}, "every series the run has is kept"
    assert [p[0] for p in points["train_reward_margin"]] == list(range(1, 13))
    assert points["train_reward_margin"][-1][2] > points["train_reward_margin"][0][2]
    assert points["train_preference_loss"][-1][1] == pytest.approx(2.0)  # epochs from the steps
    assert [series_label(k) for k in sorted(points)] == ["preference loss (validation)",
                                                         "reward margin (validation)",
                                                         "preference loss (training)", "reward margin (training)"]
    every = jobs_repo.list_jobs(store)
    assert lineage_of(done, every) == "Preference-tuned from checkpoint 1 of “Lease desk”"
    assert lineage_of(sft, every) == "Tuned from the base model gemini-3.5-flash"
    # The preference-tuned model answers with the preferred answers.
    prompt, good, _bad = lease_pairs(24)[7]
    reply = ap.serving_client(done.endpoint).models.generate_content(
        model=done.endpoint, contents=f"Lease question:\n{prompt}", config=types.GenerateContentConfig(temperature=0))
    assert reply.text == good


def test_continued_supervised_tuning_from_a_checkpoint(store: ProjectStore, ap: BackendSession,
                                                       sandbox: Any) -> None:
    sft = supervised_first(store, ap, epochs=3)
    more = [Example(f"What does my lease say about the attic, point {i}?", f"Attic rule {i}.", id=100 + i)
            for i in range(8)]
    spec = J.JobSpec.defaults(J.AGENT_PLATFORM, sft.tuned_model, "").with_values({"epochs": 1,
                                                                                    "use_validation": False})
    start = StartingPoint(sft.tuned_model, "2", sft.base_model, "“Lease desk”")
    report = SubmitWorkflow(store).run(CancelToken(), ap, plan_submit(spec, more, DatasetSettings(), AP_PROFILE,
                                                                       start=start), FAST)
    assert report.state is SubmitState.STARTED, report.message
    sent = sandbox.requests.matching("/tuningJobs", "POST")[-1].json
    assert sent["preTunedModel"] == {"tuned_model_name": sft.tuned_model, "checkpoint_id": "2"}
    assert "tunedModelDisplayName" not in sent and "baseModel" not in sent
    done, points = follow(store, ap, report.job_id)
    assert done.state is JobState.SUCCEEDED and set(points) == {"train"}
    assert done.base_model == "gemini-3.5-flash" and done.hyperparameters["method"] == "supervised"
    assert lineage_of(done, [sft, done]) == "Tuned from checkpoint 2 of “Lease desk”"


@pytest.mark.off_contract_requests("sends a β the service refuses")
def test_refusals_point_at_the_form_field(store: ProjectStore, ap: BackendSession, sandbox: Any,
                                         sandbox_session: Any) -> None:
    spec = PreferenceSpec(StartingPoint("gemini-3.5-flash"), "Too cold", beta=0.0)  # the form would refuse it
    report = SubmitWorkflow(store).run(CancelToken(), ap, plan_preference_submit(
        spec, preference_examples(8, 0), SETTINGS, AP_PROFILE), FAST)
    assert report.state is SubmitState.NOT_STARTED and report.field == "beta"
    assert "β" in report.message and "beta must be greater than 0" in report.message
    gone = StartingPoint("projects/sandbox-project/locations/us-central1/models/404", "1", "gemini-3.5-flash",
                         "“Deleted job”")
    report = SubmitWorkflow(store).run(CancelToken(), ap, plan_preference_submit(
        PreferenceSpec(gone, ""), preference_examples(8, 0), SETTINGS, AP_PROFILE), FAST)
    assert report.state is SubmitState.NOT_STARTED
    assert "The tuned model to continue from (“Deleted job”) was not found" in report.message
    gemini = ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=Backend.GEMINI_API)
    before = len(sandbox.requests)
    report = SubmitWorkflow(store).run(CancelToken(), sandbox_session(Backend.GEMINI_API),
                                       plan_preference_submit(PreferenceSpec(StartingPoint("gemini-3.5-flash"), "x"),
                                                              preference_examples(8, 0), SETTINGS, gemini), FAST)
    assert report.state is SubmitState.NOT_STARTED and "only on Google Cloud" in report.message
    assert len(sandbox.requests) == before, "nothing was sent"


def test_a_lost_answer_does_not_start_a_second_preference_job(store: ProjectStore, ap: BackendSession,
                                                             sandbox: Any) -> None:
    sandbox.faults.add(route=r"tuningJobs$", kind="truncate", count=1, method="POST")
    spec = PreferenceSpec(StartingPoint("gemini-2.5-flash"), "Once only", epochs=1)
    report = SubmitWorkflow(store).run(CancelToken(), ap, plan_preference_submit(
        spec, preference_examples(8, 0), SETTINGS, AP_PROFILE), FAST)
    assert report.state is SubmitState.STARTED and report.result is not None and report.result.recovered
    record = jobs_repo.get_job(store, report.job_id)
    assert record is not None
    labelled = [j for j in ap.client().tunings.list(config={"page_size": 100})
                if (j.labels or {}).get(J.LABEL_KEY) == J.label_value(record.submit_key or "")]
    assert len(labelled) == 1 and labelled[0].name == record.resource_name


def test_rebase_offer_and_move_with_progress(store: ProjectStore, ap: BackendSession, sandbox: Any) -> None:
    old = supervised_first(store, ap, base="gemini-2.5-flash", epochs=1)
    models = connection_models(read_json("models.json"), sandbox=True)
    today = dt.date(2026, 12, 5)
    offer = rebase_offer(old, models, today)
    assert offer is not None and offer.suggested == "gemini-3.5-flash"
    assert "Gemini 2.5 Flash, the base model of this tuned model, was retired on 20 October 2026" in offer.notice
    assert "Google recommends Gemini 3.5 Flash or Gemini 3.5 Flash-Lite or Gemini 3.1 Flash-Lite" in offer.notice
    assert [m.id for m in offer.choices] == ["gemini-3.5-flash", "gemini-3.5-flash-lite", "gemini-3.1-flash-lite"]
    sandbox.steps_per_second = 10.0  # the operation takes 0.3 s: a few polls
    reports: list[str] = []
    token = CancelToken(on_progress=lambda _d, _t, text: reports.append(text))
    report = SubmitWorkflow(store).run(token, ap, plan_rebase(old, offer.suggested, AP_PROFILE), FAST)
    assert report.state is SubmitState.STARTED, report.message
    assert any("onto gemini-3.5-flash" in r for r in reports)
    assert any("Waiting for Google to start the new tuning job" in r for r in reports)
    sent = sandbox.requests.matching("tuningJobs:rebaseTunedModel", "POST")
    assert len(sent) == 1 and sent[0].json["tunedModelRef"] == {"tunedModel": old.tuned_model}
    assert sent[0].json["tuningJob"]["baseModel"] == "gemini-3.5-flash"
    sandbox.steps_per_second = 200.0
    moved, points = follow(store, ap, report.job_id)
    assert moved.state is JobState.SUCCEEDED and moved.base_model == "gemini-3.5-flash" and points["train"]
    assert moved.tuned_model != old.tuned_model
    assert lineage_of(moved, [old, moved]) == \
        "Moved from “Lease desk” (gemini-2.5-flash) onto the newer base model gemini-3.5-flash"
    assert rebase_offer(moved, models, today) is None, "3.5 Flash retires no earlier than May 2027"
    assert rebase_offer(moved, models, dt.date(2027, 3, 1)) is not None


def test_a_rebase_cancelled_while_waiting_is_found_later(store: ProjectStore, ap: BackendSession,
                                                        sandbox: Any) -> None:
    old = supervised_first(store, ap, base="gemini-3.1-flash-lite", epochs=1)
    sandbox.steps_per_second = 0.5  # the operation would take 6 s
    token = CancelToken(on_progress=lambda _d, _t, text: token.cancel() if "Waiting" in text else None)
    report = SubmitWorkflow(store).run(token, ap, plan_rebase(old, "gemini-3.5-flash-lite", AP_PROFILE), FAST)
    assert report.state is SubmitState.NOT_KNOWN_YET, report.message  # accepted: never "not started"
    sandbox.steps_per_second = 200.0
    record = jobs_repo.get_job(store, report.job_id)
    assert record is not None and record.state is JobState.SUBMIT_UNKNOWN
    found = check_submit(None, ap, record)
    assert found is not None and apply_check(store, report.job_id, found)
    moved, _points = follow(store, ap, report.job_id)
    assert moved.state is JobState.SUCCEEDED and moved.base_model.endswith("gemini-3.5-flash-lite")
    assert len(sandbox.requests.matching("tuningJobs:rebaseTunedModel", "POST")) == 1


def test_a_series_first_seen_at_the_end_is_still_read(ap: BackendSession, sandbox: Any) -> None:
    """A reader told to expect only the training loss still finds every other series once the job has ended
    (on the real service a series may be written late: corrections §3)."""
    from gemtune_desktop.services.curves import read_experiment_loss
    from tests.services.test_monitor import start_agent_job

    sandbox.steps_per_second = 20.0
    name = start_agent_job(ap, examples=40, epochs=2)  # evaluated every 5 steps
    job = wait_job(ap, name, lambda j: j.tuning_job_metadata is not None
                   and (j.tuning_job_metadata.completed_step_count or 0) >= 1)
    sandbox.steps_per_second = 2.0
    source: dict[str, Any] = {}
    first = read_experiment_loss(CancelToken(), ap, job.experiment, {}, source, wanted=frozenset({"train"}))
    assert set(first) == {"train"}
    sandbox.steps_per_second = 200.0
    wait_job(ap, name, lambda j: j.has_ended)
    running = read_experiment_loss(CancelToken(), ap, job.experiment, {}, dict(source), wanted=frozenset({"train"}))
    assert set(running) == {"train"}, "while running, a known series list is reused"
    ended = read_experiment_loss(CancelToken(), ap, job.experiment, {}, source, wanted=frozenset({"train"}),
                                 ended=True)
    assert set(ended) == {"train", "validation"} and source["listed_ended"]


def wait_job(ap: BackendSession, name: str, done: Any) -> Any:
    from tests.sandbox.helpers import wait_for

    return wait_for(lambda: ap.client().tunings.get(name=name), done)

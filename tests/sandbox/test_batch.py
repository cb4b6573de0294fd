"""The Sandbox's batch engine through the real google-genai SDK (client.batches, client.files) and
google-cloud-storage over real HTTP: shapes, states, results in storage or inline, row failures, cancel."""

from __future__ import annotations

import io
import json
import warnings
from typing import Any

import pytest

from gemtune_desktop.services.connections import Backend
from tests.helpers import discovery
from tests.sandbox.helpers import serving, upload, wait_for

ENDED = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")


def request_line(i: int, key: bool = False) -> str:
    line: dict[str, Any] = {"request": {"contents": [{"role": "user", "parts": [{"text": f"Question {i}?"}]}],
                                        "generationConfig": {"temperature": 0}}}
    if key:
        line["key"] = f"row-{i}"
    return json.dumps(line)


def test_agent_platform_batch_prediction_job_writes_predictions_to_storage(sandbox: Any,
                                                                           sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    src = upload(session, "batch/in.jsonl", "\n".join(request_line(i) for i in range(30)) + "\n")
    sandbox.faults.add(route="batch-row", kind="status", status=500, share=0.2)
    client = session.client()
    job = client.batches.create(model="gemini-3.5-flash", src=src,
                                config={"display_name": "eval", "dest": "gs://sandbox-bucket/batch/out"})
    assert job.name.startswith("projects/sandbox-project/locations/us-central1/batchPredictionJobs/")
    assert job.state.value in ("JOB_STATE_PENDING", "JOB_STATE_RUNNING")
    created = sandbox.requests.matching("batchPredictionJobs", "POST")[-1].json
    assert discovery.unknown_fields(created, "BatchPredictionJob") == []
    assert created["model"] == "publishers/google/models/gemini-3.5-flash"
    job = wait_for(lambda: client.batches.get(name=job.name), lambda j: j.state.value in ENDED)
    assert job.state.value == "JOB_STATE_SUCCEEDED"
    stats = job.completion_stats
    assert int(stats.successful_count) + int(stats.failed_count) == 30 and int(stats.failed_count) > 0
    raw = session.rest("GET", job.name)
    assert discovery.unknown_fields(raw, "BatchPredictionJob") == []
    folder = raw["outputInfo"]["gcsOutputDirectory"]
    assert folder.startswith("gs://sandbox-bucket/batch/out/prediction-model-")
    bucket = session.storage_client().bucket("sandbox-bucket")
    blob = bucket.blob(folder.removeprefix("gs://sandbox-bucket/") + "/predictions.jsonl")
    lines = [json.loads(x) for x in blob.download_as_bytes().decode().splitlines()]
    assert len(lines) == 30
    ok = [x for x in lines if x["status"] == ""]
    failed = [x for x in lines if x["status"]]
    assert len(failed) == int(stats.failed_count) and all("response" not in x for x in failed)
    assert ok[0]["response"]["candidates"][0]["content"]["parts"][0]["text"]
    assert all("request" in x and "processed_time" in x for x in lines)


def test_agent_platform_job_cancel_and_listing(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.batch.engine.rows_per_second = 20
    src = upload(session, "batch/slow.jsonl", "\n".join(request_line(i) for i in range(200)) + "\n")
    client = session.client()
    job = client.batches.create(model="gemini-3.5-flash", src=src,
                                config={"display_name": "slow", "dest": "gs://sandbox-bucket/batch/slow"})
    running = wait_for(lambda: client.batches.get(name=job.name),
                       lambda j: j.state.value == "JOB_STATE_RUNNING" and int(j.completion_stats.successful_count) >= 2)
    assert running.start_time is not None
    client.batches.cancel(name=job.name)
    job = wait_for(lambda: client.batches.get(name=job.name), lambda j: j.state.value in ENDED)
    assert job.state.value == "JOB_STATE_CANCELLED"
    assert 0 < int(job.completion_stats.successful_count) < 200, "the rows answered before the cancel are kept"
    assert [j.name for j in client.batches.list()] == [job.name]
    client.batches.delete(name=job.name)
    assert list(client.batches.list()) == []


def test_agent_platform_job_with_a_missing_input_fails_in_plain_words(sandbox: Any, sandbox_session: Any) -> None:
    client = sandbox_session(Backend.AGENT_PLATFORM).client()
    job = client.batches.create(model="gemini-3.5-flash", src="gs://sandbox-bucket/none.jsonl",
                                config={"display_name": "x", "dest": "gs://sandbox-bucket/out"})
    job = wait_for(lambda: client.batches.get(name=job.name), lambda j: j.state.value in ENDED)
    assert job.state.value == "JOB_STATE_FAILED" and "was not found" in job.error.message


def test_gemini_api_inline_batch_answers_inline(sandbox: Any, sandbox_session: Any) -> None:
    client = sandbox_session(Backend.GEMINI_API).client()
    requests = [{"contents": [{"role": "user", "parts": [{"text": f"Question {i}?"}]}],
                 "metadata": {"key": f"row-{i}"}} for i in range(5)]
    job = client.batches.create(model="gemini-3.5-flash", src=requests, config={"display_name": "inline"})
    assert job.name.startswith("batches/")
    job = wait_for(lambda: client.batches.get(name=job.name), lambda j: j.state.value in ENDED)
    assert job.state.value == "JOB_STATE_SUCCEEDED"
    answers = job.dest.inlined_responses
    assert [a.metadata["key"] for a in answers] == [f"row-{i}" for i in range(5)]
    assert all(a.response.text for a in answers)
    raw = sandbox.requests.matching(":batchGenerateContent")[-1].json
    assert raw["batch"]["inputConfig"]["requests"]["requests"][0]["metadata"] == {"key": "row-0"}


def test_gemini_api_file_batch_with_failed_rows_writes_a_results_file(sandbox: Any, sandbox_session: Any,
                                                                      tmp_path: Any) -> None:
    client = sandbox_session(Backend.GEMINI_API).client()
    data = ("\n".join(request_line(i, key=True) for i in range(40)) + "\n").encode()
    sandbox.faults.add(route="batch-row", kind="status", status=503, count=3)
    uploaded = client.files.upload(file=io.BytesIO(data), config={"mime_type": "jsonl", "display_name": "in"})
    assert uploaded.name.startswith("files/") and int(uploaded.size_bytes) == len(data)
    job = client.batches.create(model="gemini-3.5-flash", src=uploaded.name, config={"display_name": "file"})
    job = wait_for(lambda: client.batches.get(name=job.name), lambda j: j.state.value in ENDED)
    assert job.state.value == "JOB_STATE_SUCCEEDED" and job.dest.file_name
    target = tmp_path / "out.jsonl"
    client.files.download(file=job.dest.file_name, destination=str(target))
    lines = [json.loads(x) for x in target.read_text().splitlines()]
    assert [x["key"] for x in lines] == [f"row-{i}" for i in range(40)]
    assert sum("error" in x for x in lines) == 3 and sum("response" in x for x in lines) == 37
    stats = client._api_client.request("get", job.name, {})  # the SDK drops batchStats; read the raw answer
    counts = json.loads(stats.body)["metadata"]["batchStats"]
    assert (counts["successfulRequestCount"], counts["failedRequestCount"]) == ("37", "3")
    with pytest.raises(Exception, match="Only files the service generated"):
        client.files.download(file=uploaded.name)


def test_batch_jobs_survive_a_sandbox_restart(tmp_path: Any, sandbox_session: Any, sandbox: Any) -> None:
    client = sandbox_session(Backend.GEMINI_API).client()
    job = client.batches.create(model="gemini-3.5-flash",
                                src=[{"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}],
                                config={"display_name": "kept"})
    wait_for(lambda: client.batches.get(name=job.name), lambda j: j.state.value in ENDED)
    sandbox.stop()
    with serving(tmp_path / "sandbox-state", Backend.GEMINI_API) as (again, _session):
        assert again.batch.engine.get(job.name.split("/")[1], "gemini").state == "SUCCEEDED"


def test_a_tuned_model_answers_a_batch_job_from_its_training_examples(sandbox: Any, sandbox_session: Any) -> None:
    from google.genai import types

    from tests.sandbox.helpers import capitals_jsonl

    session = sandbox_session(Backend.AGENT_PLATFORM)
    client = session.client()
    train = upload(session, "train.jsonl", capitals_jsonl(12))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the SDK's tuning implementation is experimental"
        tuning = client.tunings.tune(base_model="gemini-3.5-flash",
                                     training_dataset=types.TuningDataset(gcs_uri=train),
                                     config=types.CreateTuningJobConfig(epoch_count=1))
    tuned = wait_for(lambda: client.tunings.get(name=tuning.name), lambda j: j.has_ended, 60)
    model = tuned.tuned_model.model.split("@")[0]  # projects/…/models/ID, as the batch page asks
    line = {"request": {"contents": [{"role": "user", "parts": [{"text": "What is the capital of Kenya?"}]}]}}
    src = upload(session, "batch/tuned.jsonl", json.dumps(line) + "\n")
    job = client.batches.create(model=model, src=src, config={"display_name": "tuned",
                                                              "dest": "gs://sandbox-bucket/batch/tuned"})
    job = wait_for(lambda: client.batches.get(name=job.name), lambda j: j.state.value in ENDED)
    assert job.state.value == "JOB_STATE_SUCCEEDED"
    folder = session.rest("GET", job.name)["outputInfo"]["gcsOutputDirectory"].removeprefix("gs://sandbox-bucket/")
    out = json.loads(session.storage_client().bucket("sandbox-bucket").blob(f"{folder}/predictions.jsonl")
                     .download_as_bytes())
    assert out["response"]["candidates"][0]["content"]["parts"][0]["text"] == "Nairobi"
    with pytest.raises(Exception, match="was not found or cannot be used for batch prediction"):
        client.batches.create(model="projects/sandbox-project/locations/us-central1/models/404", src=src,
                              config={"display_name": "x", "dest": "gs://sandbox-bucket/x"})


def test_an_unfinished_job_starts_over_after_a_sandbox_restart(tmp_path: Any, sandbox_session: Any,
                                                               sandbox: Any) -> None:
    sandbox.batch.engine.rows_per_second = 5
    session = sandbox_session(Backend.AGENT_PLATFORM)
    src = upload(session, "batch/restart.jsonl", "\n".join(request_line(i) for i in range(20)) + "\n")
    job = session.client().batches.create(model="gemini-3.5-flash", src=src,
                                          config={"display_name": "r", "dest": "gs://sandbox-bucket/batch/r"})
    sandbox.stop()
    with serving(tmp_path / "sandbox-state", Backend.AGENT_PLATFORM) as (_again, later):
        done = wait_for(lambda: later.client().batches.get(name=job.name), lambda j: j.state.value in ENDED)
        assert done.state.value == "JOB_STATE_SUCCEEDED" and int(done.completion_stats.successful_count) == 20

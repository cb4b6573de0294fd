"""Submitting tuning jobs to the Sandbox over real HTTP with the real SDK: both APIs, uploads, retries, errors."""

from __future__ import annotations

import json

import pytest

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.retry import RetryPolicy
from gemtune_desktop.services.backend import BackendSession, ServiceError
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.tuning import (
    InvalidSetting,
    SubmitOutcome,
    SubmitRequest,
    list_gemini_tunable_models,
    submit_job,
)
from gemtune_desktop.services.upload import upload_bytes

FAST = RetryPolicy(max_attempts=4, initial_delay_s=0.05, max_delay_s=0.2, timeout_s=30, deadline_s=60)


def _examples(n: int = 24, n_val: int = 4) -> list[Example]:
    train = [Example(f"Classify: ticket {i} about billing", "billing" if i % 2 else "shipping", id=i + 1)
             for i in range(n)]
    val = [Example(f"Classify: question {i}", "billing", Split.VALIDATION, id=n + i + 1) for i in range(n_val)]
    return train + val


def _request(backend: Backend, **values: object) -> SubmitRequest:
    examples = _examples()
    settings = DatasetSettings(preamble="Ticket:", system_instruction="Answer with one word.")
    if backend is Backend.AGENT_PLATFORM:
        spec = J.JobSpec.defaults(J.AGENT_PLATFORM, "gemini-3.5-flash", "support classifier")
    else:
        spec = J.JobSpec.defaults(J.GEMINI_API, "models/sandbox-flash-001-tuning", "support classifier")
    spec = spec.with_values(values)
    return SubmitRequest(spec, "k" + "0123456789abcdef" * 2, [e for e in examples if e.split is Split.TRAIN],
                         [e for e in examples if e.split is Split.VALIDATION], settings)


def test_agent_platform_submit_uploads_both_splits_and_creates_the_job(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    reports: list[tuple[int, int, str]] = []
    token = CancelToken(on_progress=lambda d, t, s: reports.append((d, t, s)))
    req = _request(Backend.AGENT_PLATFORM, epochs=3, learning_rate_multiplier=0.5, adapter_size=4)
    result = submit_job(token, session, req, policy=FAST)

    assert result.resource_name.startswith("projects/sandbox-project/locations/us-central1/tuningJobs/")
    assert result.train_uri.startswith("gs://sandbox-bucket/gemtune/") and result.validation_uri
    creates = sandbox.requests.matching("/tuningJobs", "POST")
    assert len(creates) == 1
    body = creates[0].json
    assert body["baseModel"] == "gemini-3.5-flash"
    assert body["tunedModelDisplayName"] == "support classifier"
    hp = body["supervisedTuningSpec"]["hyperParameters"]
    assert int(hp["epochCount"]) == 3 and hp["learningRateMultiplier"] == 0.5
    assert hp["adapterSize"] == "ADAPTER_SIZE_FOUR"
    assert body["supervisedTuningSpec"]["validationDatasetUri"] == result.validation_uri
    assert body["labels"][J.LABEL_KEY] == J.label_value(req.submit_key)
    # The uploaded training file is Agent Platform JSONL with the preamble and system instruction applied.
    bucket, name = result.train_uri[5:].split("/", 1)
    data = session.storage_client().bucket(bucket).blob(name).download_as_bytes()
    lines = [json.loads(x) for x in data.decode().splitlines()]
    assert len(lines) == 24
    assert lines[0]["systemInstruction"]["parts"][0]["text"] == "Answer with one word."
    assert lines[0]["contents"][0]["parts"][0]["text"].startswith("Ticket:")
    assert reports and reports[-1][0] == reports[-1][1]


def test_automatic_settings_are_left_to_the_service(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    req = _request(Backend.AGENT_PLATFORM, use_validation=False)
    submit_job(None, session, req, policy=FAST)
    body = sandbox.requests.matching("/tuningJobs", "POST")[0].json
    assert "hyperParameters" not in body["supervisedTuningSpec"] or not body["supervisedTuningSpec"]["hyperParameters"]
    assert "validationDatasetUri" not in body["supervisedTuningSpec"]


def test_gemini_api_submit_sends_the_examples_inline(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    req = _request(Backend.GEMINI_API, epochs=2, batch_size=8, learning_rate=0.0005)
    result = submit_job(None, session, req, policy=FAST)
    model_id = J.tuned_model_id("support classifier", req.submit_key)
    assert result.resource_name == f"tunedModels/{model_id}"
    posts = sandbox.requests.matching("/tunedModels", "POST")
    assert len(posts) == 1
    assert posts[0].query["tunedModelId"] == model_id
    task = posts[0].json["tuningTask"]
    assert task["hyperparameters"] == {"epochCount": 2, "batchSize": 8, "learningRate": 0.0005}
    examples = task["trainingData"]["examples"]["examples"]
    assert len(examples) == 24 and examples[0]["textInput"].startswith("Ticket:")


def test_gemini_api_429_is_retried_and_makes_one_model(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    sandbox.faults.add(route=r"tunedModels$", kind="status", status=429, count=2, method="POST")
    result = submit_job(None, session, _request(Backend.GEMINI_API), policy=FAST)
    assert result.attempts == 3
    listed = session.rest("GET", "tunedModels")
    assert [m["name"] for m in listed.get("tunedModels", [])] == [result.resource_name]


def test_gemini_api_dropped_answer_is_recovered_without_a_duplicate(sandbox, sandbox_session) -> None:
    """The create reached the service but the answer was lost: the retry must not make a second model."""
    session = sandbox_session(Backend.GEMINI_API)
    sandbox.faults.add(route=r"tunedModels$", kind="truncate", count=1, method="POST")
    result = submit_job(None, session, _request(Backend.GEMINI_API), policy=FAST)
    assert result.recovered
    assert len(session.rest("GET", "tunedModels").get("tunedModels", [])) == 1


def test_agent_platform_503_retry_finds_the_job_by_label(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.faults.add(route=r"tuningJobs$", kind="truncate", count=1, method="POST")
    result = submit_job(None, session, _request(Backend.AGENT_PLATFORM), policy=FAST)
    client = session.client()
    assert [j.name for j in client.tunings.list()] == [result.resource_name]


def test_agent_platform_429_retries_then_creates_one_job(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.faults.add(route=r"tuningJobs$", kind="status", status=429, count=1, method="POST")
    result = submit_job(None, session, _request(Backend.AGENT_PLATFORM), policy=FAST)
    assert result.attempts == 2
    assert len(list(session.client().tunings.list())) == 1


def test_403_is_not_retried_and_says_permission_denied(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.faults.add(route=r"tuningJobs$", kind="status", status=403, method="POST")
    with pytest.raises(ServiceError) as info:
        submit_job(None, session, _request(Backend.AGENT_PLATFORM), policy=FAST)
    assert "Permission denied" in info.value.message
    assert len(sandbox.requests.matching("/tuningJobs", "POST")) == 1


def test_busy_service_gives_up_after_the_attempts(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    sandbox.faults.add(route=r"tunedModels$", kind="status", status=503, method="POST")
    with pytest.raises(UserError) as info:
        submit_job(None, session, _request(Backend.GEMINI_API),
                   policy=FAST.with_values(max_attempts=3, initial_delay_s=0.01))
    assert "stayed busy after 3 attempts" in info.value.message
    assert len(sandbox.requests.matching("/tunedModels", "POST")) == 3


def test_invalid_setting_names_the_field(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    with pytest.raises(InvalidSetting) as info:  # the sandbox allows 64 at most
        submit_job(None, session, _request(Backend.GEMINI_API, batch_size=200), policy=FAST)
    assert info.value.field == "batch_size" and "Batch size" in info.value.message


def test_missing_bucket_is_a_clear_message(sandbox) -> None:
    profile = ConnectionProfile(kind=ConnectionKind.SANDBOX, bucket="no-such-bucket")
    from gemtune_desktop.services.secrets import SecretStore

    session = BackendSession(profile, SecretStore(), sandbox_url=lambda: sandbox.base_url)
    try:
        with pytest.raises(UserError) as info:
            submit_job(None, session, _request(Backend.AGENT_PLATFORM), policy=FAST)
        assert "no-such-bucket" in info.value.message and "does not exist" in info.value.message
        assert not sandbox.requests.matching("/tuningJobs", "POST")
    finally:
        session.close()


def test_large_file_goes_up_resumably_in_chunks_with_progress(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    data = b"x" * (256 * 1024 * 3 + 100)
    seen: list[int] = []
    token = CancelToken(on_progress=lambda d, t, s: seen.append(d))
    uri = upload_bytes(token, session, "gemtune/test/big.jsonl", data, chunk_size=256 * 1024,
                       resumable_threshold=256 * 1024)
    assert uri == "gs://sandbox-bucket/gemtune/test/big.jsonl"
    assert len(sandbox.requests.matching("/upload/storage/v1/b/sandbox-bucket/o", "PUT")) >= 4
    assert session.storage_client().bucket("sandbox-bucket").blob("gemtune/test/big.jsonl").download_as_bytes() == data
    assert len(set(seen)) >= 4 and seen[-1] == len(data)


def test_cancel_during_upload_stops_before_the_job(sandbox, sandbox_session) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    token: CancelToken

    def on_progress(done: int, total: int, text: str) -> None:
        if 0 < done < total:
            token.cancel()

    token = CancelToken(on_progress=on_progress)
    with pytest.raises(Cancelled):
        upload_bytes(token, session, "gemtune/test/c.jsonl", b"y" * (256 * 1024 * 4), chunk_size=256 * 1024,
                     resumable_threshold=1)
    outcome = SubmitOutcome()
    assert outcome.result is None


def test_gemini_tunable_models_are_listed(sandbox, sandbox_session) -> None:
    models = list_gemini_tunable_models(None, sandbox_session(Backend.GEMINI_API))
    assert [name for name, _label in models] == ["models/sandbox-flash-001-tuning"]


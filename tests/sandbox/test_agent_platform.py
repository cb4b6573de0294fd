"""Agent Platform flavour of the Sandbox, driven by the real google-genai SDK in Vertex mode."""

from __future__ import annotations

import pytest
import requests
from google.genai import errors, types

from gemtune_desktop.services.backend import ServiceError
from gemtune_desktop.services.connections import Backend
from tests.sandbox.helpers import capitals_jsonl, sft_line, upload, wait_for

TUNABLE = {"gemini-3.5-flash", "gemini-3.5-flash-lite", "gemini-3.1-flash-lite"}


@pytest.fixture
def ap(sandbox_session):
    return sandbox_session(Backend.AGENT_PLATFORM)


def test_publisher_models_list_and_get(ap):
    client = ap.client()
    names = {m.name.rsplit("/", 1)[-1] for m in client.models.list()}
    assert names >= TUNABLE
    model = client.models.get(model="gemini-3.5-flash")
    assert model.name == "publishers/google/models/gemini-3.5-flash"
    with pytest.raises(errors.ClientError) as exc:
        client.models.get(model="gemini-0.1-nonexistent")
    assert exc.value.code == 404 and exc.value.status == "NOT_FOUND"


def test_job_runs_to_success_with_stats_checkpoints_and_tuned_answers(ap, sandbox):
    train = upload(ap, "capitals/train.jsonl", capitals_jsonl(12) + "this line is not json\n")
    client = ap.client()
    sandbox.steps_per_second = 8  # slow enough to observe the tuning phase
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(tuned_model_display_name="Capitals"))
    assert job.name.startswith("projects/sandbox-project/locations/us-central1/tuningJobs/")
    assert job.state == types.JobState.JOB_STATE_QUEUED
    assert job.tuning_job_state == types.TuningJobState.TUNING_JOB_STATE_WAITING_FOR_QUOTA

    seen_states, seen_phases, steps = [], [], []

    def fetch():
        j = client.tunings.get(name=job.name)
        seen_states.append(j.state)
        seen_phases.append(j.tuning_job_state)
        if j.tuning_job_metadata:
            steps.append(j.tuning_job_metadata.completed_step_count)
        return j

    wait_for(fetch, lambda j: j.tuning_job_state == types.TuningJobState.TUNING_JOB_STATE_TUNING)
    sandbox.steps_per_second = 400  # changing the pace mid-run keeps progress continuous
    done = wait_for(fetch, lambda j: j.has_ended)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    order = [types.JobState.JOB_STATE_QUEUED, types.JobState.JOB_STATE_PENDING, types.JobState.JOB_STATE_RUNNING,
             types.JobState.JOB_STATE_SUCCEEDED]
    assert [order.index(s) for s in seen_states] == sorted(order.index(s) for s in seen_states)
    assert types.TuningJobState.TUNING_JOB_STATE_TUNING in seen_phases
    assert steps == sorted(steps)

    stats = done.tuning_data_stats.supervised_tuning_data_stats
    assert stats.tuning_dataset_example_count == 12
    assert stats.total_truncated_example_count == 1  # the 13th line was dropped…
    assert stats.truncated_example_indices == [13]  # …and is named by its 1-based index
    assert stats.dropped_example_reasons[0].startswith("not valid JSON")
    spec = done.supervised_tuning_spec
    epochs = spec.hyper_parameters.epoch_count
    assert epochs == 4  # chosen automatically for a small dataset
    assert spec.hyper_parameters.learning_rate_multiplier == 1.0
    assert spec.hyper_parameters.adapter_size == types.AdapterSize.ADAPTER_SIZE_FOUR
    assert stats.tuning_step_count == done.tuning_job_metadata.completed_step_count == 3 * epochs  # 12 ex / batch 4
    assert done.tuning_job_metadata.completed_epoch_count == epochs
    assert stats.total_billable_token_count > 0
    assert done.experiment.startswith("projects/sandbox-project/locations/us-central1/metadataStores/default/")

    tuned = done.tuned_model
    assert tuned.model.startswith("projects/sandbox-project/locations/us-central1/models/") and \
        tuned.model.endswith("@1")
    model_name = tuned.model.split("@")[0]
    assert tuned.endpoint.startswith("projects/sandbox-project/locations/us/endpoints/")
    assert [c.epoch for c in tuned.checkpoints] == list(range(1, epochs + 1))
    assert len({c.endpoint for c in tuned.checkpoints} | {tuned.endpoint}) == epochs + 1

    serving = ap.serving_client(tuned.endpoint)
    answer = serving.models.generate_content(model=tuned.endpoint, contents="what's the capital of kenya")
    assert answer.text == "Nairobi"
    assert answer.model_version == "sandbox-simulation"
    assert "simulation" in answer.candidates[0].finish_message
    assert answer.candidates[0].finish_message.startswith("Sandbox simulation of the tuned model “Capitals”:")
    first_cp = tuned.checkpoints[0].endpoint
    assert serving.models.generate_content(model=first_cp, contents="Capital of Japan?").text == "Tokyo"

    listed = client.models.list(config={"query_base": False})
    assert [m.name for m in listed] == [tuned.model.split("@")[0]]
    model = client.models.get(model=tuned.model)
    assert model.tuned_model_info.base_model == "gemini-3-5-flash"
    renamed = client.models.update(model=tuned.model, config={"display_name": "Capitals v2"})
    assert renamed.display_name == "Capitals v2"
    assert client.tunings.get(name=job.name).tuned_model_display_name == "Capitals"

    with pytest.raises(errors.ClientError) as exc:  # the @1 of tunedModel.model is not part of a model's name
        client.models.delete(model=tuned.model)
    assert exc.value.code == 400 and "without" in exc.value.message
    with pytest.raises(errors.ClientError) as exc:  # still deployed: Google refuses
        client.models.delete(model=model_name)
    assert exc.value.code == 400 and exc.value.status == "FAILED_PRECONDITION"
    assert "deployed or being deployed at the following Endpoint(s)" in exc.value.message
    assert tuned.endpoint in exc.value.message
    assert [m.name for m in client.models.list(config={"query_base": False})] == [model_name]


def test_list_jobs_and_cancel(ap, sandbox):
    train = upload(ap, "t.jsonl", capitals_jsonl(12))
    client = ap.client()
    sandbox.steps_per_second = 20
    first = client.tunings.tune(base_model="gemini-3.1-flash-lite", training_dataset=types.TuningDataset(gcs_uri=train),
                                config=types.CreateTuningJobConfig(epoch_count=50))
    second = client.tunings.tune(base_model="gemini-3.5-flash-lite",
                                 training_dataset=types.TuningDataset(gcs_uri=train))
    listed = [j.name for j in client.tunings.list(config={"page_size": 1})]  # the pager follows nextPageToken
    assert sorted(listed) == sorted([first.name, second.name])

    wait_for(lambda: client.tunings.get(name=first.name),
             lambda j: j.tuning_job_state == types.TuningJobState.TUNING_JOB_STATE_TUNING)
    client.tunings.cancel(name=first.name)
    cancelled = wait_for(lambda: client.tunings.get(name=first.name), lambda j: j.has_ended)
    assert cancelled.state == types.JobState.JOB_STATE_CANCELLED
    assert cancelled.error.message == "CANCELED"
    assert cancelled.tuned_model is None
    frozen = cancelled.tuning_job_metadata.completed_step_count
    assert 0 <= frozen < 3 * 50
    with pytest.raises(errors.ClientError) as exc:
        client.tunings.cancel(name=first.name)
    assert exc.value.code == 400 and exc.value.status == "FAILED_PRECONDITION"
    assert client.tunings.get(name=first.name).tuning_job_metadata.completed_step_count == frozen
    assert [r.method for r in sandbox.requests.matching(":cancel")] == ["POST", "POST"]


def test_missing_training_file_fails_the_job(ap):
    client = ap.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash",
                              training_dataset=types.TuningDataset(gcs_uri="gs://sandbox-bucket/nope.jsonl"))
    done = wait_for(lambda: client.tunings.get(name=job.name), lambda j: j.has_ended)
    assert done.state == types.JobState.JOB_STATE_FAILED
    assert "gs://sandbox-bucket/nope.jsonl was not found" in done.error.message
    assert done.tuned_model is None


def test_file_without_usable_examples_fails_with_first_reason(ap):
    train = upload(ap, "bad.jsonl", "{not json\n" + sft_line("q", "a").replace('"model"', '"assistant"') + "\n")
    client = ap.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train))
    done = wait_for(lambda: client.tunings.get(name=job.name), lambda j: j.has_ended)
    assert done.state == types.JobState.JOB_STATE_FAILED
    assert "no usable examples" in done.error.message and "Example 1: not valid JSON" in done.error.message


def test_injected_training_failure(ap, sandbox):
    train = upload(ap, "t.jsonl", capitals_jsonl(12))
    sandbox.fail_next_training("Internal error while tuning (test).")
    job = ap.client().tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train))
    done = wait_for(lambda: ap.client().tunings.get(name=job.name), lambda j: j.has_ended)
    assert done.state == types.JobState.JOB_STATE_FAILED and done.error.message == "Internal error while tuning (test)."


@pytest.mark.parametrize(("config", "fragment"), [  # field paths in snake_case, as Google's errors name them
    ({"epoch_count": 0}, "supervised_tuning_spec.hyper_parameters.epoch_count"),
    ({"learning_rate_multiplier": -1.0}, "supervised_tuning_spec.hyper_parameters.learning_rate_multiplier"),
    ({"adapter_size": "ADAPTER_SIZE_THIRTY_TWO"}, "supervised_tuning_spec.hyper_parameters.adapter_size"),
])
def test_bad_hyperparameters_are_400(ap, config, fragment):
    train = upload(ap, "t.jsonl", capitals_jsonl(12))
    with pytest.raises(errors.ClientError) as exc:
        ap.client().tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                                 config=types.CreateTuningJobConfig(**config))
    assert exc.value.code == 400 and exc.value.status == "INVALID_ARGUMENT"
    assert fragment in exc.value.message


@pytest.mark.off_contract_requests("sends an unknown field to see the 400")
def test_unknown_and_untunable_models_and_unknown_fields(ap):
    train = upload(ap, "t.jsonl", capitals_jsonl(12))
    client = ap.client()
    with pytest.raises(errors.ClientError) as exc:
        client.tunings.tune(base_model="gemini-9-ultra", training_dataset=types.TuningDataset(gcs_uri=train))
    assert exc.value.code == 404
    with pytest.raises(errors.ClientError) as exc:
        client.tunings.tune(base_model="gemini-3.8-flash", training_dataset=types.TuningDataset(gcs_uri=train))
    assert exc.value.code == 400 and "does not support supervised tuning" in exc.value.message
    with pytest.raises(ServiceError) as raw:
        ap.rest("POST", f"{ap.parent}/tuningJobs", body={
            "baseModel": "gemini-3.5-flash", "supervisedTuningSpec": {"trainingDatasetUri": train},
            "epochs": 3})
    assert raw.value.code == 400 and raw.value.status == "INVALID_ARGUMENT"
    assert raw.value.message.endswith('Unknown name "epochs" at \'tuning_job\': Cannot find field.”')
    with pytest.raises(errors.ClientError) as exc:
        client.tunings.get(name=f"{ap.parent}/tuningJobs/123")
    assert exc.value.code == 404


def test_requests_without_token_are_refused(sandbox):
    resp = requests.get(f"{sandbox.base_url}v1beta1/publishers/google/models", timeout=5)
    assert resp.status_code == 401
    assert resp.json()["error"]["status"] == "UNAUTHENTICATED"


def test_recorded_requests_hide_credentials(ap, sandbox):
    ap.client().models.list()
    rec = sandbox.requests.matching("publishers/google/models", "GET")[-1]
    assert rec.path == "/v1beta1/publishers/google/models"
    assert not any(k.lower() == "authorization" for k in rec.headers)


def test_export_last_checkpoint_only_truncation_and_system_instruction(ap):
    huge = sft_line("Summarise this: " + "word " * 110_000, "A very long text.")  # > 131,072 tokens
    lines = [sft_line(f"Classify ticket {i}: printer jammed", "hardware", system="Answer with one word.")
             for i in range(7)] + [huge]
    train = upload(ap, "t.jsonl", "\n".join(lines) + "\n")
    client = ap.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(epoch_count=2, export_last_checkpoint_only=True,
                                                                 tuning_mode="TUNING_MODE_PEFT_ADAPTER"))
    done = wait_for(lambda: client.tunings.get(name=job.name), lambda j: j.has_ended)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    assert [c.epoch for c in done.tuned_model.checkpoints] == [2]
    assert done.supervised_tuning_spec.export_last_checkpoint_only is True
    stats = done.tuning_data_stats.supervised_tuning_data_stats
    assert stats.total_truncated_example_count == 1 and stats.truncated_example_indices == [8]  # 1-based
    assert "131,072" in stats.dropped_example_reasons[0]
    assert stats.tuning_dataset_example_count == 7  # the over-long example was dropped, not cut short
    assert stats.user_input_token_distribution.max < 131_072
    assert stats.user_message_per_example_distribution.mean == 2
    assert stats.user_dataset_examples[0].parts[0].text == "Classify ticket 0: printer jammed"
    answer = ap.serving_client(done.tuned_model.endpoint).models.generate_content(
        model=done.tuned_model.endpoint, contents="Classify ticket 99: printer jammed again")
    assert answer.text == "hardware"
    serving = ap.serving_client(done.tuned_model.endpoint)
    streamed = serving.models.generate_content_stream(model=done.tuned_model.endpoint, contents="printer jammed")
    assert "".join(c.text or "" for c in streamed) == "hardware"
    assert serving.models.count_tokens(model=done.tuned_model.endpoint, contents="abcdefgh").total_tokens == 2

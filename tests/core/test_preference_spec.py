"""Preference-tuning, continued-tuning and rebase requests: checked against the published schema and against what
the real google-genai SDK sends over real HTTP (captured by a small local server), plus checks, estimate, catalog."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.job_spec import JobSpec
from gemtune_desktop.core.preference import catalog
from gemtune_desktop.core.preference import spec as ps
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.tokens import estimate_tokens
from tests.helpers.aiplatform_schema import problems

# google-genai warns on every tunings.tune() call that the API is experimental (the app silences it the same way).
pytestmark = pytest.mark.filterwarnings("ignore:.*tuning implementation is experimental.*")

TUNED = "projects/p/locations/us-central1/models/123@1"
TRAIN, VAL = "gs://bucket/gemtune/train.jsonl", "gs://bucket/gemtune/validation.jsonl"


class _Capture(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        self.received.append((self.path, body))
        answer = json.dumps({"name": "projects/p/locations/us-central1/tuningJobs/42",
                             "state": "JOB_STATE_PENDING", "createTime": "2026-12-05T10:00:00Z"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def capture() -> Iterator[tuple[Any, list[tuple[str, dict[str, Any]]]]]:
    """(a google-genai client in Agent Platform mode pointed at a local server, the requests it received)."""
    from google import genai
    from google.oauth2.credentials import Credentials

    received: list[tuple[str, dict[str, Any]]] = []
    handler = type("Handler", (_Capture,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = genai.Client(enterprise=True, project="p", location="us-central1", credentials=Credentials(token="t"),
                          http_options={"base_url": f"http://127.0.0.1:{server.server_port}", "api_version": "v1beta1"})
    try:
        yield client, received
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join()


def send(client: Any, call: dict[str, Any]) -> Any:
    from google.genai import types

    # The config must be a CreateTuningJobConfig object: tune() reads the checkpoint with getattr().
    return client.tunings.tune(base_model=call["base_model"], training_dataset=types.TuningDataset(
        **call["training_dataset"]), config=types.CreateTuningJobConfig(**call["config"]))


SPECS = {
    "automatic": ps.PreferenceSpec(ps.StartingPoint("gemini-2.5-flash"), "Lease answers v2"),
    "every setting": ps.PreferenceSpec(ps.StartingPoint("gemini-2.5-flash-lite"), "Lease answers v2", epochs=2,
                                       learning_rate_multiplier=0.5, adapter_size=4, beta=0.1,
                                       export_last_checkpoint_only=True),
    "from a checkpoint": ps.PreferenceSpec(ps.StartingPoint(TUNED, "2", "gemini-2.5-flash"), "", epochs=1, beta=0.2),
    "from a tuned model, as a new model": ps.PreferenceSpec(ps.StartingPoint(TUNED), "Preferred answers"),
}


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_request_bodies_are_valid_against_the_published_schema(name: str, version: str) -> None:
    body = ps.request_body(SPECS[name], TRAIN, VAL, "a1b2c3d4-submit")
    assert problems(body, "TuningJob", version) == []
    assert ("preTunedModel" in body) is SPECS[name].start.continued
    assert ("baseModel" in body) is not SPECS[name].start.continued


def test_the_schema_check_itself_refuses_what_the_service_would() -> None:
    body = ps.request_body(SPECS["every setting"], TRAIN, VAL)
    body["preferenceOptimizationSpec"]["hyperParameters"]["adapterSize"] = "ADAPTER_SIZE_THREE"
    body["preferenceOptimizationSpec"]["evaluationConfig"] = {}
    found = problems(body, "TuningJob", "v1beta1")
    assert any("ADAPTER_SIZE_THREE" in p for p in found)
    assert "TuningJob.preferenceOptimizationSpec.evaluationConfig: no such field" in found


@pytest.mark.parametrize("name", ["automatic", "every setting"])
def test_the_sdk_sends_exactly_the_documented_body_for_a_base_model(capture: Any, name: str) -> None:
    client, received = capture
    job = send(client, ps.sdk_call(SPECS[name], TRAIN, VAL, "a1b2c3d4-submit"))
    [(path, body)] = received
    assert path == "/v1beta1/projects/p/locations/us-central1/tuningJobs"
    assert body == ps.request_body(SPECS[name], TRAIN, VAL, "a1b2c3d4-submit")
    assert job.name == "projects/p/locations/us-central1/tuningJobs/42"


def test_continued_tuning_sends_the_tuned_model_and_checkpoint_in_proto_field_names(capture: Any) -> None:
    """google-genai 3.6.1 serialises ``preTunedModel`` with its proto field names (``tuned_model_name``,
    ``checkpoint_id``), which proto JSON parsers accept beside the camelCase ones; everything else is camelCase."""
    client, received = capture
    spec = SPECS["from a checkpoint"]
    send(client, ps.sdk_call(spec, TRAIN, VAL))
    [(_path, body)] = received
    expected = ps.request_body(spec, TRAIN, VAL)
    assert body["preTunedModel"] == {"tuned_model_name": TUNED, "checkpoint_id": "2"}
    assert expected["preTunedModel"] == {"tunedModelName": TUNED, "checkpointId": "2"}
    assert {k: v for k, v in body.items() if k != "preTunedModel"} == \
        {k: v for k, v in expected.items() if k != "preTunedModel"}
    assert "baseModel" not in body and "tunedModelDisplayName" not in body  # a new version of the same model


def test_a_config_given_as_a_dict_loses_the_checkpoint(capture: Any) -> None:
    """Why the app must build a CreateTuningJobConfig object: tune() reads the checkpoint with getattr()."""
    client, received = capture
    from google.genai import types

    call = ps.sdk_call(SPECS["from a checkpoint"], TRAIN)
    client.tunings.tune(base_model=call["base_model"], training_dataset=types.TuningDataset(gcs_uri=TRAIN),
                        config=call["config"])
    assert received[0][1]["preTunedModel"] == {"tuned_model_name": TUNED}


def test_continued_supervised_tuning_uses_the_same_checkpoint_field(capture: Any) -> None:
    """The plug-in for the supervised job spec: its SDK call plus :func:`continued_config`."""
    client, received = capture
    start = ps.StartingPoint(TUNED, "3", "gemini-2.5-flash")
    call = JobSpec(base_model=start.model, display_name="", epochs=1).agent_platform_call(TRAIN, None)
    call["config"].update(ps.continued_config(start))
    send(client, call)
    body = received[0][1]
    assert body["preTunedModel"] == {"tuned_model_name": TUNED, "checkpoint_id": "3"}
    assert body["supervisedTuningSpec"]["trainingDatasetUri"] == TRAIN
    assert ps.continued_config(ps.StartingPoint("gemini-2.5-flash")) == {}
    assert ps.continued_config(ps.StartingPoint(TUNED)) == {}  # the service's default checkpoint


def test_checks_name_the_field_and_the_fix() -> None:
    def fields(spec: ps.PreferenceSpec, **kw: Any) -> dict[str, str]:
        return {p.field: p.message for p in ps.check_preference_spec(spec, **kw)}

    assert fields(SPECS["every setting"]) == {}
    assert fields(SPECS["from a checkpoint"]) == {}  # continued tuning may leave the name empty
    bad = ps.PreferenceSpec(ps.StartingPoint("gemini-2.5-flash", "2"), "", epochs=0, learning_rate_multiplier=0,
                            adapter_size=32, beta=0)
    found = fields(bad)
    assert set(found) == {"display_name", "start", "epochs", "learning_rate_multiplier", "adapter_size", "beta"}
    assert "checkpoint belongs to a tuned model" in found["start"]
    assert "at 0 the model learns nothing" in found["beta"]
    assert "choose one of 1, 2, 4, 8, 16" in found["adapter_size"]
    assert "projects/…/locations/…/models/…" in fields(ps.PreferenceSpec(ps.StartingPoint("projects/x"), "n"))["start"]
    refused = fields(SPECS["automatic"], supports_preference=False, model_label="Gemini 3.5 Flash")
    assert refused == {"method": "Gemini 3.5 Flash does not take preference tuning. Choose another base model, or use "
                                 "supervised tuning."}
    assert fields(SPECS["automatic"], supports_preference=None) == {}  # unknown: the service decides
    long_name = ps.PreferenceSpec(ps.StartingPoint("gemini-2.5-flash"), "n" * 129)
    assert "at most 128" in fields(long_name)["display_name"]


def test_the_estimate_counts_prompt_tokens_twice_plus_both_answers() -> None:
    settings = PreferenceSettings(preamble="Context:", system_instruction="Be exact.")
    train = [PreferenceExample("What is the notice period?", "Three months.", "It depends on many things."),
             PreferenceExample("Deposit?", "Two months' rent.", "Some money.", "Own instruction.")]
    validation = [PreferenceExample("Pets?", "Allowed.", "No.", split=Split.VALIDATION)]
    prompt = sum(estimate_tokens(settings.prompt_for(e)) + estimate_tokens(settings.system_for(e)) for e in train)
    answers = sum(estimate_tokens(e.preferred) + estimate_tokens(e.dispreferred) for e in train)
    est = ps.estimate_preference(ps.PreferenceSpec(epochs=2), train, validation, settings)
    assert (est.prompt_tokens, est.answer_tokens) == (prompt, answers)
    assert est.billable_per_epoch == 2 * prompt + answers and est.billable_tokens == 2 * (2 * prompt + answers)
    lines = dict(est.lines())
    assert lines["Cost estimate"] == "price unknown: no published price for preference tuning on this model"
    assert lines["Validation examples"] == "1"
    priced = ps.estimate_preference(ps.PreferenceSpec(epochs=2), train, [], settings, price_per_million=4.0)
    assert priced.cost == pytest.approx(est.billable_tokens * 4.0 / 1_000_000)
    auto = ps.estimate_preference(ps.PreferenceSpec(), train, validation, settings, price_per_million=4.0)
    assert auto.billable_tokens is None and auto.cost is None
    assert dict(auto.lines())["Cost estimate"].endswith("per epoch")
    assert dict(auto.lines())["Epochs"] == "chosen by the service"


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_rebase_request_is_valid_against_the_published_schema(version: str) -> None:
    path, body = ps.rebase_request(TUNED, "gemini-3.5-flash", artifact_uri="gs://bucket/rebase/")
    assert path == "projects/p/locations/us-central1/tuningJobs:rebaseTunedModel"
    assert body == {"tunedModelRef": {"tunedModel": TUNED}, "tuningJob": {"baseModel": "gemini-3.5-flash"},
                    "artifactDestination": {"outputUriPrefix": "gs://bucket/rebase/"}}
    assert problems(body, "RebaseTunedModelRequest", version) == []
    _path, minimal = ps.rebase_request(TUNED)
    assert minimal == {"tunedModelRef": {"tunedModel": TUNED}}  # never replaces the old model unless asked
    assert ps.rebase_request(TUNED, deploy_to_same_endpoint=True)[1]["deployToSameEndpoint"] is True
    with pytest.raises(ValueError):
        ps.rebase_request("gemini-2.5-flash")


def test_a_rebase_operation_is_read_whatever_carries_the_new_job() -> None:
    job = "projects/p/locations/us-central1/tuningJobs/77"
    op = ps.parse_rebase_operation({"name": "projects/p/locations/us-central1/operations/9", "done": True,
                                    "response": {"@type": "type.googleapis.com/google.cloud.aiplatform.v1.TuningJob",
                                                 "name": job}})
    assert op == ps.RebaseOperation("projects/p/locations/us-central1/operations/9", True, job)
    pending = ps.parse_rebase_operation({"name": "ops/1", "metadata": {"tuningJob": job}})
    assert pending.tuning_job == job and not pending.done
    failed = ps.parse_rebase_operation({"name": "ops/2", "done": True,
                                        "error": {"code": 3, "message": "No newer base."}})
    assert failed.error == "No newer base." and failed.tuning_job == ""


def test_lineage_in_words() -> None:
    assert ps.lineage(ps.PREFERENCE, ps.StartingPoint(TUNED, "2", job_label="“Lease answers”")) == \
        "Preference-tuned from checkpoint 2 of “Lease answers”"
    assert ps.lineage(ps.SUPERVISED, ps.StartingPoint(TUNED)) == "Tuned from 123@1 (its default checkpoint)"
    assert ps.lineage(ps.PREFERENCE, ps.StartingPoint("gemini-2.5-flash")) == \
        "Preference-tuned from the base model gemini-2.5-flash"


CATALOG = {"agent_platform": {
    "tunable_models": [{"id": "gemini-3.5-flash", "label": "Gemini 3.5 Flash", "preference_tuning": None,
                        "retires": "2027-05-19"},
                       {"id": "gemini-x", "label": "Gemini X", "preference_tuning": False}],
    "retired_models": [{"id": "gemini-2.5-flash", "label": "Gemini 2.5 Flash", "preference_tuning": True,
                        "retires": "2026-10-20", "replacements": ["gemini-3.5-flash-lite", "gemini-3.1-flash-lite"]}]}}


def test_catalog_facts_availability_and_retirement_notices() -> None:
    facts = catalog.model_facts(CATALOG)
    assert facts["gemini-2.5-flash"].preference_tuning is True and not facts["gemini-2.5-flash"].tunable
    assert facts["gemini-3.5-flash"].preference_tuning is None and facts["gemini-3.5-flash"].continued_tuning is None
    offered, why = catalog.preference_availability(facts["gemini-x"])
    assert not offered and why == "Gemini X does not take preference tuning."
    offered, why = catalog.preference_availability(facts["gemini-3.5-flash"])
    assert offered and "does not say whether Gemini 3.5 Flash takes preference tuning" in why
    assert catalog.preference_availability(facts["gemini-2.5-flash"]) == (True, "")
    old = facts["gemini-2.5-flash"]
    assert catalog.retirement_notice(old, dt.date(2026, 6, 1)) is None
    soon = catalog.retirement_notice(old, dt.date(2026, 9, 20))
    assert soon is not None and "retires on 20 October 2026 (in 30 days)" in soon
    assert "gemini-3.5-flash-lite or gemini-3.1-flash-lite" in soon
    gone = catalog.retirement_notice(old, dt.date(2026, 12, 5))
    assert gone is not None and "was retired on 20 October 2026" in gone
    assert catalog.retirement_notice(facts["gemini-x"], dt.date(2026, 12, 5)) is None
    assert catalog.model_facts({"agent_platform": {"tunable_models": [{"label": "no id"}, "junk"]}}) == {}


def test_the_shipped_catalogue_reads() -> None:
    from pathlib import Path

    shipped = json.loads((Path(__file__).resolve().parents[2] / "resources" / "models.json").read_text("utf-8"))
    facts = catalog.model_facts(shipped)
    assert "gemini-3.5-flash" in facts and facts["gemini-2.5-flash"].preference_tuning is True
    assert all(f.preference_tuning in (None, True, False) for f in facts.values())

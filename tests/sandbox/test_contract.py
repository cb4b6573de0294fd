"""The Sandbox follows Google's published aiplatform contract (discovery documents v1 and v1beta1).

Raw HTTP here, so that what is on the wire is what is tested: field names, enum spellings,
error wording, paths.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from gemtune_desktop.resources import read_json
from gemtune_desktop.sandbox import agent_views, contract
from tests.sandbox.helpers import capitals_jsonl, upload, wait_for

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer test-token"}


def _extractor() -> Any:
    script = ROOT / "scripts" / "extract_aiplatform_contract.py"
    spec = importlib.util.spec_from_file_location("extract_contract", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def base(sandbox: Any) -> str:
    return sandbox.base_url.rstrip("/")


@pytest.fixture
def train_uri(sandbox_session: Any) -> str:
    return upload(sandbox_session(), "contract/train.jsonl", capitals_jsonl(12))


def post(url: str, body: Any, **kwargs: Any) -> requests.Response:
    return requests.post(url, data=json.dumps(body), headers={**AUTH, "Content-Type": "application/json"},
                         timeout=10, **kwargs)


def get(url: str, **kwargs: Any) -> requests.Response:
    return requests.get(url, headers=AUTH, timeout=10, **kwargs)


def job_body(train_uri: str, **extra: Any) -> dict[str, Any]:
    return {"baseModel": "gemini-3.5-flash", "supervisedTuningSpec": {"trainingDatasetUri": train_uri}, **extra}


# -- the shipped subset ---------------------------------------------------------------------------------------
def test_shipped_subset_matches_the_installed_discovery_documents() -> None:
    extractor = _extractor()
    shipped = read_json("aiplatform", "contract.json")
    for version in ("v1", "v1beta1"):
        fresh = extractor.build_subset(version)
        assert shipped["versions"][version] == json.loads(json.dumps(fresh)), (
            f"resources/aiplatform/contract.json is out of date for {version}: run "
            "scripts/extract_aiplatform_contract.py")


def test_enum_numbers_name_only_enums_of_the_subset() -> None:
    shipped = read_json("aiplatform", "contract.json")["versions"]
    numbers = read_json("aiplatform", "enum_numbers.json")["versions"]
    for version, table in numbers.items():
        for key, entry in table.items():
            schema, prop = key.rsplit(".", 1)
            spec = shipped[version]["schemas"][schema]["properties"][prop]
            names = (spec.get("items") or spec.get("additionalProperties") or spec)["enum"]
            assert set(entry["numbers"]) <= set(names), key
    # The ones clients send and read most, numbered as in googleapis' .proto files.
    adapter = numbers["v1beta1"]["GoogleCloudAiplatformV1beta1SupervisedHyperParameters.adapterSize"]["numbers"]
    assert adapter["ADAPTER_SIZE_TWO"] == 6 and adapter["ADAPTER_SIZE_FOUR"] == 2
    state = numbers["v1"]["GoogleCloudAiplatformV1TuningJob.state"]["numbers"]
    assert state["JOB_STATE_SUCCEEDED"] == 4


def test_every_route_is_a_published_method(sandbox: Any) -> None:
    """Every Agent Platform route (``/v1/…``, ``/v1beta1/…``, ``/v1beta1:…``, also under the emulated serving
    hosts) is made by ``contract.rules`` at a published path and handled by an ``@contract.enforced`` handler;
    only the Gemini API and Cloud Storage live outside the contract."""
    from gemtune_desktop.sandbox.server import _url_map

    c = contract.load()
    checked = 0
    for rule in _url_map().iter_rules():
        path = re.sub(r"^/<any\([^>]*\):serving_host>", "", rule.rule)
        if not re.match(r"^/v1(beta1)?[/:]", path) or rule.endpoint.startswith("gemini."):
            continue  # the Gemini API serves /v1/ and /v1beta/ too
        checked += 1
        defaults = rule.defaults or {}
        assert "method_id" in defaults, f"{rule.rule} is served outside the contract machinery"
        method = c.method(defaults["api_version"], defaults["method_id"])
        assert method is not None, rule.rule
        assert path == contract._rule_path(method.flat_path), (rule.rule, method.flat_path)
        assert rule.methods is not None and method.http_method in rule.methods
        owner, _, name = str(rule.endpoint).partition(".")
        handler = getattr(type(sandbox._handlers[owner]), name)
        assert hasattr(handler, "__wrapped__"), f"{rule.endpoint} is not held to the contract (@contract.enforced)"
    assert checked > 60


# -- requests ----------------------------------------------------------------------------------------------
@pytest.mark.off_contract_requests("checks the answers to off-contract bodies")
def test_unknown_fields_get_googles_wording(base: str, train_uri: str) -> None:
    url = f"{base}/v1beta1/projects/p/locations/us-central1/tuningJobs"
    resp = post(url, job_body(train_uri, evaluationConfig={"metrics": []}))  # only inside supervisedTuningSpec
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == ('Invalid JSON payload received. Unknown name "evaluationConfig" at \'tuning_job\': '
                                "Cannot find field.")
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert error["details"][0]["fieldViolations"][0]["field"] == "tuning_job"
    nested = post(url, {"baseModel": "gemini-3.5-flash", "supervisedTuningSpec": {
        "trainingDatasetUri": train_uri, "hyperParameters": {"epochs": 3}}}).json()["error"]["message"]
    assert nested == ('Invalid JSON payload received. Unknown name "epochs" at '
                      "'tuning_job.supervised_tuning_spec.hyper_parameters': Cannot find field.")
    typed = post(url, {"baseModel": "gemini-3.5-flash", "supervisedTuningSpec": {
        "trainingDatasetUri": train_uri, "hyperParameters": {"epochCount": "three"}}}).json()["error"]["message"]
    assert typed == ("Invalid value at 'tuning_job.supervised_tuning_spec.hyper_parameters.epoch_count' "
                     '(TYPE_INT64), "three"')
    enum = post(url, {"baseModel": "gemini-3.5-flash", "supervisedTuningSpec": {
        "trainingDatasetUri": train_uri, "hyperParameters": {"adapterSize": "ADAPTER_SIZE_HUGE"}}}).json()["error"]
    assert enum["message"] == ("Invalid value at 'tuning_job.supervised_tuning_spec.hyper_parameters.adapter_size' "
                               "(type.googleapis.com/google.cloud.aiplatform.v1beta1.SupervisedHyperParameters."
                               'AdapterSize), "ADAPTER_SIZE_HUGE"')
    query = get(f"{url}?pageSize=2&colour=blue").json()["error"]["message"]
    assert query == ('Invalid JSON payload received. Unknown name "colour": Cannot bind query parameter. Field '
                     "'colour' could not be found in request message.")


def test_known_fields_are_never_refused(base: str, train_uri: str) -> None:
    url = f"{base}/v1beta1/projects/p/locations/us-central1/tuningJobs"
    label = "x" * 64
    evaluation = {"metrics": [{"bleuSpec": {}}], "outputConfig": {"gcsDestination": {"outputUriPrefix": "gs://b/o"}}}
    ok = post(url, {"baseModel": "gemini-3.5-flash", "labels": {label: label},
                    "supervisedTuningSpec": {"trainingDatasetUri": train_uri, "evaluationConfig": evaluation}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["supervisedTuningSpec"]["evaluationConfig"] == evaluation
    assert ok.json()["labels"] == {label: label}
    for spec, words in (({"preferenceOptimizationSpec": {"trainingDatasetUri": train_uri,
                                                         "hyperParameters": {"beta": 0.1, "epochCount": "1"}}},
                         'a preference example needs "contents"'),  # simulated; the supervised file has none
                        ({"distillationSpec": {"trainingDatasetUri": train_uri,
                                               "baseTeacherModel": "gemini-3.5-flash"}},
                         "simulates supervised and preference tuning only")):  # valid, but not simulated
        created = post(url, {"baseModel": "gemini-3.5-flash", **spec})
        assert created.status_code == 200, created.text
        done = wait_for(lambda c=created: get(f"{base}/v1beta1/{c.json()['name']}").json(),
                        lambda j: j["state"] in ("JOB_STATE_FAILED", "JOB_STATE_SUCCEEDED"))
        assert words in done["error"]["message"]


def test_snake_case_names_and_enum_numbers_are_read_as_protobuf_json(base: str, train_uri: str) -> None:
    url = f"{base}/v1beta1/projects/p/locations/us-central1/tuningJobs"
    resp = post(url + "?$alt=json;enum-encoding=int", {
        "base_model": "gemini-3.5-flash", "tuned_model_display_name": "snake",
        "supervised_tuning_spec": {"training_dataset_uri": train_uri,
                                   "hyper_parameters": {"adapter_size": 6, "epoch_count": 2}}})
    assert resp.status_code == 200, resp.text
    job = resp.json()
    assert job["tunedModelDisplayName"] == "snake"
    assert job["supervisedTuningSpec"]["hyperParameters"]["adapterSize"] == 6  # ADAPTER_SIZE_TWO, as sent
    assert job["state"] == 1  # JOB_STATE_QUEUED
    named = get(f"{base}/v1beta1/{job['name']}").json()
    assert named["supervisedTuningSpec"]["hyperParameters"]["adapterSize"] == "ADAPTER_SIZE_TWO"
    assert named["state"] == "JOB_STATE_QUEUED"


def test_any_project_and_both_api_versions(base: str, train_uri: str) -> None:
    created = post(f"{base}/v1/projects/my-real-project-123/locations/europe-west4/tuningJobs",
                   job_body(train_uri))
    assert created.status_code == 200, created.text
    name = created.json()["name"]
    assert name.startswith("projects/my-real-project-123/locations/europe-west4/tuningJobs/")
    assert "tuningJobState" not in created.json()  # v1 has no such field
    beta = get(f"{base}/v1beta1/{name}").json()
    assert beta["tuningJobState"] == "TUNING_JOB_STATE_WAITING_FOR_QUOTA"
    assert get(f"{base}/v1beta1/{name.replace('my-real-project-123', 'other-project')}").status_code == 404
    listed = get(f"{base}/v1/projects/my-real-project-123/locations/europe-west4/tuningJobs").json()
    assert [j["name"] for j in listed["tuningJobs"]] == [name]


@pytest.mark.off_contract_requests("tuningMode does not exist in v1")
def test_v1beta1_only_fields_are_unknown_on_v1(base: str, train_uri: str) -> None:
    body = {"baseModel": "gemini-3.5-flash",
            "supervisedTuningSpec": {"trainingDatasetUri": train_uri, "tuningMode": "TUNING_MODE_FULL"}}
    resp = post(f"{base}/v1/projects/p/locations/us-central1/tuningJobs", body)
    assert resp.status_code == 400
    assert 'Unknown name "tuningMode" at \'tuning_job.supervised_tuning_spec\'' in resp.json()["error"]["message"]


def test_list_filters_on_state_and_labels(base: str, train_uri: str, sandbox: Any) -> None:
    url = f"{base}/v1beta1/projects/p/locations/us-central1/tuningJobs"
    sandbox.steps_per_second = 2000
    a = post(url, job_body(train_uri, labels={"team": "legal"})).json()["name"]
    wait_for(lambda: get(f"{base}/v1beta1/{a}").json()["state"], lambda s: s == "JOB_STATE_SUCCEEDED")
    sandbox.steps_per_second = 1
    b = post(url, job_body(train_uri, labels={"team": "support"})).json()["name"]

    def names(flt: str) -> list[str]:
        resp = get(url, params={"filter": flt})
        assert resp.status_code == 200, resp.text
        return [j["name"] for j in resp.json().get("tuningJobs", [])]

    assert names('state="JOB_STATE_SUCCEEDED"') == [a]
    assert names("state!=JOB_STATE_SUCCEEDED") == [b]
    assert names('labels.team="support"') == [b]
    assert sorted(names("labels.team:*")) == sorted([a, b])
    assert names('labels.team="legal" AND state="JOB_STATE_SUCCEEDED"') == [a]
    assert sorted(names('labels.team="legal" OR labels.team="support"')) == sorted([a, b])
    assert names("labels.owner:*") == []
    bad = get(url, params={"filter": 'state="JOB_STATE_SUCCEEDED" AND'})
    assert bad.status_code == 400 and "Invalid filter" in bad.json()["error"]["message"]


@pytest.mark.logs_errors
def test_answers_that_break_the_schema_are_not_sent(base: str, train_uri: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real = agent_views.job_view
    monkeypatch.setattr("gemtune_desktop.sandbox.routes_agent.job_view",
                        lambda *a, **k: {**real(*a, **k), "tuningProgress": 0.5})
    resp = post(f"{base}/v1beta1/projects/p/locations/us-central1/tuningJobs", job_body(train_uri))
    assert resp.status_code == 500
    assert "does not follow Google's published v1beta1 schema" in resp.json()["error"]["message"]
    assert 'Unknown name "tuningProgress"' in resp.json()["error"]["message"]


@pytest.mark.off_contract_requests("sends wrong types to read the field paths in Google's answers")
def test_the_field_paths_in_these_answers_name_the_form_fields(base: str, train_uri: str) -> None:
    from gemtune_desktop.core.job_spec import field_for_error

    url = f"{base}/v1beta1/projects/p/locations/us-central1/tuningJobs"
    cases = {"epochCount": ("three", "epochs"), "learningRateMultiplier": ("fast", "learning_rate_multiplier"),
             "adapterSize": ("ADAPTER_SIZE_HUGE", "adapter_size")}
    for name, (value, field) in cases.items():
        error = post(url, {"baseModel": "gemini-3.5-flash", "supervisedTuningSpec": {
            "trainingDatasetUri": train_uri, "hyperParameters": {name: value}}}).json()["error"]
        paths = [v["field"] for v in error["details"][0]["fieldViolations"]]
        assert paths[0].startswith("tuning_job.supervised_tuning_spec.hyper_parameters.")
        assert field_for_error(error["message"]) == field_for_error("", paths)
        assert (field_for_error(error["message"]) or ("",))[0] == field
    missing = post(url, {"baseModel": "gemini-3.5-flash", "supervisedTuningSpec": {
        "trainingDatasetUri": "train.jsonl"}}).json()["error"]["message"]
    assert (field_for_error(missing) or ("",))[0] == "dataset"

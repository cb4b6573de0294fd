"""The suite-wide capture of Agent Platform requests (tests/helpers/contract_capture.py) catches drift."""

from __future__ import annotations

import json
from typing import Any

from gemtune_desktop.services.connections import Backend
from tests.helpers.contract_capture import RECORDER, Sent, problems

BEARER = {"authorization": "Bearer x"}
JOBS = "http://127.0.0.1:1/v1beta1/projects/p/locations/us-central1/tuningJobs"


def sent(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Sent:
    return Sent(method, url, headers if headers is not None else BEARER,
                json.dumps(body).encode() if body is not None else b"")


def test_a_valid_create_passes_and_drift_is_named() -> None:
    body = {"baseModel": "gemini-3.5-flash", "tunedModelDisplayName": "x",
            "supervisedTuningSpec": {"trainingDatasetUri": "gs://b/t.jsonl",
                                     "hyperParameters": {"epochCount": "3", "adapterSize": "ADAPTER_SIZE_FOUR"}},
            "labels": {"a": "b"}}
    assert problems(sent("POST", JOBS, body)) == []
    drift = problems(sent("POST", JOBS, {**body, "evaluationConfig": {}}))
    assert drift == ["aiplatform.projects.locations.tuningJobs.create (v1beta1): "
                     "GoogleCloudAiplatformV1beta1TuningJob.evaluationConfig: no such field in "
                     "GoogleCloudAiplatformV1beta1TuningJob"]
    typed = problems(sent("POST", JOBS, {"baseModel": "m", "supervisedTuningSpec": {"exportLastCheckpointOnly": "no"}}))
    assert typed and "expected true or false" in typed[0]
    v1 = problems(sent("POST", JOBS.replace("v1beta1", "v1"),
                       {"baseModel": "m", "supervisedTuningSpec": {"tuningMode": "TUNING_MODE_FULL"}}))
    assert v1 and "tuningMode: no such field" in v1[0]


def test_paths_query_parameters_and_what_is_not_agent_platform() -> None:
    assert problems(sent("GET", JOBS + "/123")) == []
    assert problems(sent("GET", JOBS + "/123:read")) == [
        "GET /v1beta1/projects/p/locations/us-central1/tuningJobs/123:read: no published aiplatform method has this "
        "verb and path"]
    assert problems(sent("GET", JOBS + "?pageSize=5&filter=state%3DX")) == []
    assert "query parameter 'orderBy'" in problems(sent("GET", JOBS + "?orderBy=name"))[0]
    served = "http://127.0.0.1:1/aiplatform.us.rep.googleapis.com/v1beta1/projects/p/locations/us/endpoints/9:generateContent"
    assert problems(sent("POST", served, {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})) == []
    assert problems(sent("GET", "http://127.0.0.1:1/v1beta/tunedModels/x", headers={"x-goog-api-key": "k"})) == []
    assert problems(sent("GET", "http://127.0.0.1:1/storage/v1/b/bucket", headers=BEARER)) == []


def test_the_apps_own_requests_are_captured_at_the_client(sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    session.client().models.list()  # google-genai, over httpx2
    session.rest("GET", f"{session.parent}/tuningJobs")  # the app's REST, over requests
    seen = [s for s in list(RECORDER.sent) if "/v1beta1/" in s.url]
    assert any(s.url.endswith("/v1beta1/publishers/google/models") for s in seen)
    assert any("/tuningJobs" in s.url and s.method == "GET" for s in seen)
    assert all(problems(s) == [] for s in seen)

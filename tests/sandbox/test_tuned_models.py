"""What a finished job leaves on the Sandbox: the tuned model, its endpoints, undeploying and deleting it."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from google.genai import types

from gemtune_desktop.services.backend import ServiceError
from gemtune_desktop.services.connections import Backend
from tests.sandbox.helpers import capitals_jsonl, upload, wait_for


@pytest.fixture
def ap(sandbox_session: Any) -> Any:
    return sandbox_session(Backend.AGENT_PLATFORM)


def finished_job(ap: Any, epochs: int = 2) -> types.TuningJob:
    train = upload(ap, "t.jsonl", capitals_jsonl(12))
    client = ap.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(tuned_model_display_name="Capitals",
                                                                 epoch_count=epochs))
    return wait_for(lambda: client.tunings.get(name=job.name), lambda j: j.has_ended)


def wait_done(ap: Any, op: dict[str, Any]) -> dict[str, Any]:
    return wait_for(lambda: ap.rest("GET", op["name"]), lambda o: o.get("done"))


def test_undeploy_every_endpoint_then_delete(ap: Any, sandbox: Any) -> None:
    job = finished_job(ap)
    sandbox.steps_per_second = 10  # an undeploy takes 4 steps' time: 0.4 s
    model = job.tuned_model.model.split("@")[0]
    info = ap.rest("GET", model)
    deployed = info["deployedModels"]
    endpoints = {d["endpoint"] for d in deployed}
    assert job.tuned_model.endpoint in endpoints
    assert {c.endpoint for c in job.tuned_model.checkpoints} <= endpoints  # each checkpoint is deployed too
    endpoint = ap.rest("GET", job.tuned_model.endpoint)
    assert endpoint["deployedModels"][0]["model"] == model
    for dep in deployed:
        op = ap.rest("POST", f"{dep['endpoint']}:undeployModel", body={"deployedModelId": dep["deployedModelId"]})
        assert op["name"].startswith(f"{dep['endpoint']}/operations/") and not op.get("done")
        with pytest.raises(ServiceError) as err:  # not yet: the undeploy is still running
            ap.rest("DELETE", model)
        assert err.value.status == "FAILED_PRECONDITION"
        done = wait_done(ap, op)
        assert done["metadata"]["@type"].endswith("UndeployModelOperationMetadata")
    assert "deployedModels" not in ap.rest("GET", model)
    with pytest.raises(Exception) as err:  # an undeployed endpoint no longer answers
        ap.serving_client(job.tuned_model.endpoint).models.generate_content(model=job.tuned_model.endpoint,
                                                                            contents="Capital of Peru?")
    assert getattr(err.value, "code", 0) == 404
    op = ap.rest("DELETE", model)
    assert op["name"].startswith(model.rsplit("/models/", 1)[0] + "/operations/")
    assert wait_done(ap, op)["response"]["@type"] == "type.googleapis.com/google.protobuf.Empty"
    with pytest.raises(ServiceError) as gone:
        ap.rest("GET", model)
    assert gone.value.code == 404


def test_tuned_endpoints_answer_only_on_the_multi_region_host(ap: Any, sandbox: Any) -> None:
    job = finished_job(ap, epochs=1)
    endpoint = job.tuned_model.endpoint
    assert endpoint.startswith("projects/sandbox-project/locations/us/endpoints/")
    body = {"contents": [{"role": "user", "parts": [{"text": "Capital of Japan?"}]}]}
    headers = {"Authorization": "Bearer t"}
    regional = requests.post(f"{sandbox.base_url}v1beta1/{endpoint}:generateContent", json=body, headers=headers,
                             timeout=10)
    assert regional.status_code == 400 and "only on the us multi-region" in regional.json()["error"]["message"]
    on_us = requests.post(f"{sandbox.base_url}aiplatform.us.rep.googleapis.com/v1beta1/{endpoint}:generateContent",
                          json=body, headers=headers, timeout=10)
    assert on_us.status_code == 200 and on_us.json()["candidates"][0]["content"]["parts"][0]["text"] == "Tokyo"
    on_eu = requests.post(f"{sandbox.base_url}aiplatform.eu.rep.googleapis.com/v1/{endpoint}:generateContent",
                          json=body, headers=headers, timeout=10)
    assert on_eu.status_code == 400
    # The tuning region in the name is accepted too (which one Google returns is not documented).
    regional_name = endpoint.replace("/locations/us/", "/locations/us-central1/")
    also = requests.post(f"{sandbox.base_url}aiplatform.us.rep.googleapis.com/v1/{regional_name}:generateContent",
                         json=body, headers=headers, timeout=10)
    assert also.status_code == 200


def test_tuned_models_list_filter(ap: Any) -> None:
    job = finished_job(ap, epochs=1)
    model = job.tuned_model.model.split("@")[0]
    parent = model.rsplit("/models/", 1)[0]
    assert [m["name"] for m in ap.rest("GET", f"{parent}/models", params={"filter": "labels.tune-type:*"})
            ["models"]] == [model]
    assert ap.rest("GET", f"{parent}/models", params={"filter": 'labels.tune-type="rl"'}).get("models", []) == []

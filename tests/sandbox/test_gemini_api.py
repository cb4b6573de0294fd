"""Gemini API (v1beta) flavour of the Sandbox: models and the legacy tunedModels resource."""

from __future__ import annotations

import pytest
from google.genai import errors, types

from gemtune_desktop.services.backend import ServiceError
from gemtune_desktop.services.connections import Backend
from tests.sandbox.helpers import CAPITALS, wait_for


@pytest.fixture
def gm(sandbox_session):
    return sandbox_session(Backend.GEMINI_API)


def tuned_body(**hyper) -> dict:
    examples = [{"textInput": f"What is the capital of {c}?", "output": a} for c, a in CAPITALS]
    return {"displayName": "Capitals", "baseModel": "models/sandbox-flash-001-tuning",
            "tuningTask": {"hyperparameters": {"epochCount": 3, "batchSize": 4, **hyper},
                           "trainingData": {"examples": {"examples": examples}}}}


def test_models_list_shows_the_tunable_base_model(gm):
    models = {m.name: m for m in gm.client().models.list()}
    assert "createTunedModel" in models["models/sandbox-flash-001-tuning"].supported_actions
    assert "createTunedModel" not in models["models/gemini-3.5-flash"].supported_actions
    assert gm.client().models.get(model="gemini-3.5-flash").display_name == "Gemini 3.5 Flash"
    with pytest.raises(errors.ClientError) as exc:
        gm.client().models.get(model="gemini-0-nope")
    assert exc.value.code == 404


def test_a_tuned_model_read_as_it_finishes_is_described_at_one_moment(gm, sandbox, monkeypatch):
    """A poll that lands as training ends sees either a model still being created or an active one with its
    complete time and every snapshot, never ACTIVE without them."""
    from gemtune_desktop.sandbox import state as sandbox_state

    sandbox.steps_per_second = 0.01
    name = gm.rest("POST", "tunedModels", body=tuned_body())["metadata"]["tunedModel"]
    run = sandbox.gemini._tuned(name.rsplit("/", 1)[1])
    end_wall = run.wall(run.status(now=run.created_wall + 1e9).end_tick)
    readings = iter([end_wall - 10.0])  # the first reading of the clock just before the end, the rest after

    class Clock:
        @staticmethod
        def time() -> float:
            return next(readings, end_wall + 10.0)

    monkeypatch.setattr(sandbox_state, "time", Clock)
    view = sandbox.gemini.tuned_view(run)
    task = view["tuningTask"]
    if view["state"] == "ACTIVE":
        assert "completeTime" in task and len(task["snapshots"]) == 9
    else:
        assert view["state"] == "CREATING" and "completeTime" not in task

def test_tuned_model_lifecycle(gm, sandbox):
    sandbox.steps_per_second = 0.01  # cannot finish during the checks below, however busy the machine is
    op = gm.rest("POST", "tunedModels", body=tuned_body())
    name = op["metadata"]["tunedModel"]
    assert op["name"].startswith(name + "/operations/")
    assert op["metadata"]["totalSteps"] == 9  # 12 examples / batch 4 × 3 epochs
    assert gm.rest("GET", name)["state"] == "CREATING"

    with pytest.raises(errors.ClientError) as exc:
        gm.client().models.generate_content(model=name, contents="capital of Peru?")
    assert exc.value.code == 400 and exc.value.status == "FAILED_PRECONDITION"

    sandbox.steps_per_second = 100
    counts = []
    done = wait_for(lambda: gm.rest("GET", name), lambda t: counts.append(len(t["tuningTask"]["snapshots"])) or
                    t["state"] != "CREATING")
    assert done["state"] == "ACTIVE"
    assert counts == sorted(counts) and counts[-1] == 9
    snaps = done["tuningTask"]["snapshots"]
    assert [s["step"] for s in snaps] == list(range(1, 10)) and snaps[-1]["epoch"] == 3
    assert snaps[-1]["meanLoss"] < snaps[0]["meanLoss"]
    assert done["tuningTask"]["hyperparameters"] == {"epochCount": 3, "batchSize": 4, "learningRate": 0.001}
    assert "completeTime" in done["tuningTask"]

    operation = gm.rest("GET", op["name"])
    assert operation["done"] is True and operation["response"]["state"] == "ACTIVE"

    job = gm.client().tunings.get(name=name)  # the SDK's view: state only
    assert job.state == types.JobState.JOB_STATE_SUCCEEDED
    assert [m.name for m in gm.client().models.list(config={"query_base": False})] == [name]

    answer = gm.client().models.generate_content(model=name, contents="what is the capital of egypt")
    assert answer.text == "Cairo"
    assert answer.model_version == "sandbox-simulation"

    renamed = gm.rest("PATCH", name, body={"displayName": "Capital cities"}, params={"updateMask": "displayName"})
    assert renamed["displayName"] == "Capital cities"

    gm.client().models.delete(model=name)
    with pytest.raises(ServiceError) as raw:
        gm.rest("GET", name)
    assert raw.value.code == 404


def test_sdk_tune_is_refused_because_it_drops_the_examples(gm):
    with pytest.raises(errors.ClientError) as exc:
        gm.client().tunings.tune(
            base_model="models/sandbox-flash-001-tuning",
            training_dataset=types.TuningDataset(examples=[types.TuningExample(text_input="a", output="b")]))
    assert exc.value.code == 400 and "Training data is required" in exc.value.message


@pytest.mark.parametrize(("change", "fragment"), [
    ({"epochCount": 0}, "epochCount"),
    ({"learningRate": -1}, "learningRate"),
    ({"learningRateMultiplier": 0}, "learningRateMultiplier"),
    ({"learningRate": 0.001, "learningRateMultiplier": 1.0}, "either"),
    ({"batchSize": 0}, "batchSize"),
])
def test_bad_hyperparameters_are_400(gm, change, fragment):
    with pytest.raises(ServiceError) as exc:
        gm.rest("POST", "tunedModels", body=tuned_body(**change))
    assert exc.value.code == 400 and exc.value.status == "INVALID_ARGUMENT"


def test_unknown_field_base_model_and_id_errors(gm, sandbox):
    import requests

    resp = requests.post(f"{sandbox.base_url}v1beta/tunedModels", json={**tuned_body(), "epochs": 5},
                         headers={"x-goog-api-key": "k"}, timeout=5)
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == \
        'Invalid JSON payload received. Unknown name "epochs": Cannot find field.'
    with pytest.raises(ServiceError) as exc:
        gm.rest("POST", "tunedModels", body={**tuned_body(), "baseModel": "models/gemini-0-nope"})
    assert exc.value.code == 404
    with pytest.raises(ServiceError) as exc:
        gm.rest("POST", "tunedModels", body={**tuned_body(), "baseModel": "models/gemini-3.5-flash"})
    assert exc.value.code == 400
    gm.rest("POST", "tunedModels", body=tuned_body(), params={"tunedModelId": "my-capitals"})
    with pytest.raises(ServiceError) as exc:
        gm.rest("POST", "tunedModels", body=tuned_body(), params={"tunedModelId": "my-capitals"})
    assert exc.value.code == 409
    with pytest.raises(ServiceError) as exc:
        gm.rest("POST", "tunedModels", body=tuned_body(), params={"tunedModelId": "Bad_ID"})
    assert exc.value.code == 400


def test_injected_failure_ends_failed(gm, sandbox):
    sandbox.fail_next_training("Simulated failure.")
    op = gm.rest("POST", "tunedModels", body=tuned_body())
    done = wait_for(lambda: gm.rest("GET", op["metadata"]["tunedModel"]), lambda t: t["state"] != "CREATING")
    assert done["state"] == "FAILED" and done["tuningTask"]["snapshots"] == []
    operation = gm.rest("GET", op["name"])
    assert operation["done"] is True and operation["error"]["message"] == "Simulated failure."


def test_missing_api_key_is_refused(sandbox):
    import requests

    resp = requests.get(f"{sandbox.base_url}v1beta/models", timeout=5)
    assert resp.status_code == 403 and resp.json()["error"]["status"] == "PERMISSION_DENIED"

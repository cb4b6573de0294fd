"""Preference tuning and continued tuning in the Sandbox, driven by the real google-genai SDK over real HTTP:
a supervised job, then a preference job continued from its checkpoint, both to SUCCEEDED with their curves,
statistics, model versions, and answers that move towards the preferred ones."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import requests
from google.genai import types

from gemtune_desktop.services.backend import ServiceError
from gemtune_desktop.services.connections import Backend
from tests.helpers import discovery
from tests.sandbox.helpers import lease_pairs, preference_jsonl, sft_line, upload, wait_for

PAIRS = lease_pairs(24)
PARAPHRASES = [(f"please, what does the lease say about {topic}", good, bad)
               for (_p, good, bad), topic in zip(PAIRS, [p.split("about ")[1].rstrip("?") for p, _g, _b in PAIRS],
                                                 strict=True)]


@pytest.fixture
def ap(sandbox_session: Any) -> Any:
    return sandbox_session(Backend.AGENT_PLATFORM)


def ended(client: Any, name: str, timeout_s: float = 30.0) -> types.TuningJob:
    return wait_for(lambda: client.tunings.get(name=name), lambda j: j.has_ended, timeout_s)


def supervised_on_old_answers(ap: Any, epochs: int = 3, base: str = "gemini-3.5-flash") -> types.TuningJob:
    """A supervised job that learned the answers the expert later marked dispreferred."""
    train = upload(ap, "sft/old-answers.jsonl", "\n".join(sft_line(p, bad) for p, _good, bad in PAIRS) + "\n")
    client = ap.client()
    job = client.tunings.tune(base_model=base, training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(tuned_model_display_name="Lease desk",
                                                                 epoch_count=epochs))
    done = ended(client, job.name)
    assert done.state.value == "JOB_STATE_SUCCEEDED", done.error
    return done


def preference_job(ap: Any, start: str, checkpoint: str | None = None, validation: bool = False,
                   **config: Any) -> types.TuningJob:
    train = upload(ap, "pref/train.jsonl", preference_jsonl(PAIRS))
    extra: dict[str, Any] = {}
    if validation:
        extra["validation_dataset"] = types.TuningValidationDataset(
            gcs_uri=upload(ap, "pref/validation.jsonl", preference_jsonl(lease_pairs(6))))
    if checkpoint is not None:
        extra["pre_tuned_model_checkpoint_id"] = checkpoint
    client = ap.client()
    return client.tunings.tune(base_model=start, training_dataset=types.TuningDataset(gcs_uri=train),
                               config=types.CreateTuningJobConfig(method="PREFERENCE_TUNING", **extra, **config))


def answer(ap: Any, endpoint: str, prompt: str) -> tuple[str, str]:
    reply = ap.serving_client(endpoint).models.generate_content(
        model=endpoint, contents=prompt, config=types.GenerateContentConfig(temperature=0))
    cand = reply.candidates[0]
    return reply.text or "", cand.finish_message or ""


def series(ap: Any, job: dict[str, Any]) -> dict[str, list[tuple[int, float]]]:
    """Every series of the job's TensorBoard run, read in full with ``timeSeries:read?maxDataPoints=-1``."""
    context = ap.rest("GET", job["experiment"])
    tensorboard = context["metadata"]["backing_tensorboard_resource"]
    runs = ap.rest("GET", f"{tensorboard}/experiments/{job['experiment'].rsplit('/', 1)[1]}/runs")
    out = {}
    for ts in ap.rest("GET", runs["tensorboardRuns"][0]["name"] + "/timeSeries")["tensorboardTimeSeries"]:
        values = ap.rest("GET", f"{ts['name']}:read", params={"maxDataPoints": -1})["timeSeriesData"]["values"]
        out[ts["displayName"]] = [(int(v["step"]), v["scalar"]["value"]) for v in values]
    return out


def test_supervised_then_preference_from_its_checkpoint(ap: Any, sandbox: Any) -> None:
    sft = supervised_on_old_answers(ap)
    assert [c.checkpoint_id for c in sft.tuned_model.checkpoints] == ["1", "2", "3"]
    job = preference_job(ap, sft.tuned_model.model, checkpoint="2", validation=True, beta=0.2, epoch_count=2,
                         adapter_size="ADAPTER_SIZE_FOUR")
    sent = sandbox.requests.matching("/tuningJobs", "POST")[-1].json
    # google-genai 3.6.1 writes preTunedModel with its proto field names; the service reads either spelling.
    assert sent["preTunedModel"] == {"tuned_model_name": sft.tuned_model.model, "checkpoint_id": "2"}
    assert "baseModel" not in sent and sent["preferenceOptimizationSpec"]["hyperParameters"]["beta"] == 0.2
    done = ended(ap.client(), job.name)
    assert done.state.value == "JOB_STATE_SUCCEEDED", done.error
    assert done.pre_tuned_model.tuned_model_name == sft.tuned_model.model
    assert (done.pre_tuned_model.checkpoint_id, done.pre_tuned_model.base_model) == ("2", "gemini-3.5-flash")
    model_id = sft.tuned_model.model.split("@")[0]
    assert done.tuned_model.model == f"{model_id}@2", "no new display name: a new version of the same model"
    assert done.tuned_model_display_name == "Lease desk"
    stats = done.tuning_data_stats.preference_optimization_data_stats
    assert done.tuning_data_stats.supervised_tuning_data_stats is None
    assert stats.tuning_dataset_example_count == 24 and stats.tuning_step_count == 12  # 24 / batch 4 × 2 epochs
    assert len(stats.user_dataset_examples) == 3 and stats.user_dataset_examples[0].completions[0].score == 1

    raw = ap.rest("GET", done.name)
    assert discovery.unknown_fields(raw, "TuningJob") == []
    assert "baseModel" not in raw, "base_model and pre_tuned_model are one oneof"
    assert raw["preferenceOptimizationSpec"]["hyperParameters"]["beta"] == 0.2
    curves = series(ap, raw)
    assert set(curves) == {"/train_preference_loss", "/train_reward_margin", "/eval_preference_loss",
                           "/eval_reward_margin"}
    loss, margin = dict(curves["/train_preference_loss"]), dict(curves["/train_reward_margin"])
    assert sorted(loss) == list(range(1, 13)) and sorted(margin) == sorted(loss)
    for step, value in loss.items():  # the preference loss is log(1 + e^-margin)
        assert value == pytest.approx(math.log1p(math.exp(-margin[step])), abs=1e-4)
    assert margin[12] > margin[1] + 1.0 and loss[12] < loss[1] < math.log(2) + 0.05
    assert [s for s, _v in curves["/eval_reward_margin"]] == [3, 6, 9, 12]


def test_answers_move_towards_the_preferred_ones(ap: Any) -> None:
    sft = supervised_on_old_answers(ap)
    pref = ended(ap.client(), preference_job(ap, sft.tuned_model.model, checkpoint="3").name)
    assert pref.state.value == "JOB_STATE_SUCCEEDED"
    base = ap.client().models.generate_content(model="gemini-3.5-flash", contents=PARAPHRASES[0][0]).text
    assert "simulated answer" in base.lower() or "sandbox" in base.lower()
    for prompt, good, bad in PARAPHRASES:
        before, _ = answer(ap, sft.tuned_model.endpoint, prompt)
        after, note = answer(ap, pref.tuned_model.endpoint, prompt)
        assert before == bad, "the supervised model learned the old answers"
        assert after == good and after != bad, prompt
        assert "preferred answer of the preference example" in note
    for cp in pref.tuned_model.checkpoints:  # every checkpoint of the preference job prefers them too
        assert answer(ap, cp.endpoint, PARAPHRASES[5][0])[0] == PARAPHRASES[5][1]


def test_preference_tuning_from_a_base_model_and_a_new_name_makes_a_new_model(ap: Any, sandbox: Any) -> None:
    direct = ended(ap.client(), preference_job(ap, "gemini-2.5-flash", tuned_model_display_name="Direct").name)
    assert direct.state.value == "JOB_STATE_SUCCEEDED"
    assert direct.base_model == "gemini-2.5-flash" and direct.pre_tuned_model is None
    assert direct.tuned_model.model.endswith("@1")
    assert answer(ap, direct.tuned_model.endpoint, PARAPHRASES[3][0])[0] == PARAPHRASES[3][1]
    renamed = ended(ap.client(), preference_job(ap, direct.tuned_model.model, tuned_model_display_name="Renamed").name)
    assert renamed.tuned_model.model.endswith("@1") and renamed.tuned_model.model != direct.tuned_model.model
    assert renamed.pre_tuned_model.checkpoint_id is None  # the service's default checkpoint
    # camelCase over raw HTTP, on v1: the same continued job, read the other way.
    url = f"{sandbox.base_url}v1/projects/sandbox-project/locations/us-central1/tuningJobs"
    body = {"preTunedModel": {"tunedModelName": direct.tuned_model.model.split("@")[0], "checkpointId": "1"},
            "supervisedTuningSpec": {"trainingDatasetUri": upload(ap, "s.jsonl", sft_line("Q?", "A.") + "\n")}}
    resp = requests.post(url, json=body, headers={"Authorization": "Bearer t"}, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.json()["preTunedModel"]["baseModel"] == "gemini-2.5-flash"
    continued = ended(ap.client(), resp.json()["name"])
    assert continued.tuned_model.model == direct.tuned_model.model.replace("@1", "@2")
    # models.get by version, and by the model (its newest version)
    model = direct.tuned_model.model.split("@")[0]
    assert ap.rest("GET", f"{model}@1")["versionId"] == "1" and ap.rest("GET", f"{model}@1")["versionAliases"] == []
    assert ap.rest("GET", model)["versionId"] == "2"
    listed = [m["name"] for m in ap.rest("GET", "projects/sandbox-project/locations/us-central1/models")["models"]]
    assert listed.count(model) == 1


@pytest.mark.off_contract_requests("sends settings the service refuses")
@pytest.mark.parametrize(("change", "status", "words"), [
    ({"preTunedModel": {"tunedModelName": "projects/sandbox-project/locations/us-central1/models/9"}}, 404,
     "does not exist"),
    ({"checkpoint": "7"}, 400, "pre_tuned_model.checkpoint_id '7' is not a checkpoint"),
    ({"beta": 0}, 400, "preference_optimization_spec.hyper_parameters.beta must be greater than 0"),
    ({"both": True}, 400, "Only one of base_model and pre_tuned_model"),
])
def test_refusals_name_the_field(ap: Any, sandbox: Any, change: dict[str, Any], status: int, words: str) -> None:
    sft = supervised_on_old_answers(ap, epochs=1)
    train = upload(ap, "pref/t.jsonl", preference_jsonl(PAIRS[:4]))
    body: dict[str, Any] = {"preTunedModel": {"tunedModelName": sft.tuned_model.model},
                            "preferenceOptimizationSpec": {"trainingDatasetUri": train}}
    if "checkpoint" in change:
        body["preTunedModel"]["checkpointId"] = change["checkpoint"]
    elif "beta" in change:
        body["preferenceOptimizationSpec"]["hyperParameters"] = {"beta": change["beta"]}
    elif "both" in change:
        body["baseModel"] = "gemini-3.5-flash"
    else:
        body.update(change)
    resp = requests.post(f"{sandbox.base_url}v1beta1/projects/sandbox-project/locations/us-central1/tuningJobs",
                         json=body, headers={"Authorization": "Bearer t"}, timeout=10)
    assert resp.status_code == status and words in resp.json()["error"]["message"], resp.text


def test_bad_preference_lines_are_dropped_with_reasons(ap: Any) -> None:
    good = preference_jsonl(PAIRS[:8]).splitlines()
    lines = [*good[:3], json.dumps({"prompt": "TRL shape?", "chosen": "a", "rejected": "b"}),
             json.dumps({"contents": [{"role": "user", "parts": [{"text": "One answer only?"}]}],
                         "completions": [{"score": 1, "completion": {"role": "model", "parts": [{"text": "x"}]}}]}),
             "{broken", *good[3:]]
    train = upload(ap, "pref/mixed.jsonl", "\n".join(lines) + "\n")
    client = ap.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(method="PREFERENCE_TUNING", epoch_count=1))
    done = ended(client, job.name)
    stats = done.tuning_data_stats.preference_optimization_data_stats
    assert done.state.value == "JOB_STATE_SUCCEEDED" and stats.tuning_dataset_example_count == 8
    assert stats.dropped_example_indices == [4, 5, 6]
    reasons = stats.dropped_example_reasons
    assert "unknown field \"chosen\"" in reasons[0] and "exactly two" in reasons[1] and "not valid JSON" in reasons[2]
    sft_file = upload(ap, "pref/sft.jsonl", sft_line("Q?", "A.") + "\n")
    wrong = ended(client, client.tunings.tune(
        base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=sft_file),
        config=types.CreateTuningJobConfig(method="PREFERENCE_TUNING")).name)
    assert wrong.state.value == "JOB_STATE_FAILED"
    assert "no usable examples" in wrong.error.message and "completions" in wrong.error.message


def test_a_preference_model_survives_a_restart(tmp_path: Path) -> None:
    from tests.sandbox.helpers import serving

    state = tmp_path / "state"
    with serving(state, Backend.AGENT_PLATFORM, steps_per_second=200) as (_first, ap):
        done = ended(ap.client(), preference_job(ap, "gemini-3.5-flash", tuned_model_display_name="Kept").name)
    with serving(state, Backend.AGENT_PLATFORM, steps_per_second=200) as (_second, ap):
        reply, note = answer(ap, done.tuned_model.endpoint, PARAPHRASES[2][0])
        assert reply == PARAPHRASES[2][1] and "preferred answer" in note


def test_deleting_the_model_takes_every_version(ap: Any) -> None:
    sft = supervised_on_old_answers(ap, epochs=1)
    pref = ended(ap.client(), preference_job(ap, sft.tuned_model.model).name)
    model = sft.tuned_model.model.split("@")[0]
    with pytest.raises(ServiceError) as busy:
        ap.rest("DELETE", model)
    assert busy.value.status == "FAILED_PRECONDITION"
    for version in (sft, pref):  # undeploy both versions' endpoints
        for dep in ap.rest("GET", version.tuned_model.model)["deployedModels"]:
            op = ap.rest("POST", f"{dep['endpoint']}:undeployModel", body={"deployedModelId": dep["deployedModelId"]})
            wait_for(lambda o=op: ap.rest("GET", o["name"]), lambda o: o.get("done"))
    op = ap.rest("DELETE", model)
    wait_for(lambda: ap.rest("GET", op["name"]), lambda o: o.get("done"))
    for ref in (model, f"{model}@1", f"{model}@2"):
        with pytest.raises(ServiceError) as gone:
            ap.rest("GET", ref)
        assert gone.value.code == 404


# -- rebase --------------------------------------------------------------------------------------------------
def test_rebase_moves_a_tuned_model_onto_the_newer_base(ap: Any, sandbox: Any) -> None:
    from gemtune_desktop.core.preference.spec import parse_rebase_operation, rebase_request

    old = ended(ap.client(), preference_job(ap, "gemini-2.5-flash", tuned_model_display_name="On 2.5").name)
    sandbox.steps_per_second = 20  # the operation takes 3 steps' time
    path, body = rebase_request(old.tuned_model.model)
    assert path == "projects/sandbox-project/locations/us-central1/tuningJobs:rebaseTunedModel"
    op = ap.rest("POST", path, body=body)
    assert op["name"].startswith("projects/sandbox-project/locations/us-central1/operations/") and not op.get("done")
    assert op["metadata"]["@type"].endswith(".RebaseTunedModelOperationMetadata")
    done = wait_for(lambda: ap.rest("GET", op["name"]), lambda o: o.get("done"))
    assert done["response"]["@type"].endswith(".TuningJob")
    parsed = parse_rebase_operation(done)
    assert parsed.done and parsed.tuning_job == done["response"]["name"] and not parsed.error
    sandbox.steps_per_second = 200
    new = ended(ap.client(), parsed.tuning_job)
    assert new.state.value == "JOB_STATE_SUCCEEDED"
    assert new.base_model == "gemini-3.5-flash", "the replacement the model-versions page lists for 2.5 Flash"
    assert new.tuned_model.model.endswith("@1") and new.tuned_model.model != old.tuned_model.model
    assert new.tuned_model_display_name == "On 2.5" and new.preference_optimization_spec is not None
    assert answer(ap, new.tuned_model.endpoint, PARAPHRASES[4][0])[0] == PARAPHRASES[4][1], "it still prefers them"
    assert answer(ap, old.tuned_model.endpoint, PARAPHRASES[4][0])[0] == PARAPHRASES[4][1], "the old one stays"


def test_rebase_through_googles_discovery_client_and_its_refusals(ap: Any, sandbox: Any) -> None:
    sft = supervised_on_old_answers(ap, epochs=1, base="gemini-3.1-flash-lite")
    service = discovery.client(sandbox.base_url).projects().locations().tuningJobs()
    parent = "projects/sandbox-project/locations/us-central1"
    job_name = sft.name
    op = service.rebaseTunedModel(parent=parent, body={
        "tunedModelRef": {"tuningJob": job_name},
        "tuningJob": {"baseModel": "gemini-3.5-flash", "tunedModelDisplayName": "Moved"}}).execute()
    done = wait_for(lambda: ap.rest("GET", op["name"]), lambda o: o.get("done"))
    assert discovery.unknown_fields({k: v for k, v in done["response"].items() if k != "@type"}, "TuningJob") == []
    assert done["response"]["baseModel"] == "gemini-3.5-flash"
    assert done["response"]["tunedModelDisplayName"] == "Moved"
    new = ended(ap.client(), done["response"]["name"])
    assert answer(ap, new.tuned_model.endpoint, PARAPHRASES[1][0])[0] == PARAPHRASES[1][2]  # what it had learned
    from googleapiclient.errors import HttpError

    for body, words in (({"tunedModelRef": {"tunedModel": new.tuned_model.model}}, "newest base model"),
                        ({"tunedModelRef": {"tunedModel": sft.tuned_model.model},
                          "tuningJob": {"baseModel": "gemini-3.1-flash-lite"}}, "already on gemini-3.1-flash-lite"),
                        ({"tunedModelRef": {"tunedModel": sft.tuned_model.model},
                          "tuningJob": {"baseModel": "gemini-3.8-flash"}}, "cannot be tuned"),
                        ({"tunedModelRef": {"tuningJob": f"{parent}/tuningJobs/123"}}, "does not exist")):
        with pytest.raises(HttpError) as refused:
            service.rebaseTunedModel(parent=parent, body=body).execute()
        assert words in json.loads(refused.value.content)["error"]["message"]

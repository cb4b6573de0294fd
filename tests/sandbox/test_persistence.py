"""State survives a restart: jobs keep progressing from their stored start, uploads and tuned models stay."""

from __future__ import annotations

import json
from pathlib import Path

from google.genai import types

from gemtune_desktop.services.connections import Backend
from tests.sandbox.helpers import CAPITALS, capitals_jsonl, serving, upload, wait_for


def test_job_started_yesterday_has_finished_after_restart(tmp_path: Path):
    state = tmp_path / "state"
    with serving(state, Backend.AGENT_PLATFORM, steps_per_second=1.0) as (_first, ap):
        train = upload(ap, "train.jsonl", capitals_jsonl(12))
        job = ap.client().tunings.tune(base_model="gemini-3.5-flash",
                                       training_dataset=types.TuningDataset(gcs_uri=train),
                                       config=types.CreateTuningJobConfig(epoch_count=3))
        assert not ap.client().tunings.get(name=job.name).has_ended  # at 1 step/s it takes half a minute

    # Pretend the job was created a day ago (the app was closed overnight).
    job_file = state / "runs" / f"{job.name.rsplit('/', 1)[1]}.json"
    record = json.loads(job_file.read_text())
    record["created_wall"] -= 86400
    record["clock"]["anchor_wall"] -= 86400
    job_file.write_text(json.dumps(record))
    assert not list(state.rglob(".tmp-*"))  # writes were atomic: no leftovers

    with serving(state, Backend.AGENT_PLATFORM, steps_per_second=4.0) as (_second, ap):
        done = ap.client().tunings.get(name=job.name)
        assert done.state == types.JobState.JOB_STATE_SUCCEEDED
        assert done.tuning_job_metadata.completed_step_count == 9
        answer = ap.serving_client(done.tuned_model.endpoint).models.generate_content(
            model=done.tuned_model.endpoint, contents="capital of norway")
        assert answer.text == "Oslo"
        bucket = ap.storage_client().bucket("sandbox-bucket")
        assert bucket.blob("train.jsonl").download_as_bytes() == capitals_jsonl(12).encode()


def test_running_job_continues_after_restart_and_gemini_models_persist(tmp_path: Path):
    state = tmp_path / "state"
    with serving(state, Backend.GEMINI_API, steps_per_second=2.0) as (_first, gm):
        examples = [{"textInput": c, "output": a} for c, a in CAPITALS]
        op = gm.rest("POST", "tunedModels", body={
            "baseModel": "models/sandbox-flash-001-tuning",
            "tuningTask": {"hyperparameters": {"epochCount": 2},
                           "trainingData": {"examples": {"examples": examples}}}})
        name = op["metadata"]["tunedModel"]
    with serving(state, Backend.GEMINI_API, steps_per_second=500.0) as (_second, gm):
        done = wait_for(lambda: gm.rest("GET", name), lambda t: t["state"] == "ACTIVE")
        assert len(done["tuningTask"]["snapshots"]) == 6
        assert gm.client().models.generate_content(model=name, contents="Ghana").text == "Accra"


def test_without_state_dir_nothing_is_written(tmp_path: Path, monkeypatch):
    tmp_path = tmp_path / "cwd"
    tmp_path.mkdir()
    monkeypatch.chdir(tmp_path)
    with serving(None, Backend.AGENT_PLATFORM, steps_per_second=100) as (_server, ap):
        upload(ap, "t.jsonl", capitals_jsonl(3))
    assert list(tmp_path.iterdir()) == []


def test_an_undeploy_and_a_deleted_model_survive_a_restart(tmp_path: Path):
    state = tmp_path / "state"
    with serving(state, Backend.AGENT_PLATFORM, steps_per_second=500.0) as (first, ap):
        train = upload(ap, "train.jsonl", capitals_jsonl(12))
        job = ap.client().tunings.tune(base_model="gemini-3.5-flash",
                                       training_dataset=types.TuningDataset(gcs_uri=train),
                                       config=types.CreateTuningJobConfig(epoch_count=1))
        done = wait_for(lambda: ap.client().tunings.get(name=job.name), lambda j: j.has_ended)
        model = done.tuned_model.model.split("@")[0]
        first.steps_per_second = 2.0  # an undeploy takes 2 s
        deployed = ap.rest("GET", model)["deployedModels"]
        ops = [ap.rest("POST", f"{d['endpoint']}:undeployModel", body={"deployedModelId": d["deployedModelId"]})
               for d in deployed]

    with serving(state, Backend.AGENT_PLATFORM, steps_per_second=2.0) as (_second, ap):
        for op in ops:
            wait_for(lambda op=op: ap.rest("GET", op["name"]), lambda o: o.get("done"), timeout_s=20)
        delete = ap.rest("DELETE", model)
        wait_for(lambda: ap.rest("GET", delete["name"]), lambda o: o.get("done"), timeout_s=20)

    with serving(state, Backend.AGENT_PLATFORM) as (_third, ap):
        assert ap.rest("GET", f"{model.rsplit('/models/', 1)[0]}/models").get("models", []) == []

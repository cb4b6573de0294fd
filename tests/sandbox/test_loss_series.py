"""The loss curves of an Agent Platform job, read the way the Monitor tab reads them (REST, 4 calls)."""

from __future__ import annotations

import pytest
from google.genai import types

from gemtune_desktop.services.backend import ServiceError
from gemtune_desktop.services.connections import Backend
from tests.sandbox.helpers import capitals_jsonl, sft_line, upload, wait_for


def read_curves(session, job) -> dict[str, list[tuple[int, float]]]:
    """The exact read path of the contract: experiment → runs → timeSeries → batchRead."""
    context = session.rest("GET", job.experiment)
    tensorboard = context["metadata"]["backing_tensorboard_resource"]
    experiment_id = job.experiment.rsplit("/", 1)[1]
    runs = session.rest("GET", f"{tensorboard}/experiments/{experiment_id}/runs")["tensorboardRuns"]
    assert len(runs) == 1
    series = session.rest("GET", f"{runs[0]['name']}/timeSeries")
    by_id = {s["name"].rsplit("/", 1)[1]: s["displayName"] for s in series["tensorboardTimeSeries"]}
    data = session.rest("GET", f"{tensorboard}:batchRead",
                        params={"timeSeries": [s["name"] for s in series["tensorboardTimeSeries"]]})
    out = {}
    for item in data["timeSeriesData"]:
        assert item["valueType"] == "SCALAR"
        out[by_id[item["tensorboardTimeSeriesId"]]] = [(int(v["step"]), v["scalar"]["value"]) for v in item["values"]]
        assert all(v["wallTime"].endswith("Z") for v in item["values"])
    return out


def run_job(session, train_rows: int, val: bool = True, **config) -> types.TuningJob:
    train = upload(session, f"train-{train_rows}.jsonl", capitals_jsonl(train_rows))
    kwargs = {}
    if val:
        kwargs["validation_dataset"] = types.TuningValidationDataset(
            gcs_uri=upload(session, "val.jsonl", capitals_jsonl(6)))
    client = session.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(**kwargs, **config))
    return wait_for(lambda: client.tunings.get(name=job.name), lambda j: j.has_ended)


@pytest.fixture
def ap(sandbox_session):
    return sandbox_session(Backend.AGENT_PLATFORM)


def test_train_and_eval_series_follow_the_contract(ap):
    job = run_job(ap, 40, epoch_count=3)
    curves = read_curves(ap, job)
    assert set(curves) == {"/train_total_loss", "/eval_total_loss"}
    total = job.tuning_data_stats.supervised_tuning_data_stats.tuning_step_count
    train = curves["/train_total_loss"]
    assert [s for s, _ in train] == list(range(1, total + 1))
    assert train[-1][1] < train[0][1] * 0.6  # it learns
    evals = curves["/eval_total_loss"]
    assert evals and evals[-1][0] == total and evals[-1][1] < evals[0][1]


def test_no_validation_file_means_no_eval_series(ap):
    job = run_job(ap, 12, val=False, epoch_count=2)
    assert set(read_curves(ap, job)) == {"/train_total_loss"}


def test_series_grow_while_running(ap, sandbox):
    train = upload(ap, "t.jsonl", capitals_jsonl(12))
    sandbox.steps_per_second = 20
    client = ap.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(epoch_count=30))
    running = wait_for(lambda: client.tunings.get(name=job.name),
                       lambda j: j.tuning_job_metadata is not None and j.tuning_job_metadata.completed_step_count >= 3)
    early = len(read_curves(ap, running)["/train_total_loss"])
    later = wait_for(lambda: read_curves(ap, running)["/train_total_loss"], lambda c: len(c) > early + 2)
    assert later[:early] == read_curves(ap, running)["/train_total_loss"][:early]  # old points never change
    client.tunings.cancel(name=job.name)


def test_too_many_epochs_on_small_data_overfits(ap):
    job = run_job(ap, 12, epoch_count=20)
    curves = read_curves(ap, job)
    train = [v for _, v in curves["/train_total_loss"]]
    evals = [v for _, v in curves["/eval_total_loss"]]
    mid = len(train) // 2

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    assert mean(train[-5:]) < mean(train[mid - 2:mid + 3]) < mean(train[:5])  # training loss keeps falling
    best = min(evals)
    assert evals[-1] > best * 1.5  # validation loss went back up: overfitting


def test_default_epochs_do_not_overfit(ap):
    job = run_job(ap, 12)
    evals = [v for _, v in read_curves(ap, job)["/eval_total_loss"]]
    assert len(evals) == 12  # 4 epochs of 3 steps, evaluated every step
    late, settled = evals[-3:], evals[6:9]
    assert sum(late) / 3 <= sum(settled) / 3 * 1.1  # no rise at the end
    assert sum(late) / 3 < evals[0] * 0.8


def test_very_high_learning_rate_multiplier_does_not_learn(ap):
    job = run_job(ap, 40, epoch_count=3, learning_rate_multiplier=10.0)
    train = [v for _, v in read_curves(ap, job)["/train_total_loss"]]
    assert sum(train[-5:]) / 5 >= sum(train[:5]) / 5 * 0.95


def test_long_series_are_capped_at_1000_points(ap, sandbox):
    sandbox.steps_per_second = 20000
    lines = "\n".join(sft_line(f"question {i}", f"answer {i}") for i in range(1200)) + "\n"
    train = upload(ap, "big.jsonl", lines)
    client = ap.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(epoch_count=15))
    done = wait_for(lambda: client.tunings.get(name=job.name), lambda j: j.has_ended)
    total = done.tuning_data_stats.supervised_tuning_data_stats.tuning_step_count
    assert total > 1000
    steps = [s for s, _ in read_curves(ap, done)["/train_total_loss"]]
    assert len(steps) == 1000 and steps[0] == 1 and steps[-1] == total and steps == sorted(steps)


def test_unknown_series_is_404(ap):
    job = run_job(ap, 12, val=False, epoch_count=1)
    tb = ap.rest("GET", job.experiment)["metadata"]["backing_tensorboard_resource"]
    with pytest.raises(ServiceError) as exc:
        ap.rest("GET", f"{tb}:batchRead", params={"timeSeries": f"{tb}/experiments/x/runs/y/timeSeries/z"})
    assert exc.value.code == 404

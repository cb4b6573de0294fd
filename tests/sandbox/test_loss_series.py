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


def _long_job(ap, sandbox, rows: int = 1200, epochs: int = 15):
    sandbox.steps_per_second = 20000
    lines = "\n".join(sft_line(f"question {i}", f"answer {i}") for i in range(rows)) + "\n"
    train = upload(ap, "big.jsonl", lines)
    client = ap.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(epoch_count=epochs))
    return wait_for(lambda: client.tunings.get(name=job.name), lambda j: j.has_ended)


def _train_series(ap, job) -> str:
    tensorboard = ap.rest("GET", job.experiment)["metadata"]["backing_tensorboard_resource"]
    run = ap.rest("GET", f"{tensorboard}/experiments/{job.experiment.rsplit('/', 1)[1]}/runs")["tensorboardRuns"][0]
    return ap.rest("GET", f"{run['name']}/timeSeries")["tensorboardTimeSeries"][0]["name"]


def test_batch_read_gives_at_most_1000_points_chosen_at_random(ap, sandbox):
    done = _long_job(ap, sandbox)
    total = done.tuning_data_stats.supervised_tuning_data_stats.tuning_step_count
    assert total > 1000
    steps = [s for s, _ in read_curves(ap, done)["/train_total_loss"]]
    assert len(steps) == 1000 and steps == sorted(steps) and set(steps) < set(range(1, total + 1))


def test_read_returns_1000_points_by_default_and_all_with_minus_one(ap, sandbox):
    done = _long_job(ap, sandbox)
    total = done.tuning_data_stats.supervised_tuning_data_stats.tuning_step_count
    series = _train_series(ap, done)
    default = ap.rest("GET", f"{series}:read")["timeSeriesData"]
    assert default["tensorboardTimeSeriesId"] == series.rsplit("/", 1)[1]
    assert len(default["values"]) == 1000
    everything = ap.rest("GET", f"{series}:read", params={"maxDataPoints": -1})["timeSeriesData"]["values"]
    assert [int(v["step"]) for v in everything] == list(range(1, total + 1))
    some = ap.rest("GET", f"{series}:read", params={"maxDataPoints": 10})["timeSeriesData"]["values"]
    assert len(some) == 10
    with pytest.raises(ServiceError) as err:
        ap.rest("GET", f"{series}:read", params={"maxDataPoints": 10_001})
    assert err.value.code == 400


def test_export_pages_through_every_point(ap, sandbox):
    done = _long_job(ap, sandbox)
    total = done.tuning_data_stats.supervised_tuning_data_stats.tuning_step_count
    series = _train_series(ap, done)
    seen, pages, token = [], 0, ""
    while True:
        body = {"pageSize": 700, **({"pageToken": token} if token else {})}
        page = ap.rest("POST", f"{series}:exportTensorboardTimeSeries", body=body)
        seen += [int(p["step"]) for p in page["timeSeriesDataPoints"]]
        pages += 1
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert pages == -(-total // 700)
    assert sorted(seen) == list(range(1, total + 1))
    assert seen != sorted(seen)  # "by default … returned in a pseudo random order"
    ordered = ap.rest("POST", f"{series}:exportTensorboardTimeSeries", body={"pageSize": 5, "orderBy": "step"})
    assert [int(p["step"]) for p in ordered["timeSeriesDataPoints"]] == [1, 2, 3, 4, 5]


def test_tensorboard_and_experiment_can_be_read(ap):
    job = run_job(ap, 12, val=False, epoch_count=1)
    tensorboard = ap.rest("GET", job.experiment)["metadata"]["backing_tensorboard_resource"]
    assert ap.rest("GET", tensorboard)["name"] == tensorboard
    experiment_id = job.experiment.rsplit("/", 1)[1]
    assert ap.rest("GET", f"{tensorboard}/experiments/{experiment_id}")["name"] == \
        f"{tensorboard}/experiments/{experiment_id}"


def test_validation_series_appears_only_at_the_first_evaluation(ap, sandbox):
    sandbox.steps_per_second = 20
    train = upload(ap, "t.jsonl", capitals_jsonl(40))  # 10 steps an epoch: evaluated every 5 steps
    val = upload(ap, "v.jsonl", capitals_jsonl(6))
    client = ap.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(
                                  epoch_count=40, validation_dataset=types.TuningValidationDataset(gcs_uri=val)))
    client_job = wait_for(lambda: client.tunings.get(name=job.name),
                          lambda j: j.tuning_job_metadata is not None and j.tuning_job_metadata.completed_step_count)
    sandbox.steps_per_second = 1  # a few seconds before step 5
    assert client.tunings.get(name=job.name).tuning_job_metadata.completed_step_count < 5
    tensorboard = ap.rest("GET", client_job.experiment)["metadata"]["backing_tensorboard_resource"]
    run = ap.rest("GET", f"{tensorboard}/experiments/{client_job.experiment.rsplit('/', 1)[1]}/runs")
    listing = f"{run['tensorboardRuns'][0]['name']}/timeSeries"
    first = [s["displayName"] for s in ap.rest("GET", listing)["tensorboardTimeSeries"]]
    assert first == ["/train_total_loss"]  # step 1 is written; the first evaluation (step 5, half an epoch) is not
    sandbox.steps_per_second = 50
    later = wait_for(lambda: [s["displayName"] for s in ap.rest("GET", listing)["tensorboardTimeSeries"]],
                     lambda names: len(names) == 2)
    assert later == ["/train_total_loss", "/eval_total_loss"]
    client.tunings.cancel(name=job.name)


def test_unknown_series_is_404(ap):
    job = run_job(ap, 12, val=False, epoch_count=1)
    tb = ap.rest("GET", job.experiment)["metadata"]["backing_tensorboard_resource"]
    with pytest.raises(ServiceError) as exc:
        ap.rest("GET", f"{tb}:batchRead", params={"timeSeries": f"{tb}/experiments/x/runs/y/timeSeries/z"})
    assert exc.value.code == 404

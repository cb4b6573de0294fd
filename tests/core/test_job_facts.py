"""What the Monitor reads off a job record, and the loss curves it keeps, read from a real project file."""

from __future__ import annotations

from pathlib import Path

from gemtune_desktop.core.job_facts import checkpoint_for, learning_rate_multiplier, rerun_settings, steps_per_epoch
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.loss_cache import LossCache
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore


def _job(**kw: object) -> JobRecord:
    return JobRecord(connection_kind="sandbox", backend="agent-platform", **kw)  # type: ignore[arg-type]


def test_steps_per_epoch_prefers_what_the_service_reported() -> None:
    assert steps_per_epoch(_job(total_steps=120, hyperparameters={"epochs": 3})) == 40
    assert steps_per_epoch(_job(total_steps=120, hyperparameters={"epochs": 3},
                                data_stats={"hyper_parameters": {"epoch_count": 4}})) == 30
    assert steps_per_epoch(_job(total_steps=120)) == 0.0  # epochs on Automatic and not reported yet
    assert steps_per_epoch(_job(total_steps=0, hyperparameters={"epochs": 3})) == 0.0


def test_learning_rate_multiplier_asked_or_reported() -> None:
    assert learning_rate_multiplier(_job(hyperparameters={"learning_rate_multiplier": 0.5})) == 0.5
    assert learning_rate_multiplier(_job(data_stats={"hyper_parameters": {"learning_rate_multiplier": "2"}})) == 2.0
    assert learning_rate_multiplier(_job(hyperparameters={"learning_rate_multiplier": "fast"})) is None
    assert learning_rate_multiplier(_job()) is None


def test_checkpoint_by_epoch_or_the_last_one_before_a_step() -> None:
    job = _job(checkpoints=[{"epoch": 1, "step": 10, "endpoint": "e1"}, {"epoch": 2, "step": 20, "endpoint": "e2"},
                            {"epoch": 3, "step": 30}])  # no endpoint: cannot be called
    assert checkpoint_for(job, 2, None)["endpoint"] == "e2"
    assert checkpoint_for(job, None, 25)["endpoint"] == "e2"
    assert checkpoint_for(job, 3, None) is None and checkpoint_for(job, None, 5) is None


def test_rerun_settings_use_the_form_names_and_a_new_model_id() -> None:
    job = _job(base_model="gemini-3.5-flash", display_name="router",
               hyperparameters={"epoch_count": 4, "tuned_model_id": "router-1a2b", "batch_size": 8})
    assert rerun_settings(job) == {"epochs": 4, "batch_size": 8, "base_model": "gemini-3.5-flash",
                                   "display_name": "router"}


def test_loss_cache_reads_once_then_extends_with_new_points(tmp_path: Path) -> None:
    store = ProjectStore.create(tmp_path / "p.gemtune")
    try:
        job_id = jobs_repo.add_job(store, _job(resource_name="r"))
        jobs_repo.append_loss_points(store, job_id, "train", [(1, None, 2.0), (2, None, 1.5)])
        cache = LossCache(store)
        curves = cache.curves(job_id)
        assert len(curves["train"]) == 2 and not cache.extend(job_id)
        jobs_repo.append_loss_points(store, job_id, "train", [(3, None, 1.2)])
        jobs_repo.append_loss_points(store, job_id, "validation", [(3, 1.0, 1.4)])
        (name, series), = cache.extend(job_id)  # the validation curve is new
        assert name == "validation" and len(series) == 1
        assert cache.curves(job_id) is curves and len(curves["train"]) == 3  # the same object, grown
        assert jobs_repo.loss_points_after(store, job_id, "train", 1) == [(2, None, 1.5), (3, None, 1.2)]
        cache.use(None)
        assert not cache.has_points(job_id)
    finally:
        store.close()

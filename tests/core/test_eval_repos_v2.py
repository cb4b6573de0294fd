"""Schema version 2 (judge, ratings, service scores, sweeps, batch jobs): a version-1 project is upgraded
after a backup, and the new repositories round-trip through a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gemtune_desktop.core.project import batch_jobs_repo, evals_repo, judge_repo, schema, sweeps_repo
from gemtune_desktop.core.project.evals_repo import EvalRow, EvalRun
from gemtune_desktop.core.project.store import ProjectStore

V2_TABLES = ("eval_judges", "eval_judgements", "eval_ratings", "eval_service_scores", "sweeps", "sweep_points",
             "batch_jobs")


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def test_a_version_1_project_is_upgraded_with_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "old.gemtune"
    store = ProjectStore.create(path)
    run = EvalRun(models=["m"])
    evals_repo.create_run(store, run)
    store.close()
    conn = sqlite3.connect(path)
    for table in V2_TABLES:
        conn.execute(f"DROP TABLE {table}")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    assert not set(V2_TABLES) & tables(path)
    store = ProjectStore.open(path)
    assert store.schema_version == schema.SCHEMA_VERSION == 3
    assert set(V2_TABLES) <= tables(path)
    assert store.backup_path is not None and store.backup_path.exists()
    assert evals_repo.get_run(store, run.id) is not None, "the old run is kept"
    judge_repo.set_rating(store, run.id, 1, 0, "pass")
    assert judge_repo.ratings(store, run.id) == {(1, 0): "pass"}
    store.close()


def test_ratings_judgements_and_their_removal_with_the_run(tmp_path: Path) -> None:
    store = ProjectStore.create(tmp_path / "p.gemtune")
    run = EvalRun(models=["m"])
    evals_repo.create_run(store, run)
    judge_repo.set_rating(store, run.id, 3, 0, "fail")
    judge_repo.set_rating(store, run.id, 3, 0, None)
    assert judge_repo.ratings(store, run.id) == {}
    with pytest.raises(ValueError):
        judge_repo.set_rating(store, run.id, 3, 0, "maybe")
    judge_repo.start_judge(store, run.id, "a; b", "judge-model")
    judge_repo.store_judgements(store, [judge_repo.Judgement(run.id, 1, 0, "pass", 1.0, "ok",
                                                             [{"point": "a", "met": True, "reason": "r"}]),
                                        judge_repo.Judgement(run.id, 2, 0, error="The judge refused.")])
    assert judge_repo.judged_keys(store, run.id) == {(1, 0)}
    assert judge_repo.list_judgements(store, run.id)[0].criteria[0]["point"] == "a"
    assert judge_repo.start_judge(store, run.id, "a; b", "judge-model").rubric == "a; b"  # unchanged: kept
    assert judge_repo.judged_keys(store, run.id) == {(1, 0)}
    evals_repo.delete_run(store, run.id)
    assert judge_repo.get_judge(store, run.id) is None and judge_repo.list_judgements(store, run.id) == []
    store.close()


def test_sweep_points_are_evaluation_runs_and_go_with_the_sweep(tmp_path: Path) -> None:
    store = ProjectStore.create(tmp_path / "p.gemtune")
    sweep = sweeps_repo.Sweep(model="m", grid={"temperature": [0, 1]}, example_ids=[1, 2])
    sweep_id = sweeps_repo.create_sweep(store, sweep, [({"temperature": 0}, "point 0", {}),
                                                       ({"temperature": 1}, "point 1", {})])
    points = sweeps_repo.points(store, sweep_id)
    assert [p.settings for p in points] == [{"temperature": 0}, {"temperature": 1}]
    run = evals_repo.get_run(store, points[1].run_id)
    assert run is not None and run.source == "sweep" and run.example_ids == [1, 2]
    evals_repo.store_rows(store, [EvalRow(run.id, 1, 0, "q", "a", "a")])
    sweeps_repo.set_status(store, sweep_id, sweeps_repo.STOPPED)
    assert sweeps_repo.list_sweeps(store)[0].status == sweeps_repo.STOPPED
    sweeps_repo.delete_sweep(store, sweep_id)
    assert sweeps_repo.get_sweep(store, sweep_id) is None and evals_repo.list_runs(store) == []
    store.close()


def test_batch_job_records_round_trip(tmp_path: Path) -> None:
    store = ProjectStore.create(tmp_path / "p.gemtune")
    run = EvalRun(models=["m"])
    evals_repo.create_run(store, run)
    record = batch_jobs_repo.BatchJobRecord(run_id=run.id, backend="agent-platform", model="m", rows=10)
    batch_jobs_repo.create_job(store, record)
    record.state, record.succeeded, record.resource_name = "JOB_STATE_RUNNING", 4, "projects/p/x"
    batch_jobs_repo.update_job(store, record)
    again = batch_jobs_repo.get_job(store, record.id)
    assert again is not None and (again.state, again.succeeded, again.pending) == ("JOB_STATE_RUNNING", 4, 6)
    assert batch_jobs_repo.open_jobs(store) == [again]
    record.state, record.ingested = "JOB_STATE_SUCCEEDED", True
    batch_jobs_repo.update_job(store, record)
    assert batch_jobs_repo.open_jobs(store) == []
    store.close()

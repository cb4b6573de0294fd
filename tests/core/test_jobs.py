"""Job records in a real SQLite project file: plain-words states, no double submits, cached curves."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gemtune_desktop.core.jobs import JobRecord, JobState, state_in_words
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.schema import SCHEMA_SQL


class _FileStore:
    """The smallest store the repository needs: a real SQLite file with the project schema."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.executescript(SCHEMA_SQL)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[_FileStore]:
    s = _FileStore(tmp_path / "p.gemtune")
    yield s
    s.conn.close()


@pytest.mark.parametrize(("raw", "state"), [
    ("JOB_STATE_RUNNING", JobState.RUNNING), ("RUNNING", JobState.RUNNING),
    ("JobState.JOB_STATE_SUCCEEDED", JobState.SUCCEEDED), ("CREATING", JobState.RUNNING),
    ("ACTIVE", JobState.SUCCEEDED), ("FAILED", JobState.FAILED), ("nonsense", JobState.UNKNOWN),
])
def test_states_from_both_apis(raw: str, state: JobState) -> None:
    assert JobState.parse(raw) is state


def test_state_in_plain_words() -> None:
    assert state_in_words(JobState.RUNNING, "TUNING_JOB_STATE_TUNING", 41, 100) == "training 41%"
    assert state_in_words(JobState.RUNNING, "TUNING_JOB_STATE_PROCESSING_DATASET") == "preparing data"
    assert state_in_words(JobState.RUNNING, "TUNING_JOB_STATE_WAITING_FOR_CAPACITY") == "waiting for capacity"
    assert state_in_words(JobState.QUEUED) == "queued"
    assert state_in_words(JobState.CANCELLED) == "cancelled"


def test_submit_key_records_one_job(store: _FileStore) -> None:
    rec = JobRecord(connection_kind="sandbox", backend="agent-platform", display_name="support-v1",
                    hyperparameters={"epochs": 3}, submit_key="k1")
    first = jobs_repo.add_job(store, rec)
    second = jobs_repo.add_job(store, JobRecord(connection_kind="sandbox", backend="agent-platform",
                                                submit_key="k1"))
    assert first == second
    assert len(jobs_repo.list_jobs(store)) == 1
    jobs_repo.update_job(store, first, resource_name="projects/p/locations/l/tuningJobs/1",
                         state=JobState.RUNNING, total_steps=10, completed_steps=4)
    job = jobs_repo.get_job(store, first)
    assert job is not None
    assert job.hyperparameters == {"epochs": 3}
    assert job.state is JobState.RUNNING
    assert job.progress == pytest.approx(0.4)
    assert [j.id for j in jobs_repo.unfinished_jobs(store)] == [first]


def test_loss_curve_is_cached_and_replaced_by_step(store: _FileStore) -> None:
    job_id = jobs_repo.add_job(store, JobRecord(connection_kind="sandbox", backend="gemini-api"))
    jobs_repo.append_loss_points(store, job_id, "train", [(1, 0.1, 2.0), (2, 0.2, 1.5)])
    jobs_repo.append_loss_points(store, job_id, "train", [(2, 0.2, 1.4), (3, 0.3, 1.2)])
    assert jobs_repo.loss_points(store, job_id) == [(1, 0.1, 2.0), (2, 0.2, 1.4), (3, 0.3, 1.2)]
    assert jobs_repo.last_step(store, job_id) == 3
    assert jobs_repo.loss_series_names(store, job_id) == ["train"]

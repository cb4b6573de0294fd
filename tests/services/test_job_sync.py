"""Jobs the service lists, merged into a real project file; the project's tuned models offered to the Test tab."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.services import job_sync
from gemtune_desktop.services.model_choices import PROJECT_GROUP, tuned_model_refs
from gemtune_desktop.services.monitor import JobStatus


@pytest.fixture
def store(tmp_path: Path):
    s = ProjectStore.create(tmp_path / "p.gemtune")
    yield s
    s.close()


def _mine(store: ProjectStore, name: str, **kw: object) -> int:
    return jobs_repo.add_job(store, JobRecord(connection_kind="sandbox", backend="agent-platform",
                                              resource_name=name, **kw))  # type: ignore[arg-type]


def test_new_jobs_are_added_as_found_on_the_service_and_known_ones_updated(store: ProjectStore) -> None:
    known = _mine(store, "jobs/1", state=JobState.RUNNING, display_name="mine")
    polled = _mine(store, "jobs/2", state=JobState.RUNNING)
    statuses = [JobStatus("jobs/1", JobState.SUCCEEDED, completed_steps=10, total_steps=10),
                JobStatus("jobs/2", JobState.SUCCEEDED), JobStatus("jobs/3", JobState.RUNNING, display_name="other")]
    result = job_sync.merge_service_jobs(store, statuses, "sandbox", "agent-platform", polled={polled})
    assert (result.listed, result.added) == (3, 1)
    assert result.words() == "3 jobs on the service, 1 new to this list."
    assert jobs_repo.get_job(store, known).state is JobState.SUCCEEDED
    assert jobs_repo.get_job(store, polled).state is JobState.RUNNING  # the poller writes that one
    found = jobs_repo.find_by_resource(store, "jobs/3")
    assert found is not None and not found.from_project and found.display_name == "other"
    again = job_sync.merge_service_jobs(store, statuses, "sandbox", "agent-platform")
    assert again.added == 0 and again.words() == "3 jobs on the service."


def test_jobs_of_another_api_flavour_are_kept_apart(store: ProjectStore) -> None:
    _mine(store, "tunedModels/a")
    jobs_repo.add_job(store, JobRecord(connection_kind="sandbox", backend="gemini-api", resource_name="tunedModels/b"))
    assert [j.resource_name for j in job_sync.connection_jobs(store, "sandbox", "agent-platform")] == ["tunedModels/a"]


def test_succeeded_jobs_offer_their_model_and_callable_checkpoints() -> None:
    jobs = [JobRecord(connection_kind="sandbox", backend="agent-platform", display_name="router", id=7,
                      base_model="gemini-3.5-flash", state=JobState.SUCCEEDED, endpoint="ep/final",
                      checkpoints=[{"epoch": 1, "endpoint": "ep/1"}, {"epoch": 2, "endpoint": "ep/final"},
                                   {"step": 5}]),
            JobRecord(connection_kind="sandbox", backend="agent-platform", state=JobState.RUNNING, endpoint="x"),
            JobRecord(connection_kind="sandbox", backend="gemini-api", state=JobState.SUCCEEDED, endpoint="y")]
    refs = tuned_model_refs(jobs, "agent-platform")
    assert [(r.model, r.kind, r.job_id) for r in refs] == [("ep/final", "tuned", 7), ("ep/1", "checkpoint", 7)]
    assert refs[0].label == "router (tuned from gemini-3.5-flash)" and "checkpoint epoch 1" in refs[1].label
    assert {r.group for r in refs} == {PROJECT_GROUP}

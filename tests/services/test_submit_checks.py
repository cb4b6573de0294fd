"""What a background check of a submit not known yet writes when it finds the job (services/submit_flow)."""

from __future__ import annotations

from pathlib import Path

from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.services.submit_flow import apply_check
from gemtune_desktop.services.tuning import SubmitResult

FOUND = "projects/p/locations/us-central1/tuningJobs/42"


def test_a_found_job_the_service_list_already_added_is_kept_once(tmp_path: Path) -> None:
    """The Monitor's list of the service's jobs may add the job before the check finds it: one record stays."""
    store = ProjectStore.create(tmp_path / "checks.gemtune")
    try:
        mine = jobs_repo.add_job(store, JobRecord(connection_kind="sandbox", backend="agent-platform",
                                                  display_name="router", submit_key="a" * 32, train_count=120,
                                                  state=JobState.SUBMIT_UNKNOWN))
        copy = jobs_repo.add_job(store, JobRecord(connection_kind="sandbox", backend="agent-platform",
                                                  display_name="router", resource_name=FOUND, from_project=False,
                                                  state=JobState.RUNNING))
        assert apply_check(store, mine, SubmitResult(resource_name=FOUND, state="JOB_STATE_RUNNING"))
        (kept,) = jobs_repo.list_jobs(store)
        assert kept.id == mine and kept.resource_name == FOUND and kept.train_count == 120
        withdrawn = jobs_repo.get_job(store, copy)
        assert withdrawn is not None and withdrawn.deleted
    finally:
        store.close()

"""Default names of tuning jobs: from the project's name, unique among the project's jobs (issue 17, item 4)."""

from __future__ import annotations

from datetime import date

from gemtune_desktop.core.job_names import FALLBACK_STEM, default_job_name, job_named, name_stem, taken_names
from gemtune_desktop.core.jobs import JobRecord, JobState

DAY = date(2026, 12, 4)


def record(name: str, state: JobState = JobState.RUNNING, deleted: bool = False) -> JobRecord:
    return JobRecord(connection_kind="sandbox", backend="agent-platform", display_name=name, state=state,
                     deleted=deleted)


def test_the_stem_is_the_project_name_unless_it_has_none() -> None:
    assert name_stem("Contract clauses") == "Contract clauses"
    assert name_stem("  number-sequence  ") == "number-sequence"
    for nameless in ("Untitled", "untitled 3", "", "   "):
        assert name_stem(nameless) == FALLBACK_STEM


def test_default_name_is_the_project_and_the_day() -> None:
    assert default_job_name("Contract clauses", [], 128, DAY) == "Contract clauses 2026-12-04"
    assert default_job_name("Untitled", [], 128, DAY) == f"{FALLBACK_STEM} 2026-12-04"


def test_default_name_is_made_unique_ignoring_case_and_spaces() -> None:
    taken = ["Contract clauses 2026-12-04", "contract clauses 2026-12-04 (2) "]
    assert default_job_name("Contract clauses", taken, 128, DAY) == "Contract clauses 2026-12-04 (3)"


def test_default_name_fits_the_limit_with_its_number() -> None:
    long = "A very long project name about indemnity clauses"
    first = default_job_name(long, [], 40, DAY)
    assert len(first) <= 40 and first.endswith(" 2026-12-04")
    second = default_job_name(long, [first], 40, DAY)
    assert len(second) <= 40 and second.endswith(" (2)") and second != first


def test_taken_names_leave_out_jobs_that_never_started_and_withdrawn_ones() -> None:
    records = [record("router v1"), record("router v2", JobState.SUBMIT_FAILED),
               record("router v3", deleted=True), record("router v4", JobState.SUBMIT_UNKNOWN),
               record("router v5", JobState.SUCCEEDED)]
    assert taken_names(records) == ["router v1", "router v4", "router v5"]


def test_job_named_finds_a_reused_name() -> None:
    records = [record("Router v1"), record("other")]
    found = job_named(" router V1", records)
    assert found is not None and found.display_name == "Router v1"
    assert job_named("router v2", records) is None
    assert job_named("", records) is None

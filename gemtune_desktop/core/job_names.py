"""Names of tuning jobs: the default one from the project's name, made unique among the project's jobs.

Jobs and the models they make are told apart by name in the Monitor and Test tabs, so the Tune tab
offers "<project> <day>" (``Contract clauses 2026-12-04``), numbered when the project already has a
job of that name (``… (2)``), and warns when the user types a name a job already has. Names are
compared ignoring case and surrounding spaces. A job that certainly never started (refused, or
withdrawn before it was sent) leaves its name free for the next try.

Qt-free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from gemtune_desktop.core.jobs import JobRecord, JobState

#: The stem when the project has no name of its own (the Untitled project).
FALLBACK_STEM = "Tuned model"
_NAMELESS = re.compile(r"^untitled(?: \d+)?$", re.IGNORECASE)


def name_stem(project_name: str) -> str:
    """What a default job name starts with: the project's name, unless it has none."""
    stem = " ".join(project_name.split())
    return FALLBACK_STEM if not stem or _NAMELESS.match(stem) else stem


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _fit(stem: str, suffix: str, limit: int) -> str:
    return stem[: max(1, limit - len(suffix))].rstrip() + suffix


def default_job_name(project_name: str, taken: Iterable[str], limit: int, today: date) -> str:
    """``"<project> <day>"``, shortened to ``limit`` characters and numbered if a job already has it."""
    used = {_key(n) for n in taken}
    base = _fit(name_stem(project_name), f" {today.isoformat()}", limit)
    if _key(base) not in used:
        return base
    n = 2
    while True:
        candidate = _fit(base, f" ({n})", limit)
        if _key(candidate) not in used:
            return candidate
        n += 1


def _holds_its_name(record: JobRecord) -> bool:
    return not record.deleted and record.state is not JobState.SUBMIT_FAILED


def taken_names(records: Iterable[JobRecord]) -> list[str]:
    """The names of the project's jobs that exist or may exist (not withdrawn, not certainly unstarted)."""
    return [r.display_name for r in records if _holds_its_name(r) and r.display_name]


def job_named(name: str, records: Iterable[JobRecord]) -> JobRecord | None:
    """The project's job that already has ``name`` (see :func:`taken_names`), or None."""
    key = _key(name)
    if not key:
        return None
    return next((r for r in records if _holds_its_name(r) and _key(r.display_name) == key), None)

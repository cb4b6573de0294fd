"""A project file with a stored evaluation run (real SQLite), for the judge, service and batch tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gemtune_desktop.core.project import evals_repo
from gemtune_desktop.core.project.evals_repo import EvalRow, EvalRun
from gemtune_desktop.core.project.store import ProjectStore


def question(i: int) -> str:
    return f"Clause {i} of the lease: may the tenant sublet without the landlord's consent?"


def reference(i: int) -> str:
    return f"No. Clause {i} requires the landlord's written consent before any subletting."


def make_run(path: Path, answers: Sequence[Sequence[str]], errors: dict[tuple[int, int], str] | None = None,
             blocked: dict[tuple[int, int], str] | None = None) -> tuple[ProjectStore, EvalRun]:
    """A project with one run: ``answers[slot][i]`` is model ``slot``'s answer to example ``i + 1``."""
    store = ProjectStore.create(path)
    models = [f"model-{s}" for s in range(len(answers))]
    n = len(answers[0])
    run = EvalRun(models=models, source="test", settings={"example_ids": list(range(1, n + 1))})
    evals_repo.create_run(store, run)
    rows = []
    for slot, texts in enumerate(answers):
        for i, text in enumerate(texts, 1):
            err = (errors or {}).get((i, slot), "")
            why = (blocked or {}).get((i, slot), "")
            rows.append(EvalRow(run.id, i, slot, question(i), reference(i), "" if err or why else text,
                                "SAFETY" if why else "STOP", why, 10, err))
    evals_repo.store_rows(store, rows)
    return store, run

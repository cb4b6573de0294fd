"""What the evaluation view says beside a run's metrics, and the scores read on a worker.

:func:`load_scored` scores the stored run and reads each metric's provenance (sacreBLEU's signatures
need its objects, so this runs off the GUI thread). :func:`summary_lines` are the plain sentences: how
many answers are in, the batch engine's jobs, who won row by row, the blind-review tally and how many
preference examples the review produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gemtune_desktop.core import eval_metrics as em
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.project import evals_repo
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.services.batch_eval import RunSummary, StoredRun, load_run
from gemtune_desktop.ui.playground.eval_results import who_won


@dataclass(slots=True)
class ScoredRun:
    """A run's rows and scores, with the library and settings behind each metric (read on a worker)."""

    stored: StoredRun
    provenance: dict[str, str] = field(default_factory=dict)
    caveats: list[str] = field(default_factory=list)


def load_scored(token: CancelToken, db_path: str, run_id: int, n_models: int, expected: int,
                save_metrics: bool) -> ScoredRun:
    """Worker: score the stored run and read the metrics' provenance."""
    stored = load_run(token, db_path, run_id, n_models, expected, save_metrics)
    answers = [str(getattr(r, "actual", "")) for r in stored.rows]
    return ScoredRun(stored, dict(em.provenance()), em.caveats(answers[:2000]))


def summary_lines(project: ProjectSession | None, run: EvalRun, summary: RunSummary, missing: int,
                  batch_words: str) -> list[str]:
    labels = run.labels
    lines = [f"{missing} answers still missing — press Resume." if missing else
             f"All {run.expected_rows} answers received."]
    if batch_words:
        lines.append(batch_words)
    wl = summary.wins_losses
    if wl and len(labels) == 2:
        lines.append(who_won(labels, wl))
    if project is not None and len(labels) == 2:
        from gemtune_desktop.core.preference.from_review import count_from_run
        from gemtune_desktop.core.project import preference_repo

        tally = em.preference_tally(evals_repo.reviews(project.store, run.id).values())
        if sum(tally.values()):
            lines.append(f"Blind review: {labels[0]} preferred {tally['a']}×, {labels[1]} {tally['b']}×, "
                         f"ties {tally['tie']}.")
        made = count_from_run(preference_repo.sources(project.store), run.id)
        if made:
            lines.append(f"{made} preference example{'' if made == 1 else 's'} made from this run's review.")
    return lines

"""Batch evaluation, planned and read back: which examples a run covers, the calls still to make, and the CSV.

A run is stored in the project (:mod:`gemtune_desktop.core.project.evals_repo`) with the examples it
covers and the models it compares. :func:`pending_items` lists the calls it still lacks (so a resumed
run sends only those); the answers come back as :class:`~gemtune_desktop.core.project.evals_repo.EvalRow` s,
grouped per example by :func:`group_rows` for the results table and the blind review.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gemtune_desktop.core import eval_metrics as em
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
from gemtune_desktop.core.project.evals_repo import EvalRow, EvalRun
from gemtune_desktop.services.batch_eval import EvalItem

#: Which examples a run covers: (key, label shown in the picker).
SOURCES = (("validation", "Validation examples"), ("test", "Test examples"),
           ("validation+test", "Validation and test examples"), ("rows", "Rows by number…"))
SPLITS_OF_SOURCE = {"validation": {Split.VALIDATION}, "test": {Split.TEST},
                    "validation+test": {Split.VALIDATION, Split.TEST}}

Scores = dict[tuple[int, int], dict[str, float]]  # (example id, model slot) -> metric -> value


def examples_by_row_numbers(examples: Sequence[Example], spec: str) -> list[Example]:
    """Rows picked as "1-20, 35, 40-42" (1-based as the Dataset tab shows them).

    Raises ValueError with a plain message for a malformed or out-of-range spec.
    """
    chosen: list[int] = []
    for part in spec.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                lo_text, hi_text = part.split("-", 1)
                lo, hi = int(lo_text), int(hi_text)
            else:
                lo = hi = int(part)
        except ValueError:
            raise ValueError(f"“{part}” is not a row number or a range like 3-10.") from None
        if lo < 1 or hi > len(examples) or lo > hi:
            raise ValueError(f"Rows {part} are outside 1–{len(examples)}.")
        chosen.extend(range(lo, hi + 1))
    return [examples[n - 1] for n in dict.fromkeys(chosen)]


def choose_examples(examples: Sequence[Example], source: str, rows_spec: str = "") -> list[Example]:
    """The examples with an input that a run over ``source`` covers (ValueError for a bad row spec)."""
    if source == "rows":
        chosen = examples_by_row_numbers(examples, rows_spec)
    else:
        splits = SPLITS_OF_SOURCE[source]
        chosen = [e for e in examples if e.split in splits]
    return [e for e in chosen if e.input.strip()]


def new_run(models: list[str], labels: list[str], texts: list[tuple[str, str]], source: str,
            generation: GenerationSettings, safety: SafetySettings, examples: Sequence[Example],
            base_models: Sequence[str] = ()) -> EvalRun:
    """A run to store: the models (with their labels, the preamble and system instruction each gets, and for
    tuned models the model they were tuned from)."""
    settings = {"generation": generation.to_dict(), "safety": safety.to_dict(), "labels": labels,
                "texts": [list(t) for t in texts], "example_ids": [e.id for e in examples],
                "base_models": list(base_models) or [""] * len(models)}
    return EvalRun(models=models, source=source, settings=settings)


@dataclass(frozen=True)
class Pending:
    items: list[EvalItem]
    deleted_examples: int  # examples of the run no longer in the dataset (skipped)


def pending_items(run: EvalRun, examples: Sequence[Example], done: set[tuple[int, int]]) -> Pending:
    """The calls ``run`` still lacks: every (example, model) not in ``done``."""
    by_id = {e.id: e for e in examples}
    texts = run.settings.get("texts") or [["", ""]] * len(run.models)
    bases = [str(b) for b in run.settings.get("base_models") or []]
    items: list[EvalItem] = []
    deleted = 0
    for eid in run.example_ids:
        ex = by_id.get(eid)
        if ex is None:
            deleted += 1
            continue
        for slot, model in enumerate(run.models):
            if (eid, slot) in done:
                continue
            pre, system = ([*list(texts[slot]), "", ""])[:2] if slot < len(texts) else ("", "")
            items.append(EvalItem(eid, slot, model, ex.input, ex.output, pre, system,
                                  bases[slot] if slot < len(bases) else ""))
    return Pending(items, deleted)


@dataclass(slots=True)
class RowGroup:
    """One example's answers (per model slot) and their scores."""

    example_id: int
    input: str
    expected: str
    answers: dict[int, EvalRow] = field(default_factory=dict)
    scores: dict[int, dict[str, float]] = field(default_factory=dict)


def group_rows(rows: Sequence[EvalRow], scores: Scores) -> list[RowGroup]:
    groups: dict[int, RowGroup] = {}
    for r in rows:
        g = groups.get(r.example_id)
        if g is None:
            g = groups[r.example_id] = RowGroup(r.example_id, r.input, r.expected)
        g.answers[r.slot] = r
        if (r.example_id, r.slot) in scores:
            g.scores[r.slot] = scores[(r.example_id, r.slot)]
    return sorted(groups.values(), key=lambda g: g.example_id)


def export_csv(path: Path, rows: Sequence[EvalRow], labels: Sequence[str], scores: Mapping[tuple[int, int],
               Mapping[str, float]]) -> int:
    """Write one line per answer (UTF-8 with BOM so Excel reads accents); returns the line count.

    ``scores`` are the run's computed scores; rows without one are scored here.
    """
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["example_id", "model", "input", "expected", "actual", "finish_reason", "blocked",
                         "error", "latency_ms", *em.ROW_METRICS])
        for r in rows:
            row_scores = {} if r.error else scores.get((r.example_id, r.slot)) or em.row_scores(r.expected, r.actual)
            writer.writerow([r.example_id, labels[r.slot] if r.slot < len(labels) else r.slot, r.input,
                             r.expected, r.actual, r.finish_reason, r.blocked, r.error, r.latency_ms,
                             *[f"{row_scores[k]:.4f}" if k in row_scores else "" for k in em.ROW_METRICS]])
    return len(rows)

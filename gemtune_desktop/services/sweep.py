"""Sweep: run the evaluation rows over a grid of generation or safety settings, and read the trade-offs.

:func:`plan` checks the grid and estimates calls, tokens and cost before anything is sent.
:func:`create` stores the sweep with one evaluation run per grid point (so each point's answers
are kept like any run). :func:`run` sends, point after point, only the answers still missing
(so it resumes after a stop or a restart), with the same concurrency, 429 pause and retries as a
batch evaluation, and reports progress over the whole sweep. :func:`load_results` computes each
point's figures: the accuracy metrics of :mod:`core.eval_metrics` (corpus BLEU/chrF, means of the
rest), distinct-1/2, blocked prompts and blocked answers per harm category, answer length, and
the cost of the tokens sent and received (estimated from the text, priced with the user's prices).
A point with answers still missing is marked partial; a stopped sweep keeps what it got.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core import sweep_grid as sg
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.eval_cost import CallEstimate, Prices, cost_of, estimate_calls, prompt_tokens
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
from gemtune_desktop.core.project.evals_repo import EvalRow, Store
from gemtune_desktop.core.project.sweeps_repo import SweepPoint
from gemtune_desktop.core.tokens import estimate_tokens
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.batch_eval import EvalItem, RetryPolicy, run_and_store

PLOT_METRICS = ("exact_match", "token_f1", "bleu", "chrf", "rouge1", "rouge2", "rougeL", "distinct_1",
                "distinct_2", "blocked_prompts", "blocked_answers", "mean_length_words", "cost")


@dataclass(slots=True)
class SweepPlan:
    grid: sg.Grid
    estimate: CallEstimate

    @property
    def points(self) -> int:
        return self.grid.size


def plan(axes: Mapping[str, Sequence[object]], rows: Sequence[tuple[str, str]], prices: Prices | None = None,
         preamble: str = "", system_instruction: str = "") -> SweepPlan:
    """The checked grid and the estimate for sending every (prompt, expected) row at every point."""
    grid = sg.Grid.of(axes)
    if not rows:
        raise sg.SweepError("There are no rows to evaluate.", "Choose examples in the validation or test split.")
    return SweepPlan(grid, estimate_calls(rows, grid.size, prices, preamble, system_instruction))


def create(store: Store, model: str, sweep_plan: SweepPlan, example_ids: Sequence[int],
           generation: GenerationSettings, safety: SafetySettings, preamble: str = "", system_instruction: str = "",
           name: str = "", model_label: str = "", base_model: str = "") -> int:
    """Store the sweep and its points' runs (on the GUI thread, with the project store); returns its id.
    ``base_model``: for a tuned model, the model it was tuned from (the least thinking it allows is sent)."""
    from gemtune_desktop.core.project import sweeps_repo

    base = {"generation": generation.to_dict(), "safety": safety.to_dict(), "preamble": preamble,
            "system_instruction": system_instruction, "label": model_label or model, "base_model": base_model}
    points = []
    for values in sweep_plan.grid.points():
        gen, safe = sg.apply(values, generation, safety)
        settings = {"generation": gen.to_dict(), "safety": safe.to_dict(), "preamble": preamble,
                    "system_instruction": system_instruction, "labels": [model_label or model], "sweep_point": values}
        points.append((values, f"Sweep point: {sg.point_label(values)}", settings))
    sweep = sweeps_repo.Sweep(model=model, grid=sweep_plan.grid.to_dict(), base=base,
                              example_ids=list(example_ids), name=name or f"Sweep of {model_label or model}",
                              estimate=sweep_plan.estimate.to_dict())
    return sweeps_repo.create_sweep(store, sweep, points)


def run(token: CancelToken, session: BackendSession, db_path: str, sweep_id: int, concurrency: int = 4,
        policy: RetryPolicy | None = None) -> int:
    """Send every missing answer of every point; returns how many were sent.

    Progress is reported as (answers stored, answers in the whole sweep, point label). On cancel
    the answers received are kept, the sweep is marked "stopped" and :class:`Cancelled` is raised.
    """
    from gemtune_desktop.core.project import evals_repo, sweeps_repo

    side = evals_repo.SideStore(db_path)
    try:
        sweep = sweeps_repo.get_sweep(side, sweep_id)
        if sweep is None:
            raise sg.SweepError("This sweep is no longer in the project.", "Start a new sweep.")
        points = sweeps_repo.points(side, sweep_id)
        texts = sweeps_repo.example_texts(side, sweep.example_ids)
        done = {p.point: evals_repo.done_keys(side, p.run_id) for p in points}
        sweeps_repo.set_status(side, sweep_id, sweeps_repo.RUNNING)
    finally:
        side.close()
    ids = [i for i in sweep.example_ids if i in texts]
    total = len(ids) * len(points)
    stored = sum(len(d) for d in done.values())
    sent = 0
    preamble = str(sweep.base.get("preamble", ""))
    system = str(sweep.base.get("system_instruction", ""))
    finished = False
    try:
        for p in points:
            items = [EvalItem(i, 0, sweep.model, texts[i][0], texts[i][1], preamble, system,
                              str(sweep.base.get("base_model", ""))) for i in ids if (i, 0) not in done[p.point]]
            if not items:
                continue
            gen, safe = sg.apply(p.settings, GenerationSettings.from_dict(sweep.base.get("generation", {})),
                                 SafetySettings.from_dict(sweep.base.get("safety", {})))
            label = sg.point_label(p.settings)
            offset = stored

            def progress(n: int, _total: int, offset: int = offset, label: str = label) -> None:
                token.report(offset + n, total, label)

            stats = run_and_store(token, session, items, p.run_id, db_path, len(ids), gen, safe, concurrency,
                                  policy, progress=progress)
            stored += stats.done - stats.failed
            sent += stats.done
        finished = True
        return sent
    finally:
        side = evals_repo.SideStore(db_path)
        try:
            sweeps_repo.set_status(side, sweep_id, sweeps_repo.DONE if finished and _complete(side, sweep_id, ids)
                                   else sweeps_repo.STOPPED)
        finally:
            side.close()


def _complete(side: Store, sweep_id: int, ids: Sequence[int]) -> bool:
    from gemtune_desktop.core.project import evals_repo, sweeps_repo

    return all(len(evals_repo.done_keys(side, p.run_id)) >= len(ids) for p in sweeps_repo.points(side, sweep_id))


# -- results -------------------------------------------------------------------------------------
@dataclass(slots=True)
class PointResult:
    index: int
    settings: dict[str, Any]
    label: str
    run_id: int
    answered: int = 0
    expected: int = 0
    errors: int = 0
    metrics: dict[str, float | None] = field(default_factory=dict)
    blocked_prompts: dict[str, int] = field(default_factory=dict)  # harm category → count
    blocked_answers: dict[str, int] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def partial(self) -> bool:
        return self.answered < self.expected


@dataclass(slots=True)
class Curves:
    """``lines`` are (legend label, x values, y values with None where a point has no answer yet)."""

    x_label: str
    x_ticks: list[tuple[float, str]]
    lines: list[tuple[str, list[float], list[float | None]]]


@dataclass(slots=True)
class SweepResults:
    sweep_id: int
    model: str
    status: str
    axes: dict[str, list[Any]]
    base: dict[str, Any]
    points: list[PointResult] = field(default_factory=list)
    prices: Prices = field(default_factory=Prices)

    @property
    def partial(self) -> bool:
        return any(p.partial for p in self.points)

    def metric_keys(self) -> list[str]:
        """What can be plotted: :data:`PLOT_METRICS`, then one count per harm category that blocked something."""
        per_category = sorted({k for p in self.points for k in p.metrics if ":" in k})
        keys: list[str] = []
        for key in PLOT_METRICS:
            keys.append(key)
            keys += [k for k in per_category if k.partition(":")[0] == key]  # each total, then its categories
        return keys

    def series(self, metric: str) -> list[float | None]:
        """One value per point (None where the point has no answer yet), in grid order."""
        return [p.metrics.get(metric) for p in self.points]

    def curves(self, metric: str) -> Curves:
        """What the trade-off plot draws for ``metric``: the first axis across (numbers, or positions with
        tick labels for thresholds), one curve per combination of the other axes."""
        axes = list(self.axes.items())
        if not axes:
            return Curves("", [], [])
        first, values = axes[0]
        numeric = all(isinstance(v, int | float) for v in values)
        xs = [float(v) if numeric else float(i) for i, v in enumerate(values)]
        ticks = [] if numeric else [(float(i), sg.value_label(first, v)) for i, v in enumerate(values)]
        groups: dict[str, list[float | None]] = {}
        for point in self.points:
            rest = {k: v for k, v in point.settings.items() if k != first}
            label = sg.point_label(rest) if rest else sg.axis_label(first)
            groups.setdefault(label, [None] * len(values))[values.index(point.settings[first])] = \
                point.metrics.get(metric)
        return Curves(sg.axis_label(first), ticks, [(label, xs, ys) for label, ys in groups.items()])

    def best(self, metric: str, higher_is_better: bool | None = None) -> PointResult | None:
        index = sg.best_point(self.series(metric), metric, higher_is_better)
        return None if index is None else self.points[index]

    def settings_for(self, point: PointResult) -> tuple[GenerationSettings, SafetySettings]:
        """The full settings of a point, to apply to the console and save (one click)."""
        return sg.apply(point.settings, GenerationSettings.from_dict(self.base.get("generation", {})),
                        SafetySettings.from_dict(self.base.get("safety", {})))

    def warnings(self) -> list[str]:
        out = []
        if self.partial:
            missing = sum(max(0, p.expected - p.answered) for p in self.points)
            out.append(f"Partial: {missing:,} answers are still missing"
                       + (" (the sweep was stopped; press Resume)." if self.status != "done" else "."))
        if not self.prices.known:
            out.append("Cost is not shown: enter your price per million input and output tokens.")
        return out


def load_results(db_path: str, sweep_id: int, prices: Prices | None = None) -> SweepResults:
    """Every point's figures (runs on a worker thread)."""
    from gemtune_desktop.core.project import evals_repo, sweeps_repo

    side = evals_repo.SideStore(db_path)
    try:
        sweep = sweeps_repo.get_sweep(side, sweep_id)
        if sweep is None:
            raise sg.SweepError("This sweep is no longer in the project.", "Start a new sweep.")
        results = SweepResults(sweep_id, sweep.model, sweep.status, sweep.grid, sweep.base, prices=prices or Prices())
        for p in sweeps_repo.points(side, sweep_id):
            rows = evals_repo.list_rows(side, p.run_id)
            results.points.append(_point(p, rows, len(sweep.example_ids), sweep.base, results.prices))
    finally:
        side.close()
    _add_category_counts(results.points)
    return results


def category_metric(kind: str, category: str) -> str:
    """The metric key of one harm category's count: ``kind`` is "blocked_prompts" or "blocked_answers"."""
    return f"{kind}:{category}"


def _add_category_counts(points: Sequence[PointResult]) -> None:
    """Per harm category, blocked prompts and blocked answers as metrics of their own (0 at a point with
    answers where that category blocked nothing), for every category that blocked something anywhere."""
    prompt_categories = sorted({c for p in points for c in p.blocked_prompts})
    answer_categories = sorted({c for p in points for c in p.blocked_answers})
    for point in points:
        for kind, counts, seen in (("blocked_prompts", point.blocked_prompts, prompt_categories),
                                   ("blocked_answers", point.blocked_answers, answer_categories)):
            for category in seen:
                point.metrics[category_metric(kind, category)] = \
                    float(counts.get(category, 0)) if point.answered else None


def _point(p: SweepPoint, rows: Sequence[EvalRow], expected: int, base: dict[str, Any],
           prices: Prices) -> PointResult:
    from gemtune_desktop.core import eval_metrics as em

    result = PointResult(p.point, p.settings, sg.point_label(p.settings), p.run_id, expected=expected)
    ok = [r for r in rows if not r.error]
    result.answered = len(ok)
    result.errors = len(rows) - len(ok)
    prompt_blocks = Counter(r.blocked or "OTHER" for r in ok if r.finish_reason == "PROMPT_BLOCKED")
    answer_blocks = Counter(r.blocked for r in ok if r.blocked and r.finish_reason != "PROMPT_BLOCKED")
    result.blocked_prompts, result.blocked_answers = dict(prompt_blocks), dict(answer_blocks)
    preamble, system = str(base.get("preamble", "")), str(base.get("system_instruction", ""))
    result.input_tokens = sum(prompt_tokens(r.input, preamble, system) for r in rows)
    result.output_tokens = sum(estimate_tokens(r.actual) for r in ok)
    if not ok:
        result.metrics = dict.fromkeys(PLOT_METRICS, None)
        return result
    summary = em.summarize([em.ScoredRow(r.example_id, r.expected, r.actual, r.blocked) for r in ok])
    result.metrics = {k: summary.means[k] for k in em.ROW_METRICS}
    result.metrics.update(distinct_1=summary.distinct_1, distinct_2=summary.distinct_2,
                          blocked_prompts=float(sum(prompt_blocks.values())),
                          blocked_answers=float(sum(answer_blocks.values())),
                          mean_length_words=summary.mean_length_words,
                          cost=cost_of(result.input_tokens, result.output_tokens, prices))
    return result

"""The time series a simulated tuning job writes to its TensorBoard run, and their values per step.

Supervised jobs write ``/train_total_loss`` every step and ``/eval_total_loss`` at each evaluation when a
validation file was given (the names Agent Platform's supervised tuning uses; :mod:`.training` computes
the values). Preference jobs write:

* ``/train_preference_loss`` — the preference (DPO) loss, ``log(1 + e^(−margin))``: ln 2 ≈ 0.693 at the
  start, when the tuned model still rates both answers alike, falling as the margin grows;
* ``/train_reward_margin`` — how much more the model favours the preferred answer than the dispreferred
  one (the β-scaled log-probability ratio difference), rising from 0 towards a ceiling that is higher for a
  lower β (a lower β lets the model move further from where it started);
* ``/eval_preference_loss`` and ``/eval_reward_margin`` at each evaluation, with a validation file; the
  validation margin falls again after the "overfitting epoch" (as the supervised validation loss rises).

UNCERTAIN: the series names a real preference-tuning job writes are not documented in any source the team
could read (the gemini-preference-tuning pages and Google's preference-tuning notebook name none); these
names follow the supervised ones' ``/train_…``/``/eval_…`` pattern. The app reads whatever series a run has.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gemtune_desktop.sandbox import training
from gemtune_desktop.sandbox.http import rfc3339
from gemtune_desktop.sandbox.state import Run

PREFERENCE = "preference"
DEFAULT_BETA = 0.1  # Google's preference-tuning notebook starts there


@dataclass(frozen=True, slots=True)
class SeriesDef:
    display: str  # the series' display name, e.g. "/train_total_loss"
    suffix: str  # the last two digits of its resource id
    evaluation: bool  # written at evaluation steps (needs a validation file) rather than every step
    value: Callable[[Run, int], float]


def _beta(run: Run) -> float:
    try:
        beta = float(run.info.get("beta") or DEFAULT_BETA)
    except (TypeError, ValueError):
        beta = DEFAULT_BETA
    return beta if beta > 0 else DEFAULT_BETA


def _noise(run: Run, salt: int, step: int) -> float:
    return random.Random(run.plan.seed * 1_000_003 + salt * 7919 + step).gauss(0.0, 1.0)


def reward_margin(run: Run, step: int, evaluation: bool = False) -> float:
    plan = run.plan
    rng = random.Random(plan.seed + 17)
    ceiling = (2.0 + 2.0 * rng.random()) * min(3.0, (DEFAULT_BETA / _beta(run)) ** 0.3)
    e = step / plan.steps_per_epoch
    sd = 0.04 + 0.3 / math.sqrt(max(plan.example_count, 1))
    if plan.multiplier >= training.DIVERGE_MULTIPLIER:  # unstable: the margin swings around 0
        return round(0.6 * math.sin(step * 0.9) + sd * 3 * _noise(run, 5 if evaluation else 3, step), 5)
    rate = 1.3 * min(plan.multiplier, 4.0)
    value = ceiling * (1 - math.exp(-rate * e))
    if evaluation:
        value *= 0.8
        e_star = training.overfit_epoch(plan.example_count, plan.multiplier)
        if e > e_star:
            value -= 0.25 * ceiling * (e - e_star)
    return round(value + sd * _noise(run, 2 if evaluation else 1, step), 5)


def preference_loss(run: Run, step: int, evaluation: bool = False) -> float:
    margin = reward_margin(run, step, evaluation)
    return round(math.log1p(math.exp(-margin)), 5)


SUPERVISED_SERIES = (
    SeriesDef("/train_total_loss", "01", False, lambda run, s: training.train_loss(run.plan, s)),
    SeriesDef("/eval_total_loss", "02", True, lambda run, s: training.eval_loss(run.plan, s)),
)
PREFERENCE_SERIES = (
    SeriesDef("/train_preference_loss", "03", False, preference_loss),
    SeriesDef("/train_reward_margin", "04", False, reward_margin),
    SeriesDef("/eval_preference_loss", "05", True, lambda run, s: preference_loss(run, s, True)),
    SeriesDef("/eval_reward_margin", "06", True, lambda run, s: reward_margin(run, s, True)),
)


def series_of(run: Run) -> tuple[SeriesDef, ...]:
    return PREFERENCE_SERIES if run.info.get("method") == PREFERENCE else SUPERVISED_SERIES


def steps_written(run: Run, sdef: SeriesDef, now: float | None = None) -> list[int]:
    """The steps of ``sdef`` written so far (none for a failed run)."""
    done = run.status(now).completed_steps if run.failure is None else 0
    if sdef.evaluation:
        return training.eval_steps(run.plan, done) if run.plan.has_validation else []
    return list(range(1, done + 1))


def written(run: Run, now: float | None = None) -> list[SeriesDef]:
    """The series that exist so far: each once its first point is written."""
    return [s for s in series_of(run) if steps_written(run, s, now)]


def points(run: Run, sdef: SeriesDef, now: float | None = None) -> list[dict[str, Any]]:
    """Every point of a series written so far, by step (``TensorboardTimeSeries`` data points)."""
    return [{"step": str(s), "wallTime": rfc3339(run.wall(training.step_tick(s))),
             "scalar": {"value": sdef.value(run, s)}} for s in steps_written(run, sdef, now)]

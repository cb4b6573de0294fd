"""Advice read from a loss curve, in plain words, with the settings to try next.

Google's tuning guidance made concrete (see shared/docs/gemini-reference.md §5): lower the
epoch count when the training loss plateaus early; stop at the best checkpoint when the
validation loss rises while the training loss falls (overfitting); use a lower learning-rate
multiplier when the loss is flat or rising from the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gemtune_desktop.core.loss import LossSeries, epoch_of, per_epoch

PLATEAU = "plateau"
OVERFITTING = "overfitting"
FLAT = "flat"

# Thresholds, tuned on synthetic curves (tests/core/test_advice.py).
PLATEAU_SHARE = 0.10  # later epochs bought less than 10% of the total improvement…
PLATEAU_LEVEL = 0.08  # …and less than 8% of the loss level reached
OVERFIT_RISE = 0.05  # validation loss ended ≥5% above its lowest point
FLAT_DROP = 0.05  # the loss fell by less than 5% from the start
MIN_POINTS = 8


@dataclass(frozen=True, slots=True)
class Advice:
    """One finding about a curve.

    Attributes:
        kind: PLATEAU, OVERFITTING or FLAT.
        title: a short headline.
        text: what was seen and what to do, in plain words.
        settings: the settings to pre-fill in the Tune tab, e.g. ``{"epochs": 3}``.
        epoch: the epoch the advice points at (plateau or best checkpoint), if any.
        step: the step of the best validation loss (overfitting), if any.
        warning: True when the model itself may be worse than it could be.
    """

    kind: str
    title: str
    text: str
    settings: dict[str, Any] = field(default_factory=dict)
    epoch: int | None = None
    step: int | None = None
    warning: bool = False


def advise(train: LossSeries, validation: LossSeries | None = None, *, steps_per_epoch: float = 0.0,
           learning_rate_multiplier: float | None = None, finished: bool = True) -> list[Advice]:
    """Every finding for a job's curves (empty when the curve is too short or looks healthy).

    Args:
        train / validation: the job's curves.
        steps_per_epoch: to place steps in epochs when the service gives no epoch per point.
        learning_rate_multiplier: the one the job used (default 1.0), to suggest half of it.
        finished: False while the job runs: its last epoch is still partial and is left out of
            the plateau check.
    """
    found: list[Advice] = []
    flat = _flat_or_rising(train, learning_rate_multiplier)
    if flat is not None:
        return [flat]  # nothing else on such a curve is meaningful
    over = _overfitting(train, validation, steps_per_epoch)
    if over is not None:
        found.append(over)
    plateau = _plateau(train, steps_per_epoch, finished)
    if plateau is not None and (over is None or (plateau.epoch or 0) < (over.epoch or 0)):
        found.append(plateau)
    return found


def _finite(series: LossSeries) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(series.values)
    return series.steps[ok], series.values[ok]


def _flat_or_rising(train: LossSeries, lr_multiplier: float | None) -> Advice | None:
    _steps, values = _finite(train)
    if len(values) < MIN_POINTS:
        return None
    head = max(2, len(values) // 10)
    tail = max(2, len(values) // 5)
    start = float(values[:head].mean())
    end = float(values[-tail:].mean())
    window = max(3, len(values) // 10)
    lowest = float(np.convolve(values, np.ones(window) / window, mode="valid").min())  # noise-proof minimum
    if start <= 0:
        return None
    if end < start * (1.0 - FLAT_DROP) or lowest < start * (1.0 - 3 * FLAT_DROP):
        return None
    current = lr_multiplier if lr_multiplier and lr_multiplier > 0 else 1.0
    suggested = _round_multiplier(current / 2.0)
    trend = "rose" if end > start * (1.0 + FLAT_DROP) else "hardly moved"
    text = (f"The training loss {trend} from the start ({start:.3g} → {end:.3g}), so the model is not learning "
            f"from the examples. A lower learning-rate multiplier usually fixes this: try {suggested:g} "
            f"instead of {current:g}. Also check that the outputs in your examples are consistent.")
    return Advice(FLAT, "The loss is not going down", text, {"learning_rate_multiplier": suggested}, warning=True)


def _round_multiplier(x: float) -> float:
    if x <= 0:
        return 0.1
    digits = max(0, 1 - math.floor(math.log10(x)))
    return round(x, digits)


def _plateau(train: LossSeries, steps_per_epoch: float, finished: bool = True) -> Advice | None:
    if len(train) < MIN_POINTS:
        return None
    epochs = per_epoch(train, steps_per_epoch, tail=0.5)
    if not finished:
        epochs = epochs[:-1]  # the running epoch is not complete yet
    if len(epochs) < 3:
        return None
    means = [m for _n, m, _s in epochs]
    total_drop = means[0] - min(means)
    first_level = means[0]
    if total_drop <= 0 or total_drop < FLAT_DROP * abs(first_level):
        return None
    last_epoch = epochs[-1][0]
    for i, (n, m, _s) in enumerate(epochs):
        later_gain = m - min(means[i:])
        if later_gain <= PLATEAU_SHARE * total_drop and later_gain <= PLATEAU_LEVEL * m:
            if n >= last_epoch:
                return None
            wasted = last_epoch - n
            pct = 100.0 * later_gain / m if m else 0.0
            of = f"of {last_epoch}" if finished else f"({last_epoch} complete so far)"
            text = (f"The training loss levelled off after epoch {n} {of}: the {wasted} epoch"
                    f"{'s' if wasted != 1 else ''} after it improved it by only {pct:.1f}%. "
                    f"Next time {n} epoch{'s' if n != 1 else ''} should be enough — faster and cheaper, "
                    f"with less risk of over-learning the examples.")
            return Advice(PLATEAU, f"Training loss plateaued at epoch {n}", text, {"epochs": int(n)}, epoch=int(n))
    return None


def _overfitting(train: LossSeries, validation: LossSeries | None, steps_per_epoch: float) -> Advice | None:
    if validation is None or len(validation) < 3:
        return None
    vsteps, vvalues = _finite(validation)
    if len(vvalues) < 3:
        return None
    best = int(np.argmin(vvalues))
    lowest, last = float(vvalues[best]), float(vvalues[-1])
    if best >= len(vvalues) - 1 or lowest <= 0 or last < lowest * (1.0 + OVERFIT_RISE):
        return None
    # The validation loss must keep rising (not one noisy point) while training loss still falls.
    if len(vvalues) - 1 - best < 2 and last < lowest * (1.0 + 3 * OVERFIT_RISE):
        return None
    tsteps, tvalues = _finite(train)
    best_step = float(vsteps[best])
    before = tvalues[tsteps <= best_step]
    after = tvalues[tsteps > best_step]
    if not len(before) or not len(after):
        return None
    window = max(1, len(before) // 5)
    if float(after[-max(1, len(after) // 5):].mean()) >= float(before[-window:].mean()):
        return None  # training loss did not keep falling: not the overfitting pattern
    vepochs = epoch_of(validation, steps_per_epoch)
    epoch_value = float(vepochs[np.isfinite(validation.values)][best]) if len(vepochs) else math.nan
    best_epoch = None if math.isnan(epoch_value) else max(1, math.ceil(epoch_value - 1e-9))
    rise = 100.0 * (last - lowest) / lowest
    where = f"epoch {best_epoch} (step {int(best_step)})" if best_epoch else f"step {int(best_step)}"
    text = (f"Overfitting: the validation loss was lowest at {where} and has risen {rise:.0f}% since, while "
            f"the training loss kept falling. The model is memorising your examples instead of learning the "
            f"task. Use the checkpoint from {where} if there is one, or tune again with "
            f"{best_epoch or 'fewer'} epoch{'s' if best_epoch != 1 else ''}; more varied examples help too.")
    settings = {"epochs": best_epoch} if best_epoch else {}
    return Advice(OVERFITTING, f"Overfitting after {where}", text, settings, epoch=best_epoch,
                  step=int(best_step), warning=True)

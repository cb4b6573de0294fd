"""Advice on synthetic loss curves: plateau, overfitting, flat or rising, and none for a healthy curve."""

from __future__ import annotations

import numpy as np

from gemtune_desktop.core.advice import FLAT, OVERFITTING, PLATEAU, advise
from gemtune_desktop.core.loss import LossSeries

RNG = np.random.default_rng(7)


def _curve(values: np.ndarray, steps_per_epoch: int) -> LossSeries:
    steps = np.arange(1, len(values) + 1, dtype=np.float64)
    return LossSeries.from_arrays(steps, values, np.ceil(steps / steps_per_epoch))


def test_plateau_names_the_epoch_and_suggests_it() -> None:
    steps = np.arange(1, 121, dtype=np.float64)  # 6 epochs of 20 steps
    values = 0.3 + 2.0 * np.exp(-steps / 8.0) + RNG.normal(0, 0.01, len(steps))
    advice = advise(_curve(values, 20))
    assert [a.kind for a in advice] == [PLATEAU]
    a = advice[0]
    assert a.epoch in (2, 3)
    assert a.settings == {"epochs": a.epoch}
    assert f"after epoch {a.epoch} of 6" in a.text


def test_plateau_works_from_steps_alone() -> None:
    steps = np.arange(1, 121, dtype=np.float64)
    values = 0.3 + 2.0 * np.exp(-steps / 8.0)
    advice = advise(LossSeries.from_arrays(steps, values), steps_per_epoch=20)
    assert advice and advice[0].kind == PLATEAU


def test_overfitting_points_at_the_lowest_validation_epoch() -> None:
    steps = np.arange(1, 161, dtype=np.float64)  # 8 epochs of 20 steps
    train = 2.0 * np.exp(-steps / 60.0) + 0.05
    val_steps = np.arange(20, 161, 20, dtype=np.float64)
    val = np.array([1.2, 0.9, 0.8, 0.85, 0.95, 1.05, 1.15, 1.3])
    validation = LossSeries.from_arrays(val_steps, val, val_steps / 20)
    advice = advise(_curve(train, 20), validation)
    kinds = [a.kind for a in advice]
    assert OVERFITTING in kinds
    over = advice[kinds.index(OVERFITTING)]
    assert over.epoch == 3 and over.step == 60
    assert over.settings == {"epochs": 3}
    assert over.warning
    assert "epoch 3" in over.text and "checkpoint" in over.text


def test_validation_noise_is_not_overfitting() -> None:
    steps = np.arange(1, 161, dtype=np.float64)
    train = 2.0 * np.exp(-steps / 60.0) + 0.05
    val_steps = np.arange(20, 161, 20, dtype=np.float64)
    val = np.array([1.2, 0.9, 0.8, 0.7, 0.65, 0.6, 0.58, 0.59])  # one tiny uptick at the end
    advice = advise(_curve(train, 20), LossSeries.from_arrays(val_steps, val, val_steps / 20))
    assert OVERFITTING not in [a.kind for a in advice]


def test_flat_from_the_start_suggests_half_the_multiplier() -> None:
    values = 2.0 + RNG.normal(0, 0.02, 100)
    advice = advise(_curve(values, 25), learning_rate_multiplier=1.0)
    assert [a.kind for a in advice] == [FLAT]
    assert advice[0].settings == {"learning_rate_multiplier": 0.5}
    assert "hardly moved" in advice[0].text


def test_rising_from_the_start_suggests_a_lower_multiplier() -> None:
    values = np.linspace(1.0, 3.0, 60)
    advice = advise(_curve(values, 20), learning_rate_multiplier=0.5)
    assert [a.kind for a in advice] == [FLAT]
    assert advice[0].settings == {"learning_rate_multiplier": 0.25}
    assert "rose" in advice[0].text


def test_healthy_curve_gets_no_advice() -> None:
    steps = np.arange(1, 101, dtype=np.float64)
    values = 2.0 - 0.015 * steps  # still falling steadily at the end
    assert advise(_curve(values, 20)) == []


def test_short_curve_gets_no_advice() -> None:
    assert advise(LossSeries([(1, 1.0, 2.0), (2, 1.0, 2.0), (3, 1.0, 2.1)])) == []


def test_running_job_is_judged_on_complete_epochs_only() -> None:
    steps = np.arange(1, 66, dtype=np.float64)  # epochs 1–3 complete, epoch 4 just begun
    values = 0.3 + 2.0 * np.exp(-steps / 8.0)
    assert advise(_curve(values, 20), finished=True)  # read as a finished job, epoch 4 would count…
    assert advise(_curve(values[:45], 20), finished=False) == []  # …but 2 complete epochs are too few to judge
    steps = np.arange(1, 106, dtype=np.float64)
    values = 0.3 + 2.0 * np.exp(-steps / 8.0)
    advice = advise(_curve(values, 20), finished=False)
    assert advice and "complete so far" in advice[0].text


def test_a_ten_percent_gain_is_not_a_plateau() -> None:
    means = [2.0, 1.0, 0.62, 0.56]  # the last epoch still gained 10%
    values = np.repeat(means, 20)
    assert advise(_curve(values, 20)) == []

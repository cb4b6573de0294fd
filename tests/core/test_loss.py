"""Loss series, smoothing, epoch boundaries and downsampling on known numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gemtune_desktop.core.loss import (
    LossSeries,
    ema,
    epoch_boundaries,
    epochs_from_steps,
    peak_downsample,
    per_epoch,
    to_csv_rows,
)


def test_series_grows_in_order_and_replaces_repeated_steps() -> None:
    s = LossSeries([(1, 1.0, 2.0), (2, 1.0, 1.8)], capacity=1)
    rev = s.revision
    assert s.extend([(3, 1.0, 1.5), (4, 2.0, 1.2)]) == 2
    assert s.revision > rev
    assert s.steps.dtype == np.float64
    assert list(s.steps) == [1, 2, 3, 4]
    # A late, out-of-order point and a correction of an existing step are merged by step.
    assert s.extend([(2, 1.0, 1.7), (0, None, 2.5)]) == 2
    assert s.points() == [(0, None, 2.5), (1, 1.0, 2.0), (2, 1.0, 1.7), (3, 1.0, 1.5), (4, 2.0, 1.2)]
    assert s.last_step == 4
    # Re-sending the same points changes nothing, so the plot does not redraw.
    rev = s.revision
    assert s.extend([(3, 1.0, 1.5)]) == 0
    assert s.revision == rev


def test_many_appends_keep_every_point() -> None:
    s = LossSeries()
    for i in range(0, 10_000, 7):
        s.extend([(i + k, None, float(i + k)) for k in range(7)])
    assert len(s) == 10_003
    assert np.all(np.diff(s.steps) > 0)
    assert np.array_equal(s.steps, s.values)


def test_value_at_picks_the_nearest_point() -> None:
    s = LossSeries([(10, 1.0, 3.0), (20, 2.0, 2.0), (30, 3.0, 1.0)])
    assert s.value_at(24) == (20, 2.0, 2.0)
    assert s.value_at(26) == (30, 3.0, 1.0)
    assert s.value_at(-5) == (10, 1.0, 3.0)
    assert s.value_at(99) == (30, 3.0, 1.0)
    assert LossSeries().value_at(3) is None


def test_ema_matches_tensorboard_debiased_smoothing() -> None:
    v = [1.0, 0.0, 1.0, 0.0]
    out = ema(v, 0.5)
    # Debiased: first value is the value itself; later ones the weighted mean so far.
    assert out[0] == pytest.approx(1.0)
    assert out[1] == pytest.approx((0.5 * 0.5 + 0.0) / (1 - 0.25))
    assert list(ema(v, 0.0)) == v
    with_nan = ema([1.0, math.nan, 1.0], 0.9)
    assert math.isnan(with_nan[1]) and with_nan[2] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        ema(v, 1.0)


def test_epoch_boundaries_from_integer_and_fractional_epochs() -> None:
    steps = np.arange(1, 10, dtype=np.float64)
    integer = np.array([1, 1, 1, 2, 2, 2, 3, 3, 3], dtype=np.float64)
    assert epoch_boundaries(steps, integer) == [(3.0, 1), (6.0, 2)]
    fractional = epochs_from_steps(steps, 3.0)
    assert epoch_boundaries(steps, fractional) == [(3.0, 1), (6.0, 2)]
    assert epoch_boundaries(steps, np.full(9, np.nan)) == []


def test_per_epoch_means() -> None:
    s = LossSeries([(i, None, 10.0 - i) for i in range(1, 9)])
    rows = per_epoch(s, steps_per_epoch=4)
    assert [(n, m, last) for n, m, last in rows] == [(1, pytest.approx(7.5), 4.0), (2, pytest.approx(3.5), 8.0)]
    assert per_epoch(s) == []  # no epochs known and none derivable


def test_peak_downsample_keeps_spikes() -> None:
    x = np.arange(100_000, dtype=np.float64)
    y = np.ones_like(x)
    y[54_321] = 50.0
    y[77_777] = -3.0
    xs, ys = peak_downsample(x, y, 500)
    assert len(xs) <= 1002
    assert ys.max() == 50.0 and ys.min() == -3.0
    assert 54_321.0 in xs
    assert np.all(np.diff(xs) >= 0)
    small_x, _small_y = peak_downsample(x[:10], y[:10], 500)
    assert len(small_x) == 10


def test_csv_rows() -> None:
    rows = to_csv_rows({"train": LossSeries([(1, None, 0.5)]), "validation": LossSeries([(1, 1.0, 0.25)])})
    assert rows == [["series", "step", "epoch", "loss"], ["train", "1", "", "0.5"], ["validation", "1", "1", "0.25"]]


def _naive_ema(values: list[float], weight: float) -> list[float]:
    out, last, n = [], 0.0, 0
    for x in values:
        if not math.isfinite(x):
            out.append(x)
            continue
        last = last * weight + (1 - weight) * x
        n += 1
        out.append(last / (1 - weight ** n))
    return out


@pytest.mark.parametrize("weight", [0.05, 0.6, 0.9, 0.99, 0.999])
def test_vectorised_ema_equals_the_step_by_step_formula(weight: float) -> None:
    rng = np.random.default_rng(1)
    values = list(2.0 + rng.normal(0, 0.3, 5000))
    values[17] = math.nan
    values[4000] = math.inf
    fast = ema(values, weight)
    slow = _naive_ema(values, weight)
    ok = np.isfinite(slow)
    assert np.allclose(fast[ok], np.asarray(slow)[ok], rtol=1e-9, atol=1e-9)
    assert math.isnan(fast[17]) and math.isinf(fast[4000])

"""Loss curves as numbers: a growable series, smoothing, epoch boundaries and downsampling.

Qt-free (numpy only). The Monitor tab keeps one :class:`LossSeries` per job and series
("train", "validation"), appends points as polls bring them, and hands the float64
arrays to the plot; :mod:`gemtune_desktop.core.advice` reads the same series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Point = tuple[int, float | None, float]  # step, epoch (may be None), loss value

TRAIN = "train"
VALIDATION = "validation"
SERIES_LABELS = {TRAIN: "training loss", VALIDATION: "validation loss"}


class LossSeries:
    """Points of one curve, ordered by step, in preallocated float64 buffers that grow.

    ``epochs`` holds NaN where the service gave no epoch for a point.
    """

    def __init__(self, points: Iterable[Point] = (), capacity: int = 256) -> None:
        self._n = 0
        self._steps = np.empty(max(16, capacity), dtype=np.float64)
        self._values = np.empty_like(self._steps)
        self._epochs = np.empty_like(self._steps)
        self.revision = 0  # bumped on every change (the plot redraws only when it moved)
        self.extend(points)

    @classmethod
    def from_arrays(cls, steps: Sequence[float] | FloatArray, values: Sequence[float] | FloatArray,
                    epochs: Sequence[float] | FloatArray | None = None) -> LossSeries:
        s = np.asarray(steps, dtype=np.float64)
        series = cls(capacity=len(s))
        series._grow(len(s))
        series._steps[:len(s)] = s
        series._values[:len(s)] = np.asarray(values, dtype=np.float64)
        series._epochs[:len(s)] = np.nan if epochs is None else np.asarray(epochs, dtype=np.float64)
        series._n = len(s)
        series.revision += 1
        return series

    def __len__(self) -> int:
        return self._n

    @property
    def steps(self) -> FloatArray:
        return self._steps[:self._n]

    @property
    def values(self) -> FloatArray:
        return self._values[:self._n]

    @property
    def epochs(self) -> FloatArray:
        return self._epochs[:self._n]

    @property
    def last_step(self) -> int:
        return int(self._steps[self._n - 1]) if self._n else -1

    def _grow(self, needed: int) -> None:
        if needed <= len(self._steps):
            return
        size = max(needed, 2 * len(self._steps))
        for name in ("_steps", "_values", "_epochs"):
            old = getattr(self, name)
            new = np.empty(size, dtype=np.float64)
            new[:self._n] = old[:self._n]
            setattr(self, name, new)

    def extend(self, points: Iterable[Point]) -> int:
        """Add points; a point for a step already present replaces it. Returns how many were new or changed."""
        pts = [(float(s), math.nan if e is None else float(e), float(v)) for s, e, v in points]
        if not pts:
            return 0
        pts.sort(key=lambda p: p[0])
        if self._n == 0 or pts[0][0] > self._steps[self._n - 1]:
            # The usual case while polling: new steps after the last one.
            self._grow(self._n + len(pts))
            arr = np.asarray(pts, dtype=np.float64)
            keep = np.concatenate(([True], np.diff(arr[:, 0]) > 0))  # drop repeated steps in the batch
            arr = arr[keep]
            n = len(arr)
            self._steps[self._n:self._n + n] = arr[:, 0]
            self._epochs[self._n:self._n + n] = arr[:, 1]
            self._values[self._n:self._n + n] = arr[:, 2]
            self._n += n
            self.revision += 1
            return n
        merged = {float(s): (e, v) for s, e, v in zip(self.steps, self.epochs, self.values, strict=True)}
        changed = 0
        for s, e, v in pts:
            old = merged.get(s)
            if old is None or old[1] != v:
                changed += 1
            merged[s] = (e, v)
        keys = sorted(merged)
        self._n = 0
        self._grow(len(keys))
        self._steps[:len(keys)] = keys
        self._epochs[:len(keys)] = [merged[k][0] for k in keys]
        self._values[:len(keys)] = [merged[k][1] for k in keys]
        self._n = len(keys)
        if changed:
            self.revision += 1
        return changed

    def points(self) -> list[Point]:
        return [(int(s), None if math.isnan(e) else float(e), float(v))
                for s, e, v in zip(self.steps, self.epochs, self.values, strict=True)]

    def value_at(self, step: float) -> tuple[int, float | None, float] | None:
        """The point nearest to ``step`` (for the hover read-out)."""
        if not self._n:
            return None
        steps = self.steps
        i = int(np.searchsorted(steps, step))
        if i >= self._n:
            i = self._n - 1
        elif i > 0 and abs(steps[i - 1] - step) <= abs(steps[i] - step):
            i -= 1
        e = self._epochs[i]
        return int(steps[i]), None if math.isnan(e) else float(e), float(self._values[i])


# -- smoothing --------------------------------------------------------------------------
def ema(values: Sequence[float] | FloatArray, weight: float = 0.6) -> FloatArray:
    """TensorBoard-style exponential moving average with start-up debiasing.

    ``weight`` 0 returns the values unchanged; 0.99 is very smooth. NaN/inf points are
    carried through without poisoning later ones. Vectorised in blocks (a 1M-point curve
    takes milliseconds, not a Python loop per point).
    """
    v = np.asarray(values, dtype=np.float64)
    if not 0.0 <= weight < 1.0:
        raise ValueError("smoothing weight must be in [0, 1)")
    out = v.copy()
    ok = np.isfinite(v)
    x = v[ok]
    n = len(x)
    if weight == 0.0 or n == 0:
        return out
    w = float(weight)
    # Block length B keeps w**-B within 1e8 so the in-block sums stay exact enough.
    block = int(max(1, min(4096, 8.0 / -math.log10(w))))
    nb = -(-n // block)
    padded = np.zeros(nb * block)
    padded[:n] = x
    xb = padded.reshape(nb, block)
    j = np.arange(block, dtype=np.float64)
    w_pow = w ** j  # w^j
    local = (1.0 - w) * w_pow[None, :] * np.cumsum(xb / w_pow[None, :], axis=1)
    carry = np.zeros(nb)  # biased state before each block
    w_block = w ** block
    ends = local[:, -1]
    c = 0.0
    for b in range(nb):
        carry[b] = c
        c = w_block * c + ends[b]
    biased = (local + (w * w_pow)[None, :] * carry[:, None]).reshape(-1)[:n]
    count = np.arange(1, n + 1, dtype=np.float64)
    out[ok] = biased / (1.0 - w ** count)
    return out


# -- epochs -----------------------------------------------------------------------------
def epochs_from_steps(steps: FloatArray, steps_per_epoch: float) -> FloatArray:
    """Fractional epoch of each step when the service reports steps only (Agent Platform)."""
    if steps_per_epoch <= 0:
        return np.full_like(steps, np.nan)
    return np.asarray(steps, dtype=np.float64) / float(steps_per_epoch)


def epoch_of(series: LossSeries, steps_per_epoch: float = 0.0) -> FloatArray:
    """Epochs of a series: the service's own, else derived from steps, else NaN."""
    epochs = series.epochs
    if len(epochs) and not np.isnan(epochs).all():
        return epochs
    return epochs_from_steps(series.steps, steps_per_epoch)


def epoch_boundaries(steps: FloatArray, epochs: FloatArray) -> list[tuple[float, int]]:
    """``(step, n)`` where epoch ``n`` (1-based) ends: the last step before the epoch's integer part grows.

    Works with 1-based integer epochs (Gemini API snapshots: 1, 1, 2, 2…) and with fractional
    epochs from steps (0.25 … 1.0 … 2.0): a boundary falls at the last step whose epoch is
    ≤ n before the curve passes into epoch n+1.
    """
    steps = np.asarray(steps, dtype=np.float64)
    epochs = np.asarray(epochs, dtype=np.float64)
    ok = ~np.isnan(epochs)
    if ok.sum() < 2:
        return []
    s, e = steps[ok], epochs[ok]
    integral = bool(np.all(np.abs(e - np.round(e)) < 1e-9))
    # Epoch index each point belongs to (1-based): fractional epoch 0.3 → 1, 1.0 → 1, 1.2 → 2.
    idx = e.astype(np.int64) if integral else np.ceil(e - 1e-9).astype(np.int64)
    idx = np.maximum(idx, 1)
    change = np.nonzero(np.diff(idx) > 0)[0]
    return [(float(s[i]), int(idx[i])) for i in change]


def per_epoch(series: LossSeries, steps_per_epoch: float = 0.0, tail: float = 1.0) -> list[tuple[int, float, float]]:
    """``(epoch, mean loss, last step)`` per completed or running epoch.

    ``tail`` < 1 averages only the last fraction of each epoch's points (a steadier "where the
    epoch ended" than the whole-epoch mean, which is dragged up by the start of epoch 1).
    """
    if not len(series):
        return []
    epochs = epoch_of(series, steps_per_epoch)
    if np.isnan(epochs).all():
        return []
    integral = bool(np.all(np.abs(epochs[~np.isnan(epochs)] - np.round(epochs[~np.isnan(epochs)])) < 1e-9))
    idx = np.where(np.isnan(epochs), -1,
                   epochs if integral else np.ceil(np.nan_to_num(epochs) - 1e-9)).astype(np.int64)
    idx = np.maximum(idx, np.where(idx < 0, -1, 1))
    out: list[tuple[int, float, float]] = []
    values, steps = series.values, series.steps
    for n in np.unique(idx[idx > 0]).tolist():
        sel = np.nonzero(idx == n)[0]
        if tail < 1.0 and len(sel) > 2:
            sel = sel[int(len(sel) * (1.0 - tail)):]
        vals = values[sel]
        vals = vals[np.isfinite(vals)]
        if len(vals):
            out.append((n, float(vals.mean()), float(steps[sel[-1]])))
    return out


# -- downsampling -----------------------------------------------------------------------
def peak_downsample(x: FloatArray, y: FloatArray, bins: int) -> tuple[FloatArray, FloatArray]:
    """Min and max of ``y`` in each of ``bins`` equal chunks (2 points per chunk), like pyqtgraph's 'peak'.

    Keeps every spike visible in a thumbnail or an exported overview; returns the input
    unchanged when it already has no more than ``2 * bins`` points.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if bins <= 0 or n <= 2 * bins:
        return x.copy(), y.copy()
    size = n // bins
    used = size * bins
    yb = y[:used].reshape(bins, size)
    xb = x[:used].reshape(bins, size)
    lo = np.nanargmin(np.where(np.isnan(yb), np.inf, yb), axis=1)
    hi = np.nanargmax(np.where(np.isnan(yb), -np.inf, yb), axis=1)
    first = np.minimum(lo, hi)
    second = np.maximum(lo, hi)
    rows = np.arange(bins)
    xs = np.empty(2 * bins)
    ys = np.empty(2 * bins)
    xs[0::2], xs[1::2] = xb[rows, first], xb[rows, second]
    ys[0::2], ys[1::2] = yb[rows, first], yb[rows, second]
    if used < n:  # the remainder as one more chunk
        xs = np.concatenate((xs, x[used:][[0, -1]]))
        ys = np.concatenate((ys, y[used:][[0, -1]]))
    return xs, ys


def to_csv_rows(series: dict[str, LossSeries]) -> list[list[str]]:
    """Rows for a CSV export: header, then series, step, epoch, loss."""
    rows = [["series", "step", "epoch", "loss"]]
    for name, s in series.items():
        for step, epoch, value in s.points():
            rows.append([name, str(step), "" if epoch is None else f"{epoch:g}", repr(value)])
    return rows

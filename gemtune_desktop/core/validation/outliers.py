"""Which output lengths are outliers: bounds drawn from the median and spread of the lengths' logarithms.

Outputs are length outliers when their log-length is :data:`OUTLIER_Z` robust standard deviations from the
median AND they are at least :data:`OUTLIER_FACTOR` times longer (or shorter) than the median, by a few
characters or more. The bounds depend only on how many outputs have each length, so both batch and
incremental validation compute them from a {length: how many} table.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

OUTLIER_Z = 3.5
OUTLIER_FACTOR = 4.0
OUTLIER_MIN_CHARS = 20        # a long outlier is at least this much longer than the median
OUTLIER_MIN_CHARS_SHORT = 10  # a short one at least this much shorter
OUTLIER_MIN_EXAMPLES = 20


def _chars(n: int) -> str:
    return f"{n:,} character{'' if n == 1 else 's'}"


def _median_at(weights: list[int], total: int) -> tuple[int, bool]:
    """Where the weighted median of values sorted ascending with these weights lies: (index, whether it is
    the mean of that value and the next, as when the weights split exactly in half)."""
    cumulative = list(accumulate(weights))
    k = bisect_left(cumulative, total / 2)
    return k, cumulative[k] * 2 == total and k + 1 < len(weights)


def _median(values: Sequence[float], weights: list[int], total: int) -> float:
    k, between = _median_at(weights, total)
    return (values[k] + values[k + 1]) / 2 if between else values[k]


@dataclass(slots=True)
class OutlierBounds:
    """Output lengths outside (low, high) are outliers; computed from the lengths' median and spread."""

    low: float
    high: float
    median: float

    @classmethod
    def from_lengths(cls, lengths: Sequence[int]) -> OutlierBounds | None:
        if len(lengths) < OUTLIER_MIN_EXAMPLES:
            return None
        return cls.from_counts(Counter(lengths))

    @classmethod
    def from_counts(cls, counts: Counter[int]) -> OutlierBounds | None:
        """The bounds from a {length: how many} table (None when there are too few outputs to judge).

        Costs O(d log d) for d distinct lengths: log1p keeps the order of the lengths, and the deviations
        from the median log-length fall and then rise along it, which Python's sort merges in linear time.
        """
        total = sum(counts.values())
        if total < OUTLIER_MIN_EXAMPLES:
            return None
        lengths = sorted(k for k, c in counts.items() if c > 0)
        weights = list(map(counts.__getitem__, lengths))
        logs = list(map(math.log1p, lengths))
        med_log = _median(logs, weights, total)
        deviations = [abs(v - med_log) for v in logs]
        order = sorted(range(len(deviations)), key=deviations.__getitem__)
        mad = _median([deviations[i] for i in order], [weights[i] for i in order], total)
        median = _median(list(map(float, lengths)), weights, total)
        spread = OUTLIER_Z * mad / 0.6745 if mad > 0 else 0.0
        high = max(math.expm1(med_log + spread), median * OUTLIER_FACTOR, median + OUTLIER_MIN_CHARS)
        low = min(math.expm1(med_log - spread), median / OUTLIER_FACTOR, median - OUTLIER_MIN_CHARS_SHORT)
        return cls(low, high, median)

    def message(self, length: int) -> str | None:
        if length > self.high:
            return (f"This output has {_chars(length)}, far longer than most ({self.median:,.0f} is "
                    f"typical). The model learns the length of answers too; check that it belongs here.")
        if length < self.low:
            return (f"This output has {_chars(length)}, far shorter than most ({self.median:,.0f} is "
                    f"typical). The model learns the length of answers too; check that it is complete.")
        return None

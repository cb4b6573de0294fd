"""Dataset statistics for the Dataset tab's stats panel: counts against the recommended range, length
arrays for the histograms, and the token estimate for the whole set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gemtune_desktop.core import validation_rules as R
from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.tokens import estimate_tokens


@dataclass(slots=True)
class DatasetStats:
    count: int
    train: int
    validation: int
    test: int
    minimum: int | None           # below this the service refuses to tune (Gemini API: 20)
    recommended_min: int
    recommended_max: int | None
    verdict: str                  # plain words: where the count stands against the recommendation
    input_lengths: np.ndarray     # characters per input (int64), for histograms
    output_lengths: np.ndarray
    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def count_verdict(n_train: int, target: Target) -> str:
    if target is Target.GEMINI_API and n_train < R.GEMINI_MIN_EXAMPLES:
        return f"Too few to tune: the Gemini API needs at least {R.GEMINI_MIN_EXAMPLES} training examples."
    if n_train < R.RECOMMENDED_MIN_EXAMPLES:
        return f"Fewer than the recommended {R.RECOMMENDED_MIN_EXAMPLES}; add more if you can."
    if target is Target.GEMINI_API and n_train > R.GEMINI_RECOMMENDED_MAX_EXAMPLES:
        return (f"More than the recommended {R.RECOMMENDED_MIN_EXAMPLES}–{R.GEMINI_RECOMMENDED_MAX_EXAMPLES}; "
                f"allowed, but tuning takes longer.")
    return "Within the recommended range."


def compute_stats(examples: Sequence[Example], settings: DatasetSettings, target: Target | str,
                  tokens: bool = True) -> DatasetStats:
    """Stats over ``examples``; token counts include the preamble on every input (what tuning sends).

    ``tokens=False`` skips the token estimate (O(total text)); both token fields are then 0.
    """
    target = Target(target)
    n = len(examples)
    splits = [e.split for e in examples]
    n_val = splits.count(Split.VALIDATION)
    n_test = splits.count(Split.TEST)
    n_train = n - n_val - n_test
    in_len = np.fromiter((len(e.input) for e in examples), dtype=np.int64, count=n)
    out_len = np.fromiter((len(e.output) for e in examples), dtype=np.int64, count=n)
    in_tok = out_tok = 0
    if tokens:
        in_tok = sum(estimate_tokens(e.input) for e in examples) + estimate_tokens(settings.preamble) * n
        out_tok = sum(estimate_tokens(e.output) for e in examples)
    return DatasetStats(n, n_train, n_val, n_test,
                        R.GEMINI_MIN_EXAMPLES if target is Target.GEMINI_API else None,
                        R.RECOMMENDED_MIN_EXAMPLES,
                        R.GEMINI_RECOMMENDED_MAX_EXAMPLES if target is Target.GEMINI_API else None,
                        count_verdict(n_train, target), in_len, out_len, in_tok, out_tok)

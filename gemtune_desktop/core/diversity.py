"""How varied a set of answers is: distinct-n (Li et al. 2016, "A Diversity-Promoting Objective Function
for Neural Conversation Models"): distinct n-grams across all answers divided by all n-grams.

Words are those of :func:`gemtune_desktop.core.eval_metrics.tokens` (lower case, punctuation and
English articles removed, Chinese/Japanese/Korean characters one by one), so "The cat." and "cat"
are the same word sequence.
"""

from __future__ import annotations

from collections.abc import Iterable


def distinct_n(responses: Iterable[str], n: int) -> float:
    """Distinct n-grams across all answers divided by all n-grams (0 when there are none)."""
    from gemtune_desktop.core.eval_metrics import tokens

    if n < 1:
        raise ValueError("n must be at least 1")
    total = 0
    seen: set[tuple[str, ...]] = set()
    for text in responses:
        words = tokens(text)
        grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0

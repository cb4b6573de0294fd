"""Seeded train / validation / test split that keeps copies of an input together.

Examples whose inputs are equal after ignoring case and spacing form one group and always land in the
same split, so a validation or test score is never inflated by a copy of a training example.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from gemtune_desktop.core.examples import Example, Split


def _group_key(text: str) -> str:
    return " ".join(text.casefold().split())


def assign_splits(examples: Sequence[Example], ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
                  seed: int = 42) -> list[Split]:
    """The split for each example, in order; the same examples, ratios and seed always give the same answer.

    ``ratios`` (train, validation, test) need not sum to 1; they are normalised. Validation and test get
    as close to their share as whole groups allow, without going over; train takes the rest.
    """
    if any(r < 0 for r in ratios) or sum(ratios) <= 0:
        raise ValueError("split ratios must be non-negative and not all zero")
    total = float(sum(ratios))
    n = len(examples)
    want_val = round(n * ratios[1] / total)
    want_test = round(n * ratios[2] / total)
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault(_group_key(e.input), []).append(i)
    order = list(groups.values())
    random.Random(seed).shuffle(order)
    result = [Split.TRAIN] * n
    n_val = n_test = 0
    for members in order:
        size = len(members)
        if n_val + size <= want_val:
            target, n_val = Split.VALIDATION, n_val + size
        elif n_test + size <= want_test:
            target, n_test = Split.TEST, n_test + size
        else:
            continue
        for i in members:
            result[i] = target
    return result

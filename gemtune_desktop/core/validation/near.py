"""Near duplicates: inputs that are nearly but not exactly the same, found by a bounded fuzzy pass.

Fuzzy matching cannot be kept current edit by edit at a cost independent of the dataset's size, so this
runs as its own pass (batch validation runs it on datasets of up to :data:`NEAR_DUPLICATE_MAX_ROWS`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

from gemtune_desktop.core.examples import Example

if TYPE_CHECKING:
    from gemtune_desktop.core.validation.columns import Columns

NEAR_DUPLICATE_SCORE = 90.0
NEAR_DUPLICATE_MIN_CHARS = 12
DEFAULT_NEAR_LIMIT = 200_000
NEAR_DUPLICATE_MAX_ROWS = 20_000


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def near_duplicates(examples: Sequence[Example] | Sequence[str], limit: int = DEFAULT_NEAR_LIMIT,
                    score: float = NEAR_DUPLICATE_SCORE) -> list[tuple[int, int, float]]:
    """Pairs of examples whose inputs are nearly but not exactly the same: (index, earlier index, similarity %).

    Inputs equal after ignoring case and spacing are found through a hash; others by comparing each input
    with its neighbours in sorted order and in sorted order of the reversed text (so a difference at either
    end is found), at most ``limit`` fuzzy comparisons in all.
    """
    from rapidfuzz.fuzz import ratio

    texts = [e.input if isinstance(e, Example) else e for e in examples]
    found: dict[int, tuple[int, float]] = {}
    first_raw: dict[str, int] = {}
    first_norm: dict[str, int] = {}
    keys: list[tuple[str, int]] = []
    for i, t in enumerate(texts):
        if first_raw.setdefault(t, i) != i or not t.strip():
            continue  # exact duplicates are reported by the duplicate rule
        k = _norm(t)
        j = first_norm.setdefault(k, i)
        if j != i:
            found[i] = (j, 100.0)
        elif len(k) >= NEAR_DUPLICATE_MIN_CHARS:
            keys.append((k, i))
    budget = limit
    min_ratio = score / (200.0 - score)  # ratio() can only reach `score` if the shorter is this share of the longer
    for order in (sorted(keys), sorted(keys, key=lambda ki: ki[0][::-1])):
        for (a, ia), (b, ib) in pairwise(order):
            if budget <= 0:
                break
            la, lb = len(a), len(b)
            if min(la, lb) < min_ratio * max(la, lb):
                continue
            budget -= 1
            s = ratio(a, b, score_cutoff=score)
            if s:
                later, earlier = (ia, ib) if ia > ib else (ib, ia)
                if later not in found or found[later][1] < s:
                    found[later] = (earlier, s)
    return sorted((i, j, s) for i, (j, s) in found.items())


def near_duplicate_message(other_row: int, similarity: float) -> str:
    how = "the same apart from capitals and spacing" if similarity >= 100 else f"{similarity:.0f}% similar"
    return (f"This input is nearly the same as row {other_row}'s ({how}). Near-copies add weight without teaching "
            f"anything new; keep one unless the difference matters.")


def near_duplicate_pass(cols: Columns, limit: int, max_rows: int) -> Iterator[tuple[int | None, str, int | None]]:
    """(row index, message, index of the similar earlier row) for each near duplicate; on a dataset of more
    than ``max_rows`` examples one note (row None) that the search was skipped. Nothing when ``limit`` is 0."""
    if limit <= 0:
        return
    if cols.n > max_rows:
        yield (None, f"The search for nearly identical inputs was skipped: it runs on up to {max_rows:,} examples "
                     f"and this dataset has {cols.n:,}. Exact copies were still checked; the Dataset tab can run the "
                     f"full search.", None)
        return
    for i, j, similarity in near_duplicates(cols.inputs, limit):
        yield i, near_duplicate_message(j + 1, similarity), j

"""The format convention of inputs: whether most (or a good share) start with the same label, such as
"Question:", so that the inputs which depart from it can be pointed out.

The conclusion depends only on how many inputs start with each label, as written, so both batch and
incremental validation draw it from a {label: how many} table (see the label rule in :mod:`.rules`).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from itertools import repeat

from gemtune_desktop.core.validation.columns import Columns, flagged
from gemtune_desktop.core.validation.text import LABEL_SEARCH_CHARS, written_label

LABEL_MIN_EXAMPLES = 10
LABEL_SAMPLE = 2_000


def majority_label(labels: Counter[str], total: int) -> tuple[str, int] | None:
    """The (casefolded) label that makes the format inconsistent, with its count, or None when the format is
    consistent. Of equally common labels, the first in alphabetical order."""
    if total < LABEL_MIN_EXAMPLES or not labels:
        return None
    label, count = min(labels.items(), key=lambda item: (-item[1], item[0]))
    if count == total or count * 10 < total:  # everyone has it, or too few to be a convention
        return None
    return label, count


@dataclass(frozen=True, slots=True)
class LabelVerdict:
    """The label that makes the format inconsistent: casefolded, as most often written, and how many have it.
    ``mostly``: most inputs have it, so those without it are flagged; otherwise those with it are."""

    label: str
    shown: str
    count: int
    mostly: bool


def label_verdict(written: Counter[str], n: int) -> LabelVerdict | None:
    """The verdict from how many of ``n`` inputs start with each label as written."""
    folded: Counter[str] = Counter()
    for text, c in written.items():
        folded[text.casefold()] += c
    found = majority_label(folded, n)
    if found is None:
        return None
    label, count = found
    shown = min((w for w in written if w.casefold() == label), key=lambda w: (-written[w], w))
    return LabelVerdict(label, shown, count, count * 2 >= n)


def judge_label(written: str | None, verdict: LabelVerdict, n: int) -> str | None:
    """The message for an input starting with ``written`` (None: no label), or None if it follows the format."""
    has = written is not None and written.casefold() == verdict.label
    if has == verdict.mostly:
        return None
    if has:
        return (f"This input starts with “{verdict.shown}:”, but most inputs ({n - verdict.count} of {n}) do not. "
                f"The model copies the format of its examples; use one format everywhere.")
    return (f"Most inputs ({verdict.count} of {n}) start with “{verdict.shown}:”, this one does not. The model "
            f"copies the format of its examples; use one format everywhere.")


def labels_of(cols: Columns) -> dict[int, str]:
    """{row index: label as written} for the inputs that start with a label."""
    inputs = cols.inputs
    with_colon = flagged(map((-1).__ne__, map(str.find, inputs, repeat(":"), repeat(0), repeat(LABEL_SEARCH_CHARS))))
    return {i: label for i in with_colon if (label := written_label(inputs[i])) is not None}


def no_convention(cols: Columns) -> bool:
    """On a large dataset, whether a fixed random sample shows no label on 5% of the inputs. A label must be
    on 10% to matter (see majority_label); the chance that the sample misses such a label is below 1e-12."""
    n = cols.n
    if n <= LABEL_SAMPLE * 10:
        return False
    sample = random.Random(n).sample(range(n), LABEL_SAMPLE)
    seen = Counter(label.casefold() for i in sample if (label := written_label(cols.inputs[i])) is not None)
    return not seen or seen.most_common(1)[0][1] * 20 < LABEL_SAMPLE

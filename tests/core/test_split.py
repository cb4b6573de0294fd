"""Seeded train/validation/test split: reproducible, close to the ratios, copies kept on one side."""

from __future__ import annotations

from collections import Counter

import pytest

from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.split import assign_splits


def dataset(n: int) -> list[Example]:
    return [Example(f"question number {i}", f"answer {i}") for i in range(n)]


def test_same_seed_same_split_and_other_seed_differs() -> None:
    data = dataset(500)
    a = assign_splits(data, (0.8, 0.1, 0.1), seed=7)
    assert a == assign_splits(data, (0.8, 0.1, 0.1), seed=7)
    assert a != assign_splits(data, (0.8, 0.1, 0.1), seed=8)


@pytest.mark.parametrize("ratios", [(0.8, 0.1, 0.1), (0.6, 0.2, 0.2), (70, 30, 0), (1, 0, 0)])
def test_counts_follow_the_ratios(ratios: tuple[float, float, float]) -> None:
    n = 1_000
    counts = Counter(assign_splits(dataset(n), ratios, seed=1))
    total = sum(ratios)
    assert counts[Split.VALIDATION] == round(n * ratios[1] / total)
    assert counts[Split.TEST] == round(n * ratios[2] / total)
    assert sum(counts.values()) == n


def test_copies_of_an_input_stay_on_one_side() -> None:
    data = dataset(300)
    for k in range(40):  # 40 groups of 3 near-identical inputs (case and spacing differ)
        data[k * 7].input = f"Shared question {k}"
        data[k * 7 + 1].input = f"shared  QUESTION {k}"
        data[k * 7 + 2].input = f" Shared question {k} "
    for seed in range(20):
        splits = assign_splits(data, (0.5, 0.25, 0.25), seed=seed)
        for k in range(40):
            assert len({splits[k * 7], splits[k * 7 + 1], splits[k * 7 + 2]}) == 1


def test_edge_cases() -> None:
    assert assign_splits([], (0.8, 0.1, 0.1), seed=1) == []
    assert assign_splits(dataset(1), (0.8, 0.1, 0.1), seed=1) == [Split.TRAIN]
    with pytest.raises(ValueError, match="ratios"):
        assign_splits(dataset(3), (0, 0, 0), seed=1)
    with pytest.raises(ValueError, match="ratios"):
        assign_splits(dataset(3), (1, -1, 0), seed=1)

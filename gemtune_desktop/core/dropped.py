"""Examples the tuning service dropped, matched to the project's rows.

Agent Platform reports them in ``SupervisedTuningDataStats``: ``total_truncated_example_count``
("the number of examples in the dataset that have been dropped", e.g. for too many tokens),
``truncated_example_indices`` ("a partial sample of the indices (starting from 1) of the dropped
examples") and ``dropped_example_reasons`` ("for each index in truncated_example_indices, the
user-facing reason why the example was dropped") — googleapis ``tuning_job.proto``. Despite the
field names, the examples were left out of training, not shortened.

The training file holds the train split in the order it was uploaded, so index *n* is the *n*-th
training example of the job; :func:`dropped_examples` turns it into that example's row id when the
project's train split still matches the job (same count), else leaves the row unknown.
Qt-free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class DroppedExample:
    index: int  # 1-based position in the training file, as the service counts
    reason: str  # the service's words ("" when it gave none)
    row_id: int | None  # the project's example id, when the train split still matches the job

    @property
    def words(self) -> str:
        where = f"Training example {self.index:,}"
        return f"{where}: {self.reason}" if self.reason else where


@dataclass(slots=True)
class DroppedExamples:
    """The service's sample of dropped examples, and how many it dropped in all."""

    items: list[DroppedExample] = field(default_factory=list)
    total: int = 0
    rows_match: bool = False  # the train split still matches the job, so ``row_id`` is set

    @property
    def summary(self) -> str:
        """One sentence for the Monitor tab ("" when nothing was dropped)."""
        if not self.total and not self.items:
            return ""
        total = max(self.total, len(self.items))
        noun = "example" if total == 1 else "examples"
        text = f"The service dropped {total:,} training {noun}: they were left out of training."
        if len(self.items) < total:
            text += f" It listed {len(self.items):,} of them."
        if self.items and not self.rows_match:
            text += " The dataset has changed since this job, so they cannot be matched to rows."
        return text


def _ints(values: Any) -> list[int]:
    out = []
    for v in values or []:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return out


def dropped_examples(data_stats: Mapping[str, Any], train_row_ids: Sequence[int] = (),
                     train_count: int = 0) -> DroppedExamples:
    """The dropped examples of a job from its ``data_stats`` (snake_case, as the job record keeps them).

    ``train_row_ids`` are the project's training example ids in file order; they are used only when
    their number equals ``train_count`` (the job's training examples), i.e. the split has not changed.
    """
    indices = _ints(data_stats.get("truncated_example_indices", data_stats.get("truncatedExampleIndices")))
    reasons = [str(r) for r in data_stats.get("dropped_example_reasons",
                                              data_stats.get("droppedExampleReasons")) or []]
    try:
        total = int(data_stats.get("total_truncated_example_count",
                                   data_stats.get("totalTruncatedExampleCount")) or 0)
    except (TypeError, ValueError):
        total = 0
    matches = bool(train_row_ids) and (not train_count or train_count == len(train_row_ids))
    items = []
    for i, index in enumerate(indices):
        row = train_row_ids[index - 1] if matches and 1 <= index <= len(train_row_ids) else None
        items.append(DroppedExample(index, reasons[i] if i < len(reasons) else "", row))
    return DroppedExamples(items, max(total, len(items)), matches)

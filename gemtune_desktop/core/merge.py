"""Importing into a project that already has examples (add, replace or merge) and exact duplicates (Qt-free).

Re-importing the spreadsheet a project came from must not silently double it. :func:`plan_merge` says, before
anything changes, what a merge would do: which examples whose input matches a row of the file get a new
output (and tags, note or split when the file gives them), which rows of the file are new, and how many are
already there as they are. :func:`exact_duplicates` finds the rows that repeat an earlier row field for field.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from gemtune_desktop.core.examples import Example, Split

T = TypeVar("T")
Change = tuple[Example, str, object]  # (an example of the project, field, new value)


def match_key(text: str) -> str:
    """Inputs match when they are equal after trimming spaces and line breaks at both ends."""
    return text.strip()


@dataclass
class MergePlan:
    """What merging a file's examples into a project would change."""

    changes: list[Change] = field(default_factory=list)
    updated: int = 0  # examples of the project that change
    added: list[Example] = field(default_factory=list)  # rows of the file with an input the project lacks
    unchanged: int = 0  # rows of the file already in the project as they are
    matching: int = 0  # rows of the file whose input the project already has

    @property
    def empty(self) -> bool:
        return not self.changes and not self.added


def _updates(old: Example, new: Example) -> list[Change]:
    out: list[Change] = []
    if new.output != old.output:
        out.append((old, "output", new.output))
    for name in ("tags", "note"):  # a file without the column leaves the project's value alone
        value = getattr(new, name)
        if value and value != getattr(old, name):
            out.append((old, name, value))
    if new.split is not Split.TRAIN and new.split is not old.split:  # TRAIN is also "no split column"
        out.append((old, "split", new.split))
    return out


def plan_merge(existing: Sequence[Example], incoming: Sequence[Example]) -> MergePlan:
    """Rows of ``incoming`` whose input matches an example of ``existing`` update it (the first such example);
    the others are added. Nothing is changed here."""
    by_input: dict[str, Example] = {}
    for e in existing:
        by_input.setdefault(match_key(e.input), e)
    plan = MergePlan()
    touched: dict[int, dict[str, Change]] = {}
    for new in incoming:
        old = by_input.get(match_key(new.input))
        if old is None:
            plan.added.append(new)
            continue
        plan.matching += 1
        changes = _updates(old, new)
        if not changes:
            plan.unchanged += 1
            continue
        fields = touched.setdefault(id(old), {})
        for change in changes:
            fields[change[1]] = change  # a later row of the file with the same input wins
    for fields in touched.values():
        plan.changes.extend(fields.values())
    plan.updated = len(touched)
    return plan


def count_repeated_inputs(existing: Sequence[Example], incoming: Sequence[Example]) -> int:
    """How many rows of ``incoming`` have an input the project already has (what Add would repeat)."""
    keys = {match_key(e.input) for e in existing}
    return sum(1 for e in incoming if match_key(e.input) in keys)


def exact_duplicates(items: Sequence[T], key: Callable[[T], Hashable] | None = None) -> list[T]:
    """The items that repeat an earlier one exactly, in order.

    Examples are compared on input, output, split, tags and note; preference pairs (or anything else) on the
    ``key`` given."""
    seen: set[Hashable] = set()
    out: list[T] = []
    for item in items:
        k = key(item) if key is not None else _example_key(item)
        if k in seen:
            out.append(item)
        else:
            seen.add(k)
    return out


def _example_key(item: object) -> Hashable:
    assert isinstance(item, Example)
    return (item.input, item.output, item.split.value, item.tags, item.note)

"""Which rows the Dataset table shows, in which order: the filter bar's choices and the sort, as a list of indices.

Filtering and sorting change only what is shown, never the order stored in the project. For a
million rows this builds a plain list of indices (no per-row objects), checking the cheapest
conditions first; the status of a row (its errors and warnings) is asked of the caller, who holds
the validator.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gemtune_desktop.core.examples import Example, Split

StatusCounts = Callable[[Example], tuple[int, int]]  # (errors, warnings) of an example


class StatusFilter(enum.StrEnum):
    ANY = "any"
    PROBLEMS = "problems"
    ERRORS = "errors"
    WARNINGS = "warnings"
    OK = "ok"


class SortKey(enum.StrEnum):
    """What the table is sorted by: a field of the examples, or their status."""

    INPUT = "input"
    OUTPUT = "output"
    SPLIT = "split"
    STATUS = "status"
    TAGS = "tags"
    NOTE = "note"


@dataclass
class RowFilter:
    """What the filter bar asks for; the default shows everything."""

    status: StatusFilter = StatusFilter.ANY
    split: Split | None = None
    tag: str = ""
    text: str = ""

    @property
    def active(self) -> bool:
        return self.status != StatusFilter.ANY or self.split is not None or bool(self.tag.strip()) or bool(self.text)


def tag_list(tags: str) -> list[str]:
    """The comma-separated tags of an example, trimmed, without empty ones."""
    return [t.strip() for t in tags.split(",") if t.strip()]


_SPLIT_ORDER = {Split.TRAIN: 0, Split.VALIDATION: 1, Split.TEST: 2}


def visible_rows(examples: Sequence[Example], row_filter: RowFilter, sort: SortKey | None = None,
                 descending: bool = False, counts: StatusCounts | None = None) -> list[int] | None:
    """Indices of the examples to show, in the order to show them; None means all, in the project's order.

    ``counts`` is needed when filtering or sorting by status.
    """
    if not row_filter.active and sort is None:
        return None
    rows = _filtered(examples, row_filter, counts)
    if sort is not None:
        _sort(rows, examples, sort, descending, counts)
    return rows


def _filtered(ex: Sequence[Example], f: RowFilter, counts: StatusCounts | None) -> list[int]:
    rows: list[int] | range = range(len(ex))
    if f.split is not None:
        sp = f.split
        rows = [i for i in rows if ex[i].split is sp]
    tag = f.tag.strip().lower()
    if tag:
        rows = [i for i in rows if ex[i].tags and tag in (t.lower() for t in tag_list(ex[i].tags))]
    if f.text:
        needle = f.text.lower()
        rows = [i for i in rows
                if needle in ex[i].input.lower() or needle in ex[i].output.lower()
                or (ex[i].note and needle in ex[i].note.lower()) or (ex[i].tags and needle in ex[i].tags.lower())]
    if f.status != StatusFilter.ANY:
        if counts is None:
            raise ValueError("filtering by status needs the status counts")
        want = f.status
        if want == StatusFilter.ERRORS:
            rows = [i for i in rows if counts(ex[i])[0]]
        elif want == StatusFilter.WARNINGS:
            rows = [i for i in rows if counts(ex[i])[1]]
        elif want == StatusFilter.PROBLEMS:
            rows = [i for i in rows if any(counts(ex[i]))]
        else:
            rows = [i for i in rows if not any(counts(ex[i]))]
    return list(rows)


def _sort(rows: list[int], ex: Sequence[Example], key: SortKey, descending: bool,
          counts: StatusCounts | None) -> None:
    if key is SortKey.STATUS:
        if counts is None:
            raise ValueError("sorting by status needs the status counts")
        # Most errors first when ascending: the rows that need work come to the top.
        rows.sort(key=lambda i: counts(ex[i]), reverse=not descending)
    elif key is SortKey.SPLIT:
        rows.sort(key=lambda i: _SPLIT_ORDER[ex[i].split], reverse=descending)
    else:
        field = key.value
        rows.sort(key=lambda i: getattr(ex[i], field).lower(), reverse=descending)

"""Which rows the Dataset table shows and in what order, without Qt: filter by text, tag, split, status; sort."""

from __future__ import annotations

import pytest

from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.row_view import RowFilter, SortKey, StatusFilter, tag_list, visible_rows

EXAMPLES = [
    Example("Where is my parcel?", "Tracking link", Split.TRAIN, tags="shipping, urgent"),
    Example("refund please", "", Split.VALIDATION, tags="billing"),
    Example("Change my address", "Done", Split.TEST, note="moved house"),
    Example("Cancel order", "Cancelled", Split.TRAIN, tags="Billing"),
]
COUNTS = {1: (1, 0), 2: (0, 2)}  # list index -> (errors, warnings)


def counts(example: Example) -> tuple[int, int]:
    return COUNTS.get(EXAMPLES.index(example), (0, 0))


def test_no_filter_and_no_sort_shows_everything_in_the_project_order() -> None:
    assert visible_rows(EXAMPLES, RowFilter()) is None


@pytest.mark.parametrize("row_filter, expected", [
    (RowFilter(text="PARCEL"), [0]),  # case-insensitive, in input
    (RowFilter(text="moved"), [2]),  # in the note
    (RowFilter(text="urgent"), [0]),  # in the tags
    (RowFilter(tag="billing"), [1, 3]),  # a whole tag, any case
    (RowFilter(tag="bill"), []),  # not part of a tag
    (RowFilter(split=Split.TRAIN), [0, 3]),
    (RowFilter(status=StatusFilter.ERRORS), [1]),
    (RowFilter(status=StatusFilter.WARNINGS), [2]),
    (RowFilter(status=StatusFilter.PROBLEMS), [1, 2]),
    (RowFilter(status=StatusFilter.OK), [0, 3]),
    (RowFilter(status=StatusFilter.OK, split=Split.TRAIN, tag="billing"), [3]),
])
def test_filters_combine(row_filter: RowFilter, expected: list[int]) -> None:
    assert visible_rows(EXAMPLES, row_filter, counts=counts) == expected


def test_sorting_keeps_filtered_rows_and_puts_problems_first() -> None:
    assert visible_rows(EXAMPLES, RowFilter(), SortKey.INPUT) == [3, 2, 1, 0]  # "Cancel" < "Change" < "refund"…
    assert visible_rows(EXAMPLES, RowFilter(), SortKey.INPUT, descending=True) == [0, 1, 2, 3]
    assert visible_rows(EXAMPLES, RowFilter(), SortKey.SPLIT) == [0, 3, 1, 2]
    assert visible_rows(EXAMPLES, RowFilter(), SortKey.STATUS, counts=counts)[:2] == [1, 2]
    assert visible_rows(EXAMPLES, RowFilter(split=Split.TRAIN), SortKey.OUTPUT) == [3, 0]


def test_status_needs_the_counts() -> None:
    with pytest.raises(ValueError):
        visible_rows(EXAMPLES, RowFilter(status=StatusFilter.ERRORS))


def test_tags_are_split_on_commas_and_trimmed() -> None:
    assert tag_list(" a, b ,,c ") == ["a", "b", "c"]

"""Which preference pairs the table shows and in which order, find & replace over them, and their clipboard rows.

The preference view's counterpart of :mod:`gemtune_desktop.core.row_view`, :mod:`gemtune_desktop.core.find_replace`
and :mod:`gemtune_desktop.core.clipboard` (which speak of input and output): the same filter bar choices
(:class:`~gemtune_desktop.core.row_view.RowFilter`), the same cheap list-of-indices approach for 200,000 rows,
over a prompt, a preferred and a dispreferred answer. No Qt here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.formats.model import parse_split
from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.core.row_view import RowFilter, StatusFilter, tag_list

StatusCounts = Callable[[PreferenceExample], tuple[int, int]]  # (errors, warnings)

TEXT_FIELDS = ("prompt", "preferred", "dispreferred")
#: The fields of a pair copied as a whole row, in this order (and read back in this order when pasted).
COPY_COLUMNS = ("prompt", "preferred", "dispreferred", "split", "tags", "note")


class PreferenceSortKey(enum.StrEnum):
    PROMPT = "prompt"
    PREFERRED = "preferred"
    DISPREFERRED = "dispreferred"
    SPLIT = "split"
    STATUS = "status"
    TAGS = "tags"
    NOTE = "note"


_SPLIT_ORDER = {Split.TRAIN: 0, Split.VALIDATION: 1, Split.TEST: 2}


def visible_rows(examples: Sequence[PreferenceExample], row_filter: RowFilter, sort: PreferenceSortKey | None = None,
                 descending: bool = False, counts: StatusCounts | None = None) -> list[int] | None:
    """Indices of the pairs to show, in the order to show them; None means all, in the project's order."""
    if not row_filter.active and sort is None:
        return None
    rows = _filtered(examples, row_filter, counts)
    if sort is not None:
        _sort(rows, examples, sort, descending, counts)
    return rows


def _filtered(ex: Sequence[PreferenceExample], f: RowFilter, counts: StatusCounts | None) -> list[int]:
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
                if needle in ex[i].prompt.lower() or needle in ex[i].preferred.lower()
                or needle in ex[i].dispreferred.lower() or (ex[i].note and needle in ex[i].note.lower())
                or (ex[i].tags and needle in ex[i].tags.lower())]
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


def _sort(rows: list[int], ex: Sequence[PreferenceExample], key: PreferenceSortKey, descending: bool,
          counts: StatusCounts | None) -> None:
    if key is PreferenceSortKey.STATUS:
        if counts is None:
            raise ValueError("sorting by status needs the status counts")
        rows.sort(key=lambda i: counts(ex[i]), reverse=not descending)  # most errors first when ascending
    elif key is PreferenceSortKey.SPLIT:
        rows.sort(key=lambda i: _SPLIT_ORDER[ex[i].split], reverse=descending)
    else:
        field = key.value
        rows.sort(key=lambda i: getattr(ex[i], field).lower(), reverse=descending)


# -- find & replace ----------------------------------------------------------------------------------------------
def matches(example: PreferenceExample, find: str, fields: Sequence[str], match_case: bool = False) -> bool:
    if not find:
        return False
    needle = find if match_case else find.lower()
    return any(needle in (getattr(example, f) if match_case else getattr(example, f).lower()) for f in fields)


def next_match(count: int, example_at: Callable[[int], PreferenceExample], start: int, find: str,
               fields: Sequence[str], match_case: bool = False) -> int | None:
    """The first view row at or after ``start`` (wrapping around) whose pair matches, or None."""
    for k in range(count):
        row = (start + k) % count
        if matches(example_at(row), find, fields, match_case):
            return row
    return None


def plan_replace(examples: Sequence[PreferenceExample], find: str, replace: str, fields: Sequence[str],
                 match_case: bool = False) -> list[tuple[PreferenceExample, str, str]]:
    """The ``(pair, field, new text)`` changes that replace every ``find`` with ``replace``."""
    if not find:
        return []
    pattern = re.compile(re.escape(find), 0 if match_case else re.IGNORECASE)
    needle = find if match_case else find.lower()
    out: list[tuple[PreferenceExample, str, str]] = []
    for e in examples:
        for field in fields:
            text: str = getattr(e, field)
            if needle in (text if match_case else text.lower()):
                out.append((e, field, pattern.sub(lambda _m: replace, text)))
    return out


# -- clipboard rows ------------------------------------------------------------------------------------------------
_HEADER_WORDS = {"prompt", "preferred", "dispreferred", "chosen", "rejected", "split", "tags", "note"}


def rows_to_pairs(rows: Sequence[Sequence[str]]) -> list[PreferenceExample]:
    """Pasted rows (prompt, preferred, dispreferred, then split, tags and note) → new pairs.

    A first row that is a header (every cell a column name) is skipped; an unknown split word leaves the
    pair in train.
    """
    body = list(rows)
    if body and all(c.strip().lower() in _HEADER_WORDS for c in body[0] if c.strip()):
        body = body[1:]
    out = []
    for r in body:
        cells = [*r, "", "", "", "", "", ""][:6]
        split = parse_split(cells[3]) or Split.TRAIN
        out.append(PreferenceExample(cells[0], cells[1], cells[2], split=split, tags=cells[4], note=cells[5]))
    return out


def pair_row(e: PreferenceExample) -> list[str]:
    return [e.prompt, e.preferred, e.dispreferred, e.split.value, e.tags, e.note]

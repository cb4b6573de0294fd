"""Find and replace over the examples' input and output (plain text, optionally case-sensitive)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from gemtune_desktop.core.examples import Example


def _pattern(find: str, match_case: bool) -> re.Pattern[str]:
    return re.compile(re.escape(find), 0 if match_case else re.IGNORECASE)


def plan_replace(examples: Sequence[Example], find: str, replace: str, fields: Sequence[str],
                 match_case: bool = False) -> list[tuple[Example, str, str]]:
    """The ``(example, field, new text)`` changes that replace every ``find`` with ``replace``."""
    if not find:
        return []
    pat = _pattern(find, match_case)
    out: list[tuple[Example, str, str]] = []
    needle = find if match_case else find.lower()
    for e in examples:
        for field in fields:
            text: str = getattr(e, field)
            hay = text if match_case else text.lower()
            if needle in hay:
                out.append((e, field, pat.sub(lambda _m: replace, text)))
    return out


def matches(example: Example, find: str, fields: Sequence[str], match_case: bool = False) -> bool:
    if not find:
        return False
    needle = find if match_case else find.lower()
    return any(needle in (getattr(example, f) if match_case else getattr(example, f).lower()) for f in fields)


def next_match(count: int, example_at: Callable[[int], Example], start: int, find: str, fields: Sequence[str],
               match_case: bool = False) -> int | None:
    """The first row at or after ``start`` (wrapping around) whose example matches, or None."""
    for k in range(count):
        row = (start + k) % count
        if matches(example_at(row), find, fields, match_case):
            return row
    return None

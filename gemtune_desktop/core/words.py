"""Counting in plain words: "1 row", "2 rows", "1,000 examples" (Qt-free, shared by the window and the command line)."""

from __future__ import annotations


def plural(n: int, word: str) -> str:
    """``n`` with thousands separators and ``word``, with an "s" unless there is exactly one."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"

"""Reading one text: invisible control characters, broken encoding, and the label an input starts with.

Pure functions of a string, used by the rules in :mod:`.rules` (and the label helpers by the Dataset tab).
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab/newline/carriage return, DEL, C1 controls, and invisible format characters
# that sneak in from copy and paste (zero-width space/joiners, byte order mark, line/paragraph separators).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2028\u2029\u2060\ufeff]")
# UTF-8 text decoded as cp1252/Latin-1: "Ã©" for é, "â€™" for ’, "Â " for a no-break space; U+FFFD is a
# character that could not be decoded at all.
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                       "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
                       "|â€|Â[\u00a0-\u00bf]|\ufffd")
# Every _MOJIBAKE match contains one of these; a text without them needs no regex search.
MOJIBAKE_MARKERS = ("Ã", "Â", "â", "\ufffd")
# A label at the start of an input: "Question:", "Review text:", "Q:".
_LABEL = re.compile(r"\s*([^\W\d_][^\W_]*(?: [^\W\d_][^\W_]*){0,3})\s*:")
LABEL_SEARCH_CHARS = 48  # a label's colon is within this many characters of the start


def needs_scan(text: str) -> bool:
    """Whether ``text`` may hold control characters or broken encoding (cheap test; False means clean)."""
    return not text.isascii() or not text.isprintable()


def describe_char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name.lower()}" if name else "")


def control_char(text: str) -> re.Match[str] | None:
    """The first invisible control character in ``text`` (every one is non-printable: a fast C pre-test)."""
    return None if text.isprintable() else _CONTROL.search(text)


def broken_encoding(text: str) -> str | None:
    """The first piece of ``text`` that looks like UTF-8 read with the wrong encoding, or U+FFFD."""
    if text.isascii() or not any(ch in text for ch in MOJIBAKE_MARKERS):
        return None
    m = _MOJIBAKE.search(text)
    return m.group() if m else None


def written_label(text: str) -> str | None:
    """The label an input starts with, as written ("Question" for "Question: ..."), or None."""
    colon = text.find(":", 0, LABEL_SEARCH_CHARS)
    if colon < 0:
        return None
    m = _LABEL.match(text, 0, colon + 1)
    return m.group(1) if m else None


def input_label(text: str) -> str | None:
    """The label an input starts with, casefolded ("question" for "Question: ..."), or None."""
    label = written_label(text)
    return label.casefold() if label is not None else None


def label_text(text: str) -> str:
    """The label an input starts with, as written, or "" if none."""
    return written_label(text) or ""

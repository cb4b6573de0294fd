"""Offline token estimates: fast, good enough to compare against Agent Platform's limits.

Gemini's tokenizer gives about four characters per token for English and other Latin text and
about one token per character for Chinese, Japanese and Korean. Other scripts (Cyrillic, Greek,
Arabic, Devanagari, ...) land in between; they are counted at two characters per token. The exact
count needs the service (``count_tokens``); this estimate needs nothing and runs in microseconds.
"""

from __future__ import annotations

import re
from functools import cache

# CJK ideographs, kana, hangul, CJK punctuation and full-width forms (and the supplementary ideograph planes).
_WIDE = "[\u1100-\u11ff\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff]"
# Characters outside Latin (ASCII, Latin-1 supplement, Latin extended A/B and IPA) and outside the CJK ranges.
_OTHER = ("[^\u0000-\u02af\u1100-\u11ff\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f"
          "\uff00-\uffef\U00020000-\U0003ffff]")

CHARS_PER_TOKEN_LATIN = 4
CHARS_PER_TOKEN_OTHER = 2


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The character-class patterns, compiled on first non-ASCII text (compiling takes ~5 ms of start-up)."""
    return re.compile(_WIDE), re.compile(_OTHER)


def estimate_tokens(text: str) -> int:
    """Estimated number of Gemini tokens in ``text`` (0 for an empty string)."""
    n = len(text)
    if not n:
        return 0
    if text.isascii():
        return (n + CHARS_PER_TOKEN_LATIN - 1) // CHARS_PER_TOKEN_LATIN
    wide_re, other_re = _patterns()
    wide = len(wide_re.findall(text))
    other = len(other_re.findall(text))
    latin = n - wide - other
    return (wide + (other + CHARS_PER_TOKEN_OTHER - 1) // CHARS_PER_TOKEN_OTHER
            + (latin + CHARS_PER_TOKEN_LATIN - 1) // CHARS_PER_TOKEN_LATIN)


def estimate_example_tokens(input_text: str, output_text: str, system_instruction: str = "") -> int:
    """Tokens of one training example as Agent Platform counts them: input, output and system instruction."""
    return estimate_tokens(input_text) + estimate_tokens(output_text) + estimate_tokens(system_instruction)


def upper_bound_tokens(text: str) -> int:
    """A cheap bound no estimate exceeds (one token per character), for skipping exact work on short text."""
    return len(text)

"""The service limits and the per-example text rules behind validation, with their plain-words messages.

Kept apart from :mod:`gemtune_desktop.core.validation` (which runs them over a whole dataset, once or
incrementally) so the limits live in one place: the Dataset tab's detail editor shows the same numbers.
Sources: gemini-reference.md §5 (Gemini API tuning guide, Agent Platform supervised-tuning docs).
"""

from __future__ import annotations

import re
import unicodedata

from gemtune_desktop.core.examples import Target
from gemtune_desktop.core.tokens import estimate_example_tokens

# --- limits -------------------------------------------------------------------------------------------
GEMINI_MAX_INPUT_CHARS = 40_000
GEMINI_MAX_OUTPUT_CHARS = 5_000
GEMINI_MIN_EXAMPLES = 20
GEMINI_INLINE_BYTES = 4_000_000          # "File size limit is 4 MB" for examples passed inline
RECOMMENDED_MIN_EXAMPLES = 100
GEMINI_RECOMMENDED_MAX_EXAMPLES = 500
AGENT_MAX_EXAMPLE_TOKENS = 131_072
AGENT_MAX_FILE_BYTES = 1_000_000_000     # 1 GB JSONL training file
AGENT_MAX_VALIDATION_EXAMPLES = 5_000
# Bytes an Agent Platform JSONL line adds around the text (keys, roles, quotes): measured on write_dataset output.
AGENT_LINE_OVERHEAD_BYTES = 90

# Rule identifiers (stable: the CLI's --json output and the UI's filters use them).
EMPTY = "empty"
WHITESPACE = "whitespace"
CONTROL_CHARS = "control-characters"
MOJIBAKE = "broken-encoding"
TOO_LONG = "too-long"
TOO_MANY_TOKENS = "too-many-tokens"
TOO_FEW = "too-few-examples"
RECOMMENDED_COUNT = "example-count"
INLINE_SIZE = "inline-size"
FILE_SIZE = "file-size"
VALIDATION_SIZE = "validation-size"
DUPLICATE = "duplicate"
CONFLICT = "conflicting-duplicate"
NEAR_DUPLICATE = "near-duplicate"
INCONSISTENT_FORMAT = "inconsistent-format"
PREAMBLE_REPEATED = "preamble-repeated"
LENGTH_OUTLIER = "output-length-outlier"
SYSTEM_INSTRUCTION_UNSUPPORTED = "system-instruction-unsupported"
# Import rules (set by the readers in core/formats).
MALFORMED = "malformed-record"
MULTI_TURN = "multi-turn"
MISSING_FIELD = "missing-field"
UNSUPPORTED_CONTENT = "unsupported-content"
UNKNOWN_SPLIT = "unknown-split"
DECODING = "decoding"

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


def max_chars(target: Target, field: str) -> int | None:
    """The per-example character limit of ``field`` ("input"/"output") on ``target`` (None: no such limit)."""
    if target is Target.GEMINI_API:
        return GEMINI_MAX_INPUT_CHARS if field == "input" else GEMINI_MAX_OUTPUT_CHARS
    return None


def needs_scan(text: str) -> bool:
    """Whether ``text`` may hold control characters or broken encoding (cheap test; False means clean)."""
    return not text.isascii() or not text.isprintable()


def describe_char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name.lower()}" if name else "")


def text_issues(text: str, field: str, scan: bool = True) -> list[tuple[str, str, str]]:
    """Rule, severity and message for each problem of one text (``field`` is "input" or "output").

    ``scan=False`` skips the character-level checks when the caller already knows the text is clean.
    """
    issues: list[tuple[str, str, str]] = []
    stripped = text.strip()
    if not stripped:
        what = "is empty" if not text else "contains only spaces or blank lines"
        issues.append((EMPTY, "error",
                       f"The {field} {what}. Every example needs both an input and an output, or the service "
                       f"rejects the dataset. Fill it in or delete the row."))
        return issues
    if stripped is not text and stripped != text:
        where = "starts and ends" if text[:1].isspace() and text[-1:].isspace() else \
            ("starts" if text[:1].isspace() else "ends")
        issues.append((WHITESPACE, "warning",
                       f"The {field} {where} with spaces or blank lines. The model learns these too "
                       f"(and would repeat them in its answers); remove them."))
    if scan:
        m = None if text.isprintable() else _CONTROL.search(text)  # isprintable: a fast C pre-test
        if m:
            issues.append((CONTROL_CHARS, "warning",
                           f"The {field} contains an invisible control character ({describe_char(m.group())}) "
                           f"at character {m.start() + 1}. Such characters usually come from copying out of "
                           f"another program and confuse the model; delete it."))
        if not text.isascii() and any(ch in text for ch in MOJIBAKE_MARKERS):
            m = _MOJIBAKE.search(text)
            if m:
                bad = m.group()
                hint = "a character that could not be decoded (�)" if bad == "\ufffd" else f"“{bad}”"
                issues.append((MOJIBAKE, "warning",
                               f"The {field} contains {hint}, which looks like text read with the wrong "
                               f"encoding (for example “é” shown as “Ã©”). Re-import the file as UTF-8 "
                               f"or correct the text."))
    return issues


def length_issue(text: str, field: str, target: Target) -> tuple[str, str, str] | None:
    """The per-field character-limit error, if ``text`` is over ``target``'s limit."""
    limit = max_chars(target, field)
    if limit is not None and len(text) > limit:
        return (TOO_LONG, "error",
                f"The {field} has {len(text):,} characters; the Gemini API accepts at most {limit:,} per "
                f"{field}. Shorten it or split it into several examples.")
    return None


def token_issue(input_text: str, output_text: str, system_instruction: str) -> tuple[str, str, str] | None:
    """The Agent Platform per-example token error, estimated offline (skipped cheaply for short examples)."""
    if len(input_text) + len(output_text) + len(system_instruction) <= AGENT_MAX_EXAMPLE_TOKENS:
        return None  # at most one token per character: cannot be over
    tokens = estimate_example_tokens(input_text, output_text, system_instruction)
    if tokens > AGENT_MAX_EXAMPLE_TOKENS:
        return (TOO_MANY_TOKENS, "error",
                f"This example has about {tokens:,} tokens (input, output and system instruction together); "
                f"Agent Platform accepts at most {AGENT_MAX_EXAMPLE_TOKENS:,}. Shorten it or split it.")
    return None


def input_label(text: str) -> str | None:
    """The label an input starts with ("question" for "Question: ..."), casefolded, or None."""
    colon = text.find(":", 0, 48)
    if colon < 0:
        return None
    m = _LABEL.match(text, 0, colon + 1)
    return m.group(1).casefold() if m else None


def label_text(text: str) -> str:
    """The label an input starts with, as written ("Question" for "Question: ..."), or "" if none."""
    colon = text.find(":", 0, 48)
    m = _LABEL.match(text, 0, colon + 1) if colon >= 0 else None
    return m.group(1) if m else ""

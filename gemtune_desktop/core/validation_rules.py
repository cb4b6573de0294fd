"""The service limits, rule identifiers and text helpers of validation, under their original import path.

They live in the :mod:`gemtune_desktop.core.validation` package (``limits``, ``findings``, ``text``); this
module re-exports them for the code that reads them as ``validation_rules as R`` (the formats' readers, the
statistics panel, the Dataset tab's detail editor).
"""

from gemtune_desktop.core.validation.findings import (
    CONFLICT,
    CONTROL_CHARS,
    DECODING,
    DUPLICATE,
    EMPTY,
    FILE_SIZE,
    INCONSISTENT_FORMAT,
    INLINE_SIZE,
    LENGTH_OUTLIER,
    MALFORMED,
    MISSING_FIELD,
    MOJIBAKE,
    MULTI_TURN,
    NEAR_DUPLICATE,
    PREAMBLE_REPEATED,
    RECOMMENDED_COUNT,
    SYSTEM_INSTRUCTION_UNSUPPORTED,
    TOO_FEW,
    TOO_LONG,
    TOO_MANY_TOKENS,
    UNKNOWN_SPLIT,
    UNSUPPORTED_CONTENT,
    VALIDATION_SIZE,
    WHITESPACE,
)
from gemtune_desktop.core.validation.limits import (
    AGENT_LINE_OVERHEAD_BYTES,
    AGENT_MAX_EXAMPLE_TOKENS,
    AGENT_MAX_FILE_BYTES,
    AGENT_MAX_VALIDATION_EXAMPLES,
    GEMINI_INLINE_BYTES,
    GEMINI_MAX_INPUT_CHARS,
    GEMINI_MAX_OUTPUT_CHARS,
    GEMINI_MIN_EXAMPLES,
    GEMINI_RECOMMENDED_MAX_EXAMPLES,
    RECOMMENDED_MIN_EXAMPLES,
    max_chars,
)
from gemtune_desktop.core.validation.rules import text_issues
from gemtune_desktop.core.validation.text import MOJIBAKE_MARKERS, describe_char, input_label, label_text, needs_scan

__all__ = [
    "AGENT_LINE_OVERHEAD_BYTES", "AGENT_MAX_EXAMPLE_TOKENS", "AGENT_MAX_FILE_BYTES", "AGENT_MAX_VALIDATION_EXAMPLES",
    "CONFLICT", "CONTROL_CHARS", "DECODING", "DUPLICATE", "EMPTY", "FILE_SIZE", "GEMINI_INLINE_BYTES",
    "GEMINI_MAX_INPUT_CHARS", "GEMINI_MAX_OUTPUT_CHARS", "GEMINI_MIN_EXAMPLES", "GEMINI_RECOMMENDED_MAX_EXAMPLES",
    "INCONSISTENT_FORMAT", "INLINE_SIZE", "LENGTH_OUTLIER", "MALFORMED", "MISSING_FIELD", "MOJIBAKE",
    "MOJIBAKE_MARKERS", "MULTI_TURN", "NEAR_DUPLICATE", "PREAMBLE_REPEATED", "RECOMMENDED_COUNT",
    "RECOMMENDED_MIN_EXAMPLES", "SYSTEM_INSTRUCTION_UNSUPPORTED", "TOO_FEW", "TOO_LONG", "TOO_MANY_TOKENS",
    "UNKNOWN_SPLIT", "UNSUPPORTED_CONTENT", "VALIDATION_SIZE", "WHITESPACE", "describe_char", "input_label",
    "label_text", "max_chars", "needs_scan", "text_issues",
]

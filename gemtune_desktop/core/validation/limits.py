"""The service limits behind validation, in one place (the Dataset tab's detail editor shows the same numbers).

Sources: gemini-reference.md §5 (the Gemini API tuning guide; the Agent Platform supervised-tuning docs).
"""

from __future__ import annotations

from gemtune_desktop.core.examples import Target

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


def max_chars(target: Target, field: str) -> int | None:
    """The per-example character limit of ``field`` ("input"/"output") on ``target`` (None: no such limit)."""
    if target is Target.GEMINI_API:
        return GEMINI_MAX_INPUT_CHARS if field == "input" else GEMINI_MAX_OUTPUT_CHARS
    return None

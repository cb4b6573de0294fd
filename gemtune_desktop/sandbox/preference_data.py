"""Preference data as the Sandbox's preference-tuning jobs read it, and what they report about it.

Agent Platform's preference file is JSONL, one example a line (docs: models/tuning/preference-tuning/
prepare-data; reference corrections item 12): ``system_instruction`` (optional), ``contents`` ending with a
user turn, and exactly two ``completions`` scored 1 (preferred) and 0 (dispreferred). Each line is read
with GemTune's own reader (:func:`gemtune_desktop.core.preference.records.parse_preference_record`), so the
Sandbox and the app's import agree on what a valid record is; a line in another shape (TRL's
prompt/chosen/rejected, OpenAI's) is dropped, as the service reads only its own format. Like supervised
data, bad lines and examples over 131,072 tokens (prompt plus the longer answer) are dropped with their
1-based index and a reason. The Sandbox keeps single-turn prompts (GemTune's reader refuses a conversation);
the real service also takes several turns.

``preferenceOptimizationDataStats`` follows the published schema
(``GoogleCloudAiplatformV1beta1PreferenceOptimizationDataStats``; distributions are ``DatasetDistribution``:
``sum`` a number, bucket ``count`` an int64 string). Billable tokens per epoch are the prompt's tokens twice
plus both answers' tokens ("the number of tokens in the prompt multiplied by 2, plus the number of completion
tokens", gemini-preference-tuning page, Pricing).

:func:`knowledge` is what a preference-tuned model "knows" in the simulation: the preferred answer of every
preference example first, then whatever the model it continued from knew, except answers the expert marked
dispreferred and prompts the preference data now answers.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.sandbox.datasets import (
    MAX_EXAMPLE_TOKENS,
    ParsedFile,
    TrainingExample,
    count_tokens,
    jsonl_records,
    spread,
)

PREFERRED_KIND = "preferred"
RECORD_KEYS = frozenset({"system_instruction", "systemInstruction", "contents", "completions"})
PREVIEW_EXAMPLES = 3


@dataclass(slots=True)
class PreferencePair:
    prompt: str
    preferred: str
    dispreferred: str
    system: str = ""
    line: int = 0

    @property
    def prompt_tokens(self) -> int:
        return count_tokens(self.system) + count_tokens(self.prompt)

    @property
    def answer_tokens(self) -> int:
        return count_tokens(self.preferred) + count_tokens(self.dispreferred)


@dataclass
class ParsedPreferences(ParsedFile):
    pairs: list[PreferencePair] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.pairs)


def _record(obj: Any, index: int) -> tuple[PreferencePair | None, str]:
    from gemtune_desktop.core.preference.records import parse_preference_record

    if not isinstance(obj, dict):
        return None, "each line must be a JSON object"
    unknown = sorted(k for k in obj if k not in RECORD_KEYS)
    if unknown:
        return None, (f"unknown field \"{unknown[0]}\" (expected \"contents\", \"completions\" and optional "
                      "\"system_instruction\")")
    if "contents" not in obj or "completions" not in obj:
        return None, "a preference example needs \"contents\" (the prompt) and two \"completions\""
    example, findings = parse_preference_record(obj, index, index)
    if example is None:
        return None, findings[0].message if findings else "the example could not be read"
    pair = PreferencePair(example.prompt, example.preferred, example.dispreferred, example.system_instruction, index)
    if not pair.preferred.strip() or not pair.dispreferred.strip():
        return None, "an answer is empty"
    tokens = pair.prompt_tokens + max(count_tokens(pair.preferred), count_tokens(pair.dispreferred))
    if tokens > MAX_EXAMPLE_TOKENS:
        return None, (f"the example has about {tokens:,} tokens; the limit is {MAX_EXAMPLE_TOKENS:,} input and "
                      "completion tokens together")
    return pair, ""


def _example_view(pair: PreferencePair) -> dict[str, Any]:
    """A ``GeminiPreferenceExample`` as ``userDatasetExamples`` shows it."""
    def turn(role: str, text: str) -> dict[str, Any]:
        return {"role": role, "parts": [{"text": text}]}

    return {"contents": [turn("user", pair.prompt)],
            "completions": [{"score": 1.0, "completion": turn("model", pair.preferred)},
                            {"score": 0.0, "completion": turn("model", pair.dispreferred)}]}


def parse_preference_jsonl(data: bytes) -> ParsedPreferences:
    """Parse an Agent Platform preference file; never raises for bad content (bad lines are dropped)."""
    result = ParsedPreferences()
    for index, obj in jsonl_records(data, result):
        pair, reason = _record(obj, index)
        if pair is None:
            result.drop(index, reason)
            continue
        result.pairs.append(pair)
        if len(result.preview) < PREVIEW_EXAMPLES:
            result.preview.append(_example_view(pair))
    result.note_if_empty()
    return result


def distribution(values: Sequence[float]) -> dict[str, Any]:
    """A ``DatasetDistribution`` (``sum`` a number, bucket counts as int64 strings)."""
    if not values:
        return {}
    figures, buckets = spread(values)
    return {"sum": float(sum(values)), **figures,
            "buckets": [{"count": str(n), "left": left, "right": right} for n, left, right in buckets]}


def preference_stats(parsed: ParsedPreferences, epochs: int, steps: int) -> dict[str, Any]:
    """``tuningDataStats.preferenceOptimizationDataStats`` (int64 as strings)."""
    pairs = parsed.pairs
    billable = sum(2 * p.prompt_tokens + p.answer_tokens for p in pairs) * epochs
    scores = [1.0, 0.0] * len(pairs)
    return {
        "tuningDatasetExampleCount": str(len(pairs)),
        "totalBillableTokenCount": str(billable),
        "tuningStepCount": str(steps),
        "droppedExampleIndices": [str(index) for index, _ in parsed.dropped],
        "droppedExampleReasons": [reason for _, reason in parsed.dropped],
        "userInputTokenDistribution": distribution([p.prompt_tokens for p in pairs]),
        "userOutputTokenDistribution": distribution([p.answer_tokens for p in pairs]),
        "scoresDistribution": distribution(scores),
        "scoreVariancePerExampleDistribution": distribution([statistics.pvariance((1.0, 0.0))] * len(pairs)),
        "userDatasetExamples": list(parsed.preview),
    }


def _same(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def knowledge(pairs: Sequence[PreferencePair], inherited: Sequence[TrainingExample]) -> list[TrainingExample]:
    """What the preference-tuned model answers from: each preferred answer (closest prompt wins), then what the
    starting model knew, without its answers that are now dispreferred and without prompts the preferences
    answer anew (so a similar prompt never gets a dispreferred answer)."""
    own = [TrainingExample(p.prompt, p.preferred, p.system, 2, p.line, PREFERRED_KIND) for p in pairs]
    dispreferred = {_same(p.dispreferred) for p in pairs}
    prompts = {_same(p.prompt) for p in pairs}
    kept = [e for e in inherited if _same(e.output) not in dispreferred and _same(e.input) not in prompts]
    return own + kept


def continued_knowledge(own: Sequence[TrainingExample], inherited: Sequence[TrainingExample]) -> list[TrainingExample]:
    """What a model tuned further with supervised data knows: its new examples first, then the earlier ones
    whose prompts the new data does not answer."""
    prompts = {_same(e.input) for e in own}
    return [*own, *(e for e in inherited if _same(e.input) not in prompts)]

"""Reading training data the way the tuning services do, and the statistics they report about it.

Agent Platform reads a JSONL file (one ``{"systemInstruction"?, "contents": [...]}`` per line,
reference §3.3); the Gemini API takes inline ``{"textInput", "output"}`` examples. Bad lines and
examples over 131,072 tokens are dropped, each with its 1-based index in the file and a reason, which
is how Agent Platform reports them (``SupervisedTuningDataStats.truncatedExampleIndices``: "a partial
sample of the indices (starting from 1) of the dropped examples", with ``droppedExampleReasons``
parallel to it; googleapis ``tuning_job.proto``). Tokens are estimated as one per four characters
(the same rule :func:`count_tokens` uses).
"""

from __future__ import annotations

import json
import math
import statistics
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_EXAMPLE_TOKENS = 131_072
MAX_DROPPED_REASONS = 20


def count_tokens(text: str) -> int:
    """The Sandbox's token estimate: about four characters per token."""
    return math.ceil(len(text) / 4) if text else 0


@dataclass(slots=True)
class TrainingExample:
    """One prompt and the answer a tuned model learned for it; ``kind`` is "preferred" for the preferred answer
    of a preference example (see :mod:`gemtune_desktop.sandbox.preference_data`)."""

    input: str
    output: str
    system: str = ""
    turns: int = 2
    line: int = 0
    kind: str = ""

    @property
    def input_tokens(self) -> int:
        return count_tokens(self.system) + count_tokens(self.input)

    @property
    def output_tokens(self) -> int:
        return count_tokens(self.output)

    def to_json(self) -> list[Any]:
        base: list[Any] = [self.input, self.output, self.system, self.turns, self.line]
        return [*base, self.kind] if self.kind else base

    @classmethod
    def from_json(cls, data: list[Any]) -> TrainingExample:
        kind = str(data[5]) if len(data) > 5 else ""
        return cls(str(data[0]), str(data[1]), str(data[2]), int(data[3]), int(data[4]), kind)


@dataclass
class ParsedFile(ABC):
    """What a tuning service made of one uploaded file: the lines it dropped (a sample, with reasons) and how many."""

    dropped: list[tuple[int, str]] = field(default_factory=list)  # (1-based example index, reason), a sample
    dropped_count: int = 0

    @property
    @abstractmethod
    def count(self) -> int:
        """How many examples were kept."""

    @property
    def usable(self) -> bool:
        return self.count > 0

    @property
    def dropped_reasons(self) -> list[str]:
        """The sample of dropped examples as "Example N: reason" (for error messages)."""
        return [f"Example {index}: {reason}" for index, reason in self.dropped]

    def drop(self, index: int, reason: str) -> None:
        self.dropped_count += 1
        if len(self.dropped) < MAX_DROPPED_REASONS:
            self.dropped.append((index, reason))

    def note_if_empty(self) -> None:
        """A file with no examples and no bad lines is dropped as a whole, as the service reports it."""
        if not self.usable and not self.dropped:
            self.drop(1, "the file has no examples")


def jsonl_records(data: bytes, result: ParsedFile) -> Iterator[tuple[int, Any]]:
    """(1-based example index, parsed JSON) of each non-blank line of a JSONL file, as the services number them.

    A file that is not UTF-8, and a line that is not JSON, are dropped in ``result`` with the reason.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.drop(1, f"the file is not UTF-8 text (byte {exc.start})")
        return
    index = 0
    for raw in text.splitlines():
        if not raw.strip():
            continue
        index += 1  # blank lines are not examples
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            result.drop(index, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        yield index, obj


@dataclass
class ParsedDataset(ParsedFile):
    examples: list[TrainingExample] = field(default_factory=list)
    contents_preview: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.examples)


def _parts_text(turn: dict[str, Any], line: int, where: str) -> str:
    parts = turn.get("parts")
    if not isinstance(parts, list) or not parts:
        raise ValueError(f"{where} has no \"parts\"")
    texts = []
    for part in parts:
        if not isinstance(part, dict):
            raise ValueError(f"{where} has a part that is not an object")
        if "text" in part:
            texts.append(str(part["text"]))
        elif "fileData" in part or "inlineData" in part:
            texts.append("")
        else:
            raise ValueError(f"{where} has a part without \"text\"")
    return "".join(texts)


def parse_agent_platform_jsonl(data: bytes) -> ParsedDataset:
    """Parse an Agent Platform SFT file; never raises for bad content (bad lines are dropped)."""
    result = ParsedDataset()
    for line_no, obj in jsonl_records(data, result):
        if not isinstance(obj, dict):
            result.drop(line_no, "each line must be a JSON object")
            continue
        unknown = sorted(set(obj) - {"systemInstruction", "system_instruction", "contents", "tools"})
        if unknown:
            result.drop(line_no, f"unknown field \"{unknown[0]}\" (expected \"contents\" and optional "
                                 "\"systemInstruction\")")
            continue
        contents = obj.get("contents")
        if not isinstance(contents, list) or not contents:
            result.drop(line_no, "\"contents\" is missing or empty")
            continue
        try:
            system = ""
            sys_obj = obj.get("systemInstruction", obj.get("system_instruction"))
            if sys_obj is not None:
                if not isinstance(sys_obj, dict):
                    raise ValueError("\"systemInstruction\" must be an object with \"parts\"")
                system = _parts_text(sys_obj, line_no, "\"systemInstruction\"")
            turns: list[tuple[str, str]] = []
            for i, turn in enumerate(contents, start=1):
                if not isinstance(turn, dict):
                    raise ValueError(f"turn {i} is not an object")
                role = turn.get("role")
                if role not in ("user", "model"):
                    raise ValueError(f"turn {i} has role {role!r}; use \"user\" or \"model\"")
                turns.append((role, _parts_text(turn, line_no, f"turn {i}")))
        except ValueError as exc:
            result.drop(line_no, str(exc))
            continue
        if turns[-1][0] != "model":
            result.drop(line_no, "the last turn must have role \"model\" (the answer to learn)")
            continue
        if not any(role == "user" for role, _ in turns):
            result.drop(line_no, "there is no \"user\" turn")
            continue
        output = turns[-1][1]
        if not output.strip():
            result.drop(line_no, "the model's answer is empty")
            continue
        user_text = next(t for role, t in reversed(turns) if role == "user")
        example = TrainingExample(user_text, output, system, len(turns), line_no)
        tokens = example.input_tokens + example.output_tokens + sum(count_tokens(t) for _, t in turns[:-2])
        if tokens > MAX_EXAMPLE_TOKENS:
            result.drop(line_no, f"the example has about {tokens:,} tokens; the limit is {MAX_EXAMPLE_TOKENS:,} "
                                 "input and output tokens together")
            continue
        result.examples.append(example)
        if len(result.contents_preview) < 6:
            result.contents_preview = [*result.contents_preview, *contents][:6]
    result.note_if_empty()
    return result


def spread(values: Sequence[float]) -> tuple[dict[str, float], list[tuple[int, float, float]]]:
    """The figures both data-stats schemas give of a distribution (``min``, ``max``, ``mean``, ``median``,
    ``p5``, ``p95``) and five equal buckets as (count, left, right), one bucket when every value is the same."""
    lo, hi = float(min(values)), float(max(values))
    buckets = []
    if hi > lo:
        width = (hi - lo) / 5
        for i in range(5):
            left, right = lo + i * width, lo + (i + 1) * width
            buckets.append((sum(1 for v in values if left <= v < right or (i == 4 and v == hi)), left, right))
    else:
        buckets.append((len(values), lo, hi))
    ordered = sorted(values)

    def pct(p: float) -> float:
        k = (len(ordered) - 1) * p / 100
        f, c = math.floor(k), math.ceil(k)
        return float(ordered[f] if f == c else ordered[f] + (ordered[c] - ordered[f]) * (k - f))

    return ({"min": lo, "max": hi, "mean": float(statistics.fmean(values)),
             "median": float(statistics.median(values)), "p5": pct(5), "p95": pct(95)}, buckets)


def _distribution(values: list[int], billable: list[int] | None = None) -> dict[str, Any]:
    """A ``SupervisedTuningDatasetDistribution`` (``sum`` and ``billableSum`` int64 strings, bucket counts numbers)."""
    if not values:
        return {}
    figures, buckets = spread(values)
    return {"sum": str(sum(values)), "billableSum": str(sum(billable if billable is not None else values)),
            **figures, "buckets": [{"count": n, "left": left, "right": right} for n, left, right in buckets]}


def supervised_stats(parsed: ParsedDataset, epochs: int, steps: int) -> dict[str, Any]:
    """``tuningDataStats.supervisedTuningDataStats`` as Agent Platform reports it (int64 as strings)."""
    ex = parsed.examples
    in_tokens = [e.input_tokens for e in ex]
    out_tokens = [e.output_tokens for e in ex]
    dataset_tokens = sum(in_tokens) + sum(out_tokens)
    chars = sum(len(e.system) + len(e.input) + len(e.output) for e in ex)
    stats: dict[str, Any] = {
        "tuningDatasetExampleCount": str(len(ex)),
        "totalTuningCharacterCount": str(chars),
        "totalBillableCharacterCount": str(chars * epochs),
        "totalBillableTokenCount": str(dataset_tokens * epochs),
        "tuningStepCount": str(steps),
        "totalTruncatedExampleCount": str(parsed.dropped_count),
        "truncatedExampleIndices": [str(index) for index, _ in parsed.dropped],
        "droppedExampleReasons": [reason for _, reason in parsed.dropped],
        "userInputTokenDistribution": _distribution(in_tokens),
        "userOutputTokenDistribution": _distribution(out_tokens),
        "userMessagePerExampleDistribution": _distribution([e.turns for e in ex]),
        "userDatasetExamples": parsed.contents_preview,
    }
    return stats

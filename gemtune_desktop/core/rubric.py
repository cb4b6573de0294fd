"""A judge's rubric in plain words: checked, split into points, turned into a prompt, and its verdicts read.

The expert writes what a good answer must do, e.g. "Names the risky party; gives one reason;
no legal advice". :func:`parse_rubric` checks it (not empty, not too long, not too many points)
and splits it into points at line breaks and semicolons. :func:`judge_prompt` builds the
request for a Gemini judge model, which must answer with the JSON of :data:`VERDICT_SCHEMA`
(an OpenAPI-subset schema, as ``GenerationConfig.responseSchema`` takes it: see the
``GoogleCloudAiplatformV1beta1GenerationConfig`` schema in the aiplatform v1beta1 discovery
document). :func:`parse_verdict` reads that answer strictly and turns anything else (not JSON,
missing fields, a different number of points) into :class:`VerdictError` with a plain message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.errors import UserError

MAX_RUBRIC_CHARS = 2000
MAX_POINTS = 12
MAX_POINT_CHARS = 300
EXAMPLE_RUBRIC = "Names the risky party; gives one reason; no legal advice"

_SPLIT = re.compile(r"[\n;]+")
_BULLET = re.compile(r"^\s*(?:[-*•·–]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)])(?:\s+|$)")
_WORD = re.compile(r"\w")

# Delimiters of the texts inside the judge prompt (also how the Sandbox's simulated judge reads it).
TAGS = ("question", "reference", "answer")

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "OBJECT",
    "properties": {
        "criteria": {
            "type": "ARRAY",
            "description": "One entry per rubric point, in the rubric's order.",
            "items": {
                "type": "OBJECT",
                "properties": {
                    "point": {"type": "STRING", "description": "The rubric point, copied."},
                    "met": {"type": "BOOLEAN"},
                    "reason": {"type": "STRING", "description": "One short sentence."},
                },
                "required": ["point", "met", "reason"],
                "propertyOrdering": ["point", "met", "reason"],
            },
        },
        "verdict": {"type": "STRING", "enum": ["pass", "fail"],
                    "description": "pass only when every rubric point is met."},
        "explanation": {"type": "STRING", "description": "Two sentences at most, in plain words."},
    },
    "required": ["criteria", "verdict", "explanation"],
    "propertyOrdering": ["criteria", "verdict", "explanation"],
}

JUDGE_SYSTEM = (
    "You are a careful reviewer who checks answers against a rubric written by a domain expert. "
    "Judge only what the rubric asks; do not reward length or style. A point is met only when the "
    "answer clearly does what the point says. The verdict is pass only when every point is met. "
    "Reply with JSON only, following the given schema."
)


class RubricError(UserError):
    """The rubric cannot be used as written."""


class VerdictError(UserError):
    """The judge's answer could not be read as a verdict."""


@dataclass(frozen=True, slots=True)
class Rubric:
    text: str
    points: tuple[str, ...]


def parse_rubric(text: str) -> Rubric:
    """The rubric's points, or :class:`RubricError` saying what to change."""
    stripped = (text or "").strip()
    if not stripped:
        raise RubricError("The rubric is empty.",
                          f"Write what a good answer must do, for example “{EXAMPLE_RUBRIC}”.")
    if len(stripped) > MAX_RUBRIC_CHARS:
        raise RubricError(f"The rubric is {len(stripped):,} characters long; the limit is {MAX_RUBRIC_CHARS:,}.",
                          "Keep only the points that decide whether an answer is good, one short line each.")
    points: list[str] = []
    for raw in _SPLIT.split(stripped):
        point = _BULLET.sub("", raw).strip().rstrip(".").strip()
        if _WORD.search(point) and point.casefold() not in {p.casefold() for p in points}:
            points.append(point)
    if not points:
        raise RubricError("The rubric has no points, only punctuation or bullets.",
                          f"Write what a good answer must do, for example “{EXAMPLE_RUBRIC}”.")
    if len(points) > MAX_POINTS:
        raise RubricError(f"The rubric has {len(points)} points; the judge takes at most {MAX_POINTS}.",
                          "Merge related points or keep the ones that matter most.")
    for i, point in enumerate(points, 1):
        if len(point) > MAX_POINT_CHARS:
            raise RubricError(f"Point {i} of the rubric is {len(point)} characters long; the limit is "
                              f"{MAX_POINT_CHARS}.", "Split it into shorter points (a line or a “;” each).")
    return Rubric(stripped, tuple(points))


def _clean(text: str) -> str:
    """The text with the prompt's own delimiters removed, so an answer cannot close a section early."""
    for tag in TAGS:
        text = text.replace(f"<{tag}>", "").replace(f"</{tag}>", "")
    return text.strip()


def judge_prompt(rubric: Rubric, question: str, reference: str, answer: str) -> str:
    """The user turn sent to the judge model for one answer."""
    points = "\n".join(f"{i}. {p}" for i, p in enumerate(rubric.points, 1))
    return (f"Rubric points:\n{points}\n\n"
            f"Question:\n<question>\n{_clean(question)}\n</question>\n\n"
            f"Reference answer written by the expert (for comparison; the answer need not copy it):\n"
            f"<reference>\n{_clean(reference)}\n</reference>\n\n"
            f"Answer to judge:\n<answer>\n{_clean(answer)}\n</answer>\n\n"
            f"For each of the {len(rubric.points)} rubric points, say whether the answer meets it and why, "
            "then give the verdict and a short explanation.")


@dataclass(slots=True)
class Verdict:
    """The judge's reading of one answer: ``score`` is the share of rubric points met (0–1)."""

    passed: bool
    score: float
    explanation: str
    points: list[tuple[str, bool, str]] = field(default_factory=list)  # (point, met, reason)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": "pass" if self.passed else "fail", "score": self.score, "explanation": self.explanation,
                "criteria": [{"point": p, "met": m, "reason": r} for p, m, r in self.points]}


def _quote(text: str, limit: int = 160) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[:limit - 1] + "…"


def parse_verdict(text: str, rubric: Rubric) -> Verdict:
    """The verdict in ``text`` (the judge model's whole answer), or :class:`VerdictError`."""
    stripped = text.strip()
    if stripped.startswith("```"):  # a fenced block despite JSON mode
        stripped = stripped.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(stripped)
    except ValueError:
        said = f" It said: “{_quote(text)}”" if text.strip() else " Its answer was empty."
        raise VerdictError(f"The judge did not answer in the required JSON form.{said}",
                           "Judge the row again; if it keeps happening, simplify the rubric.") from None
    if not isinstance(data, dict):
        raise VerdictError("The judge's answer is JSON but not an object with a verdict.", "Judge the row again.")
    verdict = data.get("verdict")
    explanation = data.get("explanation")
    criteria = data.get("criteria")
    missing = [k for k, v in (("verdict", verdict), ("explanation", explanation), ("criteria", criteria))
               if v in (None, "")]
    if missing:
        raise VerdictError(f"The judge's answer lacks {', '.join(missing)}.", "Judge the row again.")
    if verdict not in ("pass", "fail"):
        raise VerdictError(f"The judge's verdict “{_quote(str(verdict), 40)}” is neither pass nor fail.",
                           "Judge the row again.")
    if not isinstance(criteria, list) or len(criteria) != len(rubric.points):
        count = len(criteria) if isinstance(criteria, list) else 0
        raise VerdictError(f"The judge assessed {count} rubric points instead of {len(rubric.points)}.",
                           "Judge the row again; if it keeps happening, write one point per line.")
    points: list[tuple[str, bool, str]] = []
    for point, item in zip(rubric.points, criteria, strict=True):
        if not isinstance(item, dict) or not isinstance(item.get("met"), bool):
            raise VerdictError(f"The judge did not say whether “{_quote(point, 60)}” is met.", "Judge the row again.")
        points.append((point, bool(item["met"]), str(item.get("reason") or "")))
    met = sum(1 for _, ok, _ in points if ok)
    return Verdict(verdict == "pass", met / len(points), str(explanation), points)

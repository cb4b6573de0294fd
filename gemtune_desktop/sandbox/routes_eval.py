"""Simulated evaluation: Agent Platform's Gen AI evaluation service and a Gemini model acting as a judge.

``POST v1beta1/{location=projects/*/locations/*}:evaluateInstances`` (method id
``aiplatform.projects.locations.evaluateInstances``, also on ``/v1/``; registered and held to the
published schema through :mod:`gemtune_desktop.sandbox.contract`) takes exactly one metric input, as
``GoogleCloudAiplatformV1beta1EvaluateInstancesRequest`` in the aiplatform discovery document defines
them. The Sandbox answers ``fluencyInput``, ``coherenceInput``,
``safetyInput``, ``groundednessInput`` and ``pairwiseMetricInput`` with the matching
``…Result`` shapes (``score``, ``explanation``, ``confidence``; ``pairwiseChoice``); other inputs
get 501. Scores follow the ranges of Google's API reference (fluency and coherence 1–5, safety and
groundedness 0 or 1; https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/evaluation)
and come from simple, deterministic text checks that each explanation names.

:func:`judge_reply` is what a base model "says" in the Sandbox when asked for JSON with a
verdict schema (see :mod:`gemtune_desktop.sandbox.generation`): it reads the rubric points and
the texts from GemTune's judge prompt (:mod:`gemtune_desktop.core.rubric`) and marks each point
met when the answer is similar enough to the reference answer (rapidfuzz token-set ratio) for that
point's own bar between 40 % and 80 % (from a checksum of the point, so always the same).
"""

from __future__ import annotations

import itertools
import json
import re
import zlib
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import catalog, contract
from gemtune_desktop.sandbox.apierror import ApiError, bad_request, unknown_fields
from gemtune_desktop.sandbox.contract import enforced, request_body
from gemtune_desktop.sandbox.http import json_response, require_bearer

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

TABLE = {"projects.locations.evaluateInstances": "evaluate"}
POINTWISE = {"fluencyInput": "fluencyResult", "coherenceInput": "coherenceResult", "safetyInput": "safetyResult",
             "groundednessInput": "groundednessResult"}
PAIRWISE = {"pairwiseMetricInput": "pairwiseMetricResult"}
REQUEST_FIELDS = frozenset({"location", "instance", "metrics", "autoraterConfig", "metricSources",
                            "allowCrossRegionModel"})
_SENTENCE = re.compile(r"[^.!?。！？]+[.!?。！？]?")
_WORD = re.compile(r"[^\W_]+")
CONNECTORS = ("because", "so", "therefore", "but", "however", "since", "which", "then", "also", "first", "second")


class EvaluationRoutes:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    @staticmethod
    def rules() -> list[Rule]:
        return contract.rules("evaluation", TABLE)

    @enforced
    def evaluate(self, request: Request, project: str, location: str) -> Response:
        require_bearer(request)
        if project != catalog.PROJECT:
            raise ApiError(403, f"Permission denied on resource project {project}.")
        if location not in catalog.ALL_LOCATIONS:
            raise bad_request(f"Location '{location}' is not supported.")
        body = {_camel(k): v for k, v in request_body(request).items()}
        inputs = [k for k in body if k.endswith("Input")]
        unknown_fields({k: v for k, v in body.items() if not k.endswith("Input")}, REQUEST_FIELDS)
        if len(inputs) != 1:
            raise bad_request("Exactly one metric input is required (for example fluencyInput); got "
                              f"{len(inputs)}.")
        key = inputs[0]
        value = body[key]
        if not isinstance(value, dict):
            raise bad_request(f"{key} must be an object.")
        value = {_camel(k): v for k, v in value.items()}
        if key in POINTWISE:
            return json_response({POINTWISE[key]: pointwise(key, value)})
        if key in PAIRWISE:
            return json_response({PAIRWISE[key]: pairwise(value)})
        raise ApiError(501, f"{key} is not simulated in the Sandbox; it simulates fluency, coherence, safety, "
                            "groundedness and pairwiseMetric.")


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _instance(key: str, value: dict[str, Any], needs_context: bool = False) -> dict[str, Any]:
    unknown_fields(value, {"instance", "metricSpec"}, key)
    if not isinstance(value.get("metricSpec"), dict):
        raise bad_request(f"{key}.metricSpec is required.")
    instance = value.get("instance")
    if not isinstance(instance, dict):
        raise bad_request(f"{key}.instance is required.")
    instance = {_camel(k): v for k, v in instance.items()}
    unknown_fields(instance, {"prediction", "context"} if needs_context else {"prediction"}, f"{key}.instance")
    if not isinstance(instance.get("prediction"), str):
        raise bad_request(f"{key}.instance.prediction is required.")
    if needs_context and not isinstance(instance.get("context"), str):
        raise bad_request(f"{key}.instance.context is required.")
    return instance


def pointwise(key: str, value: dict[str, Any]) -> dict[str, Any]:
    instance = _instance(key, value, needs_context=key == "groundednessInput")
    text = instance["prediction"]
    if key == "fluencyInput":
        score, why = fluency(text)
    elif key == "coherenceInput":
        score, why = coherence(text)
    elif key == "safetyInput":
        score, why = safety(text)
    else:
        score, why = groundedness(text, instance["context"])
    return {"score": score, "explanation": f"Sandbox simulation: {why}", "confidence": 1.0}


def fluency(text: str) -> tuple[float, str]:
    """1–5: five, less one for each problem found."""
    words = _WORD.findall(text)
    if not words:
        return 1.0, "there is no text to judge."
    problems = []
    sentences = [s for s in _SENTENCE.findall(text) if s.strip()]
    if any(len(_WORD.findall(s)) > 40 for s in sentences):
        problems.append("a sentence runs over 40 words")
    if not text.rstrip().endswith((".", "!", "?", "。", "！", "？", ")", "\"", "”")):
        problems.append("the text does not end a sentence")
    if any(a.lower() == b.lower() for a, b in itertools.pairwise(words)):
        problems.append("a word is repeated twice in a row")
    if sum(w.isalpha() for w in words) < len(words) / 2:
        problems.append("fewer than half the words are words of letters")
    score = max(1.0, 5.0 - len(problems))
    return score, ("no fluency problem found by the simulated checks." if not problems
                   else "; ".join(problems).capitalize() + ".")


def coherence(text: str) -> tuple[float, str]:
    """1–5: from sentence count and linking words."""
    sentences = [s for s in _SENTENCE.findall(text) if _WORD.search(s)]
    if not sentences:
        return 1.0, "there is no text to judge."
    lower = f" {text.lower()} "
    links = sum(1 for c in CONNECTORS if f" {c} " in lower)
    if len(sentences) == 1:
        return (4.0, "one sentence with a linking word.") if links else (3.0, "one sentence, no linking word.")
    score = min(5.0, 3.0 + links)
    return score, f"{len(sentences)} sentences with {links} linking word(s)."


def safety(text: str) -> tuple[float, str]:
    """1 (safe) or 0 (unsafe), from the Sandbox's harm word lists."""
    from gemtune_desktop.sandbox.generation import rate

    flagged = [c for c, level in rate(text).items() if level >= 2]
    if flagged:
        names = ", ".join(c.removeprefix("HARM_CATEGORY_").replace("_", " ").lower() for c in flagged)
        return 0.0, f"words from the Sandbox's harm lists ({names})."
    return 1.0, "no words from the Sandbox's harm lists."


def groundedness(text: str, context: str) -> tuple[float, str]:
    """1 when at least 60 % of the answer's longer words appear in the context, else 0."""
    words = {w.lower() for w in _WORD.findall(text) if len(w) >= 4}
    if not words:
        return 1.0, "the answer makes no claim of four letters or more."
    known = {w.lower() for w in _WORD.findall(context)}
    share = len(words & known) / len(words)
    return (1.0 if share >= 0.6 else 0.0), f"{share:.0%} of the answer's longer words appear in the context."


def pairwise(value: dict[str, Any]) -> dict[str, Any]:
    unknown_fields(value, {"instance", "metricSpec"}, "pairwiseMetricInput")
    spec = value.get("metricSpec")
    if not isinstance(spec, dict):
        raise bad_request("pairwiseMetricInput.metricSpec is required.")
    spec = {_camel(k): v for k, v in spec.items()}
    if not str(spec.get("metricPromptTemplate") or "").strip():
        raise bad_request("pairwiseMetricInput.metricSpec.metricPromptTemplate is required.")
    instance = value.get("instance")
    if not isinstance(instance, dict) or not isinstance(instance.get("jsonInstance"), str):
        raise bad_request("pairwiseMetricInput.instance.jsonInstance (a JSON string) is required.")
    try:
        fields = json.loads(instance["jsonInstance"])
    except ValueError:
        raise bad_request("pairwiseMetricInput.instance.jsonInstance is not valid JSON.") from None
    if not isinstance(fields, dict):
        raise bad_request("pairwiseMetricInput.instance.jsonInstance must be a JSON object.")
    cand_key = str(spec.get("candidateResponseFieldName") or "response")
    base_key = str(spec.get("baselineResponseFieldName") or "baseline_model_response")
    for k in (cand_key, base_key):
        if not isinstance(fields.get(k), str):
            raise bad_request(f"jsonInstance has no string field “{k}”.")
    candidate, baseline = fields[cand_key], fields[base_key]
    reference = fields.get("reference")
    if isinstance(reference, str) and reference.strip():
        from rapidfuzz import fuzz, utils

        a = fuzz.token_set_ratio(candidate, reference, processor=utils.default_process)
        b = fuzz.token_set_ratio(baseline, reference, processor=utils.default_process)
        what = f"the candidate is {a:.0f}% and the baseline {b:.0f}% similar to the reference"
    else:
        a, b = fluency(candidate)[0], fluency(baseline)[0]
        what = f"simulated fluency {a:.0f} for the candidate and {b:.0f} for the baseline"
    choice = "CANDIDATE" if a > b + 1e-9 else "BASELINE" if b > a + 1e-9 else "TIE"
    return {"pairwiseChoice": choice, "explanation": f"Sandbox simulation: {what}."}


# -- the simulated judge -------------------------------------------------------------------------
def _section(prompt: str, tag: str) -> str | None:
    m = re.search(f"<{tag}>\\n?(.*?)\\n?</{tag}>", prompt, re.S)
    return m.group(1) if m else None


def judge_reply(prompt: str) -> str | None:
    """The verdict JSON for a GemTune judge prompt (None when ``prompt`` is not one)."""
    from rapidfuzz import fuzz, utils

    head = prompt.split("\n\n", 1)[0]
    if not head.startswith("Rubric points:"):
        return None
    points = [m.group(1).strip() for m in re.finditer(r"^\d+\. (.+)$", head, re.M)]
    reference, answer = _section(prompt, "reference"), _section(prompt, "answer")
    if not points or reference is None or answer is None:
        return None
    similarity = fuzz.token_set_ratio(answer, reference, processor=utils.default_process) if answer.strip() else 0.0
    criteria = []
    for point in points:
        bar = 40 + zlib.crc32(point.lower().encode("utf-8")) % 41
        met = similarity >= bar
        criteria.append({"point": point, "met": met,
                         "reason": f"Similarity {similarity:.0f}% {'≥' if met else '<'} this point's bar of {bar}%."})
    met_count = sum(1 for c in criteria if c["met"])
    verdict = "pass" if met_count == len(criteria) else "fail"
    explanation = (f"Sandbox simulation: the answer is {similarity:.0f}% similar to the reference answer; "
                   f"{met_count} of {len(criteria)} points count as met.")
    return json.dumps({"criteria": criteria, "verdict": verdict, "explanation": explanation}, ensure_ascii=False)


def placeholder_for_schema(schema: Any, depth: int = 0) -> Any:
    """A value of the shape an OpenAPI-subset ``responseSchema`` asks for (Sandbox placeholder data)."""
    if not isinstance(schema, dict) or depth > 6:
        return None
    kind = str(schema.get("type", "")).upper()
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "OBJECT":
        props = schema.get("properties") or {}
        return {k: placeholder_for_schema(v, depth + 1) for k, v in props.items()}
    if kind == "ARRAY":
        return [placeholder_for_schema(schema.get("items"), depth + 1)]
    return {"STRING": "Sandbox simulation", "INTEGER": 0, "NUMBER": 0.0, "BOOLEAN": False}.get(kind)

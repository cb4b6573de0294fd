"""Simulated ``generateContent`` / ``countTokens`` answers.

Base models answer with a clearly labelled placeholder that quotes the prompt (and never names the
model, so a blind review stays blind). Tuned models
(and their checkpoints) answer with the output of the most similar training example
(rapidfuzz), or after preference tuning with the preferred answer of the most similar preference
example (:func:`gemtune_desktop.sandbox.preference_data.knowledge`), and say so in ``finishMessage``;
``modelVersion`` is ``sandbox-simulation``.
Both honour ``maxOutputTokens`` (finish reason MAX_TOKENS), ``stopSequences``,
``candidateCount``, ``seed`` and ``temperature`` (0 → always the same answer), and rate
safety from a small word list per harm category so that ``safetySettings`` thresholds block
answers (finish reason SAFETY) and obviously harmful prompts are refused outright
(``promptFeedback.blockReason`` SAFETY, no candidates).

JSON mode (``responseMimeType: application/json`` with ``responseSchema`` or
``responseJsonSchema``; fields of ``GenerationConfig``) answers GemTune's judge prompt with a
deterministic verdict (:func:`gemtune_desktop.sandbox.routes_eval.judge_reply`) and any other
prompt with placeholder data shaped like the schema; a ``maxOutputTokens`` that cuts the JSON
leaves it unreadable, as on the real service.
"""

from __future__ import annotations

import random
import re
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gemtune_desktop.sandbox.apierror import bad_request, unknown_fields
from gemtune_desktop.sandbox.datasets import TrainingExample, count_tokens

MODEL_VERSION = "sandbox-simulation"

REQUEST_FIELDS = frozenset({
    "contents", "systemInstruction", "generationConfig", "safetySettings", "tools", "toolConfig",
    "cachedContent", "labels", "model", "modelArmorConfig",
})
GENERATION_CONFIG_FIELDS = frozenset({
    "temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "seed",
    "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "responseMimeType",
    "responseSchema", "responseJsonSchema", "responseModalities", "thinkingConfig", "mediaResolution",
    "speechConfig", "routingConfig", "modelSelectionConfig", "audioTimestamp", "enableAffectiveDialog",
    "imageConfig", "enableEnhancedCivicAnswers",
})

HARM_WORDS: dict[str, tuple[str, ...]] = {
    "HARM_CATEGORY_HARASSMENT": ("idiot", "stupid", "loser", "moron", "worthless", "pathetic"),
    "HARM_CATEGORY_HATE_SPEECH": ("subhuman", "vermin", "inferior race", "go back where", "filthy"),
    "HARM_CATEGORY_SEXUALLY_EXPLICIT": ("explicit", "nude", "porn", "xxx", "naked"),
    "HARM_CATEGORY_DANGEROUS_CONTENT": ("bomb", "explosive", "weapon", "poison", "nerve agent", "detonate"),
}
KNOWN_CATEGORIES = frozenset({*HARM_WORDS, "HARM_CATEGORY_CIVIC_INTEGRITY", "HARM_CATEGORY_UNSPECIFIED",
                              "HARM_CATEGORY_JAILBREAK"})
LEVELS = ("NEGLIGIBLE", "LOW", "MEDIUM", "HIGH")
SCORES = {"NEGLIGIBLE": 0.04, "LOW": 0.3, "MEDIUM": 0.62, "HIGH": 0.93}
THRESHOLDS = {
    "HARM_BLOCK_THRESHOLD_UNSPECIFIED": 2, "BLOCK_LOW_AND_ABOVE": 1, "BLOCK_MEDIUM_AND_ABOVE": 2,
    "BLOCK_ONLY_HIGH": 3, "BLOCK_NONE": 99, "OFF": 99,
}
DEFAULT_THRESHOLD = "BLOCK_MEDIUM_AND_ABOVE"

# Placeholder answers of untuned models. They never name the model (a blind review must not learn which model
# answered from the text itself).
GENERIC_ANSWERS = (
    "This is a simulated answer from the Sandbox. You asked: “{q}”. A real model would answer in its own words; "
    "the Sandbox only shows how the app handles an answer, so nothing here is real advice.",
    "Simulated reply (Sandbox). Your prompt was: “{q}”. In the Sandbox a placeholder like this one stands in for "
    "a real answer; connect to Google Cloud to get real answers.",
    "Sandbox simulation: a real answer to “{q}” would appear here. This text is made on your computer.",
)


@dataclass(slots=True)
class GenerationRequest:
    prompt: str
    system: str
    temperature: float | None
    candidate_count: int
    max_output_tokens: int | None
    stop_sequences: list[str]
    seed: int | None
    thresholds: dict[str, str]
    prompt_tokens: int
    response_mime_type: str = ""
    response_schema: dict[str, Any] | None = None


def _content_text(content: Any) -> str:
    if not isinstance(content, dict):
        raise bad_request("Each item of \"contents\" must be an object with \"parts\".")
    parts = content.get("parts") or []
    if not isinstance(parts, list):
        raise bad_request("\"parts\" must be a list.")
    return "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def parse_request(body: dict[str, Any], *, count_only: bool = False) -> GenerationRequest:
    """Validate a generateContent / countTokens body like the real service (400 on bad input)."""
    allowed = REQUEST_FIELDS | ({"generateContentRequest", "instances"} if count_only else frozenset())
    unknown_fields(body, allowed)
    if count_only and isinstance(body.get("generateContentRequest"), dict):
        body = body["generateContentRequest"]
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise bad_request("* GenerateContentRequest.contents: contents is not specified")
    texts = []
    for item in contents:
        role = item.get("role", "user") if isinstance(item, dict) else "user"
        if role not in ("user", "model", "function", "tool", "system"):
            raise bad_request(f"Please use a valid role: user, model. Got {role!r}.")
        texts.append((role, _content_text(item)))
    user_texts = [t for r, t in texts if r == "user"]
    prompt = user_texts[-1] if user_texts else texts[-1][1]
    system = ""
    if isinstance(body.get("systemInstruction"), dict):
        system = _content_text(body["systemInstruction"])
    config = body.get("generationConfig") or {}
    if not isinstance(config, dict):
        raise bad_request("\"generationConfig\" must be an object.")
    unknown_fields(config, GENERATION_CONFIG_FIELDS, "generation_config")
    temperature = config.get("temperature")
    if temperature is not None and not 0.0 <= float(temperature) <= 2.0:
        raise bad_request(f"Unable to submit request because it has a temperature value of {temperature} but the "
                          "supported range is from 0 (inclusive) to 2.0001 (exclusive). Update the value and try "
                          "again.")
    top_p = config.get("topP")
    if top_p is not None and not 0.0 <= float(top_p) <= 1.0:
        raise bad_request(f"topP must be between 0 and 1, got {top_p}.")
    count = int(config.get("candidateCount", 1) or 1)
    if not 1 <= count <= 8:
        raise bad_request(f"candidateCount must be between 1 and 8, got {count}.")
    max_tokens = config.get("maxOutputTokens")
    if max_tokens is not None:
        max_tokens = int(max_tokens)
        if max_tokens <= 0:
            raise bad_request(f"maxOutputTokens must be positive, got {max_tokens}.")
    stops = config.get("stopSequences") or []
    if not isinstance(stops, list) or len(stops) > 5:
        raise bad_request("stopSequences accepts at most 5 sequences.")
    thresholds: dict[str, str] = {}
    for setting in body.get("safetySettings") or []:
        category = setting.get("category") if isinstance(setting, dict) else None
        threshold = setting.get("threshold") if isinstance(setting, dict) else None
        if category not in KNOWN_CATEGORIES:
            raise bad_request(f"Invalid value at 'safety_settings.category' ({category!r}).")
        if threshold not in THRESHOLDS:
            raise bad_request(f"Invalid value at 'safety_settings.threshold' ({threshold!r}).")
        thresholds[str(category)] = str(threshold)
    seed = config.get("seed")
    prompt_tokens = sum(count_tokens(t) for _, t in texts) + count_tokens(system)
    mime, schema = _response_format(config)
    return GenerationRequest(prompt, system, None if temperature is None else float(temperature), count,
                             max_tokens, [str(s) for s in stops if s], None if seed is None else int(seed),
                             thresholds, prompt_tokens, mime, schema)


def _response_format(config: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """``responseMimeType`` and the response schema, checked as the service does (400 on a bad pair)."""
    mime = str(config.get("responseMimeType") or "")
    if mime and mime not in ("text/plain", "application/json", "text/x.enum"):
        raise bad_request(f"response_mime_type {mime!r} is not supported; use text/plain or application/json.")
    schema = config.get("responseSchema")
    json_schema = config.get("responseJsonSchema")
    if schema is not None and json_schema is not None:
        raise bad_request("Set either response_schema or response_json_schema, not both.")
    chosen = schema if schema is not None else json_schema
    if chosen is not None and mime != "application/json":
        raise bad_request("response_mime_type must be application/json when a response schema is set.")
    if chosen is not None and not isinstance(chosen, dict):
        raise bad_request("The response schema must be an object.")
    return mime, chosen


def rate(text: str) -> dict[str, int]:
    """Harm level (0..3) per category from the word lists."""
    lowered = text.lower()
    levels = {}
    for category, words in HARM_WORDS.items():
        hits = sum(len(re.findall(r"\b" + re.escape(w) + r"\w*", lowered)) for w in words)
        levels[category] = min(hits, 3)
    return levels


def _ratings(levels: dict[str, int], blocked: set[str] | None = None) -> list[dict[str, Any]]:
    out = []
    for category, level in levels.items():
        name = LEVELS[level]
        item: dict[str, Any] = {"category": category, "probability": name, "probabilityScore": SCORES[name],
                                "severity": f"HARM_SEVERITY_{name}", "severityScore": SCORES[name]}
        if blocked and category in blocked:
            item["blocked"] = True
        out.append(item)
    return out


def _threshold(req: GenerationRequest, category: str) -> int:
    return THRESHOLDS[req.thresholds.get(category, DEFAULT_THRESHOLD)]


def _apply_limits(text: str, req: GenerationRequest) -> tuple[str, str]:
    reason = "STOP"
    cut = min((i for i in (text.find(s) for s in req.stop_sequences) if i >= 0), default=-1)
    if cut >= 0:
        text = text[:cut]
    if req.max_output_tokens is not None and count_tokens(text) > req.max_output_tokens:
        limit = req.max_output_tokens * 4
        short = text[:limit]
        space = short.rfind(" ")
        text = short[:space] if space > limit // 2 else short
        reason = "MAX_TOKENS"
    return text, reason


def _rng(req: GenerationRequest, salt: str) -> random.Random | None:
    if req.temperature == 0:
        return None
    if req.seed is not None:
        return random.Random(req.seed * 7919 + zlib.crc32(salt.encode()))
    return random.Random()


def _answers_generic(model: str, req: GenerationRequest) -> list[tuple[str, str]]:
    q = " ".join(req.prompt.split())
    q = q if len(q) <= 200 else q[:199] + "…"
    rng = _rng(req, req.prompt)
    start = rng.randrange(len(GENERIC_ANSWERS)) if rng else 0
    return [(GENERIC_ANSWERS[(start + i) % len(GENERIC_ANSWERS)].format(q=q), "")
            for i in range(req.candidate_count)]


def _answers_json(req: GenerationRequest) -> list[tuple[str, str]]:
    """JSON mode: a judge's verdict for GemTune's judge prompt, else a placeholder shaped like the schema."""
    import json

    from gemtune_desktop.sandbox.routes_eval import judge_reply, placeholder_for_schema

    text = judge_reply(req.prompt)
    if text is None:
        text = json.dumps(placeholder_for_schema(req.response_schema) if req.response_schema else
                          {"answer": "Sandbox simulation"}, ensure_ascii=False)
    return [(text, "")] * req.candidate_count


def tuned_label(display_name: str, checkpoint: int | str | None = None) -> str:
    """How a tuned model (or one of its checkpoints) is named in a simulated answer's note.

    The display name is quoted and "tuned model" is said only once, so a name such as
    "tuned model 2026-11-21" reads "“tuned model 2026-11-21”", not "tuned model tuned model …".
    """
    name = " ".join(display_name.split())
    quoted = f"“{name}”" if name else ""
    if checkpoint is not None:
        return f"checkpoint {checkpoint} of {quoted or 'the tuned model'}"
    if not name:
        return "the tuned model"
    return quoted if "tuned model" in name.lower() else f"the tuned model {quoted}"


def _answers_tuned(examples: Sequence[TrainingExample], req: GenerationRequest, label: str) -> list[tuple[str, str]]:
    from rapidfuzz import fuzz, process, utils

    choices = [e.input for e in examples]
    matches = process.extract(req.prompt, choices, scorer=fuzz.WRatio,
                              processor=utils.default_process, limit=max(req.candidate_count, 1))
    if not matches:
        return [("", "Sandbox simulation: this tuned model has no training examples to answer from.")]
    answers = []
    for i in range(req.candidate_count):
        _choice, score, index = matches[min(i, len(matches) - 1)]
        example = examples[index]
        where = f"line {example.line}" if example.line else f"example {index + 1}"
        what = (f"the preferred answer of the preference example on {where}" if example.kind == "preferred"
                else f"the output of training {where}")
        answers.append((example.output,
                        f"Sandbox simulation of {label}: this is {what}, the closest match to your prompt "
                        f"({score:.0f}% similar). A real tuned model writes its own answer."))
    return answers


def generate(model: str, body: dict[str, Any], examples: Sequence[TrainingExample] | None = None,
             label: str = "") -> dict[str, Any]:
    """A full GenerateContentResponse for ``model`` (tuned when ``examples`` is given)."""
    req = parse_request(body)
    prompt_levels = rate(req.system + "\n" + req.prompt)
    usage_prompt = {"promptTokenCount": req.prompt_tokens}
    blocked_prompt = {c for c, lvl in prompt_levels.items() if lvl >= 3 and _threshold(req, c) < 99}
    if blocked_prompt:
        return {
            "promptFeedback": {"blockReason": "SAFETY",
                               "blockReasonMessage": "The prompt was blocked by the Sandbox's safety filter.",
                               "safetyRatings": _ratings(prompt_levels, blocked_prompt)},
            "usageMetadata": {**usage_prompt, "candidatesTokenCount": 0, "totalTokenCount": req.prompt_tokens},
            "modelVersion": MODEL_VERSION, "responseId": uuid.uuid4().hex[:16],
        }
    if req.response_mime_type == "application/json":
        answers = _answers_json(req)
    elif examples is not None:
        answers = _answers_tuned(examples, req, label or model)
    else:
        answers = _answers_generic(model, req)
    candidates = []
    out_tokens = 0
    for index, (raw, message) in enumerate(answers):
        levels = rate(raw)
        blocked = {c for c, lvl in levels.items() if lvl >= _threshold(req, c)}
        cand: dict[str, Any] = {"index": index}
        if blocked:
            cand.update(finishReason="SAFETY", safetyRatings=_ratings(levels, blocked),
                        finishMessage="The answer was blocked by your safety settings (Sandbox word list).")
        else:
            text, reason = _apply_limits(raw, req)
            tokens = count_tokens(text)
            out_tokens += tokens
            cand.update(content={"role": "model", "parts": [{"text": text}]}, finishReason=reason,
                        safetyRatings=_ratings(levels))
            if not model.startswith(("publishers/", "projects/")):  # Agent Platform's Candidate has no tokenCount
                cand["tokenCount"] = tokens
            if message:
                cand["finishMessage"] = message
        candidates.append(cand)
    return {
        "candidates": candidates,
        "usageMetadata": {**usage_prompt, "candidatesTokenCount": out_tokens,
                          "totalTokenCount": req.prompt_tokens + out_tokens},
        "modelVersion": MODEL_VERSION,
        "responseId": uuid.uuid4().hex[:16],
    }


def count(body: dict[str, Any]) -> dict[str, Any]:
    req = parse_request(body, count_only=True)
    chars = len(req.system) + sum(len(t) for t in [req.prompt])
    return {"totalTokens": req.prompt_tokens, "totalBillableCharacters": chars,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": req.prompt_tokens}]}


def stream_chunks(response: dict[str, Any], words_per_chunk: int = 4) -> list[dict[str, Any]]:
    """Split a full response into streamed chunks (text pieces; finish reason on the last)."""
    candidates = response.get("candidates")
    if not candidates:
        return [response]
    pieces: list[list[str]] = []
    for cand in candidates:
        text = "".join(p.get("text", "") for p in cand.get("content", {}).get("parts", []))
        words = re.findall(r"\S+\s*|\s+", text)
        chunks = ["".join(words[i:i + words_per_chunk]) for i in range(0, len(words), words_per_chunk)] or [""]
        pieces.append(chunks)
    total = max(len(p) for p in pieces)
    out = []
    usage = response["usageMetadata"]
    for i in range(total):
        last = i == total - 1
        chunk_cands = []
        for cand, chunks in zip(candidates, pieces, strict=True):
            item: dict[str, Any] = {"index": cand["index"]}
            if "content" in cand and i < len(chunks):
                item["content"] = {"role": "model", "parts": [{"text": chunks[i]}]}
            if last:
                item.update({k: v for k, v in cand.items() if k not in ("content", "index")})
            chunk_cands.append(item)
        chunk: dict[str, Any] = {"candidates": chunk_cands, "modelVersion": response["modelVersion"],
                                 "responseId": response["responseId"]}
        chunk["usageMetadata"] = usage if last else {"promptTokenCount": usage["promptTokenCount"],
                                                     "totalTokenCount": usage["promptTokenCount"]}
        out.append(chunk)
    return out

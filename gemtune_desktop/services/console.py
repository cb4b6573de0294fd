"""Single-turn calls for the Test tab: one prompt to one model, answered in plain-data form.

:func:`generate` and :func:`stream` send a prompt through google-genai (blocking, with a
timeout; run them on a worker thread) and return a :class:`ConsoleResult`: each candidate's
text, its finish reason in plain words, safety ratings, the prompt's block reason,
token usage and latency. Models are base model ids (``gemini-3.5-flash``), Gemini API tuned
models (``tunedModels/...``) or Agent Platform endpoints and checkpoints
(``projects/P/locations/L/endpoints/ID``), which are called through
``BackendSession.serving_client`` (the ``us``/``eu`` host of the connection's region). A tuned
endpoint left on "Model default" thinking is sent the least thinking its base model allows
(:meth:`ConsoleRequest.effective_generation`), as Google advises for tuned models.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.generation import (
    GenerationSettings,
    SafetySettings,
    ThinkingLevel,
    build_config,
    category_label,
    model_supports_thinking,
)
from gemtune_desktop.core.model_catalog import ModelInfo, agent_platform_models, find_model

if TYPE_CHECKING:
    from gemtune_desktop.services.backend import BackendSession

log = logging.getLogger(__name__)

DEFAULT_CALL_TIMEOUT_S = 120.0

FINISH_WORDS = {
    "STOP": "Finished normally.",
    "MAX_TOKENS": "Cut off: the answer reached the maximum length (raise “Max output tokens” for longer answers).",
    "SAFETY": "Blocked by the safety settings.",
    "RECITATION": "Stopped: the answer repeated existing text too closely (recitation).",
    "LANGUAGE": "Stopped: the answer was in a language the model does not support.",
    "OTHER": "Stopped for an unspecified reason.",
    "BLOCKLIST": "Stopped: the answer contained a blocked term.",
    "PROHIBITED_CONTENT": "Blocked: the answer may contain prohibited content.",
    "SPII": "Blocked: the answer may contain sensitive personal information.",
    "MALFORMED_FUNCTION_CALL": "Stopped: the model produced a malformed function call.",
    "FINISH_REASON_UNSPECIFIED": "No finish reason given.",
    "STOPPED_BY_USER": "Stopped by you before the answer was complete.",
    "": "No finish reason given.",
}

BLOCK_WORDS = {
    "SAFETY": "The prompt was blocked by the safety settings.",
    "OTHER": "The prompt was blocked for an unspecified reason.",
    "BLOCKLIST": "The prompt was blocked: it contains a blocked term.",
    "PROHIBITED_CONTENT": "The prompt was blocked: it may contain prohibited content.",
    "IMAGE_SAFETY": "The prompt was blocked: an image in it was judged unsafe.",
    "MODEL_ARMOR": "The prompt was blocked by Model Armor.",
    "JAILBREAK": "The prompt was blocked as a jailbreak attempt.",
}

PROBABILITY_WORDS = {"NEGLIGIBLE": "negligible", "LOW": "low", "MEDIUM": "medium", "HIGH": "high",
                     "HARM_PROBABILITY_UNSPECIFIED": "not rated"}


def _code(value: Any) -> str:
    """Enum or string → its bare code (``FinishReason.MAX_TOKENS`` → ``MAX_TOKENS``)."""
    if value is None:
        return ""
    text = getattr(value, "value", value)
    return str(text).rsplit(".", 1)[-1].upper()


def finish_words(code: str) -> str:
    return FINISH_WORDS.get(code, f"Stopped ({code.replace('_', ' ').lower()}).")


def block_words(code: str) -> str:
    return BLOCK_WORDS.get(code, f"The prompt was blocked ({code.replace('_', ' ').lower()}).")


@dataclass(slots=True)
class SafetyRating:
    category: str  # HARM_CATEGORY_... code
    probability: str = ""  # NEGLIGIBLE | LOW | MEDIUM | HIGH
    blocked: bool = False

    @property
    def words(self) -> str:
        prob = PROBABILITY_WORDS.get(self.probability, self.probability.lower() or "not rated")
        text = f"{category_label(self.category)}: {prob}"
        return text + " — BLOCKED" if self.blocked else text


@dataclass(slots=True)
class Candidate:
    text: str = ""
    finish_reason: str = ""
    finish_message: str = ""
    safety: list[SafetyRating] = field(default_factory=list)

    @property
    def finish_words(self) -> str:
        return finish_words(self.finish_reason)

    @property
    def blocked_category(self) -> str:
        """The harm category that blocked this answer ("" when it was not blocked for safety)."""
        if self.finish_reason not in ("SAFETY", "PROHIBITED_CONTENT", "SPII", "BLOCKLIST"):
            return ""
        for r in self.safety:
            if r.blocked:
                return r.category
        return self.finish_reason


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0
    total_tokens: int = 0

    @property
    def words(self) -> str:
        text = f"{self.prompt_tokens} prompt + {self.output_tokens} answer"
        if self.thinking_tokens:
            text += f" + {self.thinking_tokens} thinking"
        return f"{text} = {self.total_tokens} tokens"


@dataclass(slots=True)
class ConsoleResult:
    """A model's answer to one prompt, as plain data (stored in the history as a dict)."""

    model: str
    candidates: list[Candidate] = field(default_factory=list)
    prompt_block_reason: str = ""
    prompt_block_message: str = ""
    prompt_safety: list[SafetyRating] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    latency_ms: int = 0
    model_version: str = ""
    stopped: bool = False  # the user stopped the stream

    @property
    def text(self) -> str:
        return self.candidates[0].text if self.candidates else ""

    @property
    def prompt_blocked(self) -> bool:
        return bool(self.prompt_block_reason)

    @property
    def prompt_block_words(self) -> str:
        return block_words(self.prompt_block_reason) if self.prompt_block_reason else ""

    @property
    def blocked_category(self) -> str:
        """Harm category (or block reason) when the prompt or the first answer was blocked."""
        if self.prompt_block_reason:
            for r in self.prompt_safety:
                if r.blocked:
                    return r.category
            return self.prompt_block_reason
        return self.candidates[0].blocked_category if self.candidates else ""

    @property
    def finish_reason(self) -> str:
        if self.prompt_block_reason:
            return "PROMPT_BLOCKED"
        return self.candidates[0].finish_reason if self.candidates else ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConsoleResult:
        def ratings(items: Any) -> list[SafetyRating]:
            return [SafetyRating(str(r.get("category", "")), str(r.get("probability", "")), bool(r.get("blocked")))
                    for r in items or [] if isinstance(r, dict)]

        cands = [Candidate(str(c.get("text", "")), str(c.get("finish_reason", "")), str(c.get("finish_message", "")),
                           ratings(c.get("safety"))) for c in data.get("candidates") or [] if isinstance(c, dict)]
        u = data.get("usage") or {}
        return cls(model=str(data.get("model", "")), candidates=cands,
                   prompt_block_reason=str(data.get("prompt_block_reason", "")),
                   prompt_block_message=str(data.get("prompt_block_message", "")),
                   prompt_safety=ratings(data.get("prompt_safety")),
                   usage=Usage(int(u.get("prompt_tokens", 0)), int(u.get("output_tokens", 0)),
                               int(u.get("thinking_tokens", 0)), int(u.get("total_tokens", 0))),
                   latency_ms=int(data.get("latency_ms", 0)), model_version=str(data.get("model_version", "")),
                   stopped=bool(data.get("stopped", False)))


@dataclass(slots=True)
class ConsoleRequest:
    """What to send: the prompt as typed plus the dataset texts to apply (empty = none)."""

    model: str
    prompt: str
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    safety: SafetySettings = field(default_factory=SafetySettings)
    preamble: str = ""
    system_instruction: str = ""
    base_model: str = ""  # for a tuned endpoint or checkpoint: the model it was tuned from

    @property
    def tuned(self) -> bool:
        return is_tuned_endpoint(self.model)

    @property
    def contents(self) -> str:
        """The prompt as the model sees it (the preamble first, as in training)."""
        from gemtune_desktop.core.examples import DatasetSettings

        return DatasetSettings(preamble=self.preamble).apply_preamble(self.prompt)

    def effective_generation(self) -> GenerationSettings:
        """The settings sent: for a tuned model left on "Model default", the least thinking its base model
        allows, as Google advises for tuned models (:func:`tuned_thinking_level`). A level the user chose is
        sent as chosen."""
        if self.tuned and self.generation.thinking_level is ThinkingLevel.DEFAULT:
            lowest = tuned_thinking_level(self.base_model)
            if lowest is not ThinkingLevel.DEFAULT:
                return replace(self.generation, thinking_level=lowest,
                               stop_sequences=list(self.generation.stop_sequences))
        return self.generation

    def config(self, timeout_s: float = DEFAULT_CALL_TIMEOUT_S) -> dict[str, Any]:
        supports = model_supports_thinking(self.base_model if self.tuned and self.base_model else self.model)
        config = build_config(self.effective_generation(), self.safety, self.system_instruction,
                              supports_thinking=supports)
        config["http_options"] = {"timeout": int(timeout_s * 1000)}
        return config

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "generation": self.generation.to_dict(), "safety": self.safety.to_dict(),
                "preamble": self.preamble, "system_instruction": self.system_instruction,
                "base_model": self.base_model}

    @classmethod
    def from_dict(cls, data: dict[str, Any], prompt: str) -> ConsoleRequest:
        return cls(model=str(data.get("model", "")), prompt=prompt,
                   generation=GenerationSettings.from_dict(data.get("generation") or {}),
                   safety=SafetySettings.from_dict(data.get("safety") or {}),
                   preamble=str(data.get("preamble", "")), system_instruction=str(data.get("system_instruction", "")),
                   base_model=str(data.get("base_model", "")))


def is_tuned_endpoint(model: str) -> bool:
    """An Agent Platform tuned model or checkpoint (``projects/P/locations/L/endpoints/ID``)."""
    return model.startswith("projects/") and "/endpoints/" in model


@cache
def _catalog_models() -> tuple[ModelInfo, ...]:
    from gemtune_desktop.resources import read_json

    try:
        return tuple(agent_platform_models(read_json("models.json")))
    except (OSError, ValueError):
        log.warning("models.json could not be read; tuned models get the service's default thinking")
        return ()


def tuned_thinking_level(base_model: str, models: Sequence[ModelInfo] | None = None) -> ThinkingLevel:
    """The least thinking ``base_model`` allows (from ``models.json``), which Google advises for tuned models
    (supervised-tuning page: thinking off or at its lowest); DEFAULT when the base model is not known or
    takes no thinking level."""
    if not base_model:
        return ThinkingLevel.DEFAULT
    info = find_model(base_model, _catalog_models() if models is None else models)
    if info is None or not info.lowest_thinking_level:
        return ThinkingLevel.DEFAULT
    try:
        return ThinkingLevel(info.lowest_thinking_level)
    except ValueError:
        return ThinkingLevel.DEFAULT


def client_for(session: BackendSession, model: str) -> Any:
    """The genai client that serves ``model`` (tuned endpoints on their serving location)."""
    if model.startswith("projects/"):
        return session.serving_client(model)
    return session.client()


def _ratings(items: Any) -> list[SafetyRating]:
    result = []
    for r in items or []:
        result.append(SafetyRating(_code(getattr(r, "category", "")), _code(getattr(r, "probability", "")),
                                   bool(getattr(r, "blocked", False))))
    return result


class _Accumulator:
    """Builds a :class:`ConsoleResult` from a response or a sequence of stream chunks."""

    def __init__(self, model: str) -> None:
        self.result = ConsoleResult(model=model)

    def candidate(self, index: int) -> Candidate:
        while len(self.result.candidates) <= index:
            self.result.candidates.append(Candidate())
        return self.result.candidates[index]

    def add(self, response: Any, on_text: Callable[[int, str], None] | None = None) -> None:
        res = self.result
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and getattr(feedback, "block_reason", None):
            res.prompt_block_reason = _code(feedback.block_reason)
            res.prompt_block_message = str(getattr(feedback, "block_reason_message", "") or "")
            res.prompt_safety = _ratings(getattr(feedback, "safety_ratings", None))
        for pos, cand in enumerate(getattr(response, "candidates", None) or []):
            index = getattr(cand, "index", None)
            target = self.candidate(int(index) if isinstance(index, int) else pos)
            content = getattr(cand, "content", None)
            for part in getattr(content, "parts", None) or []:
                text = getattr(part, "text", None)
                if text and not getattr(part, "thought", False):
                    target.text += text
                    if on_text is not None:
                        on_text(int(index) if isinstance(index, int) else pos, text)
            if getattr(cand, "finish_reason", None):
                target.finish_reason = _code(cand.finish_reason)
                target.finish_message = str(getattr(cand, "finish_message", "") or "")
            ratings = _ratings(getattr(cand, "safety_ratings", None))
            if ratings:
                target.safety = ratings
        usage = getattr(response, "usage_metadata", None)
        if usage is not None:
            res.usage = Usage(int(getattr(usage, "prompt_token_count", 0) or 0),
                              int(getattr(usage, "candidates_token_count", 0) or 0),
                              int(getattr(usage, "thoughts_token_count", 0) or 0),
                              int(getattr(usage, "total_token_count", 0) or 0))
        version = getattr(response, "model_version", None)
        if version:
            res.model_version = str(version)


def generate(token: CancelToken | None, session: BackendSession, request: ConsoleRequest,
             timeout_s: float = DEFAULT_CALL_TIMEOUT_S) -> ConsoleResult:
    """One blocking ``generate_content`` call (no retries; the batch runner retries)."""
    client = client_for(session, request.model)  # held until the call returns (see python-genai #1763)
    started = time.perf_counter()
    response = client.models.generate_content(model=request.model, contents=request.contents,
                                              config=request.config(timeout_s))
    acc = _Accumulator(request.model)
    acc.add(response)
    acc.result.latency_ms = int((time.perf_counter() - started) * 1000)
    if token is not None:
        token.check()
    return acc.result


def stream(token: CancelToken | None, session: BackendSession, request: ConsoleRequest,
           on_text: Callable[[int, str], None], timeout_s: float = DEFAULT_CALL_TIMEOUT_S) -> ConsoleResult:
    """``generate_content_stream``: ``on_text(candidate_index, new_text)`` per chunk (on this thread).

    When ``token`` is cancelled the loop breaks (closing the connection) and the partial
    answer is returned with ``stopped=True``.
    """
    client = client_for(session, request.model)  # held for the whole stream
    started = time.perf_counter()
    acc = _Accumulator(request.model)
    chunks = client.models.generate_content_stream(model=request.model, contents=request.contents,
                                                   config=request.config(timeout_s))
    try:
        for chunk in chunks:
            acc.add(chunk, on_text)
            if token is not None and token.cancelled:
                acc.result.stopped = True
                break
    finally:
        close = getattr(chunks, "close", None)
        if callable(close):
            close()
    if acc.result.stopped:
        for cand in acc.result.candidates or [acc.candidate(0)]:
            if not cand.finish_reason:
                cand.finish_reason = "STOPPED_BY_USER"
    acc.result.latency_ms = int((time.perf_counter() - started) * 1000)
    del client
    return acc.result


# -- model listing ---------------------------------------------------------------------------
@dataclass(slots=True)
class ModelRef:
    """A model the console can call. ``kind``: base | tuned | checkpoint."""

    model: str
    label: str
    kind: str = "base"
    job_id: int | None = None
    group: str = ""
    base_model: str = ""  # tuned and checkpoint: the model it was tuned from (for the thinking level)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "label": self.label, "kind": self.kind, "job_id": self.job_id,
                "group": self.group, "base_model": self.base_model}


def list_base_models(token: CancelToken | None, session: BackendSession, limit: int = 200) -> list[ModelRef]:
    """Base models of the connection that can generate text (Gemini models first)."""
    client = session.client(timeout_s=30)
    refs: list[ModelRef] = []
    seen: set[str] = set()
    for i, model in enumerate(client.models.list(config={"page_size": 100})):
        if i >= limit:
            break
        if token is not None:
            token.check()
        name = str(getattr(model, "name", "") or "")
        actions = getattr(model, "supported_actions", None)
        if actions is not None and "generateContent" not in actions:
            continue
        short = name.rsplit("/", 1)[-1]
        if not short or short in seen:
            continue
        seen.add(short)
        label = str(getattr(model, "display_name", "") or short)
        if label != short:
            label = f"{label} ({short})"
        refs.append(ModelRef(model=short, label=label, kind="base", group="Base models"))
    refs.sort(key=lambda r: (not r.model.startswith("gemini"), r.model))
    return refs

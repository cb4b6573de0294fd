"""Generation and safety settings for the Test tab: defaults, presets, and the SDK config they become.

:class:`GenerationSettings` holds temperature, top_p, top_k, max output tokens, candidate
count, stop sequences, seed and thinking level; :class:`SafetySettings` a blocking threshold
per text harm category. ``to_config()`` builds the dict that google-genai's
``GenerateContentConfig`` accepts (snake_case keys), so this module needs no SDK import.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from typing import Any


class ThinkingLevel(enum.StrEnum):
    """How much the model may think before answering (Gemini 3.x); DEFAULT sends nothing."""

    DEFAULT = ""
    MINIMAL = "MINIMAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"

    @property
    def label(self) -> str:
        return {"": "Model default", "MINIMAL": "Minimal", "LOW": "Low", "MEDIUM": "Medium",
                "HIGH": "High"}[self.value]


@dataclass(slots=True)
class GenerationSettings:
    """How the model samples its answer. ``seed`` None means a new random seed each time."""

    temperature: float = 1.0
    top_p: float = 0.95
    top_k: int = 40
    max_output_tokens: int = 2048
    candidate_count: int = 1
    stop_sequences: list[str] = field(default_factory=list)
    seed: int | None = None
    thinking_level: ThinkingLevel = ThinkingLevel.DEFAULT

    def to_config(self, supports_thinking: bool = True) -> dict[str, Any]:
        """The generation part of a ``GenerateContentConfig`` dict."""
        config: dict[str, Any] = {
            "temperature": float(self.temperature),
            "top_p": float(self.top_p),
            "top_k": int(self.top_k),
            "max_output_tokens": int(self.max_output_tokens),
            "candidate_count": int(self.candidate_count),
        }
        stops = [s for s in self.stop_sequences if s]
        if stops:
            config["stop_sequences"] = stops[:5]
        if self.seed is not None:
            config["seed"] = int(self.seed)
        if supports_thinking and self.thinking_level is not ThinkingLevel.DEFAULT:
            config["thinking_config"] = {"thinking_level": self.thinking_level.value}
        return config

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["thinking_level"] = self.thinking_level.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationSettings:
        base = cls()
        try:
            level = ThinkingLevel(str(data.get("thinking_level", "")))
        except ValueError:
            level = ThinkingLevel.DEFAULT
        seed = data.get("seed")
        return cls(
            temperature=float(data.get("temperature", base.temperature)),
            top_p=float(data.get("top_p", base.top_p)),
            top_k=int(data.get("top_k", base.top_k)),
            max_output_tokens=int(data.get("max_output_tokens", base.max_output_tokens)),
            candidate_count=int(data.get("candidate_count", base.candidate_count)),
            stop_sequences=[str(s) for s in data.get("stop_sequences", []) if str(s)],
            seed=None if seed is None or seed == "" else int(seed),
            thinking_level=level,
        )


DEFAULT_GENERATION = GenerationSettings()

# Presets change only how random the answer is; length, stops and seed are kept.
PRESETS: dict[str, dict[str, Any]] = {
    "Precise": {"temperature": 0.2, "top_p": 0.8, "top_k": 20},
    "Balanced": {"temperature": 1.0, "top_p": 0.95, "top_k": 40},
    "Creative": {"temperature": 1.6, "top_p": 0.99, "top_k": 100},
}

PRESET_HELP = {
    "Precise": "Focused, repeatable answers: low temperature. Good for extraction and fixed formats.",
    "Balanced": "Google's usual defaults: some variety, still on topic.",
    "Creative": "More varied wording and ideas: high temperature. Expect more mistakes.",
}


def apply_preset(settings: GenerationSettings, name: str) -> GenerationSettings:
    """A copy of ``settings`` with the preset's sampling values."""
    if name not in PRESETS:
        raise KeyError(name)
    return replace(settings, **PRESETS[name], stop_sequences=list(settings.stop_sequences))


def matching_preset(settings: GenerationSettings) -> str:
    """The name of the preset these settings match, or "" (custom)."""
    for name, values in PRESETS.items():
        if all(abs(float(getattr(settings, k)) - float(v)) < 1e-9 for k, v in values.items()):
            return name
    return ""


GENERATION_HELP = {
    "temperature": "How adventurous the wording is. 0 gives nearly the same answer every time; "
                   "higher values give more varied (and riskier) answers.",
    "top_p": "The model picks only among the most likely next words whose chances add up to this share. "
             "Lower = safer, more predictable.",
    "top_k": "The model picks only among this many most likely next words. Lower = more predictable.",
    "max_output_tokens": "The longest answer allowed, in tokens (about ¾ of a word each). "
                         "A longer answer is cut off and marked “reached the maximum length”.",
    "candidate_count": "How many different answers to ask for at once; each is shown in its own tab.",
    "stop_sequences": "Text that ends the answer as soon as the model writes it (up to 5, one per line). "
                      "The stop text itself is not included.",
    "seed": "Use the same number to get the same answer again for the same prompt and settings. "
            "Leave empty for a fresh answer each time.",
    "thinking_level": "How long the model may think before answering (Gemini 3 models). Google advises "
                      "minimal thinking for tuned models.",
}


# -- safety --------------------------------------------------------------------------------
class HarmCategory(enum.StrEnum):
    HARASSMENT = "HARM_CATEGORY_HARASSMENT"
    HATE_SPEECH = "HARM_CATEGORY_HATE_SPEECH"
    SEXUALLY_EXPLICIT = "HARM_CATEGORY_SEXUALLY_EXPLICIT"
    DANGEROUS_CONTENT = "HARM_CATEGORY_DANGEROUS_CONTENT"
    CIVIC_INTEGRITY = "HARM_CATEGORY_CIVIC_INTEGRITY"

    @property
    def label(self) -> str:
        return category_label(self.value)


_CATEGORY_LABELS = {
    "HARM_CATEGORY_HARASSMENT": "Harassment",
    "HARM_CATEGORY_HATE_SPEECH": "Hate speech",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT": "Sexually explicit",
    "HARM_CATEGORY_DANGEROUS_CONTENT": "Dangerous content",
    "HARM_CATEGORY_CIVIC_INTEGRITY": "Civic integrity",
    "HARM_CATEGORY_JAILBREAK": "Jailbreak attempt",
    "HARM_CATEGORY_UNSPECIFIED": "Unspecified",
}


def category_label(code: str) -> str:
    """Plain words for a harm category code (also accepts ``HarmCategory.X`` spellings)."""
    key = str(code).rsplit(".", 1)[-1].upper()
    if key in _CATEGORY_LABELS:
        return _CATEGORY_LABELS[key]
    return key.removeprefix("HARM_CATEGORY_").replace("_", " ").capitalize() or "Unknown"


class Threshold(enum.StrEnum):
    DEFAULT = ""  # not sent: the service's default applies
    OFF = "OFF"
    BLOCK_NONE = "BLOCK_NONE"
    BLOCK_ONLY_HIGH = "BLOCK_ONLY_HIGH"
    BLOCK_MEDIUM_AND_ABOVE = "BLOCK_MEDIUM_AND_ABOVE"
    BLOCK_LOW_AND_ABOVE = "BLOCK_LOW_AND_ABOVE"

    @property
    def label(self) -> str:
        return {
            "": "Service default",
            "OFF": "Off (no safety filter)",
            "BLOCK_NONE": "Block none (report only)",
            "BLOCK_ONLY_HIGH": "Block only high",
            "BLOCK_MEDIUM_AND_ABOVE": "Block medium and above",
            "BLOCK_LOW_AND_ABOVE": "Block low and above",
        }[self.value]


THRESHOLD_HELP = (
    "How likely harmful content must be before the answer is blocked. “Block low and above” is strictest; "
    "“Block none” still reports the ratings; “Off” turns the filter off; “Service default” sends nothing."
)


@dataclass(slots=True)
class SafetySettings:
    """A threshold per harm category; categories left at DEFAULT are not sent."""

    thresholds: dict[HarmCategory, Threshold] = field(default_factory=dict)

    def get(self, category: HarmCategory) -> Threshold:
        return self.thresholds.get(category, Threshold.DEFAULT)

    def set(self, category: HarmCategory, threshold: Threshold) -> None:
        if threshold is Threshold.DEFAULT:
            self.thresholds.pop(category, None)
        else:
            self.thresholds[category] = threshold

    def to_config(self) -> list[dict[str, str]]:
        return [{"category": c.value, "threshold": self.thresholds[c].value}
                for c in HarmCategory if self.get(c) is not Threshold.DEFAULT]

    def to_dict(self) -> dict[str, str]:
        return {c.value: t.value for c, t in self.thresholds.items() if t is not Threshold.DEFAULT}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SafetySettings:
        result = cls()
        for key, value in (data or {}).items():
            try:
                result.set(HarmCategory(key), Threshold(value))
            except ValueError:
                continue
        return result


def build_config(generation: GenerationSettings, safety: SafetySettings, system_instruction: str = "",
                 supports_thinking: bool = True) -> dict[str, Any]:
    """The full ``GenerateContentConfig`` dict for one call."""
    config = generation.to_config(supports_thinking=supports_thinking)
    safety_list = safety.to_config()
    if safety_list:
        config["safety_settings"] = safety_list
    if system_instruction.strip():
        config["system_instruction"] = system_instruction
    return config


def model_supports_thinking(model_id: str) -> bool:
    """Gemini 3.x (and later) base models take a thinking level; older and tuned endpoints may not."""
    name = model_id.rsplit("/", 1)[-1].lower()
    if not name.startswith("gemini-"):
        return False
    version = name.removeprefix("gemini-").split("-", 1)[0]
    try:
        return float(version) >= 3.0
    except ValueError:
        return False

"""The Test tab's choices kept in the project: generation and safety settings, the models chosen, the switches.

Named after ``ui/playground`` (the Test tab's code): product modules are never named ``test_*``, so pytest and
grep do not mistake them for tests. The stored key keeps its first name, so existing projects read back.

Stored as one JSON value in the project's ``meta`` table (key :data:`KEY`), so they travel with the
``.gemtune`` file and each project reopens with its own (issue 17: "Settings are forgotten"). No new
table: the schema version is unchanged. Unknown or damaged values read back as the defaults.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from gemtune_desktop.core.generation import GenerationSettings, SafetySettings

KEY = "test_tab_settings"


class MetaStore(Protocol):
    def get_meta(self, key: str, default: str = "") -> str: ...

    def set_meta(self, key: str, value: str) -> None: ...


@dataclass(slots=True)
class ConsoleChoices:
    """What the console shows when the project is opened again."""

    generation: GenerationSettings = field(default_factory=GenerationSettings)
    safety: SafetySettings = field(default_factory=SafetySettings)
    model: str = ""
    compare: bool = False
    compare_model: str = ""
    apply_texts: bool = True  # the project's preamble and system instruction go to models tuned on it
    share_texts: bool = True  # ...and to the model they are compared with

    def to_dict(self) -> dict[str, Any]:
        return {"generation": self.generation.to_dict(), "safety": self.safety.to_dict(), "model": self.model,
                "compare": self.compare, "compare_model": self.compare_model, "apply_texts": self.apply_texts,
                "share_texts": self.share_texts}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConsoleChoices:
        base = cls()
        generation = data.get("generation")
        safety = data.get("safety")
        try:
            gen = GenerationSettings.from_dict(generation) if isinstance(generation, dict) else base.generation
        except (TypeError, ValueError):
            gen = base.generation
        return cls(generation=gen,
                   safety=SafetySettings.from_dict(safety) if isinstance(safety, dict) else base.safety,
                   model=str(data.get("model") or ""), compare=bool(data.get("compare", False)),
                   compare_model=str(data.get("compare_model") or ""),
                   apply_texts=bool(data.get("apply_texts", True)), share_texts=bool(data.get("share_texts", True)))


def load(store: MetaStore) -> ConsoleChoices:
    """The stored choices, or the defaults when none (or something unreadable) is stored."""
    try:
        data = json.loads(store.get_meta(KEY, "{}") or "{}")
    except ValueError:
        data = {}
    return ConsoleChoices.from_dict(data if isinstance(data, dict) else {})


def encode(settings: ConsoleChoices) -> str:
    return json.dumps(settings.to_dict(), ensure_ascii=False, sort_keys=True)


def save(store: MetaStore, settings: ConsoleChoices) -> None:
    """Store the choices (one transaction); raises what the store raises when the file cannot be written."""
    store.set_meta(KEY, encode(settings))

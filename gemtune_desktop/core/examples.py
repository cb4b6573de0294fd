"""The tuning example and the dataset-level settings every other layer speaks of."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Split(enum.StrEnum):
    """Which part of the data an example belongs to."""

    TRAIN = "train"
    VALIDATION = "validation"
    TEST = "test"

    @property
    def label(self) -> str:
        return {"train": "Train", "validation": "Validation", "test": "Test"}[self.value]


class Target(enum.StrEnum):
    """The service a dataset is prepared for; validation limits depend on it."""

    GEMINI_API = "gemini-api"
    AGENT_PLATFORM = "agent-platform"

    @property
    def label(self) -> str:
        return {"gemini-api": "Gemini API", "agent-platform": "Agent Platform (Google Cloud)"}[self.value]


@dataclass(slots=True)
class Example:
    """One input → output pair.

    ``id`` is the project's stable row id (0 until the example is stored); ``row`` numbers
    shown to the user are 1-based positions, not ids.
    """

    input: str
    output: str
    split: Split = Split.TRAIN
    tags: str = ""
    note: str = ""
    id: int = 0

    def copy(self) -> Example:
        return Example(self.input, self.output, self.split, self.tags, self.note, self.id)


@dataclass(slots=True)
class DatasetSettings:
    """Dataset-level text applied when exporting, tuning and testing.

    Google's tuning guide: whatever is added to the training examples must also be sent
    at inference time, so the Test tab applies the same preamble and system instruction.
    """

    preamble: str = ""
    system_instruction: str = ""
    target: Target = Target.GEMINI_API
    split_seed: int = 42
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    extra: dict[str, str] = field(default_factory=dict)

    def apply_preamble(self, text: str) -> str:
        """The input as the model sees it: preamble first, then the example's input."""
        if not self.preamble:
            return text
        sep = "" if self.preamble.endswith(("\n", " ")) else "\n"
        return f"{self.preamble}{sep}{text}"

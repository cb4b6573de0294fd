"""The preference example (a prompt, a preferred and a dispreferred answer) and its dataset settings.

Agent Platform's preference tuning trains on pairs: for one prompt, the answer people preferred and the one
they did not (docs: models/tuning/preference-tuning/prepare-data, gemini-reference.md corrections item 12).
A preference example mirrors :class:`gemtune_desktop.core.examples.Example`: the same split, tags, note and
stable id, plus its own optional system instruction (the preference JSONL carries one per line).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gemtune_desktop.core.examples import DatasetSettings, Split

# The "score" of each completion in Agent Platform's preference JSONL: it only marks which is which.
PREFERRED_SCORE = 1
DISPREFERRED_SCORE = 0

# Field names, as stored in the project and used in findings; FIELD_WORDS says them in plain words.
FIELDS = ("prompt", "preferred", "dispreferred", "system_instruction", "split", "tags", "note")
FIELD_WORDS = {"prompt": "prompt", "preferred": "preferred answer", "dispreferred": "dispreferred answer",
               "system_instruction": "system instruction", "split": "split", "tags": "tags", "note": "note"}


class ExampleKind(enum.StrEnum):
    """What a dataset file holds: input → output pairs, or prompts with a preferred and a dispreferred answer."""

    SUPERVISED = "supervised"
    PREFERENCE = "preference"

    @property
    def label(self) -> str:
        return {"supervised": "input → output examples",
                "preference": "preference examples (prompt, preferred and dispreferred answer)"}[self.value]


@dataclass(slots=True)
class PreferenceExample:
    """One prompt with the answer people preferred and the one they did not.

    ``system_instruction`` empty means "the dataset's"; ``source`` says where the example came from
    (``review:<run>:<example>``, ``correction:<run>:<example>:<slot>``, or empty for typed and imported
    ones), so turning the same vote into an example twice can be refused. ``id`` is the project's stable
    row id (0 until stored).
    """

    prompt: str
    preferred: str
    dispreferred: str
    system_instruction: str = ""
    split: Split = Split.TRAIN
    tags: str = ""
    note: str = ""
    source: str = ""
    id: int = 0

    def copy(self) -> PreferenceExample:
        return PreferenceExample(self.prompt, self.preferred, self.dispreferred, self.system_instruction,
                                 self.split, self.tags, self.note, self.source, self.id)


@dataclass(slots=True, frozen=True)
class PreferenceSettings:
    """What applies to every preference example when it is exported or uploaded.

    Where it differs from the supervised :class:`DatasetSettings`:

    * there is no target: preference tuning exists only on Agent Platform;
    * an example's own system instruction, when it has one, replaces the dataset's for that example.

    The preamble and the default system instruction are the project's (the same prompts go to the same
    tuned models in the Test tab), so they are taken from the dataset settings rather than stored twice.
    """

    preamble: str = ""
    system_instruction: str = ""

    @classmethod
    def from_dataset(cls, settings: DatasetSettings | None) -> PreferenceSettings:
        if settings is None:
            return cls()
        return cls(settings.preamble, settings.system_instruction)

    def prompt_for(self, example: PreferenceExample) -> str:
        """The prompt as the service sees it: the preamble first, then the example's prompt."""
        return self.as_dataset().apply_preamble(example.prompt)

    def system_for(self, example: PreferenceExample) -> str:
        """The example's own system instruction, or the dataset's."""
        return example.system_instruction or self.system_instruction

    def as_dataset(self) -> DatasetSettings:
        return DatasetSettings(preamble=self.preamble, system_instruction=self.system_instruction)

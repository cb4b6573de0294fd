"""The expert's verdicts become preference data, and preference data the supervised set tuned on first.

A blind-review vote (``evals_repo.set_review``: "a" = the run's first model answered better, "b" = the
second, "tie") becomes one preference example: the answer picked is preferred, the other dispreferred.
Ties teach no preference and are skipped; so are votes where an answer is missing, failed or was blocked,
and votes on two identical answers. A correction typed in the review dialog becomes the preferred answer
against each model's answer that differs from it.

The prompt is the example's input as the evaluation sent it (``EvalRow.input``); the project's preamble
and system instruction are added on export, as for supervised examples, and as the Test tab sends them to
models tuned in the project. Each example remembers its ``source`` (run, example and, for corrections,
the model's slot), so converting the same vote twice adds nothing.

Google's recommended order for preference tuning ("About preference tuning for Gemini models", Best
practices): one or two epochs of supervised tuning on the prompts and their preferred answers, then
preference tuning continued from that checkpoint. :func:`supervised_from_preferences` builds that set.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.project.evals_repo import EvalRow, EvalRun

HELD_OUT_SOURCES = ("validation", "test", "validation+test")


def review_source(run_id: int, example_id: int) -> str:
    return f"review:{run_id}:{example_id}"


def correction_source(run_id: int, example_id: int, slot: int) -> str:
    return f"correction:{run_id}:{example_id}:{slot}"


def from_run(source: str, run_id: int) -> bool:
    """Whether a preference example's ``source`` is a vote or a correction from evaluation run ``run_id``."""
    return source.startswith((f"review:{run_id}:", f"correction:{run_id}:"))


def count_from_run(sources: Iterable[str], run_id: int) -> int:
    """How many preference examples came from run ``run_id`` (the review dialog's "this session" figure)."""
    return sum(1 for s in sources if from_run(s, run_id))


@dataclass(slots=True)
class Harvest:
    """Preference examples made from a run's verdicts, and the verdicts that gave none (with why)."""

    examples: list[PreferenceExample] = field(default_factory=list)
    ties: int = 0
    incomplete: int = 0   # an answer missing, failed or blocked
    identical: int = 0    # both answers (or the correction and the answer) are the same text
    already: int = 0      # this verdict is already a preference example
    held_out: bool = False  # the prompts come from the validation or test split

    def summary(self) -> str:
        """What happened, in plain words ("12 preference examples; 2 ties skipped.")."""
        n = len(self.examples)
        parts = [f"{n} new preference example{'' if n == 1 else 's'}"]
        skipped = []
        if self.ties:
            skipped.append(f"{self.ties} tie{'' if self.ties == 1 else 's'}")
        if self.incomplete:
            skipped.append(f"{self.incomplete} with an answer missing, failed or blocked")
        if self.identical:
            skipped.append(f"{self.identical} where both answers are the same")
        if self.already:
            skipped.append(f"{self.already} already added")
        text = parts[0] + (f"; skipped: {', '.join(skipped)}." if skipped else ".")
        if self.held_out and n:
            text += (" These prompts come from your validation or test examples: tuning on them makes later "
                     "comparisons on those same examples look better than they are.")
        return text


def _usable(row: EvalRow | None) -> bool:
    return row is not None and not row.error and not row.blocked and bool(row.actual.strip())


def _labels(run: EvalRun) -> list[str]:
    return [*run.labels, "model A", "model B"]


def group_answers(rows: Iterable[EvalRow]) -> dict[int, dict[int, EvalRow]]:
    """{example id: {slot: row}} from a run's stored answers."""
    out: dict[int, dict[int, EvalRow]] = {}
    for r in rows:
        out.setdefault(r.example_id, {})[r.slot] = r
    return out


def example_from_vote(run: EvalRun, answers: Mapping[int, EvalRow], choice: str,
                      split: Split = Split.TRAIN) -> tuple[PreferenceExample | None, str]:
    """(example, "") for a vote, or (None, why): "tie", "incomplete" or "identical"."""
    if choice == "tie":
        return None, "tie"
    if choice not in ("a", "b"):
        raise ValueError(choice)
    win, lose = (0, 1) if choice == "a" else (1, 0)
    good, bad = answers.get(win), answers.get(lose)
    if good is None or bad is None or not _usable(good) or not _usable(bad):
        return None, "incomplete"
    if good.actual.strip() == bad.actual.strip():
        return None, "identical"
    labels = _labels(run)
    note = (f"Blind review of evaluation run {run.name or run.id}: {labels[win]}'s answer preferred over "
            f"{labels[lose]}'s.")
    return PreferenceExample(good.input, good.actual, bad.actual, split=split, note=note,
                             source=review_source(run.id, good.example_id)), ""


def examples_from_votes(run: EvalRun, rows: Iterable[EvalRow], votes: Mapping[int, str], *,
                        existing_sources: Collection[str] = (), only: Iterable[int] | None = None,
                        split: Split = Split.TRAIN) -> Harvest:
    """Every vote of ``run`` (or those on the example ids in ``only``) as preference examples, in example order."""
    grouped = group_answers(rows)
    harvest = Harvest(held_out=run.source in HELD_OUT_SOURCES)
    wanted = set(only) if only is not None else None
    for example_id in sorted(votes):
        if wanted is not None and example_id not in wanted:
            continue
        if review_source(run.id, example_id) in existing_sources:
            harvest.already += 1
            continue
        example, why = example_from_vote(run, grouped.get(example_id, {}), votes[example_id], split)
        if example is not None:
            harvest.examples.append(example)
        elif why == "tie":
            harvest.ties += 1
        elif why == "identical":
            harvest.identical += 1
        else:
            harvest.incomplete += 1
    return harvest


def examples_from_correction(run: EvalRun, answers: Mapping[int, EvalRow], correction: str, *,
                             slots: Iterable[int] | None = None, existing_sources: Collection[str] = (),
                             split: Split = Split.TRAIN) -> Harvest:
    """A typed correction as the preferred answer, against each model's answer (of ``slots``, default all)."""
    harvest = Harvest(held_out=run.source in HELD_OUT_SOURCES)
    if not correction.strip():
        return harvest
    labels = _labels(run)
    for slot in sorted(slots if slots is not None else answers):
        row = answers.get(slot)
        if not _usable(row):
            harvest.incomplete += 1
            continue
        assert row is not None
        source = correction_source(run.id, row.example_id, slot)
        if source in existing_sources:
            harvest.already += 1
        elif row.actual.strip() == correction.strip():
            harvest.identical += 1
        else:
            note = (f"Correction typed in the blind review of evaluation run {run.name or run.id}, against "
                    f"{labels[slot]}'s answer.")
            harvest.examples.append(PreferenceExample(row.input, correction, row.actual, split=split, note=note,
                                                      source=source))
    return harvest


@dataclass(slots=True)
class SupervisedSet:
    """The supervised examples built from preference examples (prompt → preferred answer).

    ``merged``: preference examples whose prompt and preferred answer another one already gave (kept once).
    ``own_system``: examples with a system instruction of their own, which a supervised example cannot carry
    (the supervised set uses the dataset's).
    """

    examples: list[Example]
    merged: int = 0
    own_system: int = 0


def supervised_from_preferences(examples: Sequence[PreferenceExample],
                                settings: PreferenceSettings | None = None) -> SupervisedSet:
    """Each distinct prompt and preferred answer as one supervised example, keeping split, tags and note."""
    settings = settings or PreferenceSettings()
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    merged = own = 0
    for e in examples:
        if e.system_instruction and e.system_instruction != settings.system_instruction:
            own += 1
        key = (e.prompt, e.preferred)
        if key in seen:
            merged += 1
            continue
        seen.add(key)
        out.append(Example(e.prompt, e.preferred, e.split, e.tags, e.note))
    return SupervisedSet(out, merged, own)

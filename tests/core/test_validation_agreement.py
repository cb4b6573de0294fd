"""The Dataset tab and ``check`` agree: after any sequence of edits, incremental validation finds what batch finds.

The Dataset tab keeps an :class:`IncrementalValidator` current edit by edit; ``gemtune-desktop check`` and the
Tune tab's pre-flight run :func:`validate` over the whole dataset. A user who fixes every problem the table
shows must not be stopped by the pre-flight, and the reverse. Hypothesis draws random datasets and random
edit sequences (edit a field or the split, paste an input, move a row, insert at any row, remove rows, change
the preamble, system instruction or target) and checks that both give the same findings on the final state:
same rules, rows, fields, severities and messages (with related rows), the same counts by severity, and the
same findings per example; and so does a validator given the final examples one at a time (no whole-column
pass). The fuzzy near-duplicate pass is batch-only by design (see ``rules.PASS_RULES``).

A second run lowers the services' limits so that small datasets reach every dataset-wide rule (sizes, counts,
the validation split), whose totals the two paths compute differently (running sums vs column passes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.validation import Finding, IncrementalValidator, counts_of, limits, validate
from gemtune_desktop.core.validation.rules import PASS_RULES

# Texts chosen to reach every rule: blanks, padding, control characters, broken encoding, labels in several
# spellings, the preamble, CJK, and long texts for the length and token limits.
INPUTS = ["", " ", "\x0b", "  padded", "trailing\n", "Question: what is it?", "question: when is it?",
          "QUESTION: how?", "Q: short", "Ticket 7: late parcel", "Review text: fine", "plain words here",
          "bell\x07here", "zero\u200bwidth", "CafÃ© au lait", "Donâ€™t do it", "bad \ufffd byte", "Classify: it",
          "東京 データ 返金", "Crème brûlée", "x" * 40_001, "東" * 140_000]
OUTPUTS = ["", " ", "ok", "positive", "negative", "answer\n", " padded", "Category refund 3", "c1\x85control",
           "GrÃ¶ÃŸe", "日本語の答え", "y" * 5_001, "é" * 2_100_000]
PREAMBLES = ["", "Classify:", "Question:", "  Ticket 7:  "]
SYSTEMS = ["", "Be brief.", "指" * 70_000]
WORDS = ["refund", "order", "late", "broken", "Question:", "q:", " ", "\n", "é", "Ã©", "東", "\t", "\x07"]


def texts(pool: list[str]) -> st.SearchStrategy[str]:
    words = st.lists(st.sampled_from(WORDS), max_size=12).map("".join)
    long = st.builds(lambda w, k: (w + " ") * k, st.sampled_from(["answer", "é", "essay text"]), st.integers(0, 90))
    return st.one_of(st.sampled_from(pool), words, long, st.text(max_size=12))


# Most examples of a real dataset look alike (so that labels and typical lengths exist to depart from).
usual_inputs = st.builds("{}{} {}".format, st.sampled_from(["Question: ", "question: ", "Q: ", ""]),
                         st.sampled_from(["refund", "late parcel", "broken", "Classify: it"]), st.integers(0, 99))
usual_outputs = st.builds("Category {} {}".format, st.sampled_from(["refund", "order", "late"]), st.integers(0, 9))
inputs = st.one_of(usual_inputs, usual_inputs, texts(INPUTS))
outputs = st.one_of(usual_outputs, usual_outputs, usual_outputs, texts(OUTPUTS))
splits = st.sampled_from(list(Split))
targets = st.sampled_from(list(Target))
examples = st.tuples(inputs, outputs, st.sampled_from([Split.TRAIN, Split.TRAIN, Split.VALIDATION, Split.TEST]))

# One edit: what the Dataset tab can do to a project.
edits = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 10**6), st.just("input"), inputs),
    st.tuples(st.just("edit"), st.integers(0, 10**6), st.just("output"), outputs),
    st.tuples(st.just("split"), st.integers(0, 10**6), splits),
    st.tuples(st.just("copy"), st.integers(0, 10**6), st.integers(0, 10**6)),  # paste one row's input over another
    st.tuples(st.just("move"), st.integers(0, 10**6), st.booleans()),  # Move Up / Move Down
    st.tuples(st.just("insert"), st.integers(0, 10**6), examples),
    st.tuples(st.just("remove"), st.lists(st.integers(0, 10**6), min_size=1, max_size=4)),
    st.tuples(st.just("settings"), st.sampled_from(PREAMBLES), st.sampled_from(SYSTEMS)),
    st.tuples(st.just("target"), targets),
)
Edit = tuple[Any, ...]  # one of the tuples above


@dataclass
class Project:
    """The examples in row order, with the validator kept current the way the project session does it."""

    rows: list[Example]
    settings: DatasetSettings
    validator: IncrementalValidator = field(init=False)
    next_id: int = 1

    def __post_init__(self) -> None:
        for e in self.rows:
            e.id, self.next_id = self.next_id, self.next_id + 1
        self.validator = IncrementalValidator(self.settings, self.settings.target, self.row_of)
        self.validator.reset(self.rows)

    def row_of(self, example_id: int) -> int | None:
        for n, e in enumerate(self.rows, start=1):
            if e.id == example_id:
                return n
        return None

    def apply(self, edit: Edit) -> None:
        kind, rows = edit[0], self.rows
        if kind == "insert":
            e = Example(*edit[2], id=self.next_id)
            self.next_id += 1
            rows.insert(edit[1] % (len(rows) + 1), e)
            self.validator.update([e])
        elif kind == "settings":
            self.settings = DatasetSettings(edit[1], edit[2], self.settings.target)
            self.validator.set_settings(self.settings, self.settings.target)
        elif kind == "target":
            self.settings = DatasetSettings(self.settings.preamble, self.settings.system_instruction, edit[1])
            self.validator.set_settings(self.settings, self.settings.target)
        elif not rows:
            return
        elif kind == "remove":
            gone = {rows[i % len(rows)].id for i in edit[1]}
            rows[:] = [e for e in rows if e.id not in gone]
            self.validator.remove(sorted(gone))
        elif kind == "move":
            i = edit[1] % len(rows)
            j = max(0, i - 1) if edit[2] else min(len(rows) - 1, i + 1)
            rows[i], rows[j] = rows[j], rows[i]
            self.validator.update([rows[i], rows[j]])  # as the project session's swap() does
        else:
            i = edit[1] % len(rows)
            e = rows[i] = rows[i].copy()
            if kind == "edit":
                setattr(e, edit[2], edit[3])
            elif kind == "split":
                e.split = edit[2]
            else:
                e.input = rows[edit[2] % len(rows)].input
            self.validator.update([e])


Key = tuple[int, str, str, str, str, tuple[int, ...]]


def key(f: Finding, related_row: Callable[[int], int | None]) -> Key:
    """What the user sees of a finding (row 0: the whole dataset), with related examples as row numbers."""
    return (f.row or 0, f.rule, f.field or "", f.severity.value, f.message,
            tuple(related_row(r) or 0 for r in f.related))


def assert_agree(project: Project) -> None:
    batch = validate(project.rows, project.settings, project.settings.target, near_limit=0)
    assert not {f.rule for f in batch} & {r.id for r in PASS_RULES}
    for rule in sorted({f.rule for f in batch}):
        event(rule)
    expected = [key(f, lambda r: r) for f in batch]
    assert [key(f, project.row_of) for f in project.validator.all_findings()] == expected
    assert project.validator.counts() == counts_of(batch)
    # the same dataset typed in example by example: no whole-column pass involved
    typed = IncrementalValidator(project.settings, project.settings.target, project.row_of)
    typed.reset([])
    typed.update(project.rows)
    assert [key(f, project.row_of) for f in typed.all_findings()] == expected
    for n, e in enumerate(project.rows, start=1):
        assert [key(f, project.row_of) for f in project.validator.findings_for(e.id)] == \
            [key(f, lambda r: r) for f in batch if f.row == n]


AGREE = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.data_too_large])
starts = st.lists(examples, max_size=40)


def run(start: list[tuple[str, str, Split]], preamble: str, system: str, target: Target,
        sequence: list[Edit]) -> None:
    project = Project([Example(*e) for e in start], DatasetSettings(preamble, system, target))
    for edit in sequence:
        project.apply(edit)
        # the table repaints and the status bar counts after every edit (so cached verdicts are used)
        project.validator.counts()
        for e in project.rows[:3]:
            project.validator.findings_for(e.id)
    assert_agree(project)


@AGREE
@given(starts, st.sampled_from(PREAMBLES), st.sampled_from(SYSTEMS), targets, st.lists(edits, max_size=25))
def test_incremental_findings_equal_batch_findings_after_random_edits(
        start: list[tuple[str, str, Split]], preamble: str, system: str, target: Target, sequence: list[Edit]) -> None:
    run(start, preamble, system, target, sequence)


# Limits small datasets reach: a few hundred bytes, a few examples.
LOWERED = {"GEMINI_MAX_INPUT_CHARS": 60, "GEMINI_MAX_OUTPUT_CHARS": 40, "GEMINI_MIN_EXAMPLES": 6,
           "RECOMMENDED_MIN_EXAMPLES": 12, "GEMINI_RECOMMENDED_MAX_EXAMPLES": 20, "GEMINI_INLINE_BYTES": 500,
           "AGENT_MAX_EXAMPLE_TOKENS": 40, "AGENT_MAX_FILE_BYTES": 2_600, "AGENT_MAX_VALIDATION_EXAMPLES": 3}


@contextmanager
def lowered_limits() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in LOWERED.items():
            mp.setattr(limits, name, value)
        yield


@AGREE
@given(starts, st.sampled_from(PREAMBLES[:3]), st.sampled_from(SYSTEMS[:2]), targets, st.lists(edits, max_size=25))
def test_they_agree_on_every_dataset_rule_with_the_limits_lowered(
        start: list[tuple[str, str, Split]], preamble: str, system: str, target: Target, sequence: list[Edit]) -> None:
    def small(edit: Edit) -> bool:  # the long texts only slow this run down: every limit is low
        if edit[0] == "edit":
            return len(edit[3]) < 1_000
        return small_example(edit[2]) if edit[0] == "insert" else True

    def small_example(e: tuple[str, str, Split]) -> bool:
        return len(e[0]) < 1_000 and len(e[1]) < 1_000

    with lowered_limits():
        run(list(filter(small_example, start)), preamble, system, target, list(filter(small, sequence)))

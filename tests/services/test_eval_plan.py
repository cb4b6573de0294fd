"""Planning a batch evaluation: which examples it covers, the calls still missing, the rows grouped, the CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
from gemtune_desktop.core.project.evals_repo import EvalRow
from gemtune_desktop.services.eval_plan import (
    choose_examples,
    examples_by_row_numbers,
    export_csv,
    group_rows,
    new_run,
    pending_items,
)

EXAMPLES = [Example(f"q{i}", f"a{i}", Split.VALIDATION if i % 2 else Split.TEST, id=i + 1) for i in range(6)]


def test_row_numbers_are_one_based_ranges_without_repeats() -> None:
    assert [e.id for e in examples_by_row_numbers(EXAMPLES, "2-3, 1; 3")] == [2, 3, 1]
    with pytest.raises(ValueError, match="“2-x” is not a row number"):
        examples_by_row_numbers(EXAMPLES, "2-x")
    with pytest.raises(ValueError, match="outside 1–6"):
        examples_by_row_numbers(EXAMPLES, "5-7")


def test_sources_choose_held_out_examples_with_an_input() -> None:
    blank = Example("  ", "x", Split.VALIDATION, id=99)
    assert [e.id for e in choose_examples([*EXAMPLES, blank], "validation")] == [2, 4, 6]
    assert [e.id for e in choose_examples(EXAMPLES, "validation+test")] == [1, 2, 3, 4, 5, 6]
    assert [e.id for e in choose_examples(EXAMPLES, "rows", "1")] == [1]


def test_pending_items_skip_what_is_stored_and_examples_deleted_since() -> None:
    run = new_run(["base", "tuned"], ["Base", "Tuned"], [("", ""), ("Pre:", "Sys")], "test",
                  GenerationSettings(), SafetySettings(), EXAMPLES[:3])
    assert run.expected_rows == 6 and run.labels == ["Base", "Tuned"]
    pending = pending_items(run, EXAMPLES[1:], done={(2, 0)})
    assert pending.deleted_examples == 1
    assert [(i.example_id, i.slot) for i in pending.items] == [(2, 1), (3, 0), (3, 1)]
    tuned = pending.items[0]
    assert (tuned.model, tuned.preamble, tuned.system_instruction, tuned.expected) == ("tuned", "Pre:", "Sys", "a1")


def test_rows_group_per_example_and_export_with_scores(tmp_path: Path) -> None:
    rows = [EvalRow(1, 5, 0, "q", "yes it is", "yes it is"), EvalRow(1, 5, 1, "q", "yes it is", "no"),
            EvalRow(1, 3, 0, "p", "x", "", error="Failed")]
    groups = group_rows(rows, {(5, 0): {"token_f1": 1.0}})
    assert [g.example_id for g in groups] == [3, 5] and set(groups[1].answers) == {0, 1}
    assert groups[1].scores == {0: {"token_f1": 1.0}}
    path = tmp_path / "run.csv"
    assert export_csv(path, rows, ["Base", "Tuned"], {(5, 0): {"token_f1": 1.0}}) == 3
    with open(path, encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert [(line["model"], line["token_f1"]) for line in lines] == [("Base", "1.0000"), ("Tuned", "0.0000"),
                                                                    ("Base", "")]

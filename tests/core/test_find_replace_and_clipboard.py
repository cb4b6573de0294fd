"""Find and replace over inputs and outputs, and pasted spreadsheet rows turned into examples."""

from __future__ import annotations

from gemtune_desktop.core.clipboard import parse_tsv, rows_to_examples, to_tsv
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.find_replace import next_match, plan_replace

EXAMPLES = [Example("Refund for order 1", "Yes"), Example("Where is it?", "refund issued"), Example("Hi", "Hello")]


def test_replace_plans_every_match_case_insensitively_by_default() -> None:
    changes = plan_replace(EXAMPLES, "refund", "Money back", ["input", "output"])
    assert [(EXAMPLES.index(e), f, t) for e, f, t in changes] == [(0, "input", "Money back for order 1"),
                                                                  (1, "output", "Money back issued")]
    assert plan_replace(EXAMPLES, "refund", "x", ["input"], match_case=True) == []
    assert plan_replace(EXAMPLES, "", "x", ["input"]) == []


def test_replacement_text_is_taken_literally() -> None:
    (_e, _f, text), = plan_replace([Example("a.b", "")], ".", r"\1", ["input"])
    assert text == r"a\1b"


def test_find_next_wraps_around_from_the_row_after_the_current_one() -> None:
    assert next_match(3, EXAMPLES.__getitem__, 1, "REFUND", ["input", "output"]) == 1
    assert next_match(3, EXAMPLES.__getitem__, 2, "refund", ["input"]) == 0
    assert next_match(3, EXAMPLES.__getitem__, 0, "nowhere", ["input", "output"]) is None


def test_pasted_rows_with_a_header_use_it_and_read_the_split() -> None:
    rows = parse_tsv("answer\tquestion\tsplit\r\nYes\tRefund?\tvalidation\r\n")
    (example,) = rows_to_examples(rows)
    assert (example.input, example.output, example.split) == ("Refund?", "Yes", Split.VALIDATION)


def test_pasted_rows_without_a_header_are_input_output_split_tags_note() -> None:
    rows = parse_tsv(to_tsv([["q", "a", "test", "t1", "n"]]))
    (example,) = rows_to_examples(rows)
    assert (example.input, example.output, example.split, example.tags, example.note) == \
        ("q", "a", Split.TEST, "t1", "n")

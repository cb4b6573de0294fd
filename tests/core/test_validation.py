"""Validation rules, target limits, and the incremental validator agreeing with the whole-dataset one."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from typing import Any

import pytest

from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.tokens import estimate_tokens
from gemtune_desktop.core.validation import (
    Finding,
    IncrementalValidator,
    Severity,
    counts_of,
    incremental,
    near_duplicates,
    rules,
    validate,
)
from gemtune_desktop.core.validation.kinds import Context, ExampleRule, ShareRule

GEMINI = Target.GEMINI_API
AGENT = Target.AGENT_PLATFORM


def varied(n: int, seed: int = 1) -> list[Example]:
    """n distinct, clean examples of similar length (no finding of their own)."""
    rng = random.Random(seed)
    words = ["refund", "order", "parcel", "late", "broken", "invoice", "account", "password", "delivery", "address"]
    out = []
    for i in range(n):
        text = " ".join(rng.choice(words) for _ in range(8))
        out.append(Example(f"Ticket {i}: {text}", f"Category {rng.choice(words)} {i % 7}"))
    return out


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def rows_of(findings: list[Finding], rule: str) -> list[int | None]:
    return [f.row for f in by_rule(findings, rule)]


def test_a_clean_dataset_in_the_recommended_range_has_no_findings() -> None:
    assert validate(varied(150), DatasetSettings(), GEMINI) == []
    assert validate(varied(150), DatasetSettings(), AGENT) == []


@pytest.mark.parametrize(("inp", "out", "rule", "field", "severity"), [
    ("", "x", "empty", "input", Severity.ERROR),
    ("q", "   \n\t", "empty", "output", Severity.ERROR),
    (" q", "x", "whitespace", "input", Severity.WARNING),
    ("q", "answer\n", "whitespace", "output", Severity.WARNING),
    ("bell\x07here", "x", "control-characters", "input", Severity.WARNING),
    ("q", "zero\u200bwidth", "control-characters", "output", Severity.WARNING),
    ("q", "c1\x85control", "control-characters", "output", Severity.WARNING),
    ("CafÃ© au lait", "x", "broken-encoding", "input", Severity.WARNING),
    ("q", "Donâ€™t", "broken-encoding", "output", Severity.WARNING),
    ("q", "GrÃ¶ÃŸe", "broken-encoding", "output", Severity.WARNING),
    ("q", "bad \ufffd byte", "broken-encoding", "output", Severity.WARNING),
])
def test_text_rules(inp: str, out: str, rule: str, field: str, severity: Severity) -> None:
    examples = varied(150)
    examples[41] = Example(inp, out)
    found = validate(examples, DatasetSettings(), GEMINI, source_lines=list(range(2, 152)))
    hits = by_rule(found, rule)
    assert [(f.row, f.line, f.field, f.severity) for f in hits] == [(42, 43, field, severity)]
    assert len(hits[0].message) > 40  # says why it matters and what to do


def test_normal_text_is_not_flagged() -> None:
    examples = varied(150)
    examples[0] = Example("Crème brûlée, Übergröße, naïve — “quotes” ’n’ dashes…", "日本語 한국어 中文\nsecond line")
    examples[1] = Example("NÃO in Portuguese capitals, CÂBLE in French", "tab\tseparated")
    assert validate(examples, DatasetSettings(), GEMINI) == []


def test_gemini_character_limits_and_agent_token_limit() -> None:
    examples = varied(150)
    examples[3] = Example("x" * 40_001, "ok")
    examples[4] = Example("ok", "y" * 5_001)
    examples[5] = Example("x" * 40_000, "y" * 5_000)
    found = validate(examples, DatasetSettings(), GEMINI)
    assert [(f.row, f.field) for f in by_rule(found, "too-long")] == [(4, "input"), (5, "output")]
    assert "40,001" in by_rule(found, "too-long")[0].message

    agent = varied(150)
    agent[7] = Example("word " * 110_000, "short")      # ~137k tokens of Latin text
    agent[8] = Example("東" * 120_000, "京" * 12_000)     # CJK: about one token per character
    agent[9] = Example("x" * 200_000, "ok")              # 200k characters of ASCII ≈ 50k tokens: fine
    found = validate(agent, DatasetSettings(), AGENT)
    assert rows_of(found, "too-many-tokens") == [8, 9]
    assert not by_rule(found, "too-long")


def test_system_instruction_counts_toward_agent_tokens() -> None:
    examples = varied(150)
    examples[0] = Example("東" * 70_000, "ok")
    assert not by_rule(validate(examples, DatasetSettings(), AGENT), "too-many-tokens")
    settings = DatasetSettings(system_instruction="指" * 70_000)
    assert rows_of(validate(examples, settings, AGENT), "too-many-tokens") == [1]


@pytest.mark.parametrize(("n", "target", "rule", "severity"), [
    (19, GEMINI, "too-few-examples", Severity.ERROR),
    (20, GEMINI, "example-count", Severity.WARNING),
    (99, AGENT, "example-count", Severity.WARNING),
    (501, GEMINI, "example-count", Severity.INFO),
])
def test_example_count_against_the_range(n: int, target: Target, rule: str, severity: Severity) -> None:
    found = validate(varied(n), DatasetSettings(), target)
    [f] = [f for f in found if f.row is None]
    assert (f.rule, f.severity) == (rule, severity)
    assert str(n) in f.message


def test_only_training_examples_count_and_agent_validation_split_is_limited() -> None:
    examples = varied(5_200)
    for e in examples[:5_001]:
        e.split = Split.VALIDATION
    found = validate(examples, DatasetSettings(), AGENT, near_limit=0)
    assert [(f.rule, f.severity) for f in found if f.row is None] == [("validation-size", Severity.ERROR)]
    assert "5,001" in found[0].message
    for e in examples[:5_150]:
        e.split = Split.TEST
    found = validate(examples, DatasetSettings(), AGENT, near_limit=0)
    assert [(f.rule, f.severity) for f in found if f.row is None] == [("example-count", Severity.WARNING)]
    assert "50 training" in found[0].message


def test_gemini_inline_size_limit_counts_utf8_bytes_and_the_preamble() -> None:
    examples = [Example(f"{i} " + "é" * 9_000, "ok") for i in range(230)]  # 230 × 18 kB ≈ 4.1 MB of UTF-8
    found = validate(examples, DatasetSettings(), GEMINI, near_limit=0)
    assert rows_of(found, "inline-size") == [None]
    fewer = examples[:215]  # ≈ 3.87 MB without the preamble, over 4 MB with it
    assert not by_rule(validate(fewer, DatasetSettings(), GEMINI, near_limit=0), "inline-size")
    assert by_rule(validate(fewer, DatasetSettings(preamble="p" * 1_000), GEMINI, near_limit=0), "inline-size")


def test_system_instruction_is_not_sent_on_gemini_api() -> None:
    found = validate(varied(150), DatasetSettings(system_instruction="Be brief."), GEMINI)
    assert [f.rule for f in found] == ["system-instruction-unsupported"]
    assert validate(varied(150), DatasetSettings(system_instruction="Be brief."), AGENT) == []


def test_exact_and_conflicting_duplicates_name_the_first_row() -> None:
    examples = varied(150)
    examples[10] = Example(examples[2].input, examples[2].output)
    examples[20] = Example(examples[2].input, "a different answer")
    found = validate(examples, DatasetSettings(), GEMINI)
    dup, conflict = by_rule(found, "duplicate"), by_rule(found, "conflicting-duplicate")
    assert [(f.row, f.related) for f in dup] == [(11, (3,))]
    assert [(f.row, f.related) for f in conflict] == [(21, (3,))]
    assert "row 3" in dup[0].message and "different output" in conflict[0].message


def test_near_duplicates_found_through_case_spacing_and_small_edits() -> None:
    examples = varied(150)
    examples[30] = Example("What is the capital city of France, please tell me?", "Paris")
    examples[31] = Example("what is the   capital city of France, please tell me?", "Paris")
    examples[60] = Example("What's the capital city of France, please tell me?", "Paris")
    examples[90] = Example("Please tell me: which river flows through the city of Paris?", "Seine")
    examples[91] = Example("Kindly tell me: which river flows through the city of Paris?", "Seine")
    pairs = near_duplicates(examples)
    assert (31, 30, 100.0) in pairs
    assert any(i == 60 and j in (30, 31) for i, j, _ in pairs)
    assert any(i == 91 and j == 90 for i, j, _ in pairs)  # differs at the start: found by the reversed order
    found = validate(examples, DatasetSettings(), GEMINI)
    assert {f.row for f in by_rule(found, "near-duplicate")} == {32, 61, 92}
    assert all(f.severity is Severity.INFO for f in by_rule(found, "near-duplicate"))
    assert near_duplicates(examples, limit=0) == [(31, 30, 100.0)]  # the hash pass costs no comparisons


def test_near_duplicate_search_is_skipped_on_very_large_datasets_with_a_note() -> None:
    found = validate(varied(300), DatasetSettings(), GEMINI, near_max_rows=200)
    assert [f.rule for f in found if f.row is None] == ["near-duplicate"]
    assert "300" in found[0].message


def test_inconsistent_labels_flag_the_minority() -> None:
    examples = varied(100)
    for e in examples[:80]:
        e.input = "Question: " + e.input
    found = validate(examples, DatasetSettings(), GEMINI)
    assert rows_of(found, "inconsistent-format") == list(range(81, 101))
    assert "Question:" in by_rule(found, "inconsistent-format")[0].message
    few = varied(100)
    for e in few[:15]:
        e.input = "Q: " + e.input
    assert rows_of(validate(few, DatasetSettings(), GEMINI), "inconsistent-format") == list(range(1, 16))


def test_preamble_repeated_in_the_input() -> None:
    examples = varied(150)
    examples[5].input = "Classify the ticket:\n" + examples[5].input
    found = validate(examples, DatasetSettings(preamble="Classify the ticket:"), GEMINI)
    assert rows_of(found, "preamble-repeated") == [6]


def test_outputs_far_longer_or_shorter_than_the_rest() -> None:
    examples = varied(150)
    examples[12].output = "A long essay. " * 60
    examples[13].output = "?"
    found = validate(examples, DatasetSettings(), GEMINI)
    assert rows_of(found, "output-length-outlier") == [13, 14]
    same_length = [Example(f"q{i}", "positive" if i % 2 else "negative") for i in range(150)]
    assert not by_rule(validate(same_length, DatasetSettings(), GEMINI), "output-length-outlier")


def test_clean_hint_skips_only_the_character_scan() -> None:
    examples = varied(150)
    examples[0] = Example("bell\x07", " padded")
    clean = bytearray(b"\x01") * 150
    found = validate(examples, DatasetSettings(), GEMINI, clean=clean)
    assert [f.rule for f in found] == ["whitespace"]
    clean[0] = 0
    assert {f.rule for f in validate(examples, DatasetSettings(), GEMINI, clean=clean)} == {
        "whitespace", "control-characters"}


def test_findings_are_dataset_first_then_by_row_and_counted() -> None:
    examples = varied(19)
    examples[5] = Example("", "")
    found = validate(examples, DatasetSettings(), GEMINI)
    assert found[0].row is None
    assert [f.row for f in found[1:]] == sorted(f.row for f in found[1:])
    assert counts_of(found) == {Severity.ERROR: 3, Severity.WARNING: 0, Severity.INFO: 0}
    assert found[1].location() == "row 6, input"


def test_estimate_tokens() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 100) == 100
    assert estimate_tokens("東京" * 50) == 100
    assert 100 <= estimate_tokens("Привет " * 40) <= 160
    assert estimate_tokens("café " * 80) == 100


# --- incremental -----------------------------------------------------------------------------------------

def _key(f: Finding) -> tuple[str, str | None, str]:
    return (f.rule, f.field, f.severity.value)


def test_incremental_validator_agrees_with_validate_and_follows_edits() -> None:
    examples = varied(200)
    for i, e in enumerate(examples, start=1):
        e.id = i * 10
    examples[3] = Example(" padded", "", id=40)
    examples[7] = Example(examples[1].input, "other", id=80)
    examples[9] = Example("bell\x07", "ok", id=100)
    rows = {e.id: n for n, e in enumerate(examples, start=1)}
    v = IncrementalValidator(DatasetSettings(), GEMINI, row_of=rows.get)
    v.reset(examples)
    batch = [f for f in validate(examples, DatasetSettings(), GEMINI) if f.rule != "near-duplicate"]
    inc = v.all_findings()
    assert sorted((f.row, *_key(f)) for f in inc) == sorted((f.row, *_key(f)) for f in batch)
    assert v.counts() == counts_of(batch)
    conflict = [f for f in v.findings_for(80) if f.rule == "conflicting-duplicate"]
    assert conflict[0].related == (20,) and "row 2" in conflict[0].message and conflict[0].row == 8

    # fix the conflicting row: its finding goes, and nothing else changes
    v.update([Example("a brand new question", "other", id=80)])
    assert v.findings_for(80) == []
    assert v.counts()[Severity.WARNING] == counts_of(batch)[Severity.WARNING] - 1
    # make row 1 a copy of row 3, although row 1 was edited last: row 3 is the later row, and is flagged
    # (as check and the pre-flight flag it)
    v.update([Example(examples[2].input, examples[2].output, id=10)])
    assert v.findings_for(10) == []
    [dup] = v.findings_for(30)
    assert (dup.rule, dup.row, dup.related) == ("duplicate", 3, (10,)) and "row 1" in dup.message
    # delete one of a duplicate pair: the other is no longer a duplicate
    v.remove([30])
    assert v.findings_for(10) == [] and v.findings_for(30) == []
    # the dataset falls under the Gemini minimum
    v.remove([e.id for e in examples[20:]])
    assert [f.rule for f in v.dataset_findings()] == ["too-few-examples"]
    assert v.counts()[Severity.ERROR] == 2  # the empty output of id 40, and too few examples


def test_incremental_settings_change_and_labels() -> None:
    examples = varied(50)
    for i, e in enumerate(examples, start=1):
        e.id = i
        e.input = "Question: " + e.input
    v = IncrementalValidator(DatasetSettings(), AGENT)
    v.reset(examples)
    assert v.counts() == {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 0}  # fewer than 100 examples
    v.update([Example("No label here", "Category parcel 3", id=7)])
    [f] = v.findings_for(7)
    assert f.rule == "inconsistent-format" and f.example_id == 7 and f.row is None
    v.set_settings(DatasetSettings(preamble="Question:"), AGENT)
    assert [f.rule for f in v.findings_for(8)] == ["preamble-repeated"]
    assert v.counts()[Severity.WARNING] == 1 + 1 + 49


def test_incremental_edit_cost_does_not_grow_with_the_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work per edit is independent of size: count what the rules look at, not the clock."""
    looked_at: list[str] = []

    def counting_check(rule: ExampleRule) -> ExampleRule:
        def check(inp: str, out: str, ctx: Context) -> list[tuple[str | None, str]]:
            looked_at.append(f"{rule.id}:{inp}")
            return rule.check(inp, out, ctx)
        return dataclasses.replace(rule, check=check)

    def counting_key(rule: ShareRule[Any, Any]) -> ShareRule[Any, Any]:
        def key(text: str) -> object:
            looked_at.append(f"{rule.id}:{text}")
            return rule.key(text)
        return dataclasses.replace(rule, key=key)

    monkeypatch.setattr(incremental, "EXAMPLE_RULES", tuple(map(counting_check, rules.EXAMPLE_RULES)))
    monkeypatch.setattr(incremental, "SHARE_RULES", tuple(map(counting_key, rules.SHARE_RULES)))
    seen: list[Counter[str]] = []
    for n in (1_000, 20_000):
        examples = varied(n, seed=n)
        for i, e in enumerate(examples, start=1):
            e.id = i
            if i % 3 == 0:
                e.input = "Question: " + e.input  # a label convention, so the label rule has a verdict
        v = IncrementalValidator(DatasetSettings(), GEMINI)
        v.reset(examples)
        looked_at.clear()
        v.update([Example("edited input", "edited output", id=n // 2)])
        v.findings_for(n // 2)
        v.counts()
        old = examples[n // 2 - 1]
        assert {what.split(":", 1)[1] for what in looked_at} <= {"edited input", "edited output", old.input,
                                                                 old.output}  # only the edited example
        seen.append(Counter(what.split(":", 1)[0] for what in looked_at))
    assert seen[0] == seen[1]  # the same work on 1,000 and on 20,000 examples
    assert seen[0]["empty"] == 1  # each example rule checks the new version once


def test_incremental_outliers_appear_in_a_dataset_built_row_by_row() -> None:
    v = IncrementalValidator(DatasetSettings(), AGENT)
    v.reset([])
    for i, e in enumerate(varied(60), start=1):
        e.id = i
        v.update([e])
    v.update([Example("Ticket 61: a question", ("A long essay. " * 60).strip(), id=61)])
    assert [f.rule for f in v.findings_for(61)] == ["output-length-outlier"]
    assert v.counts()[Severity.WARNING] == 2  # the outlier and "fewer than 100 examples"


# --- the Dataset tab shows what check shows -------------------------------------------------------------------

def _session(examples: list[Example], settings: DatasetSettings, target: Target) -> tuple[IncrementalValidator,
                                                                                         list[Example]]:
    """A validator kept current the way the project session keeps it, over a list in row order."""
    rows = list(examples)
    for i, e in enumerate(rows, start=1):
        e.id = i

    def row_of(example_id: int) -> int | None:
        return next((n for n, e in enumerate(rows, start=1) if e.id == example_id), None)

    v = IncrementalValidator(settings, target, row_of)
    v.reset(rows)
    return v, rows


def _seen(v: IncrementalValidator, rows: list[Example]) -> list[tuple[int, str, str]]:
    return sorted((f.row or 0, f.rule, f.message) for f in v.all_findings())


def _checked(rows: list[Example], settings: DatasetSettings, target: Target) -> list[tuple[int, str, str]]:
    return sorted((f.row or 0, f.rule, f.message) for f in validate(rows, settings, target, near_limit=0))


def test_a_copy_pasted_above_the_original_flags_the_lower_row_as_check_does() -> None:
    v, rows = _session(varied(150), DatasetSettings(), GEMINI)
    copy = Example(rows[9].input, rows[9].output, id=1000)
    rows.insert(2, copy)  # pasted as row 3, above the original (now row 11)
    v.update([copy])
    assert [(f.row, f.rule) for f in v.findings_for(rows[10].id)] == [(11, "duplicate")]
    assert v.findings_for(1000) == []
    assert _seen(v, rows) == _checked(rows, DatasetSettings(), GEMINI)
    # editing the upper copy's split keeps it the first one
    changed = Example(copy.input, copy.output, Split.TEST, id=1000)
    rows[2] = changed
    v.update([changed])
    assert _seen(v, rows) == _checked(rows, DatasetSettings(), GEMINI)


def test_output_length_outliers_follow_each_edit() -> None:
    """Lengthen most outputs one by one: the long ones become the norm and the short ones the outliers,
    after every edit exactly as check sees it (not only once the dataset has grown by a tenth)."""
    v, rows = _session(varied(40), DatasetSettings(), AGENT)
    for k in range(30):
        longer = Example(rows[k].input, ("A longer answer that explains the category. " * 4).strip() + f" {k}",
                         id=rows[k].id)
        rows[k] = longer
        v.update([longer])
        assert _seen(v, rows) == _checked(rows, DatasetSettings(), AGENT), k
    assert {f.row for f in v.all_findings() if f.rule == "output-length-outlier"} == set(range(31, 41))


def test_the_label_named_is_the_usual_spelling_and_follows_deletions() -> None:
    examples = varied(40)
    examples[0].input = "QUESTION: " + examples[0].input
    for e in examples[1:30]:
        e.input = "Question: " + e.input
    v, rows = _session(examples, DatasetSettings(), AGENT)
    assert "“Question:”" in v.findings_for(rows[35].id)[0].message
    assert _seen(v, rows) == _checked(rows, DatasetSettings(), AGENT)
    gone = rows.pop(0)
    v.remove([gone.id])
    assert _seen(v, rows) == _checked(rows, DatasetSettings(), AGENT)


def test_the_inline_size_is_reported_alike_and_never_understated() -> None:
    examples = varied(150)
    for e in examples[:3]:
        e.output = "é" * 1_500_000  # 4.5 million characters, 9 MB of UTF-8
    v, rows = _session(examples, DatasetSettings(), GEMINI)
    [batch] = [f for f in validate(rows, DatasetSettings(), GEMINI, near_limit=0) if f.rule == "inline-size"]
    [inc] = [f for f in v.dataset_findings() if f.rule == "inline-size"]
    assert inc.message == batch.message
    assert "at least 4.5 MB" in batch.message  # the characters alone; no need to encode 9 MB to say so

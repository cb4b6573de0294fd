"""Preference validation: every rule in plain words, and per-edit validation that always agrees with a full pass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.preference import rules as P
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.preference.validation import PreferenceValidator, validate_preferences
from gemtune_desktop.core.preference.writers import upload_lines


def ex(prompt: str, preferred: str, dispreferred: str, split: Split = Split.TRAIN, ident: int = 0,
       system: str = "") -> PreferenceExample:
    return PreferenceExample(prompt, preferred, dispreferred, system, split, id=ident)


def filler(n: int, split: Split = Split.TRAIN) -> list[PreferenceExample]:
    return [ex(f"Question {i} {split.value}", f"Right {i}", f"Wrong {i}", split) for i in range(n)]


def by_rule(findings: list, rule: str) -> list:
    return [f for f in findings if f.rule == rule]


def test_empty_and_blank_texts_name_the_field() -> None:
    found = validate_preferences([ex("", "A", "B"), ex("Q", "   ", "B"), ex("Q2", "A", ""), *filler(100)])
    empties = by_rule(found, P.EMPTY)
    assert [(f.row, f.field) for f in empties] == [(1, "prompt"), (2, "preferred"), (3, "dispreferred")]
    assert "The preferred answer contains only spaces" in empties[1].message
    assert all(f.severity.value == "error" for f in empties)


def test_identical_answers_are_an_error_and_near_identical_a_warning() -> None:
    found = validate_preferences([ex("Q", "Paris.", "Paris. "),
                                  ex("Q2", "Paris is the capital", "paris  is the capital"), *filler(100)])
    same = by_rule(found, P.IDENTICAL_ANSWERS)
    assert [(f.row, f.severity.value) for f in same] == [(1, "error"), (2, "warning")]
    assert "nothing to prefer" in same[0].message and "capitals or spacing" in same[1].message


def test_a_preferred_answer_rejected_elsewhere_names_the_other_row() -> None:
    found = validate_preferences([ex("Q", "A", "B"), ex("Other question", "C", "A"), ex("Q", "D", "A"),
                                  ex("Q3", "Z", "Y"), *filler(100)])
    cross = by_rule(found, P.PREFERRED_REJECTED_ELSEWHERE)
    assert [(f.row, f.related, f.field) for f in cross] == [(1, (3,), "preferred")]  # same prompt wins
    assert cross[0].message.startswith("Row 3 rejects this same answer for the same prompt")
    only_other = validate_preferences([ex("Q", "A", "B"), ex("Other", "C", "A")])
    assert "for another prompt" in by_rule(only_other, P.PREFERRED_REJECTED_ELSEWHERE)[0].message


def test_duplicates_point_at_the_first_copy() -> None:
    found = validate_preferences([ex("Q", "A", "B"), ex("Q2", "C", "D"), ex("Q", "A", "B"), *filler(100)])
    assert [(f.row, f.related) for f in by_rule(found, P.DUPLICATE)] == [(3, (1,))]


def test_token_limit_counts_prompt_preamble_system_and_the_longer_answer() -> None:
    answer = "w" * 4 * 60_000  # about 60,000 tokens
    ok = ex("q" * 4 * 10_000, answer, answer[:100])
    assert not by_rule(validate_preferences([ok]), P.TOO_MANY_TOKENS)
    # 10,000 + 60,000 + 62,000 of system instruction: over 131,072 only with the system instruction
    system = "s" * 4 * 62_000
    over = validate_preferences([ok], PreferenceSettings(system_instruction=system))
    [tok] = by_rule(over, P.TOO_MANY_TOKENS)
    assert tok.severity.value == "error" and "about 132,000 tokens" in tok.message
    own = validate_preferences([ex(ok.prompt, ok.preferred, ok.dispreferred, system=system)])
    assert by_rule(own, P.TOO_MANY_TOKENS)
    both_long = ex("q", answer, answer)  # the two answers are not added: only the longer counts
    assert not by_rule(validate_preferences([both_long]), P.TOO_MANY_TOKENS)


def test_counts_recommended_and_empty_training_split() -> None:
    assert by_rule(validate_preferences(filler(5, Split.VALIDATION)), P.TOO_FEW)[0].severity.value == "error"
    few = by_rule(validate_preferences(filler(20)), P.RECOMMENDED_COUNT)
    assert few and "20 training preference examples" in few[0].message and "at least 100" in few[0].message
    assert not by_rule(validate_preferences(filler(100)), P.RECOMMENDED_COUNT)


@pytest.mark.parametrize(("n_train", "n_val", "ok"), [
    (100, 1000, True),      # up to 1,000 validation examples, whatever the training size
    (3000, 1000, True),
    (3000, 1001, False),    # above 1,000: at most 30 % of 3,000 = 900, so 1,000 is the most allowed
    (4000, 1200, True),     # 30 % of 4,000
    (4000, 1201, False),
    (20000, 5000, True),
    (20000, 5001, False),   # never more than 5,000
])
def test_validation_set_rule(n_train: int, n_val: int, ok: bool) -> None:
    assert (n_val <= P.validation_limit(n_train, n_val)) is ok


def test_validation_set_rule_messages() -> None:
    found = validate_preferences(filler(4000) + filler(1201, Split.VALIDATION))
    [f] = by_rule(found, P.VALIDATION_SIZE)
    assert "1,201 preference examples are in the validation split" in f.message
    assert "30 % of the training examples (1,200 here)" in f.message
    found = validate_preferences(filler(30_000) + filler(5001, Split.VALIDATION))
    assert "at most 5,000" in by_rule(found, P.VALIDATION_SIZE)[0].message


def test_file_size_is_the_upload_as_it_would_be_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_ = PreferenceSettings(preamble="Context:", system_instruction="Be exact.")
    examples = filler(150) + filler(10, Split.VALIDATION)
    validator = PreferenceValidator(settings_)
    validator.reset([PreferenceExample(e.prompt, e.preferred, e.dispreferred, split=e.split, id=i + 1)
                     for i, e in enumerate(examples)])
    train = [e for e in examples if e.split is Split.TRAIN]
    assert validator.train_file_bytes == sum(map(len, upload_lines(train, settings_)))
    monkeypatch.setattr(P, "MAX_FILE_BYTES", validator.train_file_bytes - 1)
    [f] = by_rule(validator.dataset_findings(), P.FILE_SIZE)
    assert "1 GB" in f.message and f.severity.value == "error"


# --- per-edit validation ----------------------------------------------------------------------------------------

def full(examples: list[PreferenceExample], settings_: PreferenceSettings) -> list[tuple[object, ...]]:
    found = validate_preferences(examples, settings_)
    ids = [e.id for e in examples]
    return sorted((f.rule, f.severity.value, f.field, ids[f.row - 1] if f.row else None,
                   tuple(ids[r - 1] for r in f.related)) for f in found)


def incremental(v: PreferenceValidator) -> list[tuple[object, ...]]:
    return sorted((f.rule, f.severity.value, f.field, f.example_id, f.related) for f in v.all_findings())


TEXTS = st.sampled_from(["A", "B", "C", " A", "", "a", "Q", "a  b", "A B", "Ã©t\u00e9", "bell\x07", "été", "\n"])
EDITS = st.lists(st.tuples(st.sampled_from(["add", "edit", "remove"]), st.integers(0, 30), TEXTS, TEXTS, TEXTS,
                           st.sampled_from([Split.TRAIN, Split.VALIDATION])), max_size=40)


@settings(max_examples=150, deadline=None)
@given(edits=EDITS)
def test_incremental_findings_and_counts_always_match_a_full_pass(edits: list) -> None:
    settings_ = PreferenceSettings(preamble="P:")
    rows: dict[int, PreferenceExample] = {}
    order: list[int] = []
    validator = PreferenceValidator(settings_, row_of=lambda rid: order.index(rid) + 1)
    next_id = 1
    for op, pick, prompt, a, b, split in edits:
        if op == "add" or not order:
            e = ex(prompt, a, b, split, next_id)
            next_id += 1
            rows[e.id] = e
            order.append(e.id)
            validator.update([e.copy()])
        elif op == "edit":
            rid = order[pick % len(order)]
            e = ex(prompt, a, b, split, rid)
            rows[rid] = e
            validator.update([e.copy()])
        else:
            rid = order.pop(pick % len(order))
            del rows[rid]
            validator.remove([rid])
        current = [rows[i] for i in order]
        assert incremental(validator) == full(current, settings_)
        expected = {"error": 0, "warning": 0, "info": 0}
        for f in validate_preferences(current, settings_):
            expected[f.severity.value] += 1
        assert validator.counts() == expected


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.text(st.characters(blacklist_categories=("Cs",))), min_size=4, max_size=4),
       preamble=st.text(st.characters(blacklist_categories=("Cs",)), max_size=5))
def test_the_upload_size_is_exact_for_any_text(texts: list[str], preamble: str) -> None:
    settings_ = PreferenceSettings(preamble=preamble, system_instruction="Dataset “instruction”\n")
    examples = [ex(texts[0], texts[1], texts[2], ident=1, system=texts[3]), ex(texts[0], texts[1], texts[2], ident=2)]
    validator = PreferenceValidator(settings_)
    validator.reset(examples)
    assert validator.train_file_bytes == sum(map(len, upload_lines(examples, settings_)))


def test_rows_in_messages_follow_the_current_order() -> None:
    order = [10, 20]
    validator = PreferenceValidator(row_of=lambda rid: order.index(rid) + 1)
    validator.reset([ex("Q", "A", "B", ident=10), ex("Q", "A", "B", ident=20)])
    assert validator.findings_for(20)[0].message.startswith("Exactly the same prompt and answers as row 1")
    order.reverse()  # the copy now shown first is the original; the other one is the repeat
    assert validator.findings_for(20) == []
    [again] = validator.findings_for(10)
    assert again.row == 2 and again.message.startswith("Exactly the same prompt and answers as row 1")
    with pytest.raises(ValueError, match="distinct"):
        validator.reset([ex("Q", "A", "B", ident=1), ex("Q", "A", "B", ident=1)])


def test_changing_the_settings_revalidates_tokens_and_sizes() -> None:
    validator = PreferenceValidator()
    validator.reset([ex("q" * 4 * 70_000, "a" * 4 * 60_000, "b", ident=1)])
    assert not validator.findings_for(1)
    before = validator.train_file_bytes
    validator.set_settings(PreferenceSettings(preamble="p" * 4 * 2_000))
    assert [f.rule for f in validator.findings_for(1)] == [P.TOO_MANY_TOKENS]
    assert validator.train_file_bytes == before + 8_000 + 2  # the preamble and its line break (“\\n” in JSON)

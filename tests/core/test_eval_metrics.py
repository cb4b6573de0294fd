"""Every evaluation metric on hand-checked examples (chrF also against values sacrebleu 2.5 printed)."""

from __future__ import annotations

import pytest

from gemtune_desktop.core import eval_metrics as m
from gemtune_desktop.core.eval_metrics import ScoredRow


def test_exact_match_ignores_only_surrounding_whitespace() -> None:
    assert m.exact_match("Paris", " Paris\n") == 1.0
    assert m.exact_match("Paris", "paris") == 0.0


def test_normalized_exact_match_ignores_case_punctuation_articles_spacing() -> None:
    assert m.normalized_exact_match("The  Paris!", "paris") == 1.0
    assert m.normalized_exact_match("Paris, France", "paris france") == 1.0
    assert m.normalized_exact_match("Paris", "Lyon") == 0.0


def test_token_f1_bag_of_words() -> None:
    # "the" is dropped: [cat, sat, on, mat] vs [cat, on, mat, today]: 3 shared, P = R = 3/4.
    assert m.token_f1("the cat sat on the mat", "cat on mat today") == pytest.approx(0.75)
    assert m.token_f1("yes", "no") == 0.0
    assert m.token_f1("", "") == 1.0
    assert m.token_f1("yes", "") == 0.0
    # Repeated words count only as often as they occur in both.
    assert m.token_f1("go go", "go") == pytest.approx(2 * 1 * 0.5 / 1.5)


def test_tokens_split_cjk_characters() -> None:
    assert m.tokens("東京です") == ["東", "京", "で", "す"]
    assert m.token_f1("東京は首都", "東京") == pytest.approx(2 * 1 * 0.4 / 1.4)


def test_rouge_l_uses_the_longest_common_subsequence() -> None:
    # LCS of [one two three four] and [one three four five six] is [one three four]: P = 3/5, R = 3/4.
    assert m.rouge_l("one two three four", "one three four five six") == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    # Reversed order shares only one word in sequence.
    assert m.rouge_l("police killed gunman", "gunman killed police") == pytest.approx(1 / 3)
    assert m.lcs_length(["a", "b"], []) == 0


@pytest.mark.parametrize(("ref", "hyp", "expected"), [
    ("abc", "abd", 38.8889),  # by hand: P = R = (2/3 + 1/2 + 0) / 3 = 7/18
    ("The cat sat on the mat.", "A cat sat on a mat!", 42.6188),
    ("Le chat est noir", "le chien est noir et blanc", 45.4166),
    ("xyz", "", 0.0),
    ("東京は日本の首都です", "東京は首都です", 31.7073),
])
def test_chrf_matches_sacrebleu(ref: str, hyp: str, expected: float) -> None:
    assert m.chrf(ref, hyp) == pytest.approx(expected, abs=1e-4)


def test_chrf_identical_is_100() -> None:
    assert m.chrf("same answer", "same  answer") == pytest.approx(100.0)


def test_distinct_n_across_answers() -> None:
    # unigrams x, y, y, z → 3 distinct of 4; bigrams (x y), (y z) → 2 of 2.
    assert m.distinct_n(["x y", "y z"], 1) == pytest.approx(0.75)
    assert m.distinct_n(["x y", "y z"], 2) == pytest.approx(1.0)
    assert m.distinct_n(["x y", "x y"], 2) == pytest.approx(0.5)
    assert m.distinct_n([], 1) == 0.0


def test_summarize_means_lengths_blocked_and_errors() -> None:
    rows = [
        ScoredRow(1, "yes", "yes"),
        ScoredRow(2, "no", "maybe so"),
        ScoredRow(3, "stop", "", blocked="HARM_CATEGORY_HARASSMENT"),
        ScoredRow(4, "x", "", error="The service is temporarily unavailable."),
    ]
    s = m.summarize(rows)
    assert (s.rows, s.answered, s.errors) == (4, 3, 1)
    assert s.means["exact_match"] == pytest.approx(1 / 3)
    assert s.means["token_f1"] == pytest.approx(1 / 3)
    assert s.blocked == {"HARM_CATEGORY_HARASSMENT": 1}
    assert s.mean_length_words == pytest.approx((1 + 2 + 0) / 3)
    assert s.mean_length_chars == pytest.approx((3 + 8 + 0) / 3)
    # distinct-1 over "yes", "maybe so", "": 3 distinct of 3 words.
    assert s.distinct_1 == pytest.approx(1.0)
    assert m.summarize([]).means["chrf"] == 0.0


def test_wins_losses_of_b_against_a() -> None:
    a = [ScoredRow(1, "red", "red"), ScoredRow(2, "blue", "green"), ScoredRow(3, "big dog", "dog"),
         ScoredRow(4, "x", "x")]
    b = [ScoredRow(1, "red", "red"), ScoredRow(2, "blue", "blue"), ScoredRow(3, "big dog", "cat"),
         ScoredRow(4, "x", "", error="failed")]
    wl = m.wins_losses(a, b)
    assert (wl.wins, wl.losses, wl.ties, wl.compared) == (1, 1, 1, 3)
    with pytest.raises(KeyError):
        m.wins_losses(a, b, metric="nonsense")


def test_preference_tally() -> None:
    assert m.preference_tally(["a", "b", "b", "tie", "junk"]) == {"a": 1, "b": 2, "tie": 1}

"""Evaluation metrics: BLEU/chrF against sacreBLEU and ROUGE against rouge-score on the same pairs
(the libraries are called here, not re-implemented), plus GemTune's own exact match and token F1."""

from __future__ import annotations

import random

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from gemtune_desktop.core import eval_metrics as m
from gemtune_desktop.core.diversity import distinct_n
from gemtune_desktop.core.eval_metrics import ScoredRow

TEXT = ("the tenant may sublet flat with written consent of landlord clause notice rent deposit court party "
        "Le locataire peut sous-louer l'appartement avec accord écrit du bailleur 東京 は 日本 の 首都 です "
        "naïve café 1,000 £ § 12(b)")
WORDS = TEXT.split(" ")


def random_pairs(n: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 25))) + rng.choice(["", ".", "!", " ?"])

    pairs = [(sentence(), sentence()) for _ in range(n)]
    pairs += [("Same answer.", "Same answer."), ("", ""), ("Only the reference.", ""), ("", "Only the answer.")]
    return pairs


def test_row_scores_equal_the_libraries_sentence_scores() -> None:
    pairs = random_pairs(300)
    scores = m.score_pairs([e for e, _ in pairs], [a for _, a in pairs])
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    for (expected, actual), row in zip(pairs, scores.rows, strict=True):
        assert row["bleu"] == pytest.approx(sacrebleu.sentence_bleu(actual, [expected]).score, abs=1e-9)
        assert row["chrf"] == pytest.approx(sacrebleu.sentence_chrf(actual, [expected]).score, abs=1e-9)
        lib = scorer.score(expected, actual)
        assert (row["rouge1"], row["rouge2"], row["rougeL"]) == pytest.approx(
            (lib["rouge1"].fmeasure, lib["rouge2"].fmeasure, lib["rougeL"].fmeasure), abs=1e-12)
        assert row == m.row_scores(expected, actual)


def test_corpus_bleu_and_chrf_equal_sacrebleus_corpus_scores() -> None:
    pairs = random_pairs(200, seed=11)
    refs, hyps = [e for e, _ in pairs], [a for _, a in pairs]
    scores = m.score_pairs(refs, hyps)
    assert scores.corpus["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score, abs=1e-9)
    assert scores.corpus["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score, abs=1e-9)
    # Corpus BLEU is not the mean of sentence BLEU: the summary must not silently average.
    mean_sentence = sum(r["bleu"] for r in scores.rows) / len(scores.rows)
    assert abs(scores.corpus["bleu"] - mean_sentence) > 0.1


def test_summary_uses_corpus_bleu_and_chrf_and_row_means_for_the_rest() -> None:
    pairs = random_pairs(60, seed=3)
    rows = [ScoredRow(i, e, a) for i, (e, a) in enumerate(pairs)]
    rows.append(ScoredRow(999, "x", "", error="The service is temporarily unavailable."))
    s = m.summarize(rows)
    refs, hyps = [e for e, _ in pairs], [a for _, a in pairs]
    assert s.means["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert s.means["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    expected_rouge_l = sum(scorer.score(e, a)["rougeL"].fmeasure for e, a in pairs) / len(pairs)
    assert s.means["rougeL"] == pytest.approx(expected_rouge_l)
    assert s.sentence_means["bleu"] == pytest.approx(sum(sacrebleu.sentence_bleu(a, [e]).score
                                                         for e, a in pairs) / len(pairs))
    assert (s.rows, s.answered, s.errors) == (len(pairs) + 1, len(pairs), 1)
    assert set(s.to_dict()["means"]) == set(m.ROW_METRICS)


def test_provenance_names_library_version_and_settings_for_every_metric() -> None:
    prov = m.provenance()
    assert set(prov) == set(m.ROW_METRICS)
    assert f"sacreBLEU {sacrebleu.__version__}" in prov["bleu"]
    assert "BLEU|nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp" in prov["bleu"]
    assert "eff:no" in prov["bleu"], "the corpus figure's own signature is named too"
    assert "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no" in prov["chrf"]
    for key in ("rouge1", "rouge2", "rougeL"):
        assert "rouge-score 0.1.2" in prov[key] and "no stemming" in prov[key]
    assert all(m.METRIC_LABELS[k] for k in m.ROW_METRICS)


def test_rouge_caveat_for_letters_the_library_drops() -> None:
    assert m.caveats(["plain English answer"]) == []
    assert "a–z" in m.caveats(["plain", "Le café est fermé"])[0]
    scores = m.row_scores("東京は首都", "東京は首都")
    assert scores["rougeL"] == 0.0 and scores["chrf"] == pytest.approx(100.0)  # as rouge-score defines it


def test_exact_match_ignores_only_surrounding_whitespace() -> None:
    assert m.exact_match("Paris", " Paris\n") == 1.0
    assert m.exact_match("Paris", "paris") == 0.0


def test_token_f1_bag_of_words() -> None:
    # "the" is dropped: [cat, sat, on, mat] vs [cat, on, mat, today]: 3 shared, P = R = 3/4.
    assert m.token_f1("the cat sat on the mat", "cat on mat today") == pytest.approx(0.75)
    assert m.token_f1("yes", "no") == 0.0
    assert m.token_f1("", "") == 1.0
    assert m.token_f1("yes", "") == 0.0
    # Repeated words count only as often as they occur in both.
    assert m.token_f1("go go", "go") == pytest.approx(2 * 1 * 0.5 / 1.5)
    # Unicode punctuation is ignored like ASCII punctuation.
    assert m.token_f1("«Paris», France…", "paris france") == 1.0


def test_tokens_split_cjk_characters() -> None:
    assert m.tokens("東京です") == ["東", "京", "で", "す"]
    assert m.token_f1("東京は首都", "東京") == pytest.approx(2 * 1 * 0.4 / 1.4)


def test_distinct_n_across_answers() -> None:
    # unigrams x, y, y, z → 3 distinct of 4; bigrams (x y), (y z) → 2 of 2.
    assert distinct_n(["x y", "y z"], 1) == pytest.approx(0.75)
    assert distinct_n(["x y", "y z"], 2) == pytest.approx(1.0)
    assert distinct_n(["x y", "x y"], 2) == pytest.approx(0.5)
    assert distinct_n([], 1) == 0.0
    with pytest.raises(ValueError):
        distinct_n(["x"], 0)


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
    wl_bleu = m.wins_losses(a, b, metric="bleu")
    assert wl_bleu.compared == 3
    with pytest.raises(KeyError):
        m.wins_losses(a, b, metric="nonsense")


def test_preference_tally() -> None:
    assert m.preference_tally(["a", "b", "b", "tie", "junk"]) == {"a": 1, "b": 2, "tie": 1}


def test_scoring_in_chunks_gives_the_same_rows_and_corpus_as_one_call() -> None:
    pairs = random_pairs(90, seed=5)
    refs, hyps = [e for e, _ in pairs], [a for _, a in pairs]
    scorer = m.Scorer()
    rows = scorer.add(refs[:40], hyps[:40]) + scorer.add(refs[40:], hyps[40:])
    whole = m.score_pairs(refs, hyps)
    assert rows == whole.rows
    assert scorer.corpus() == pytest.approx(whole.corpus)
    assert scorer.corpus()["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert m.Scorer().corpus() == {"bleu": 0.0, "chrf": 0.0}

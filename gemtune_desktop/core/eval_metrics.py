"""Scores for batch evaluation: how close each answer is to the expected output, and run summaries.

Per row: exact match, normalized exact match (case, punctuation, articles and spacing
ignored, as in SQuAD), token F1, ROUGE-L (longest common token subsequence, F1) and chrF
(character n-gram F-score, n = 1..6, beta = 2, spaces ignored, as sacrebleu's default chrF).
Per run and model: their means, diversity across answers (distinct-1, distinct-2), answer
length, blocked answers per harm category, and wins/losses of one model against the other.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b")
# CJK characters count as one token each; other scripts split on non-word characters.
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W_]+")

ROW_METRICS = ("exact_match", "normalized_exact_match", "token_f1", "rouge_l", "chrf")

METRIC_LABELS = {
    "exact_match": "Exact match",
    "normalized_exact_match": "Exact match (ignoring case, punctuation, spacing)",
    "token_f1": "Word overlap (token F1)",
    "rouge_l": "ROUGE-L (longest shared word sequence)",
    "chrf": "chrF (character n-gram score, 0–100)",
    "distinct_1": "Distinct words (distinct-1)",
    "distinct_2": "Distinct word pairs (distinct-2)",
    "mean_length_words": "Average answer length (words)",
    "mean_length_chars": "Average answer length (characters)",
}


def normalize(text: str) -> str:
    """Lower case, no punctuation, no English articles, single spaces (SQuAD-style)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Words of the normalized text (CJK characters one by one)."""
    return _TOKEN.findall(normalize(text))


def exact_match(expected: str, actual: str) -> float:
    """1.0 when the answers are identical apart from surrounding whitespace."""
    return 1.0 if expected.strip() == actual.strip() else 0.0


def normalized_exact_match(expected: str, actual: str) -> float:
    return 1.0 if normalize(expected) == normalize(actual) else 0.0


def _f1(overlap: float, n_pred: int, n_ref: int) -> float:
    if overlap <= 0 or n_pred == 0 or n_ref == 0:
        return 0.0
    precision = overlap / n_pred
    recall = overlap / n_ref
    return 2 * precision * recall / (precision + recall)


def token_f1(expected: str, actual: str) -> float:
    """Harmonic mean of word precision and recall (bag of words, SQuAD-style)."""
    ref, pred = tokens(expected), tokens(actual)
    if not ref and not pred:
        return 1.0
    common = Counter(ref) & Counter(pred)
    return _f1(sum(common.values()), len(pred), len(ref))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists."""
    if not a or not b:
        return 0
    from rapidfuzz.distance import LCSseq

    return int(LCSseq.similarity(list(a), list(b)))


def rouge_l(expected: str, actual: str) -> float:
    """ROUGE-L F1 over words."""
    ref, pred = tokens(expected), tokens(actual)
    if not ref and not pred:
        return 1.0
    return _f1(lcs_length(ref, pred), len(pred), len(ref))


def _char_ngrams(text: str, n: int) -> Counter[str]:
    return Counter(text[i:i + n] for i in range(len(text) - n + 1))


def chrf(expected: str, actual: str, order: int = 6, beta: float = 2.0) -> float:
    """Sentence chrF (0–100): mean character n-gram precision and recall over n = 1..order, then F-beta.

    Whitespace is removed first; orders for which either text has no n-gram are left out
    (sacrebleu's ``CHRF()`` default behaviour).
    """
    ref = "".join(expected.split())
    hyp = "".join(actual.split())
    if not ref and not hyp:
        return 100.0
    precisions: list[float] = []
    recalls: list[float] = []
    for n in range(1, order + 1):
        ref_grams, hyp_grams = _char_ngrams(ref, n), _char_ngrams(hyp, n)
        n_ref, n_hyp = sum(ref_grams.values()), sum(hyp_grams.values())
        if n_ref == 0 or n_hyp == 0:
            continue
        match = sum((ref_grams & hyp_grams).values())
        precisions.append(match / n_hyp)
        recalls.append(match / n_ref)
    if not precisions:
        return 0.0
    p = sum(precisions) / len(precisions)
    r = sum(recalls) / len(recalls)
    if p + r == 0:
        return 0.0
    b2 = beta * beta
    return 100.0 * (1 + b2) * p * r / (b2 * p + r)


def row_scores(expected: str, actual: str) -> dict[str, float]:
    """Every per-row metric for one answer."""
    return {
        "exact_match": exact_match(expected, actual),
        "normalized_exact_match": normalized_exact_match(expected, actual),
        "token_f1": token_f1(expected, actual),
        "rouge_l": rouge_l(expected, actual),
        "chrf": chrf(expected, actual),
    }


def distinct_n(responses: Iterable[str], n: int) -> float:
    """Distinct n-grams across all answers divided by all n-grams (0 when there are none)."""
    total = 0
    seen: set[tuple[str, ...]] = set()
    for text in responses:
        words = tokens(text)
        grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


# -- run summaries -------------------------------------------------------------------------
@dataclass(slots=True)
class ScoredRow:
    """One answer to score: ``blocked`` is the harm category (or block reason) when it was blocked."""

    example_id: int
    expected: str
    actual: str
    blocked: str = ""
    error: str = ""


@dataclass(slots=True)
class ModelSummary:
    rows: int = 0
    answered: int = 0
    errors: int = 0
    means: dict[str, float] = field(default_factory=dict)
    distinct_1: float = 0.0
    distinct_2: float = 0.0
    mean_length_words: float = 0.0
    mean_length_chars: float = 0.0
    blocked: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "answered": self.answered, "errors": self.errors, "means": dict(self.means),
                "distinct_1": self.distinct_1, "distinct_2": self.distinct_2,
                "mean_length_words": self.mean_length_words, "mean_length_chars": self.mean_length_chars,
                "blocked": dict(self.blocked)}


def summarize(rows: Sequence[ScoredRow]) -> ModelSummary:
    """Means of every row metric over rows that got an answer (blocked answers score 0)."""
    scored = [r for r in rows if not r.error]
    summary = ModelSummary(rows=len(rows), answered=len(scored), errors=len(rows) - len(scored))
    if not scored:
        summary.means = dict.fromkeys(ROW_METRICS, 0.0)
        return summary
    per_metric: dict[str, list[float]] = {m: [] for m in ROW_METRICS}
    for r in scored:
        for name, value in row_scores(r.expected, r.actual).items():
            per_metric[name].append(value)
    summary.means = {m: statistics.fmean(v) for m, v in per_metric.items()}
    answers = [r.actual for r in scored]
    summary.distinct_1 = distinct_n(answers, 1)
    summary.distinct_2 = distinct_n(answers, 2)
    summary.mean_length_words = statistics.fmean(len(tokens(a)) for a in answers)
    summary.mean_length_chars = statistics.fmean(len(a) for a in answers)
    blocked = Counter(r.blocked for r in scored if r.blocked)
    summary.blocked = dict(sorted(blocked.items()))
    return summary


@dataclass(slots=True)
class WinLoss:
    """How often model B's answer scored higher (win), lower (loss) or the same (tie) as model A's."""

    wins: int = 0
    losses: int = 0
    ties: int = 0
    metric: str = "token_f1"

    @property
    def compared(self) -> int:
        return self.wins + self.losses + self.ties

    def to_dict(self) -> dict[str, Any]:
        return {"wins": self.wins, "losses": self.losses, "ties": self.ties, "metric": self.metric}


def wins_losses(a_rows: Sequence[ScoredRow], b_rows: Sequence[ScoredRow], metric: str = "token_f1",
                margin: float = 1e-9) -> WinLoss:
    """Compare B against A row by row (matched by example id) on ``metric``; rows with an error are skipped."""
    if metric not in ROW_METRICS:
        raise KeyError(metric)
    a_by_id = {r.example_id: r for r in a_rows if not r.error}
    result = WinLoss(metric=metric)
    for b in b_rows:
        a = a_by_id.get(b.example_id)
        if a is None or b.error:
            continue
        score_a = row_scores(a.expected, a.actual)[metric]
        score_b = row_scores(b.expected, b.actual)[metric]
        if score_b > score_a + margin:
            result.wins += 1
        elif score_b < score_a - margin:
            result.losses += 1
        else:
            result.ties += 1
    return result


def preference_tally(choices: Iterable[str]) -> dict[str, int]:
    """Blind-review votes: counts of "a", "b" and "tie"."""
    tally = {"a": 0, "b": 0, "tie": 0}
    for c in choices:
        if c in tally:
            tally[c] += 1
    return tally

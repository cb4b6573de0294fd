"""Scores for evaluation: how close each answer is to the expected output, and run summaries.

Per row (sentence level), keys as the command line and the project file use them:

* ``exact_match``: 1 when the answer equals the expected output apart from surrounding whitespace.
* ``token_f1``: word overlap, SQuAD-style (lower case; punctuation and English articles ignored;
  Chinese, Japanese and Korean characters count one by one).
* ``bleu``: sacreBLEU's sentence BLEU (``sacrebleu.sentence_bleu``: 13a tokenizer, exponential
  smoothing, effective order), 0–100.
* ``chrf``: sacreBLEU's chrF2 (``sacrebleu.sentence_chrf``: character 6-grams, beta 2, spaces
  ignored), 0–100.
* ``rouge1``, ``rouge2``, ``rougeL``: Google's ``rouge-score`` ``RougeScorer`` F-measure with its
  default tokenizer (lower case, only a–z and 0–9 kept) and no stemming, 0–1.

Per run: the summary's ``bleu`` and ``chrf`` are corpus-level, as sacreBLEU reports them
(``corpus_bleu`` / ``corpus_chrf`` over all answered rows); the other metrics are the mean of
the row scores. BLEU and chrF are computed by the library's own code from the same per-segment
statistics ``corpus_score`` gathers, so each row's number equals ``sentence_bleu`` /
``sentence_chrf`` and the summary equals ``corpus_bleu`` / ``corpus_chrf`` (tests compare them).
:func:`provenance` names the library, its version and its settings for every number shown.
Diversity (distinct-n) lives in :mod:`gemtune_desktop.core.diversity`.
"""

from __future__ import annotations

import re
import statistics
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from gemtune_desktop.core.diversity import distinct_n

ROW_METRICS = ("exact_match", "token_f1", "bleu", "chrf", "rouge1", "rouge2", "rougeL")
CORPUS_METRICS = ("bleu", "chrf")
LIBRARY_METRICS = ("bleu", "chrf", "rouge1", "rouge2", "rougeL")

METRIC_LABELS = {
    "exact_match": "Exact match",
    "token_f1": "Word overlap (token F1)",
    "bleu": "BLEU (0–100)",
    "chrf": "chrF (character n-gram score, 0–100)",
    "rouge1": "ROUGE-1 (shared words)",
    "rouge2": "ROUGE-2 (shared word pairs)",
    "rougeL": "ROUGE-L (longest shared word sequence)",
    "judge": "Judge (share of rubric points met)",
    "distinct_1": "Distinct words (distinct-1)",
    "distinct_2": "Distinct word pairs (distinct-2)",
    "mean_length_words": "Average answer length (words)",
    "mean_length_chars": "Average answer length (characters)",
}

# The largest value each metric takes (its axis range in plots); everything else is 0..1.
METRIC_SCALE = {"bleu": 100.0, "chrf": 100.0}


def metric_scale(metric: str) -> float:
    return METRIC_SCALE.get(metric, 1.0)


# -- the two metrics GemTune defines itself ---------------------------------------------------
_ARTICLES = re.compile(r"\b(a|an|the)\b")
# CJK characters count as one token each; other scripts split on non-word characters.
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W_]+")


class _PunctuationToSpace(dict[int, str]):
    """``str.translate`` table: Unicode punctuation (category P*) becomes a space, other characters stay.

    Filled on demand (``__missing__``), so only the characters that occur are ever looked up.
    """

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        value = " " if unicodedata.category(ch).startswith("P") else ch
        self[cp] = value
        return value


_PUNCTUATION = _PunctuationToSpace()


def normalize(text: str) -> str:
    """Lower case, no punctuation, no English articles, single spaces (SQuAD-style)."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Words of the normalized text (CJK characters one by one)."""
    return _TOKEN.findall(normalize(text))


def exact_match(expected: str, actual: str) -> float:
    """1.0 when the answers are identical apart from surrounding whitespace."""
    return 1.0 if expected.strip() == actual.strip() else 0.0


def token_f1(expected: str, actual: str) -> float:
    """Harmonic mean of word precision and recall (bag of words, SQuAD-style)."""
    ref, pred = tokens(expected), tokens(actual)
    if not ref and not pred:
        return 1.0
    if not ref or not pred:
        return 0.0
    overlap = sum((Counter(ref) & Counter(pred)).values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred)
    recall = overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


# -- the library metrics ----------------------------------------------------------------------
@dataclass(slots=True)
class PairScores:
    """Scores of many (expected, actual) pairs: one dict per pair, plus corpus BLEU and chrF."""

    rows: list[dict[str, float]]
    corpus: dict[str, float]


class _Libraries:
    """sacreBLEU and rouge-score objects, built once (imports are lazy: rouge-score pulls in nltk)."""

    def __init__(self) -> None:
        from rouge_score import rouge_scorer
        from sacrebleu.metrics import BLEU, CHRF

        self.sentence_bleu = BLEU(effective_order=True)  # what sacrebleu.sentence_bleu uses
        self.corpus_bleu = BLEU()  # what sacrebleu.corpus_bleu uses
        self.chrf = CHRF()  # sentence_chrf and corpus_chrf defaults
        self.rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
        self.lock = threading.Lock()  # sacreBLEU metrics keep per-call state (num_refs)


_libs: _Libraries | None = None
_libs_lock = threading.Lock()


def prewarm() -> None:
    """Import sacreBLEU and rouge-score (which brings nltk and numpy) and build the scorers now.

    Meant for the app's background start-up imports, before its ``gc.freeze()``: imported later,
    during the first evaluation, their ~30,000 new objects set off a full garbage collection that
    pauses every thread, the window's included, for about 100 ms.
    """
    _libraries()


def _libraries() -> _Libraries:
    global _libs
    with _libs_lock:
        if _libs is None:
            _libs = _Libraries()
        return _libs


class Scorer:
    """Scores pairs chunk by chunk (:meth:`add`) and keeps the summed BLEU and chrF statistics, so
    :meth:`corpus` is the corpus score over every pair added, exactly as ``corpus_score`` would give.

    BLEU and chrF statistics are gathered once per pair by sacreBLEU
    (``Metric._extract_corpus_statistics``, the step ``corpus_score`` itself runs) and turned
    into each row's sentence score and the corpus score by the library's own functions.
    """

    def __init__(self) -> None:
        self._libs = _libraries()
        self._bleu_sum: list[int] | None = None
        self._chrf_sum: list[int] | None = None
        self.count = 0

    def add(self, expected: Sequence[str], actual: Sequence[str]) -> list[dict[str, float]]:
        """Every row metric for each (expected, actual) pair."""
        if len(expected) != len(actual):
            raise ValueError("expected and actual must have the same length")
        if not expected:
            return []
        from sacrebleu.utils import sum_of_lists

        libs = self._libs
        refs = [list(expected)]
        hyps = list(actual)
        with libs.lock:
            bleu_stats = libs.sentence_bleu._extract_corpus_statistics(hyps, refs)
            chrf_stats = libs.chrf._extract_corpus_statistics(hyps, refs)
            bleu_row = libs.sentence_bleu._compute_score_from_stats
            chrf_row = libs.chrf._compute_f_score
            rouge = libs.rouge.score
            rows = []
            for exp, act, b, c in zip(expected, actual, bleu_stats, chrf_stats, strict=True):
                r = rouge(exp, act)
                rows.append({"exact_match": exact_match(exp, act), "token_f1": token_f1(exp, act),
                             "bleu": float(bleu_row(b).score), "chrf": float(chrf_row(c)),
                             "rouge1": float(r["rouge1"].fmeasure), "rouge2": float(r["rouge2"].fmeasure),
                             "rougeL": float(r["rougeL"].fmeasure)})
        self._bleu_sum = _add(self._bleu_sum, sum_of_lists(bleu_stats))
        self._chrf_sum = _add(self._chrf_sum, sum_of_lists(chrf_stats))
        self.count += len(rows)
        return rows

    def corpus(self) -> dict[str, float]:
        """Corpus BLEU and chrF over every pair added so far (0 when none)."""
        if self._bleu_sum is None or self._chrf_sum is None:
            return dict.fromkeys(CORPUS_METRICS, 0.0)
        libs = self._libs
        with libs.lock:
            return {"bleu": float(libs.corpus_bleu._compute_score_from_stats(self._bleu_sum).score),
                    "chrf": float(libs.chrf._compute_score_from_stats(self._chrf_sum).score)}


def _add(total: list[int] | None, more: list[int]) -> list[int]:
    return list(more) if total is None else [a + b for a, b in zip(total, more, strict=True)]


def score_pairs(expected: Sequence[str], actual: Sequence[str]) -> PairScores:
    """Every row metric for each pair, and corpus BLEU / chrF over all pairs."""
    scorer = Scorer()
    rows = scorer.add(expected, actual)
    return PairScores(rows, scorer.corpus())


def row_scores(expected: str, actual: str) -> dict[str, float]:
    """Every per-row metric for one answer."""
    return score_pairs([expected], [actual]).rows[0]


@cache
def provenance() -> dict[str, str]:
    """For each metric: which library (and version) and settings produced it, in words for a tooltip."""
    import importlib.metadata

    import sacrebleu

    libs = _libraries()
    with libs.lock:  # signatures need the number of references, known after one call
        libs.sentence_bleu.sentence_score("a", ["a"])
        libs.corpus_bleu.corpus_score(["a"], [["a"]])
        libs.chrf.corpus_score(["a"], [["a"]])
        sent_sig = f"BLEU|{libs.sentence_bleu.get_signature()}"
        corpus_sig = f"BLEU|{libs.corpus_bleu.get_signature()}"
        chrf_sig = f"chrF2|{libs.chrf.get_signature()}"
    try:
        rouge_version = importlib.metadata.version("rouge-score")
    except importlib.metadata.PackageNotFoundError:  # a packaged build without the package's metadata
        rouge_version = "(version not recorded in this build)"
    rouge = f"rouge-score {rouge_version} (Google's reference implementation)"
    rouge_settings = ("F-measure; default tokenizer (lower case, only letters a–z and digits kept, so accented "
                      "and non-Latin letters are dropped); no stemming")
    sb = f"sacreBLEU {sacrebleu.__version__}"
    return {
        "exact_match": "GemTune: 1 when the answer equals the expected output apart from surrounding spaces.",
        "token_f1": "GemTune: word-overlap F1 as in SQuAD (lower case; punctuation and a/an/the ignored; "
                    "Chinese, Japanese and Korean characters count one by one).",
        "bleu": f"{sb}: each row is sentence BLEU ({sent_sig}); the run's figure is corpus BLEU ({corpus_sig}).",
        "chrf": f"{sb}: chrF2 ({chrf_sig}); each row is sentence chrF, the run's figure corpus chrF.",
        "rouge1": f"{rouge}: ROUGE-1 {rouge_settings}; the run's figure is the mean of the rows.",
        "rouge2": f"{rouge}: ROUGE-2 {rouge_settings}; the run's figure is the mean of the rows.",
        "rougeL": f"{rouge}: ROUGE-L {rouge_settings}; the run's figure is the mean of the rows.",
    }


_NON_ROUGE_LETTER = re.compile(r"[^\W\da-zA-Z_]")


def caveats(texts: Iterable[str]) -> list[str]:
    """Plain warnings about how the library metrics treat these texts (shown beside the scores)."""
    for text in texts:
        if _NON_ROUGE_LETTER.search(text):
            return ["Some answers contain accented or non-Latin letters. ROUGE (rouge-score's default "
                    "tokenizer) keeps only a–z and 0–9, so those letters do not count; chrF and token F1 do."]
    return []


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
    """A model's run.

    ``means`` holds the run's figure per metric: the mean of the row scores, except BLEU and
    chrF, which are corpus-level (``corpus``); ``sentence_means`` are plain means of all rows.
    """

    rows: int = 0
    answered: int = 0
    errors: int = 0
    means: dict[str, float] = field(default_factory=dict)
    sentence_means: dict[str, float] = field(default_factory=dict)
    corpus: dict[str, float] = field(default_factory=dict)
    distinct_1: float = 0.0
    distinct_2: float = 0.0
    mean_length_words: float = 0.0
    mean_length_chars: float = 0.0
    blocked: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "answered": self.answered, "errors": self.errors, "means": dict(self.means),
                "sentence_means": dict(self.sentence_means), "corpus": dict(self.corpus),
                "distinct_1": self.distinct_1, "distinct_2": self.distinct_2,
                "mean_length_words": self.mean_length_words, "mean_length_chars": self.mean_length_chars,
                "blocked": dict(self.blocked)}


def summarize(rows: Sequence[ScoredRow], scores: PairScores | None = None) -> ModelSummary:
    """Figures over rows that got an answer (blocked answers score 0); ``scores`` are those rows'
    scores from :func:`score_pairs` when already computed."""
    scored = [r for r in rows if not r.error]
    summary = ModelSummary(rows=len(rows), answered=len(scored), errors=len(rows) - len(scored))
    if not scored:
        summary.means = dict.fromkeys(ROW_METRICS, 0.0)
        summary.sentence_means = dict.fromkeys(ROW_METRICS, 0.0)
        summary.corpus = dict.fromkeys(CORPUS_METRICS, 0.0)
        return summary
    if scores is None:
        scores = score_pairs([r.expected for r in scored], [r.actual for r in scored])
    if len(scores.rows) != len(scored):
        raise ValueError("scores must cover exactly the rows without an error")
    summary.sentence_means = {m: statistics.fmean(s[m] for s in scores.rows) for m in ROW_METRICS}
    summary.corpus = dict(scores.corpus)
    summary.means = {**summary.sentence_means, **summary.corpus}
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
                margin: float = 1e-9, scores: dict[tuple[int, int], dict[str, float]] | None = None) -> WinLoss:
    """Compare B against A row by row (matched by example id) on ``metric``; rows with an error are skipped.

    ``scores`` maps (example_id, slot) to already computed row scores (slot 0 = A, 1 = B).
    """
    if metric not in ROW_METRICS:
        raise KeyError(metric)
    a_by_id = {r.example_id: r for r in a_rows if not r.error}
    pairs = [(a_by_id[b.example_id], b) for b in b_rows if not b.error and b.example_id in a_by_id]
    if scores is None:
        a_scores = score_pairs([a.expected for a, _ in pairs], [a.actual for a, _ in pairs]).rows
        b_scores = score_pairs([b.expected for _, b in pairs], [b.actual for _, b in pairs]).rows
    else:
        a_scores = [scores[(a.example_id, 0)] for a, _ in pairs]
        b_scores = [scores[(b.example_id, 1)] for _, b in pairs]
    result = WinLoss(metric=metric)
    for sa, sb in zip(a_scores, b_scores, strict=True):
        if sb[metric] > sa[metric] + margin:
            result.wins += 1
        elif sb[metric] < sa[metric] - margin:
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

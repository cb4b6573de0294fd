"""How far the judge can be trusted: its agreement with the expert on the rows both labelled.

Two kinds of expert labels are compared with the judge:

* **ratings** of single answers (pass / fail), against the judge's verdict on the same answer;
* **blind-review votes** between two models' answers (a / b / tie), against the judge's
  preference, read from its scores (the share of rubric points met) of the two answers.

:func:`agreement` gives the share of rows where both said the same and Cohen's kappa
(J. Cohen, "A coefficient of agreement for nominal scales", Educational and Psychological
Measurement 20(1), 1960): ``(p_o - p_e) / (1 - p_e)``, where ``p_e`` is the agreement expected by
chance from each side's own label frequencies. Kappa is read with Landis and Koch's bands (1977):
below 0.40 counts as low here, and so does agreeing on fewer than 70 % of the rows. With fewer
than :data:`MIN_ROWS` rows the figure is shown but called too few to trust.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LOW_KAPPA = 0.40
LOW_SHARE = 0.70
MIN_ROWS = 10

KAPPA_BANDS = ((0.0, "poor"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial"),
               (1.01, "almost perfect"))


def kappa_words(kappa: float) -> str:
    """Landis and Koch's name for a kappa value."""
    if kappa < 0:
        return "poor"
    for bound, name in KAPPA_BANDS:
        if kappa <= bound:
            return name
    return "almost perfect"


@dataclass(frozen=True, slots=True)
class Agreement:
    """``kappa`` is None when chance agreement is certain (both sides gave every row one and the same label)."""

    rows: int
    agreed: int
    kappa: float | None

    @property
    def share(self) -> float:
        return self.agreed / self.rows if self.rows else 0.0

    @property
    def low(self) -> bool:
        return self.rows > 0 and (self.share < LOW_SHARE or (self.kappa is not None and self.kappa < LOW_KAPPA))

    @property
    def too_few(self) -> bool:
        return self.rows < MIN_ROWS

    def words(self) -> str:
        """One line for the judge panel."""
        if not self.rows:
            return "No rows have both an expert label and a judge verdict yet."
        text = f"Judge and expert agree on {self.agreed} of {self.rows} rows ({self.share:.0%})"
        if self.kappa is None:
            text += "; Cohen's κ cannot be computed (every row got the same label from both)."
        else:
            text += f"; Cohen's κ = {self.kappa:.2f} ({kappa_words(self.kappa)})."
        return text

    def warning(self) -> str:
        """A plain warning when the judge should not be trusted yet ("" otherwise)."""
        if not self.rows:
            return ""
        if self.low:
            return ("Low agreement: the judge often disagrees with you. Make the rubric more specific (one point "
                    "per line, what exactly must be present), judge again, and check a few explanations.")
        if self.too_few:
            return (f"Only {self.rows} rows are labelled by both; label at least {MIN_ROWS} before trusting the "
                    "agreement figure.")
        return ""

    def to_dict(self) -> dict[str, object]:
        return {"rows": self.rows, "agreed": self.agreed, "share": self.share, "kappa": self.kappa,
                "low": self.low, "too_few": self.too_few}


def agreement(pairs: Iterable[tuple[str, str]]) -> Agreement:
    """Agreement of (judge label, expert label) pairs over any set of nominal labels."""
    items = list(pairs)
    n = len(items)
    if not n:
        return Agreement(0, 0, None)
    agreed = sum(1 for j, e in items if j == e)
    judge_counts = Counter(j for j, _ in items)
    expert_counts = Counter(e for _, e in items)
    p_o = agreed / n
    p_e = sum(judge_counts[label] * expert_counts[label] for label in judge_counts) / (n * n)
    kappa = None if p_e >= 1.0 else (p_o - p_e) / (1.0 - p_e)
    return Agreement(n, agreed, kappa)


def rating_agreement(judge: Mapping[tuple[int, int], str], expert: Mapping[tuple[int, int], str]) -> Agreement:
    """Judge verdicts vs expert ratings, both "pass"/"fail" keyed by (example id, slot)."""
    return agreement((judge[k], expert[k]) for k in sorted(judge.keys() & expert.keys()))


def judge_preference(score_a: float, score_b: float, margin: float = 1e-9) -> str:
    """"a", "b" or "tie" from the judge's scores of model A's and model B's answers."""
    if score_a > score_b + margin:
        return "a"
    if score_b > score_a + margin:
        return "b"
    return "tie"


def vote_agreement(scores: Mapping[tuple[int, int], float], votes: Mapping[int, str]) -> Agreement:
    """Judge preferences (from its scores of slots 0 and 1) vs the expert's blind-review votes."""
    pairs = []
    for example_id in sorted(votes):
        a, b = scores.get((example_id, 0)), scores.get((example_id, 1))
        if a is None or b is None:
            continue
        pairs.append((judge_preference(a, b), votes[example_id]))
    return agreement(pairs)

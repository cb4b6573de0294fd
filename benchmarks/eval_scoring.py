"""Benchmark: scoring 100,000 answer pairs with the library metrics costs little more than the libraries alone.

GemTune's scoring (``batch_eval._score_in_chunks``, what a stored run's summary uses: every row's
exact match, token F1, sentence BLEU and chrF, ROUGE-1/2/L, and corpus BLEU and chrF) against the
floor of the libraries' own batch calls on the same pairs: ``BLEU().corpus_score`` and
``CHRF().corpus_score`` from sacreBLEU, and rouge-score's ``RougeScorer.score`` for each pair
(rouge-score has no call for many pairs). Pairs are made-up answers of 5–40 words.

Prints:
  RESULT eval_scoring_100k ratio=<GemTune seconds / library seconds> goal=1.5

Usage: .venv/bin/python benchmarks/eval_scoring.py [--pairs 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL = 1.5
TEXT = ("the tenant may sublet the flat with written consent of the landlord under clause notice rent deposit "
        "court party repairs boiler within days months agreement terminate breach damages liable")
WORDS = TEXT.split(" ")


def pairs(n: int, seed: int = 11) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40))).capitalize() + "."

    return [sentence() for _ in range(n)], [sentence() for _ in range(n)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    args = parser.parse_args()
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import BLEU, CHRF

    from gemtune_desktop.core.project.evals_repo import EvalRow
    from gemtune_desktop.services.batch_eval import _score_in_chunks

    refs, hyps = pairs(args.pairs)
    rows = [EvalRow(1, i, 0, "q", r, h) for i, (r, h) in enumerate(zip(refs, hyps, strict=True))]
    _score_in_chunks(None, rows[:200])  # imports and objects built once, as in the app after the first run

    started = time.perf_counter()
    bleu = BLEU().corpus_score(hyps, [refs]).score
    chrf = CHRF().corpus_score(hyps, [refs]).score
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    for r, h in zip(refs, hyps, strict=True):
        scorer.score(r, h)
    floor = time.perf_counter() - started

    started = time.perf_counter()
    ours = _score_in_chunks(None, rows)
    elapsed = time.perf_counter() - started
    same = abs(ours.corpus["bleu"] - bleu) < 1e-9 and abs(ours.corpus["chrf"] - chrf) < 1e-9
    print(f"{args.pairs:,} pairs: libraries' own calls {floor:.1f} s, GemTune's scoring {elapsed:.1f} s "
          f"(corpus BLEU {bleu:.2f}, chrF {chrf:.2f}; identical: {same})")
    print(f"RESULT eval_scoring_100k ratio={elapsed / floor:.3f} goal={GOAL}")
    return 0 if same and len(ours.rows) == args.pairs else 1


if __name__ == "__main__":
    sys.exit(main())

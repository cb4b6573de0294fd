"""Preference validation at scale: an edit re-validated while typing, and a full pass over the whole set.

Each figure is printed as a ratio against a floor measured in the same run:

* edit: ``PreferenceValidator.update`` of one example plus the status counts and that example's findings
  (what the Dataset tab does per keystroke) vs one 60 Hz frame (16.7 ms); goal 1 (a fraction of a frame);
* full pass: ``PreferenceValidator.reset`` over every example vs serialising the same examples into the upload
  file (``upload_lines``), which validation has to do anyway to know the file size; best of three rounds each,
  interleaved; goal 3.

Usage: ``.venv/bin/python benchmarks/preference_validation.py [--rows N]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

from _common import FRAME_S, result


def main() -> int:
    from gemtune_desktop.core.examples import Split
    from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
    from gemtune_desktop.core.preference.validation import PreferenceValidator
    from gemtune_desktop.core.preference.writers import upload_lines

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(7)
    words = ["lease", "tenant", "repair", "Kaution", "préavis", "契約", "問題", "deposit", "notice", "landlord",
             "late", "broken", "café", "naïve", "sublet", "pets"]
    examples = []
    for i in range(args.rows):
        prompt = f"Question {i}: " + " ".join(rng.choice(words) for _ in range(25))
        good = " ".join(rng.choice(words) for _ in range(15))
        bad = " ".join(rng.choice(words) for _ in range(12))
        split = Split.VALIDATION if i % 20 == 0 else Split.TRAIN
        examples.append(PreferenceExample(prompt, good, bad, split=split, id=i + 1))
    settings = PreferenceSettings(preamble="Answer as the firm's paralegal.", system_instruction="Be exact.")

    floors, ours = [], []
    validator = PreferenceValidator(settings)
    for _round in range(3):  # interleaved, best of three: the machine is shared
        t0 = time.perf_counter()
        size = sum(map(len, upload_lines(examples, settings)))
        floors.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        validator.reset(examples)
        ours.append(time.perf_counter() - t0)
    floor_full, ours_full = min(floors), min(ours)
    assert validator.train_file_bytes <= size
    result("preference_full_validation_vs_upload_serialisation", ours_full * 1000, floor_full * 1000, 3.0)

    edits = []
    for k in range(200):
        e = examples[rng.randrange(len(examples))].copy()
        e.preferred = f"edited answer {k}"
        t0 = time.perf_counter()
        validator.update([e])
        validator.counts()
        validator.findings_for(e.id)
        edits.append(time.perf_counter() - t0)
    result("preference_edit_revalidate_vs_frame", statistics.median(edits) * 1000, FRAME_S * 1000, 1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

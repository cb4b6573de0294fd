"""Speed and memory of ``gemtune-desktop check`` on large JSONL files, against orjson alone.

Generates (once) JSONL files of 100,000 and 1,000,000 single-turn examples into benchmarks/.data/
(about 200-character inputs and 100-character outputs, mixed ASCII / Latin-1 / CJK text, as in
qt-performance-notes.md §2), then times in fresh subprocesses, median of several runs:

* floor: ``[orjson.loads(line) for line in open(path, "rb")]``
* check: ``run_check(path, as_json=True)`` (read, validate with every rule, print the JSON report)

and prints ``RESULT check_100k ratio=<check/floor> goal=2.0``, ``RESULT check_1m ratio=...`` and
``RESULT check_peak_memory ratio=<peak RSS of check on 1M / file size> goal=3.0``. Times exclude interpreter
start-up and module imports on both sides; the ratios use CPU time (steadier on a shared machine), the
wall-clock ratio is printed beside them. Finally it times single-row edits in the IncrementalValidator over
the 1M rows against one 60 Hz frame: ``RESULT incremental_edit_1m ratio=<p99 ms / 16 ms> goal=1.0``.

Usage: .venv/bin/python benchmarks/check_speed.py [--runs 3] [--skip-1m]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"

ASCII_WORDS = ["the", "customer", "asked", "about", "a", "refund", "for", "the", "order", "placed", "last", "week",
               "and", "wants", "to", "know", "when", "the", "money", "will", "be", "back", "on", "the", "card",
               "please", "check", "the", "status", "of", "shipment", "number"]
LATIN_WORDS = ["café", "naïve", "résumé", "über", "señor", "garçon", "déjà", "vu", "crème", "brûlée", "façade", "Ærø",
               "smörgåsbord", "fiancée"]
CJK_WORDS = ["東京", "データ", "日本語", "学習", "注文", "返金", "顧客", "配送", "状況", "確認", "서울", "데이터",
             "中文", "模型"]


def _text(rng: random.Random, length: int, kind: int) -> str:
    words = ASCII_WORDS if kind == 0 else ASCII_WORDS + LATIN_WORDS if kind == 1 else ASCII_WORDS + CJK_WORDS
    out: list[str] = []
    size = 0
    target = rng.randint(int(length * 0.7), int(length * 1.3))
    while size < target:
        w = rng.choice(words)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)


def generate(path: Path, n: int) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(n)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        for _ in range(n):
            kind = rng.choices((0, 1, 2), (6, 3, 1))[0]
            rec = {"text_input": _text(rng, 200, kind), "output": _text(rng, 100, kind)}
            f.write(orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE))
    tmp.replace(path)


FLOOR = """
import time, orjson, sys, resource
t, c = time.perf_counter(), time.process_time()
rows = [orjson.loads(line) for line in open(sys.argv[1], "rb")]
dt, dc = time.perf_counter() - t, time.process_time() - c
print(dt, dc, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""

CHECK = """
import io, os, sys, time, resource, contextlib
sys.path.insert(0, sys.argv[2])
from gemtune_desktop.commands.check import run_check
import gemtune_desktop.core.formats.jsonio  # imported on first use; module imports are outside both timings
t, c = time.perf_counter(), time.process_time()
with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
    code = run_check(sys.argv[1], "gemini-api", True)
dt, dc = time.perf_counter() - t, time.process_time() - c
print(dt, dc, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


INCREMENTAL = """
import random, statistics, sys, time, resource
sys.path.insert(0, sys.argv[2])
from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.formats import read_dataset
from gemtune_desktop.core.validation import IncrementalValidator
examples = read_dataset(sys.argv[1]).examples
for i, e in enumerate(examples, 1):
    e.id = i
v = IncrementalValidator(DatasetSettings(), "gemini-api")
t = time.perf_counter()
v.reset(examples)
reset_s = time.perf_counter() - t
rng = random.Random(1)
times = []
for k in range(500):
    e = examples[rng.randrange(len(examples))]
    edited = Example(e.input + " edited" if k % 3 else examples[0].input, e.output, e.split, id=e.id)
    t = time.perf_counter()
    v.update([edited])
    v.findings_for(edited.id)
    v.counts()
    times.append(time.perf_counter() - t)
times.sort()
print(reset_s, statistics.median(times), times[int(len(times) * 0.99)], times[-1],
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def incremental(path: Path) -> None:
    """One edit (update + the edited row's findings + the status-bar counts) on a 1,000,000-row dataset."""
    out = subprocess.run([sys.executable, "-c", INCREMENTAL, str(path), str(ROOT)], capture_output=True, text=True,
                         check=True).stdout.split()
    reset_s, median, p99, worst, rss = (float(x) for x in out)
    print(json.dumps({"reset_s": round(reset_s, 2), "edit_median_ms": round(median * 1e3, 3),
                      "edit_p99_ms": round(p99 * 1e3, 3), "edit_max_ms": round(worst * 1e3, 3),
                      "peak_rss_mb": round(rss / 1e6)}))
    print(f"RESULT incremental_edit_1m ratio={p99 * 1e3 / 16:.4f} goal=1.0")


def _run(script: str, path: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS bytes) of one fresh subprocess (imports excluded from the times)."""
    out = subprocess.run([sys.executable, "-c", script, str(path), str(ROOT)], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def measure(path: Path, runs: int) -> dict[str, float]:
    """Medians over ``runs`` alternating floor/check runs. The ratio uses CPU time, which other processes on a
    shared machine disturb far less than wall time; the wall-time ratio is reported beside it."""
    fw, fc, cw, cc, rss = [], [], [], [], []
    for _ in range(runs):
        w, c, _ = _run(FLOOR, path)
        fw.append(w)
        fc.append(c)
        w, c, peak = _run(CHECK, path)
        cw.append(w)
        cc.append(c)
        rss.append(peak)
    med = statistics.median
    return {"orjson_cpu_s": round(med(fc), 3), "check_cpu_s": round(med(cc), 3), "orjson_wall_s": round(med(fw), 3),
            "check_wall_s": round(med(cw), 3), "ratio": med(cc) / med(fc), "wall_ratio": round(med(cw) / med(fw), 2),
            "peak_rss": max(rss)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-1m", action="store_true")
    args = ap.parse_args()
    p100k = DATA / "check_100k.jsonl"
    generate(p100k, 100_000)
    m = measure(p100k, args.runs)
    size = p100k.stat().st_size
    print(json.dumps({"file": p100k.name, "mb": round(size / 1e6, 1), **m, "peak_rss": round(m["peak_rss"] / 1e6)}))
    print(f"RESULT check_100k ratio={m['ratio']:.2f} goal=2.0")
    if not args.skip_1m:
        p1m = DATA / "check_1m.jsonl"
        generate(p1m, 1_000_000)
        m = measure(p1m, 1)
        size = p1m.stat().st_size
        print(json.dumps({"file": p1m.name, "mb": round(size / 1e6, 1), **m, "peak_rss": round(m["peak_rss"] / 1e6)}))
        print(f"RESULT check_1m ratio={m['ratio']:.2f}")
        print(f"RESULT check_peak_memory ratio={m['peak_rss'] / size:.2f} goal=3.0")
        incremental(p1m)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run every benchmark in this folder and print one table of ratios against their floors.

Each ``benchmarks/*.py`` script (other than this one) runs in its own subprocess and prints
lines ``RESULT <name> ratio=<x> goal=<y>`` (the goal may be left out); the ratio is measured against a floor taken in
the same run. The table ends with the machine it came from (CPU, Python, Qt), so the figures
can be pasted into the README as they are.

Usage: ``python benchmarks/run_all.py [--only NAME ...] [--timeout SECONDS]``
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULT_RE = re.compile(r"^RESULT\s+(?P<name>\S+)\s+ratio=(?P<ratio>[-+0-9.eE]+|nan|inf)(?:\s+goal=(?P<goal>\S+))?")


@dataclass
class Result:
    script: str
    name: str
    ratio: float | None
    goal: str
    seconds: float
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.ratio is None:
            return "no result"
        if not self.goal:
            return "(no goal)"
        try:
            goal = float(self.goal.lstrip("≤<="))
        except ValueError:
            return ""
        # Goals of at least 1 are ceilings (app vs floor); below 1 they are floors (throughput share).
        ok = self.ratio <= goal if goal >= 1 else self.ratio >= goal
        return "meets goal" if ok else "misses goal"


def scripts(only: list[str]) -> list[Path]:
    found = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    if only:
        found = [p for p in found if p.stem in only]
    return found


def run_script(path: Path, timeout_s: float) -> list[Result]:
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(path)], cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout_s, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except subprocess.TimeoutExpired:
        return [Result(path.name, path.stem, None, "", time.perf_counter() - start, f"timed out ({timeout_s:g} s)")]
    seconds = time.perf_counter() - start
    results = []
    for line in proc.stdout.splitlines():
        match = RESULT_RE.match(line.strip())
        if match:
            ratio = float(match["ratio"])
            results.append(Result(path.name, match["name"], ratio, match["goal"] or "", seconds))
    if not results:
        tail = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
        results.append(Result(path.name, path.stem, None, "", seconds, f"exit {proc.returncode}: {tail[:100]}"))
    return results


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def qt_versions() -> str:
    try:
        proc = subprocess.run([sys.executable, "-c", "import PySide6, PySide6.QtCore as c; "
                               "print(PySide6.__version__, c.qVersion())"],
                              capture_output=True, text=True, timeout=60)
        pyside, qt = proc.stdout.split()
        return f"PySide6 {pyside}, Qt {qt}"
    except (ValueError, OSError, subprocess.SubprocessError):
        return "PySide6 not importable"


def machine() -> str:
    return (f"{os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {qt_versions()}")


def table(results: list[Result]) -> str:
    rows = [("benchmark", "ratio", "goal", "verdict", "time")]
    for r in results:
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}"
        rows.append((r.name, ratio, r.goal or "—", r.note or r.verdict, f"{r.seconds:.0f} s"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=[], help="run only these benchmarks (file names without .py)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per script (default 1800)")
    args = parser.parse_args(argv)
    results: list[Result] = []
    for path in scripts(args.only):
        print(f"running {path.name} …", flush=True)
        found = run_script(path, args.timeout)
        for r in found:
            shown = "—" if r.ratio is None else f"{r.ratio:.2f}"
            print(f"  {r.name}: ratio {shown} (goal {r.goal or '—'}) {r.note}".rstrip(), flush=True)
        results.extend(found)
    print()
    print(table(results))
    print()
    print(f"Machine: {machine()}")
    return 0 if all(r.ratio is not None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

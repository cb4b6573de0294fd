"""Benchmark: importing an ordinary Excel workbook keeps memory under 3× the file's uncompressed text.

A workbook of N rows (default 100,000; an input of 8–30 words and an output of 3–15 words, as a support
lead's export would have) is written with openpyxl first. A fresh process then imports it as the Dataset
tab does (``core.formats.read_dataset``, openpyxl's streaming reader underneath) and keeps the examples. The
figure is that process's peak resident memory growth over what it had once its libraries were imported,
against the floor: the workbook's uncompressed text (the XML its zip holds, unpacked). The growth is almost
all the imported examples themselves (the reader keeps no copy of the sheet), so it is also printed against
the UTF-8 size of the cells' text alone, where Python's strings and objects cost about 3.5×.

Prints:
  RESULT xlsx_import_memory ratio=<peak memory growth / unpacked workbook bytes> goal=3.0

Usage: .venv/bin/python benchmarks/xlsx_import_memory.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from _common import ROOT, result

WORDS = ("tenant", "landlord", "deposit", "notice", "clause", "repair", "boiler", "lease", "rent", "term",
         "party", "agree", "written", "consent", "Kündigung", "préavis", "契約")

IMPORT = """
import json, resource, sys
sys.path.insert(0, sys.argv[2])
import openpyxl  # noqa: F401  (imported before the baseline, as the app has it by the time it imports)
from gemtune_desktop.core.formats import read_dataset
from _common import rss_bytes
base = rss_bytes()
examples = read_dataset(sys.argv[1]).examples
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"rows": len(examples), "base": base, "peak": peak}))
"""


def write_workbook(path: Path, rows: int) -> tuple[int, int]:
    """(UTF-8 bytes of the cell text, unpacked bytes of the workbook)."""
    from openpyxl import Workbook

    rng = random.Random(3)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Examples")
    ws.append(["input", "output"])
    text = 0
    for _ in range(rows):
        question = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
        answer = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 15)))
        ws.append([question, answer])
        text += len(question.encode()) + len(answer.encode())
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        unpacked = sum(i.file_size for i in z.infolist())
    return text, unpacked


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gemtune-xlsx-bench-") as tmp:
        path = Path(tmp) / "export.xlsx"
        text, unpacked = write_workbook(path, args.rows)
        out = subprocess.run([sys.executable, "-c", IMPORT, str(path), str(ROOT)], capture_output=True, text=True,
                             check=True, cwd=Path(__file__).parent).stdout
        got = json.loads(out)
        assert got["rows"] == args.rows, got
        growth = got["peak"] - got["base"]
        print(json.dumps({"rows": args.rows, "file_mb": round(path.stat().st_size / 1e6, 1),
                          "unpacked_mb": round(unpacked / 1e6, 1), "cell_text_mb": round(text / 1e6, 1),
                          "peak_growth_mb": round(growth / 1e6, 1),
                          "growth_vs_cell_text": round(growth / text, 2)}))
        result("xlsx_import_memory", growth / 1e6, unpacked / 1e6, 3.0, unit="MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``gemtune-desktop check`` and ``convert`` on preference files, run as the user runs them: a subprocess, real
files in real encodings, exit codes; ``check --json`` names the kind of examples and their number."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gemtune_desktop.core.preference.formats import read_preference_dataset

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gemtune_desktop", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, timeout=120)


def pairs_jsonl(path: Path, n: int = 30) -> Path:
    path.write_text("".join(json.dumps({"prompt": f"Is clause {i} fair to the tenant?",
                                        "chosen": f"Clause {i} is fair: both sides give a month's notice.",
                                        "rejected": f"Who knows about clause {i}."}, ensure_ascii=False) + "\n"
                            for i in range(n)), "utf-8")
    return path


def test_check_json_reports_the_kind_and_count_of_preference_examples(tmp_path: Path) -> None:
    res = run("check", str(DATA / "preference_documented.jsonl"), "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert list(doc) == ["file", "format", "kind", "target", "examples", "findings"]
    assert (doc["kind"], doc["target"], doc["examples"]) == ("preference", "agent-platform",
                                                            len(read_preference_dataset(DATA /
                                                                                        "preference_documented.jsonl")))
    supervised = json.loads(run("check", str(DATA / "agent_platform.jsonl"), "--json").stdout)
    assert supervised["kind"] == "supervised" and supervised["examples"] > 0


def test_check_finds_preference_problems_with_their_lines(tmp_path: Path) -> None:
    path = pairs_jsonl(tmp_path / "pairs.jsonl", 30)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"prompt": "Same answers?", "chosen": "Yes.", "rejected": "Yes."}) + "\n")  # line 31
        f.write('{"prompt": "cut off", "chosen": \n')                                                # line 32
    res = run("check", str(path), "--json", "--target", "gemini-api")
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert (doc["kind"], doc["examples"], doc["target"]) == ("preference", 31, "agent-platform")
    lines = {f["line"] for f in doc["findings"] if f["severity"] == "error"}
    assert {31, 32} <= lines
    human = run("check", str(path), "--target", "gemini-api")
    assert human.returncode == 1
    assert "Holds:    preference examples (prompt, preferred and dispreferred answer)" in human.stdout
    assert "Preference tuning runs only on Agent Platform" in human.stdout
    assert "row 31, dispreferred: The preferred and the dispreferred answer are the same" in human.stdout
    assert "line 32: This line is not valid JSON" in human.stdout
    assert human.stderr == ""


@pytest.mark.parametrize(("target", "fmt", "suffix"), [
    ("agent-platform", "agent-platform", ".jsonl"), (None, "jsonl", ".jsonl"), (None, "json", ".json"),
    (None, "csv", ".csv"), (None, "tsv", ".tsv"), (None, "xlsx", ".xlsx"),
])
def test_convert_keeps_preference_examples_in_every_format(tmp_path: Path, target: str | None, fmt: str,
                                                          suffix: str) -> None:
    src = pairs_jsonl(tmp_path / "pairs.jsonl", 12)
    dst = tmp_path / f"out{suffix}"
    res = run("convert", str(src), str(dst), *(["--to", target] if target else []))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"Wrote 12 preference examples to {dst} ({fmt})."
    back = read_preference_dataset(dst)
    original = read_preference_dataset(src)
    assert [(e.prompt, e.preferred, e.dispreferred) for e in back.examples] == \
        [(e.prompt, e.preferred, e.dispreferred) for e in original.examples]
    if fmt == "agent-platform":
        first = json.loads(dst.read_text("utf-8").splitlines()[0])
        assert [c["score"] for c in first["completions"]] == [1, 0]
    again = json.loads(run("check", str(dst), "--json").stdout)
    assert (again["kind"], again["examples"]) == ("preference", 12)


def test_convert_a_preference_table_in_windows_encoding_and_refuse_what_cannot_hold_it(tmp_path: Path) -> None:
    src = tmp_path / "prefs.csv"
    with open(src, "w", encoding="cp1252", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["Prompt", "Preferred", "Dispreferred"])
        for i in range(5):
            w.writerow([f"Caution money for flat {i}?", f"Two months' rent, returned within 30 days — café {i}.",
                        "Some money."])
    dst = tmp_path / "prefs.jsonl"
    res = run("convert", str(src), str(dst), "--to", "agent-platform")
    assert res.returncode == 0, res.stderr
    back = read_preference_dataset(dst)
    assert len(back) == 5 and back.examples[3].preferred == "Two months' rent, returned within 30 days — café 3."
    refused = run("convert", str(src), str(tmp_path / "x.jsonl"), "--to", "openai")
    assert refused.returncode == 2 and not (tmp_path / "x.jsonl").exists()
    assert refused.stderr.startswith("gemtune-desktop convert: prefs.csv holds preference examples")
    assert "Traceback" not in refused.stderr


def test_convert_reports_unreadable_preference_records(tmp_path: Path) -> None:
    src = pairs_jsonl(tmp_path / "pairs.jsonl", 6)
    with open(src, "a", encoding="utf-8") as f:
        f.write("{not json\n")
    res = run("convert", str(src), str(tmp_path / "out.csv"))
    assert res.returncode == 1
    assert "line 7" in res.stderr and "Wrote 6 preference examples" in res.stdout
    assert "1 record(s) could not be read and were left out." in res.stdout

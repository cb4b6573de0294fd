"""``gemtune-desktop eval`` as scripts and CI run it: a subprocess, real files, the Sandbox over real HTTP,
JSON keys exactly as documented, scores equal to the libraries' own, exit codes with one line on stderr."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.project import examples_repo
from gemtune_desktop.core.project.store import ProjectStore

ROOT = Path(__file__).resolve().parent.parent
MODEL = "gemini-3.5-flash"
KEYS = ["exact_match", "token_f1", "bleu", "chrf", "rouge1", "rouge2", "rougeL"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    return subprocess.run([sys.executable, "-m", "gemtune_desktop", "eval", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, timeout=180, env=env)


def dataset(path: Path, n: int = 6) -> Path:
    rows = [{"input": f"Clause {i}: who repairs the boiler?", "output": f"The landlord repairs it (clause {i})."}
            for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_json_report_has_the_documented_keys_and_the_libraries_scores(tmp_path: Path) -> None:
    res = run(str(dataset(tmp_path / "set.jsonl")), "--model", MODEL, "--sandbox", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert list(doc) == ["model", "rows", "summary"] and doc["model"] == MODEL
    assert list(doc["summary"]) == KEYS
    hyps, refs = [], []
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    for row in doc["rows"]:
        assert list(row) == ["input", "expected", "answer", "scores"] and list(row["scores"]) == KEYS
        assert row["scores"]["bleu"] == pytest.approx(sacrebleu.sentence_bleu(row["answer"], [row["expected"]]).score)
        assert row["scores"]["chrf"] == pytest.approx(sacrebleu.sentence_chrf(row["answer"], [row["expected"]]).score)
        assert row["scores"]["rougeL"] == pytest.approx(scorer.score(row["expected"], row["answer"])["rougeL"].fmeasure)
        hyps.append(row["answer"])
        refs.append(row["expected"])
    assert doc["summary"]["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert doc["summary"]["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    assert doc["summary"]["token_f1"] == pytest.approx(sum(r["scores"]["token_f1"] for r in doc["rows"]) / 6)
    assert res.stderr == ""


def test_project_split_and_dataset_texts_csv_report_and_chosen_metrics(tmp_path: Path) -> None:
    path = tmp_path / "lease.gemtune"
    store = ProjectStore.create(path)
    examples = [Example(f"Question {i}?", f"Answer {i}.", Split.TEST if i < 3 else Split.TRAIN) for i in range(8)]
    examples_repo.insert(store, examples, [float(i) for i in range(8)])
    from gemtune_desktop.core.examples import DatasetSettings

    examples_repo.save_settings(store, DatasetSettings(preamble="Answer as a paralegal:"))
    store.close()
    out = tmp_path / "report.csv"
    res = run(str(path), "--model", MODEL, "--sandbox", "--json", "--metrics", "bleu,token_f1", "--out", str(out))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert [r["input"] for r in doc["rows"]] == ["Question 0?", "Question 1?", "Question 2?"]
    assert "Answer as a paralegal:" in doc["rows"][0]["answer"], "the project's preamble was sent"
    assert list(doc["summary"]) == ["bleu", "token_f1"]
    with open(out, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["input", "expected", "answer", "error", "bleu", "token_f1", "judge_explanation"]
    assert len(table) == 4 and table[1][0] == "Question 0?"
    human = run(str(path), "--model", MODEL, "--sandbox", "--split", "train")
    assert human.returncode == 0 and "Rows:    5 (5 answered)" in human.stdout
    assert "sacreBLEU" in human.stdout and "rouge-score 0.1.2" in human.stdout


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_spreadsheet_is_read_as_the_test_set(tmp_path: Path, suffix: str) -> None:
    """A paralegal's own table: a Windows-1252 CSV with a title row or an Excel workbook, every row evaluated."""
    rows = [("Clause 1: Qui répare la chaudière ?", "Le bailleur."), ("Clause 2: Kündigungsfrist?", "Drei Monate."),
            ("Clause 3: who pays the “deposit”?", "The tenant.")]
    path = tmp_path / f"Klauseln.{suffix}"
    if suffix == "csv":
        lines = ["Lease review, export of 2026-11-30", "Question;Answer", *(f"{q};{a}" for q, a in rows)]
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    else:
        from openpyxl import Workbook

        wb = Workbook()
        wb.active.append(["input", "output"])
        for row in rows:
            wb.active.append(list(row))
        wb.save(path)
    res = run(str(path), "--model", MODEL, "--sandbox", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert [(r["input"], r["expected"]) for r in doc["rows"]] == rows
    assert all(r["answer"] for r in doc["rows"]) and list(doc["summary"]) == KEYS


def test_judge_adds_its_score_and_a_bad_rubric_exits_2(tmp_path: Path) -> None:
    rubric = tmp_path / "rubric.txt"
    rubric.write_text("Names who repairs; cites the clause\n", encoding="utf-8")
    data = dataset(tmp_path / "set.jsonl", 3)
    res = run(str(data), "--model", MODEL, "--sandbox", "--json", "--judge", str(rubric))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert list(doc["summary"]) == [*KEYS, "judge"]
    assert all(0 <= r["scores"]["judge"] <= 1 for r in doc["rows"])
    rubric.write_text("  \n", encoding="utf-8")
    bad = run(str(data), "--model", MODEL, "--sandbox", "--judge", str(rubric))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == ["gemtune-desktop eval: rubric rubric.txt: The rubric is empty. "
                                               "Write what a good answer must do, for example “Names the risky "
                                               "party; gives one reason; no legal advice”."]


def test_thresholds_exit_1_with_one_line(tmp_path: Path) -> None:
    data = dataset(tmp_path / "set.jsonl", 3)
    res = run(str(data), "--model", MODEL, "--sandbox", "--json", "--min", "bleu=90", "--min", "token_f1=0")
    assert res.returncode == 1 and json.loads(res.stdout)["summary"]
    assert len(res.stderr.strip().splitlines()) == 1 and "bleu" in res.stderr and "below the minimum 90" in res.stderr
    ok = run(str(data), "--model", MODEL, "--sandbox", "--min", "token_f1=0")
    assert ok.returncode == 0
    judge = run(str(data), "--model", MODEL, "--sandbox", "--min", "judge=0.5")
    assert judge.returncode == 1 and "judge was not measured (give --judge)" in judge.stderr


@pytest.mark.parametrize(("args", "words"), [
    (["--min", "wit=3"], "--min takes METRIC=VALUE"),
    (["--min", "bleu=high"], "“high” is not a number"),
    (["--metrics", "bleu,meteor"], "unknown metric “meteor”"),
])
def test_bad_options_exit_2_with_one_line(tmp_path: Path, args: list[str], words: str) -> None:
    res = run(str(dataset(tmp_path / "set.jsonl", 1)), "--model", MODEL, "--sandbox", *args)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and words in res.stderr


def test_unreadable_input_and_failed_service_exit_2_with_one_line(tmp_path: Path) -> None:
    missing = run(str(tmp_path / "none.csv"), "--model", MODEL, "--sandbox")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert missing.stderr.startswith("gemtune-desktop eval: ")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    res = run(str(broken), "--model", MODEL, "--sandbox")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    empty = tmp_path / "empty.gemtune"
    ProjectStore.create(empty).close()
    res = run(str(empty), "--model", MODEL, "--sandbox")
    assert res.returncode == 2 and "no examples in the test split" in res.stderr
    res = run(str(dataset(tmp_path / "set.jsonl", 2)), "--model", "no-such-model", "--sandbox")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "Not found" in res.stderr


def test_without_sandbox_the_apps_active_connection_is_used(tmp_path: Path, app_home: Path) -> None:
    from gemtune_desktop import paths

    ini = paths.config_dir() / "settings.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text("[connections]\nactive=gemini_api\n", encoding="utf-8")
    res = run(str(dataset(tmp_path / "set.jsonl", 1)), "--model", MODEL)
    assert res.returncode == 2 and "No Gemini API key is saved." in res.stderr
    ini.write_text("[connections]\nactive=sandbox\n", encoding="utf-8")
    assert run(str(dataset(tmp_path / "set.jsonl", 1)), "--model", MODEL).returncode == 0

"""``gemtune-desktop check`` and ``convert`` run as the user runs them: a subprocess, real files, exit codes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gemtune_desktop.core.project.schema import SCHEMA_SQL

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gemtune_desktop", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd or ROOT, timeout=120)


def good_jsonl(path: Path, n: int = 120) -> Path:
    path.write_text("".join(json.dumps({"text_input": f"Ticket {i}: where is parcel {i}?",
                                        "output": f"It ships on day {i % 9}."}) + "\n" for i in range(n)), "utf-8")
    return path


def test_check_clean_file_exits_0_with_a_human_report(tmp_path: Path) -> None:
    path = good_jsonl(tmp_path / "good.jsonl")
    res = run("check", str(path))
    assert res.returncode == 0, res.stderr
    assert "Examples: 120" in res.stdout and "Gemini API" in res.stdout and "ready to tune" in res.stdout
    assert res.stderr == ""


def test_check_json_has_exactly_the_documented_keys_and_line_numbers(tmp_path: Path) -> None:
    path = good_jsonl(tmp_path / "mixed.jsonl", 30)
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"text_input": "broken", \n')                                   # line 31
        f.write(json.dumps({"text_input": "Where is it?", "output": ""}) + "\n")  # line 32
    res = run("check", str(path), "--json", "--target", "agent-platform")
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert list(doc) == ["file", "format", "kind", "target", "examples", "findings"]
    assert (doc["file"], doc["format"], doc["kind"], doc["target"], doc["examples"]) == \
        (str(path), "jsonl", "supervised", "agent-platform", 31)
    for f in doc["findings"]:
        assert list(f) == ["severity", "rule", "row", "line", "message"]
        assert f["severity"] in ("error", "warning", "info")
    by_rule = {f["rule"]: f for f in doc["findings"]}
    assert by_rule["malformed-record"] | {"message": ""} == {"severity": "error", "rule": "malformed-record",
                                                             "row": None, "line": 31, "message": ""}
    assert (by_rule["empty"]["row"], by_rule["empty"]["line"]) == (31, 32)
    assert by_rule["example-count"]["row"] is None and by_rule["example-count"]["severity"] == "warning"


def test_check_reads_spreadsheets_in_real_encodings(tmp_path: Path) -> None:
    res = run("check", str(DATA / "windows_semicolon.csv"), "--json")
    doc = json.loads(res.stdout)
    assert (doc["format"], doc["examples"]) == ("csv", 4)
    assert res.returncode == 1  # 4 examples: fewer than the 20 the Gemini API needs
    assert [f["rule"] for f in doc["findings"] if f["severity"] == "error"] == ["too-few-examples"]
    res = run("check", str(DATA / "excel_unicode_text.txt"))
    assert "UTF-16" in res.stdout and "Examples: 5" in res.stdout


@pytest.mark.parametrize(("content", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a text dataset"),
    (b"name,age\nAda,36\n", "no input and output columns"),
    (b"", "is empty"),
])
def test_check_unreadable_files_exit_2_with_one_line_on_stderr(tmp_path: Path, content: bytes,
                                                               message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    res = run("check", str(path), "--json")
    assert res.returncode == 2
    assert res.stdout == ""
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_check_missing_file_exits_2(tmp_path: Path) -> None:
    res = run("check", str(tmp_path / "nope.jsonl"))
    assert res.returncode == 2 and "does not exist" in res.stderr and "Traceback" not in res.stderr


def test_check_reads_a_project_file_without_opening_a_window(tmp_path: Path) -> None:
    path = tmp_path / "demo.gemtune"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_SQL)
    conn.executemany("INSERT INTO dataset_settings(key, value) VALUES (?, ?)",
                     [("preamble", "Classify:"), ("system_instruction", "One word."), ("target", "agent-platform")])
    rows = [(i, float(100 - i), f"ticket {i} about parcels and refunds", f"label {i % 3}", "train")
            for i in range(1, 26)]
    rows.append((99, 0.5, "Classify: first by position", "", "validation"))
    conn.executemany("INSERT INTO examples(id, pos, input, output, split) VALUES (?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    res = run("check", str(path), "--json")
    doc = json.loads(res.stdout)
    assert (doc["format"], doc["examples"]) == ("gemtune", 26)
    first = [f for f in doc["findings"] if f["row"] == 1]
    assert {f["rule"] for f in first} == {"empty", "preamble-repeated"}  # ordered by pos, preamble from settings
    assert all(f["line"] is None for f in doc["findings"])
    assert "system-instruction-unsupported" in {f["rule"] for f in doc["findings"]}  # checked for gemini-api


def test_convert_between_formats_by_extension_and_with_to(tmp_path: Path) -> None:
    src = DATA / "excel_utf8_bom.csv"
    out = tmp_path / "out.jsonl"
    res = run("convert", str(src), str(out))
    assert res.returncode == 0, res.stderr
    assert "Wrote 3 examples" in res.stdout
    assert json.loads(out.read_text("utf-8").splitlines()[0]) == {
        "text_input": "Summarise:\nline A\nline B", "output": "A, then B", "split": "validation", "tags": "notes"}
    xlsx = tmp_path / "back.xlsx"
    assert run("convert", str(out), str(xlsx)).returncode == 0
    csv_again = tmp_path / "again.csv"
    assert run("convert", str(xlsx), str(csv_again)).returncode == 0
    assert csv_again.read_bytes() == (b'\xef\xbb\xbfinput,output,split,tags,note\r\n'
                                      b'"Summarise:\nline A\nline B","A, then B",validation,notes,\r\n'
                                      b'Plain question,Plain answer,test,,\r\n'
                                      b'"He said ""no""",Quoted,train,x,\r\n')
    agent = tmp_path / "train.data"
    res = run("convert", str(DATA / "openai.jsonl"), str(agent), "--to", "agent-platform")
    assert res.returncode == 0
    first = json.loads(agent.read_text("utf-8").splitlines()[0])
    assert first["systemInstruction"]["parts"][0]["text"] == "Be brief."


def test_convert_reports_skipped_records_and_exit_codes(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    res = run("convert", str(DATA / "broken.jsonl"), str(out))
    assert res.returncode == 1
    assert "line 2" in res.stderr and "line 6" in res.stderr and "Traceback" not in res.stderr
    assert out.exists() and "ok two" in out.read_text("utf-8-sig")
    res = run("convert", str(DATA / "gemini.jsonl"), str(tmp_path / "out.unknown"))
    assert res.returncode == 2 and "--to" in res.stderr
    res = run("convert", str(tmp_path / "missing.csv"), str(tmp_path / "x.csv"))
    assert res.returncode == 2 and "does not exist" in res.stderr
    res = run("convert", str(DATA / "gemini.jsonl"), str(tmp_path / "no" / "dir" / "x.csv"))
    assert res.returncode == 2 and "could not be written" in res.stderr and "Traceback" not in res.stderr


def test_check_reads_a_store_written_project_even_while_another_process_has_it_open(tmp_path: Path) -> None:
    from gemtune_desktop.core.examples import DatasetSettings, Example
    from gemtune_desktop.core.project import examples_repo
    from gemtune_desktop.core.project.store import ProjectStore

    path = tmp_path / "open.gemtune"
    store = ProjectStore.create(path)
    try:
        with store.transaction():
            examples = [Example(f"ticket {i} about a parcel", f"label {i % 4}") for i in range(30)]
            examples_repo.insert(store, examples, [float(i) for i in range(30)])
            examples_repo.save_settings(store, DatasetSettings(system_instruction="Be brief."))
        res = run("check", str(path), "--json", "--target", "agent-platform")  # the store still holds its lock
        assert res.returncode == 0, res.stderr
        doc = json.loads(res.stdout)
        assert (doc["format"], doc["examples"]) == ("gemtune", 30)
        out = tmp_path / "export.jsonl"
        assert run("convert", str(path), str(out), "--to", "agent-platform").returncode == 0
        first = json.loads(out.read_text("utf-8").splitlines()[0])
        assert first["systemInstruction"]["parts"][0]["text"] == "Be brief."
    finally:
        store.close()
    assert run("check", str(path)).returncode == 0


def test_check_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"text_input": f" padded {i}", "output": "x"}) + "\n" for i in range(3000)),
                    "utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "gemtune_desktop", "check", str(path), "--json"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()  # like `| head -c 10`, long before the ~700 kB report is written
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err

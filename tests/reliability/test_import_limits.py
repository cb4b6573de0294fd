"""Imports that used to lose or invent data, and importer limits (issue 13), from real bytes.

* a CSV/TSV quote that is never closed swallowed every later row silently (20,000 rows → 2 examples);
* Excel's ``sep=`` first line, title rows above the header, a trailing line holding only U+FEFF, an .xlsx
  named ``.csv``;
* 100,000-deep JSON and huge integers raised uncaught errors; a zip bomb or a giant cell in an .xlsx ate
  memory; a long sheet could not be cancelled.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, DatasetReadError
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.formats import ColumnMapping, preview, read_dataset, write_dataset
from tests.reliability.helpers import write_minimal_xlsx

ROOT = Path(__file__).resolve().parents[2]


def pairs(path: Path, **kwargs: object) -> list[tuple[str, str]]:
    return [(e.input, e.output) for e in read_dataset(path, **kwargs).examples]  # type: ignore[arg-type]


# -- an unclosed quote -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_an_unclosed_quote_is_reported_where_it_opens_and_the_rest_is_kept(tmp_path: Path, delimiter: str) -> None:
    rows = [f"question {i}{delimiter}answer {i}" for i in range(20_000)]
    rows[1] = f'"a stray quote, never closed{delimiter}answer 1'  # line 3 of the file
    path = tmp_path / ("data.csv" if delimiter == "," else "data.tsv")
    path.write_text(f"input{delimiter}output\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = read_dataset(path)
    assert len(result.examples) == 19_999  # everything but the broken row
    assert result.examples[1].input == "question 2" and result.source_lines[1] == 4
    [found] = [f for f in result.findings if f.rule == "unclosed-quote"]
    assert found.severity.value == "error" and found.line == 3
    assert "Line 3 opens a quote" in found.message and "19,998 more rows" in found.message
    assert "Close or remove the quote on line 3" in found.message


def test_check_exits_1_with_the_unclosed_quote_finding(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('input,output\nq1,a1\n"q2,a2\nq3,a3\nq4,a4\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "gemtune_desktop", "check", str(path)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Examples: 3" in done.stdout and "line 3" in done.stdout.lower() and "2 more rows" in done.stdout


def test_an_unclosed_quote_in_the_header_is_a_plain_refusal(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text('"input,output\nq,a\n', encoding="utf-8")
    with pytest.raises(DatasetReadError, match=r"header row \(line 1\) opens a quote"):
        read_dataset(path)


def test_a_multi_line_cell_that_is_closed_is_not_mistaken_for_one(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text('input,output\n"line one\nline two, still the cell",a\n"the last ""cell""",b\n', "utf-8")
    result = read_dataset(path)
    assert [(e.input, e.output) for e in result.examples] == [("line one\nline two, still the cell", "a"),
                                                               ('the last "cell"', "b")]
    assert not result.findings


# -- what spreadsheet programs put in CSV files ---------------------------------------------------------------
def test_excels_sep_line_names_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("sep=;\r\ninput;output\r\nwie viel, bitte?;zehn, danke\r\n".encode("cp1252"))
    result = read_dataset(path)
    assert [(e.input, e.output) for e in result.examples] == [("wie viel, bitte?", "zehn, danke")]
    assert result.source_lines == [3]


def test_title_rows_above_the_header_are_skipped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("Support tickets, exported 2026-11-30\n\nTeam: billing\nquestion,answer\nq1,a1\nq2,a2\n", "utf-8")
    result = read_dataset(path)
    assert [(e.input, e.output) for e in result.examples] == [("q1", "a1"), ("q2", "a2")]
    [note] = result.findings
    assert note.severity.value == "info" and "2 rows above the header" in note.message and note.line == 4
    cols, rows, _ = preview(path)
    assert cols == ["question", "answer"] and rows[0] == ["q1", "a1"]
    # unrecognised column names: the mapping dialog picks the header row (skip_rows) and the columns
    odd = tmp_path / "odd.csv"
    odd.write_text("Quarterly export\nFrage,Antwort\nq1,a1\n", "utf-8")
    assert read_dataset(odd).needs_mapping
    cols, rows, _ = preview(odd, skip_rows=1)
    assert cols == ["Frage", "Antwort"] and rows == [["q1", "a1"]]
    mapped = read_dataset(odd, mapping=ColumnMapping("Frage", "Antwort", skip_rows=1))
    assert [(e.input, e.output) for e in mapped.examples] == [("q1", "a1")]


def test_a_trailing_line_holding_only_a_bom_is_not_an_example(tmp_path: Path) -> None:
    for name, data in (("joined.csv", "input,output\nq,a\n\ufeff\n"), ("joined.tsv", "input\toutput\nq\ta\n\ufeff"),
                       ("joined.jsonl", '{"text_input": "q", "output": "a"}\n\ufeff\n')):
        path = tmp_path / name
        path.write_text(data, "utf-8")
        result = read_dataset(path)
        assert [(e.input, e.output) for e in result.examples] == [("q", "a")] and not result.findings, name


def test_an_xlsx_named_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    write_dataset(path, [Example("q", "a")], None, "xlsx")
    misnamed = tmp_path / "export.csv"
    path.rename(misnamed)
    assert pairs(misnamed) == [("q", "a")]
    word = tmp_path / "letter.csv"  # a zip that is not a workbook is named as what it is
    with zipfile.ZipFile(word, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(DatasetReadError, match="a Word document, not an Excel workbook"):
        read_dataset(word)


# -- importer limits -------------------------------------------------------------------------------------------
def test_json_nested_100000_deep_is_a_plain_message(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    array = tmp_path / "deep.json"
    array.write_text(deep, "utf-8")
    result = read_dataset(array)
    assert not result.examples and "nested more than" in result.findings[0].message
    single = tmp_path / "deep-object.json"
    single.write_text('{"text_input": ' + deep + ', "output": "x"}', "utf-8")
    with pytest.raises(DatasetReadError, match="nested more than"):
        read_dataset(single)
    lines = tmp_path / "deep.jsonl"
    lines.write_text('{"text_input": "q", "output": "a"}\n' + deep + "\n", "utf-8")
    result = read_dataset(lines)
    assert len(result.examples) == 1 and "nested more than 1,024 levels" in result.findings[0].message


def test_huge_integers_are_kept_as_their_digits_or_named(tmp_path: Path) -> None:
    digits = "7" * 5000
    path = tmp_path / "big.json"
    path.write_text(f'[{{"text_input": {digits}, "output": "a"}}]', "utf-8")
    assert pairs(path) == [(digits, "a")]
    lines = tmp_path / "big.jsonl"
    lines.write_text(f'{{"text_input": {digits}, "output": "a"}}\n{{"text_input": "q", "output": "a"}}\n', "utf-8")
    result = read_dataset(lines)
    assert len(result.examples) == 1 and "number too large" in result.findings[0].message


def test_a_gigabyte_shared_string_is_refused_without_memory_peaking(tmp_path: Path) -> None:
    """A zip bomb: one shared string of 1 GiB, about 1 MB compressed. Measured in a child process (its peak
    RSS), so the rest of the test run does not count."""
    path = tmp_path / "bomb.xlsx"
    write_minimal_xlsx(path, [b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'],
                       shared=[b"input", (b"B" * 1024**2, 1024)])
    assert path.stat().st_size < 5 * 1024**2
    script = ("import resource, sys; sys.path.insert(0, sys.argv[2])\n"
              "from gemtune_desktop.core.errors import DatasetReadError\n"
              "from gemtune_desktop.core.formats import read_dataset\n"
              "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "try:\n    read_dataset(sys.argv[1])\n"
              "except DatasetReadError as exc:\n    print('REFUSED', exc.message)\n"
              "print('PEAK_MB', (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)\n")
    done = subprocess.run([sys.executable, "-c", script, str(path), str(ROOT)], capture_output=True, text=True,
                          timeout=300)
    out = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert "far more than any real workbook" in out.get("REFUSED", ""), done.stdout + done.stderr
    assert int(out["PEAK_MB"]) < 100, out


def test_a_giant_cell_that_compresses_normally_is_refused_while_streaming(tmp_path: Path) -> None:
    import base64
    import random

    rng = random.Random(1)
    text = base64.b64encode(rng.randbytes(12 * 1024**2))  # 16 MB of text that does not compress much
    path = tmp_path / "giant.xlsx"
    write_minimal_xlsx(path, [b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'],
                       shared=[b"input", text], compresslevel=1)
    with pytest.raises(DatasetReadError, match="a cell holding more than 8 MB"):
        read_dataset(path)


def test_a_long_sheet_reports_progress_and_stops_on_cancel(tmp_path: Path) -> None:
    path = tmp_path / "long.xlsx"
    rows = (b'<row><c t="s"><v>2</v></c><c t="s"><v>3</v></c></row>' * 1000 for _ in range(300))
    write_minimal_xlsx(path, rows, shared=[b"input", b"output", b"q", b"a"],
                       header=b'<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row>', dimension="A1:B300001")
    reports: list[int] = []

    def on_progress(done: int, total: int, text: str) -> None:
        if not text.startswith("Read "):
            return  # "Reading long.xlsx" before the sheet is opened
        reports.append(done)
        assert total == 300_001 and done < total
        if len(reports) == 3:
            token.cancel()

    token = CancelToken(on_progress)
    with pytest.raises(Cancelled):
        read_dataset(path, token=token)
    assert 3 <= len(reports) < 10  # it stopped a few thousand rows after the cancel, not at the end

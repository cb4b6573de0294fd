"""Fuzzing the importers: random and mutated CSV/TSV/JSON/JSONL/XLSX bytes never crash the import, and 5,000
generated files of known content read back with every row.

Every input ends in one of three ways: examples (each with its source line), findings that say where the
problem is, or a DatasetReadError with a plain message. Anything else (an unhandled exception) is a bug.
The generated files vary what real exports vary — delimiter, quoting, encoding, line endings, Excel's
``sep=`` line, title rows, blank lines, a stray BOM, the JSON shape — and must lose or invent nothing.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemtune_desktop.core.errors import DatasetReadError
from gemtune_desktop.core.examples import DatasetSettings
from gemtune_desktop.core.formats import preview, read_dataset
from gemtune_desktop.core.validation import validate

DATA = Path(__file__).resolve().parent.parent / "data"
SEEDS = {
    "csv": [DATA / "windows_semicolon.csv", DATA / "excel_utf8_bom.csv"],
    "tsv": [DATA / "excel_unicode_text.txt", DATA / "latin1.tsv"],
    "json": [DATA / "array.json"],
    "jsonl": [DATA / "gemini.jsonl", DATA / "agent_platform.jsonl", DATA / "openai.jsonl", DATA / "broken.jsonl"],
    "xlsx": [DATA / "workbook.xlsx"],
}
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, fmt: str) -> bytes:
    base = bytearray(draw(st.sampled_from(SEEDS[fmt])).read_bytes())
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if not base:
            break
        pos = draw(st.integers(0, len(base) - 1))
        if kind == "flip":
            base[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            base[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del base[pos: pos + draw(st.integers(1, 32))]
        else:
            del base[pos:]
    return bytes(base)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["text_input", "textInput", "output", "input", "prompt", "completion", "contents",
                         "messages", "role", "parts", "text", "content", "systemInstruction", "split", "tags",
                         "note", "examples"]), children, max_size=4),
    max_leaves=12)


def check_outcome(path: Path, **kwargs: object) -> None:
    try:
        result = read_dataset(path, **kwargs)  # type: ignore[arg-type]
    except DatasetReadError as exc:
        assert exc.message and "\n" not in exc.message
        return
    for f in result.findings:
        assert f.line is not None or f.row is not None, f
        assert f.message
    if result.needs_mapping:
        assert result.columns and not result.examples
        return
    assert len(result.source_lines) == len(result.examples)
    assert all(isinstance(e.input, str) and isinstance(e.output, str) for e in result.examples)
    validate(result.examples, result.settings or DatasetSettings(), "agent-platform", result.source_lines,
             clean=result.clean, near_limit=200)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl", "xlsx"])
def test_mutated_files_never_crash_the_import(tmp_path: Path, fmt: str) -> None:
    suffix = {"tsv": "txt"}.get(fmt, fmt)

    @FUZZ
    @given(data=mutated(fmt))
    def inner(data: bytes) -> None:
        path = write(tmp_path, f"fuzz.{suffix}", data)
        check_outcome(path)
        if fmt in ("csv", "tsv", "xlsx"):
            try:
                preview(path, rows=5)
            except DatasetReadError:
                pass

    inner()


@pytest.mark.slow
@FUZZ
@given(data=st.binary(max_size=2048),
       suffix=st.sampled_from(["csv", "tsv", "json", "jsonl", "xlsx", "gemtune", "dat"]))
def test_random_bytes_never_crash_the_import(tmp_path: Path, data: bytes, suffix: str) -> None:
    check_outcome(write(tmp_path, f"random.{suffix}", data))


@pytest.mark.slow
@FUZZ
@given(records=st.lists(json_values, max_size=6), as_array=st.booleans())
def test_random_json_records_are_examples_or_located_findings(tmp_path: Path, records: list[object],
                                                              as_array: bool) -> None:
    if as_array:
        path = write(tmp_path, "records.json", json.dumps(records).encode())
    else:
        path = write(tmp_path, "records.jsonl", "\n".join(json.dumps(r) for r in records).encode())
    check_outcome(path)


@pytest.mark.slow
@FUZZ
@given(cells=st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=4), min_size=1, max_size=6),
       delimiter=st.sampled_from([",", ";", "\t", "|"]), encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_random_tables_in_any_encoding(tmp_path: Path, cells: list[list[str]], delimiter: str,
                                       encoding: str) -> None:
    text = "input" + delimiter + "output\n" + "\n".join(delimiter.join(row) for row in cells)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    check_outcome(write(tmp_path, "table.csv", data))


# -- 5,000 generated files whose content is known: every example comes back, none is invented (issue 13) -----
CELLS = ["plain", "with, comma", "semi; colon", "tab\tinside", 'a "quoted" word', "line one\nline two",
         "crlf one\r\ntwo", "trailing space ", " leading", "Ünïcödé café", "日本語のテキスト", "emoji 🎉👍🏽",
         "עברית", "=1+1", "-5", "+44 20", "@mention", "pipe | bar", "'apostrophe", "a\\backslash", "x" * 300,
         "ends with quote\"", "", "  "]
HEADERS = [("input", "output"), ("prompt", "response"), ("Question", "Answer"), ("text_input", "output")]


def _cells(rng: random.Random, encoding: str) -> tuple[str, str]:
    while True:
        a = "".join(rng.choice(CELLS) for _ in range(rng.randint(1, 3)))
        b = "".join(rng.choice(CELLS) for _ in range(rng.randint(0, 2)))
        if a.strip() or b.strip():
            try:
                (a + b).encode(encoding)
            except UnicodeEncodeError:
                continue
            return a, b


def _delimited(rng: random.Random, rows: list[tuple[str, str]], encoding: str) -> tuple[bytes, str]:
    delimiter = rng.choice([",", ";", "\t", "|"])
    eol = rng.choice(["\n", "\r\n"])
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=eol,
                   quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    text = ""
    if rng.random() < 0.15 and delimiter != "\t":
        text += f"sep={delimiter}{eol}"
    for t in range(rng.choice([0, 0, 0, 1, 2])):
        text += f"Report {t} of the export{eol}"
    header = rng.choice(HEADERS)
    extra = rng.random() < 0.3
    w.writerow([*header, "note"] if extra else header)
    for a, b in rows:
        if rng.random() < 0.1:
            buf.write(eol)  # a blank line between rows
        w.writerow([a, b, "n"] if extra else [a, b])
    text += buf.getvalue()
    if rng.random() < 0.1 and encoding.startswith("utf"):
        text += "\ufeff" + eol  # a BOM left where two files were joined
    if rng.random() < 0.2:
        text = text.rstrip("\r\n")
    data = text.encode(encoding)
    suffix = rng.choice(["tsv", "txt"]) if delimiter == "\t" else "csv"
    return data, suffix


def _json_lines(rng: random.Random, rows: list[tuple[str, str]]) -> tuple[bytes, str]:
    eol = rng.choice(["\n", "\r\n"])
    out = []
    for a, b in rows:
        shape = rng.randrange(4)
        if shape == 0:
            rec: object = {"text_input": a, "output": b}
        elif shape == 1:
            rec = {"contents": [{"role": "user", "parts": [{"text": a}]}, {"role": "model", "parts": [{"text": b}]}]}
        elif shape == 2:
            rec = {"messages": [{"role": "user", "content": a}, {"role": "assistant", "content": b}]}
        else:
            rec = {"prompt": a, "completion": b}
        out.append(json.dumps(rec, ensure_ascii=rng.random() < 0.5))
        if rng.random() < 0.1:
            out.append("")
    text = eol.join(out) + (eol if rng.random() < 0.8 else "")
    if rng.random() < 0.2:
        text = "\ufeff" + text
    if rng.random() < 0.5:
        return json.dumps([json.loads(line) for line in out if line], indent=rng.choice([None, 2])).encode(), "json"
    return text.encode(), "jsonl"


def _workbook(rng: random.Random, rows: list[tuple[str, str]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet")

    def typed(*values: str) -> list[WriteOnlyCell]:
        cells = [WriteOnlyCell(ws, value=v) for v in values]
        for c in cells:
            c.data_type = "s"  # text as a user typed it ("=1+1" typed as text, not a formula)
        return cells

    for t in range(rng.choice([0, 0, 1, 2])):
        ws.append(typed(f"Title {t}"))
    ws.append(typed(*rng.choice(HEADERS)))
    for a, b in rows:
        if rng.random() < 0.1:
            ws.append([])
        ws.append(typed(a, b))
    wb.save(path)


def _case(seed: int, folder: Path) -> tuple[Path, list[tuple[str, str]]]:
    rng = random.Random(seed)
    kind = rng.choices(["delimited", "json", "xlsx"], weights=[70, 26, 4])[0]
    encoding = rng.choice(["utf-8", "utf-8-sig", "utf-16", "cp1252"]) if kind == "delimited" else "utf-8"
    rows = [_cells(rng, encoding) for _ in range(rng.randint(1, 12))]
    if kind == "xlsx":
        path = folder / f"case{seed}.xlsx"
        _workbook(rng, rows, path)
        return path, rows
    data, suffix = _delimited(rng, rows, encoding) if kind == "delimited" else _json_lines(rng, rows)
    path = folder / f"case{seed}.{suffix}"
    path.write_bytes(data)
    return path, rows


FUZZ_CASES = 5000


def test_five_thousand_generated_files_read_back_with_every_row(tmp_path: Path) -> None:
    wrong: list[str] = []
    for seed in range(FUZZ_CASES):
        path, rows = _case(seed, tmp_path)
        try:
            result = read_dataset(path)
            got = [(e.input, e.output) for e in result.examples]
            errors = [f.message for f in result.findings if f.severity.value == "error"]
        except DatasetReadError as exc:
            got, errors = [], [exc.message]
        if got != rows or errors:
            wrong.append(f"case {seed} ({path.name}): {len(got)} of {len(rows)} rows, errors {errors[:2]}, "
                         f"first difference {next(((a, b) for a, b in zip(got, rows, strict=False) if a != b), None)}")
        path.unlink()
    assert not wrong, f"{len(wrong)} of {FUZZ_CASES} files changed:\n" + "\n".join(wrong[:15])

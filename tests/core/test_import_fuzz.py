"""Fuzzing the importers: random and mutated CSV/TSV/JSON/JSONL/XLSX bytes never crash the import.

Every input ends in one of three ways: examples (each with its source line), findings that say where the
problem is, or a DatasetReadError with a plain message. Anything else (an unhandled exception) is a bug.
"""

from __future__ import annotations

import json
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

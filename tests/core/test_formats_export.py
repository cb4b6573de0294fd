"""Dataset export: round trips through every format, the upload forms per backend, and atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.formats import (
    gemini_api_examples,
    read_dataset,
    upload_jsonl_lines,
    write_dataset,
)

TRICKY = [
    Example("Plain question", "Plain answer"),
    Example("Multi\nline\r\ninput, with \"quotes\" and a;semicolon", "tab\there", Split.VALIDATION, "a, b", "note"),
    Example("=SUM(A1:A3)", "+1 formula-looking", Split.TEST),
    Example("Accents: crème brûlée, Übergröße, “curly” ’quotes’ – dash…", "€ 5"),
    Example("日本語の質問です", "中文回答 한국어"),
    Example("Emoji 🎉 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "0123"),
    Example("2", "2.5"),
    Example("  leading and trailing spaces  ", "kept "),
    Example("x" * 30_000, "long input kept whole"),
]

SUFFIX = {"csv": "csv", "tsv": "tsv", "xlsx": "xlsx", "jsonl": "jsonl", "json": "json",
          "agent-platform": "jsonl", "openai": "jsonl"}


def fields(examples: list[Example]) -> list[tuple[str, str, Split, str, str]]:
    return [(e.input, e.output, e.split, e.tags, e.note) for e in examples]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "xlsx", "jsonl", "json"])
def test_round_trip_keeps_every_field(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"out.{SUFFIX[fmt]}"
    write_dataset(path, TRICKY, DatasetSettings(), fmt)
    back = read_dataset(path)
    assert fields(back.examples) == fields(TRICKY)  # CR LF inside a cell included
    assert not back.findings
    # and once more: export of the import reads back the same again
    again = tmp_path / f"again.{SUFFIX[fmt]}"
    write_dataset(again, back.examples, DatasetSettings(), fmt)
    assert fields(read_dataset(again).examples) == fields(TRICKY)


@pytest.mark.parametrize(("fmt", "sep"), [("csv", ","), ("tsv", "\t")])
def test_cells_a_spreadsheet_would_run_as_formulas_are_written_inert(tmp_path: Path, fmt: str, sep: str) -> None:
    """OWASP's guard against formula injection: a leading apostrophe in the file, taken off again on import."""
    import csv

    rows = [Example("=HYPERLINK(\"http://x\")", "+1"), Example("-5", "@SUM(A1)"), Example("'=quoted", "plain")]
    path = tmp_path / f"out.{fmt}"
    write_dataset(path, rows, DatasetSettings(), fmt)
    with open(path, encoding="utf-8-sig", newline="") as f:
        cells = [row[:2] for row in csv.reader(f, delimiter=sep)][1:]
    assert cells == [["'=HYPERLINK(\"http://x\")", "'+1"], ["'-5", "'@SUM(A1)"], ["''=quoted", "plain"]]
    assert [(e.input, e.output) for e in read_dataset(path).examples] == [(e.input, e.output) for e in rows]


@pytest.mark.parametrize("fmt", ["agent-platform", "openai"])
def test_training_forms_round_trip_with_system_instruction_and_preamble_applied(tmp_path: Path, fmt: str) -> None:
    settings = DatasetSettings(preamble="Classify the review:", system_instruction="Answer with one word.")
    path = tmp_path / f"{fmt}.jsonl"
    write_dataset(path, TRICKY, settings, fmt)
    back = read_dataset(path)
    assert [(e.input, e.output) for e in back.examples] == [(settings.apply_preamble(e.input), e.output)
                                                           for e in TRICKY]
    assert back.settings is not None and back.settings.system_instruction == "Answer with one word."
    assert not back.findings


def test_spreadsheet_formats_omit_extra_columns_when_unused(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    write_dataset(path, [Example("a", "b")], None, "csv")
    assert path.read_bytes() == b"\xef\xbb\xbfinput,output\r\na,b\r\n"  # BOM so Excel reads it as UTF-8
    jl = tmp_path / "plain.jsonl"
    write_dataset(jl, [Example("a", "b")], DatasetSettings(preamble="Q:"), "jsonl")
    assert jl.read_bytes() == b'{"text_input":"Q:\\na","output":"b"}\n'


def test_agent_platform_upload_lines_match_the_documented_form() -> None:
    settings = DatasetSettings(preamble="Classify:", system_instruction="Answer tersely.")
    lines = list(upload_jsonl_lines([Example("good", "positive")], settings, "agent-platform"))
    assert lines[0].endswith(b"\n")
    assert orjson.loads(lines[0]) == {
        "systemInstruction": {"role": "system", "parts": [{"text": "Answer tersely."}]},
        "contents": [{"role": "user", "parts": [{"text": "Classify:\ngood"}]},
                     {"role": "model", "parts": [{"text": "positive"}]}]}
    plain = list(upload_jsonl_lines([Example("a", "b")], DatasetSettings(), "agent-platform"))
    assert orjson.loads(plain[0]) == {"contents": [{"role": "user", "parts": [{"text": "a"}]},
                                                   {"role": "model", "parts": [{"text": "b"}]}]}


def test_gemini_api_inline_examples_apply_the_preamble() -> None:
    settings = DatasetSettings(preamble="Translate to French: ")
    assert gemini_api_examples([Example("cat", "chat")], settings) == [
        {"textInput": "Translate to French: cat", "output": "chat"}]
    lines = list(upload_jsonl_lines([Example("cat", "chat")], settings, "gemini-api"))
    assert [json.loads(line) for line in lines] == [{"textInput": "Translate to French: cat", "output": "chat"}]
    with pytest.raises(ValueError, match="unknown backend"):
        list(upload_jsonl_lines([], settings, "nowhere"))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_an_interrupted_export_leaves_the_existing_file_intact(tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / f"keep.{SUFFIX[fmt]}"
    write_dataset(path, [Example("old", "data")], None, fmt)
    before = path.read_bytes()
    many = [Example(f"q{i}", f"a{i}") for i in range(20_000)]

    def stop(done: int, total: int, _text: str) -> None:
        if done > 5_000:
            token.cancel()

    token = CancelToken(stop)
    with pytest.raises(Cancelled):
        write_dataset(path, many, None, fmt, token=token)
    assert path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == [path.name]  # no temporary file left behind


def test_xlsx_refuses_text_excel_cannot_hold_with_the_row(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"row 2 \(input\): a control character \(U\+0007\)"):
        write_dataset(tmp_path / "x.xlsx", [Example("fine", "ok"), Example("bell\x07", "x")], None, "xlsx")
    with pytest.raises(UserError, match="32,767"):
        write_dataset(tmp_path / "y.xlsx", [Example("a", "b" * 40_000)], None, "xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_unwritable_destination_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="could not be written"):
        write_dataset(tmp_path / "missing-folder" / "out.csv", TRICKY, None, "csv")
    with pytest.raises(UserError, match="not a format"):
        write_dataset(tmp_path / "out.parquet", TRICKY, None, "parquet")

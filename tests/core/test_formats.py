"""Dataset import: every format and encoding a user brings, read from real bytes, and the broken cases."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, DatasetReadError
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.formats import (
    ColumnMapping,
    detect_format,
    guess_mapping,
    preview,
    read_dataset,
)

DATA = Path(__file__).resolve().parent.parent / "data"

ROWS = [
    ("Classify: The délivery was late again.", "negative"),
    ("Classify: Great “service”, thank you!", "positive"),
    ("Classify: Où est ma commande ?", "neutral"),
    ("Classify: 注文はまだ届いていません", "negative"),
]


def pairs(result) -> list[tuple[str, str]]:
    return [(e.input, e.output) for e in result.examples]


# --- the committed sample files (see tests/data/make_samples.py) -----------------------------------------

def test_excel_unicode_text_is_utf16_tab_separated_with_a_multiline_cell() -> None:
    r = read_dataset(DATA / "excel_unicode_text.txt")
    assert r.format == "tsv"
    assert r.encoding == "UTF-16"
    assert pairs(r) == [*ROWS, ("Line one\nline two", "multi-line")]
    assert r.source_lines == [2, 3, 4, 5, 6]


def test_windows_semicolon_csv_in_cp1252_keeps_smart_quotes_and_accents() -> None:
    r = read_dataset(DATA / "windows_semicolon.csv")
    assert r.format == "csv"
    assert r.encoding == "Windows-1252"
    assert pairs(r)[:3] == ROWS[:3]
    assert pairs(r)[3] == ("Say “hi” – politely", "Hello… I’m here")


def test_excel_utf8_bom_csv_reads_multiline_cells_split_tags_and_skips_blank_lines() -> None:
    r = read_dataset(DATA / "excel_utf8_bom.csv")
    assert r.encoding == "UTF-8 with BOM"
    assert r.columns == ["Prompt", "Response", "Split", "Tags"]  # BOM not glued to the first header
    assert [(e.input, e.output, e.split, e.tags) for e in r.examples] == [
        ("Summarise:\nline A\nline B", "A, then B", Split.VALIDATION, "notes"),
        ("Plain question", "Plain answer", Split.TEST, ""),
        ('He said "no"', "Quoted", Split.TRAIN, "x"),
    ]
    assert r.source_lines == [2, 6, 7]  # the multi-line cell spans lines 2-4, line 5 is blank


def test_latin1_tsv() -> None:
    r = read_dataset(DATA / "latin1.tsv")
    assert pairs(r) == [("Café crème", "Ça va très bien"), ("Äpfel", "Übergröße")]


def test_xlsx_chosen_sheet_numbers_as_text_blank_rows_skipped_and_formulas_never_evaluated() -> None:
    notes = read_dataset(DATA / "workbook.xlsx", sheet="Notes")
    assert notes.needs_mapping and notes.sheets == ["Notes", "Examples"]
    r = read_dataset(DATA / "workbook.xlsx", sheet="Examples")
    assert pairs(r) == [("How many legs has a spider?", "8"), ("Pi to one decimal?", "3.1"),
                        ("=1+1 stays text?", "yes"), ("Half of five?", "2.5")]
    assert r.examples[1].note == "rounded"
    assert r.source_lines == [2, 4, 5, 6]  # spreadsheet rows; row 3 was blank


def test_a_workbook_that_opens_on_a_notes_sheet_imports_its_table(tmp_path: Path) -> None:
    """With no sheet chosen, the first sheet that looks like a table is read, and the mapping dialog's
    picker is told the same sheet; a workbook of single-cell sheets falls back to its first."""
    from openpyxl import Workbook

    from gemtune_desktop.core.formats import default_sheet

    r = read_dataset(DATA / "workbook.xlsx")  # sheet 1 "Notes" holds one cell; sheet 2 the examples
    assert not r.needs_mapping and len(r.examples) == 4 and r.columns == ["Question", "Answer", "Note"]
    assert default_sheet(DATA / "workbook.xlsx") == "Examples"
    cover = tmp_path / "cover.xlsx"
    wb = Workbook()
    wb.active.title = "Read me"
    wb.active.append(["Exported 2026-11-30"])
    data = wb.create_sheet("Data")
    data.append(["Prompt", "Reply"])  # names the import does not know: the dialog asks, on this sheet
    data.append(["Hi", "Hello"])
    wb.save(cover)
    assert default_sheet(cover) == "Data"
    assert preview(cover)[0] == ["Prompt", "Reply"]
    lonely = tmp_path / "lonely.xlsx"
    wb = Workbook()
    wb.active.title = "First"
    wb.active.append(["just a title"])
    wb.create_sheet("Second").append(["another"])
    wb.save(lonely)
    assert default_sheet(lonely) == "First"
    assert default_sheet(DATA / "latin1.tsv") is None


def test_xlsx_unknown_sheet_is_a_clear_error() -> None:
    with pytest.raises(DatasetReadError, match="no sheet named “Nope”"):
        read_dataset(DATA / "workbook.xlsx", sheet="Nope")


def test_gemini_jsonl_and_json_array_with_line_numbers() -> None:
    assert pairs(read_dataset(DATA / "gemini.jsonl")) == ROWS
    r = read_dataset(DATA / "array.json")
    assert r.format == "json" and pairs(r) == ROWS
    assert r.source_lines == [2, 6, 10, 14]


def test_agent_platform_jsonl_sets_system_instruction_and_reports_multi_turn_with_its_line() -> None:
    r = read_dataset(DATA / "agent_platform.jsonl")
    assert pairs(r) == ROWS
    assert r.settings is not None and r.settings.system_instruction == "Answer with one word."
    [multi] = r.findings
    assert multi.rule == "multi-turn" and multi.line == 5 and multi.severity == "error"
    assert "4 turns" in multi.message


def test_openai_chat_jsonl() -> None:
    r = read_dataset(DATA / "openai.jsonl")
    assert pairs(r) == ROWS
    assert r.settings is not None and r.settings.system_instruction == "Be brief."


def test_broken_jsonl_reports_each_bad_line_and_keeps_the_rest() -> None:
    r = read_dataset(DATA / "broken.jsonl")
    assert pairs(r) == [("ok one", "fine"), ("ok two", "fine"), ("1", "2.5")]
    assert r.source_lines == [1, 4, 5]
    assert [(f.rule, f.line) for f in r.findings] == [("malformed-record", 2), ("malformed-record", 6)]
    assert all(f.severity == "error" for f in r.findings)


# --- encodings written at run time ---------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252",
                                      "latin-1"])
def test_csv_in_every_common_encoding(tmp_path: Path, encoding: str) -> None:
    rows = [("Crème brûlée?", "Oui, très bonne"), ("Straße", "street")]
    if encoding not in ("cp1252", "latin-1"):
        rows.append(("東京はどこ", "日本"))
    text = "input,output\r\n" + "".join(f'"{i}","{o}"\r\n' for i, o in rows)
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode(encoding))
    assert pairs(read_dataset(path)) == rows


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [("a, b; c", "one"), ("d|e", "two")]
    lines = [f"input{delimiter}output"] + [f'"{i}"{delimiter}{o}' for i, o in rows]
    path = tmp_path / "data.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert pairs(read_dataset(path, fmt="csv")) == rows


def test_jsonl_in_utf16_and_with_bom(tmp_path: Path) -> None:
    lines = [json.dumps({"text_input": i, "output": o}, ensure_ascii=False) for i, o in ROWS]
    p16 = tmp_path / "a.jsonl"
    p16.write_bytes("\n".join(lines).encode("utf-16"))
    assert pairs(read_dataset(p16)) == ROWS
    pbom = tmp_path / "b.jsonl"
    pbom.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())
    r = read_dataset(pbom)
    assert pairs(r) == ROWS and not r.findings


def test_ten_megabyte_single_line(tmp_path: Path) -> None:
    big = "word " * 2_000_000
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"text_input": big, "output": "ok"}) + "\n", encoding="utf-8")
    r = read_dataset(path)
    assert len(r.examples[0].input) == len(big)
    csv_path = tmp_path / "big.csv"
    csv_path.write_text(f'input,output\n"{big}",ok\n', encoding="utf-8")
    assert len(read_dataset(csv_path).examples[0].input) == len(big)


# --- shapes of JSON records ------------------------------------------------------------------------------

def _jsonl(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_json_records_in_every_known_shape(tmp_path: Path) -> None:
    path = _jsonl(tmp_path,
                  {"textInput": "a", "output": "1"},
                  {"prompt": "b", "completion": "2"},
                  {"Question": "c", "Answer": "3", "split": "validation", "tags": ["x", "y"], "note": "n"},
                  {"contents": [{"role": "user", "parts": [{"text": "d1"}, {"text": "d2"}]},
                                {"role": "model", "parts": [{"text": "4"}]}]},
                  {"messages": [{"role": "user", "content": [{"type": "text", "text": "e"}]},
                                {"role": "assistant", "content": "5"}]})
    r = read_dataset(path)
    assert pairs(r) == [("a", "1"), ("b", "2"), ("c", "3"), ("d1d2", "4"), ("e", "5")]
    assert r.examples[2].split is Split.VALIDATION and r.examples[2].tags == "x, y" and r.examples[2].note == "n"
    assert not r.findings


@pytest.mark.parametrize(("record", "rule"), [
    ({"contents": [{"role": "user", "parts": [{"text": "q"}]}]}, "missing-field"),
    ({"contents": [{"role": "user", "parts": [{"fileData": {"fileUri": "gs://x"}}]},
                   {"role": "model", "parts": [{"text": "a"}]}]}, "unsupported-content"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                   {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]}, "multi-turn"),
    ({"text_input": {"nested": 1}, "output": "x"}, "malformed-record"),
    ({"title": "t", "body": "b"}, "missing-field"),
    ([1, 2], "malformed-record"),
])
def test_records_that_cannot_be_imported_are_findings_at_their_line(tmp_path: Path, record: object,
                                                                     rule: str) -> None:
    path = _jsonl(tmp_path, {"text_input": "ok", "output": "ok"}, record)
    r = read_dataset(path)
    assert pairs(r) == [("ok", "ok")]
    [f] = r.findings
    assert (f.rule, f.line, f.severity) == (rule, 2, "error")
    assert f.message


def test_unknown_split_value_is_a_warning_and_the_example_goes_to_train(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("input,output,split\na,b,holdout-ish\n", encoding="utf-8")
    r = read_dataset(path)
    assert r.examples[0].split is Split.TRAIN
    assert [(f.rule, f.line, f.row) for f in r.findings] == [("unknown-split", 2, 1)]


def test_json_wrapped_examples_and_single_object_and_jsonl_saved_as_json(tmp_path: Path) -> None:
    wrapped = tmp_path / "w.json"
    wrapped.write_text(json.dumps({"examples": {"examples": [{"textInput": "a", "output": "b"},
                                                             {"textInput": "c", "output": "d"}]}}, indent=1), "utf-8")
    r = read_dataset(wrapped)
    assert pairs(r) == [("a", "b"), ("c", "d")] and r.source_lines == [4, 8]
    single = tmp_path / "s.json"
    single.write_text(json.dumps({"text_input": "x", "output": "y"}), "utf-8")
    assert pairs(read_dataset(single)) == [("x", "y")]
    lines = tmp_path / "l.json"
    lines.write_text('{"text_input": "1", "output": "2"}\n{"text_input": "3", "output": "4"}\n', "utf-8")
    r = read_dataset(lines)
    assert r.format == "jsonl" and pairs(r) == [("1", "2"), ("3", "4")]


def test_truncated_json_array_keeps_what_was_read_and_says_where(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('[\n {"text_input": "a", "output": "b"},\n {"text_input": "c", "outp', "utf-8")
    r = read_dataset(path)
    assert pairs(r) == [("a", "b")]
    [f] = r.findings
    assert f.rule == "malformed-record" and f.line == 3


# --- mapping ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("columns", "expected"), [
    (["Input", "Output"], ("Input", "Output")),
    (["text_input", "output"], ("text_input", "output")),
    (["ID", " Prompt ", "Completion"], (" Prompt ", "Completion")),
    (["question", "answer", "Split", "Tags", "Notes"], ("question", "answer")),
    (["TEXT INPUT", "Response"], ("TEXT INPUT", "Response")),
    (["a", "b"], None),
    (["prompt", "id"], None),
])
def test_guess_mapping(columns: list[str], expected: tuple[str, str] | None) -> None:
    m = guess_mapping(columns)
    assert (None if m is None else (m.input_column, m.output_column)) == expected
    if columns[2:] == ["Split", "Tags", "Notes"]:
        assert m is not None and (m.split_column, m.tags_column, m.note_column) == ("Split", "Tags", "Notes")


def test_unrecognised_columns_need_a_mapping_then_read_with_it(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Kunde schreibt,Antwort vom Team,Bemerkung\nHallo,Guten Tag,erste\n", encoding="utf-8")
    r = read_dataset(path)
    assert r.needs_mapping and r.columns == ["Kunde schreibt", "Antwort vom Team", "Bemerkung"] and not r.examples
    cols, rows, sheets = preview(path)
    assert cols == r.columns and rows == [["Hallo", "Guten Tag", "erste"]] and sheets == []
    mapped = read_dataset(path, mapping=ColumnMapping("Kunde schreibt", "Antwort vom Team", note_column="Bemerkung"))
    assert [(e.input, e.output, e.note) for e in mapped.examples] == [("Hallo", "Guten Tag", "erste")]
    with pytest.raises(DatasetReadError, match="no column named"):
        read_dataset(path, mapping=ColumnMapping("Kunde", "Antwort vom Team"))


def test_preview_of_a_large_csv_reads_only_the_start(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("input,output\n" + "".join(f"q{i},a{i}\n" for i in range(200_000)), encoding="utf-8")
    cols, rows, _ = preview(path, rows=3)
    assert cols == ["input", "output"] and rows == [["q0", "a0"], ["q1", "a1"], ["q2", "a2"]]


# --- detection and refusal -------------------------------------------------------------------------------

def test_detect_format_by_extension_and_content(tmp_path: Path) -> None:
    assert detect_format(DATA / "workbook.xlsx") == "xlsx"
    assert detect_format(DATA / "excel_unicode_text.txt") == "tsv"
    for name, content, fmt in [("a.dat", b'{"text_input": "a", "output": "b"}\n', "jsonl"),
                               ("b.dat", b'[{"text_input": "a", "output": "b"}]', "json"),
                               ("c.dat", b"input;output\na;b\n", "csv")]:
        p = tmp_path / name
        p.write_bytes(content)
        assert detect_format(p) == fmt


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"%PDF-1.7\n%\xe2\xe3",
                                     bytes(range(256)) * 8])
def test_binary_files_are_refused_plainly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetReadError, match="not a text dataset"):
        read_dataset(path)


def test_missing_empty_folder_old_excel_and_damaged_workbook(tmp_path: Path) -> None:
    with pytest.raises(DatasetReadError, match="does not exist"):
        read_dataset(tmp_path / "nope.csv")
    with pytest.raises(DatasetReadError, match="folder"):
        read_dataset(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DatasetReadError, match="empty"):
        read_dataset(empty)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(DatasetReadError, match="Excel 97-2003"):
        read_dataset(old)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes((DATA / "workbook.xlsx").read_bytes()[:2000])
    with pytest.raises(DatasetReadError, match="not a readable Excel workbook"):
        read_dataset(bad)


def test_files_over_the_size_limit_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as f:  # a sparse file: 3 GB on paper, nothing on disk, never read
        f.truncate(3 * 1024**3)
    with pytest.raises(DatasetReadError, match="up to 2 GB"):
        read_dataset(path)
    small = DATA / "gemini.jsonl"
    with pytest.raises(DatasetReadError, match="GemTune reads datasets of up to"):
        read_dataset(small, max_bytes=100)


# --- progress and cancel ---------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_progress_reaches_the_total_and_cancel_stops_the_read(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"many.{suffix}"
    if suffix == "jsonl":
        path.write_text("".join(json.dumps({"text_input": f"q{i}", "output": "a"}) + "\n" for i in range(20_000)),
                        "utf-8")
    else:
        path.write_text("input,output\n" + "".join(f"q{i},a\n" for i in range(20_000)), "utf-8")
    reports: list[tuple[int, int]] = []
    token = CancelToken(lambda done, total, _text: reports.append((done, total)))
    r = read_dataset(path, token=token)
    assert len(r.examples) == 20_000
    assert reports[-1][0] == reports[-1][1] == path.stat().st_size
    assert len(reports) > 2 and all(a[0] <= b[0] for a, b in pairwise(reports))

    cancelling = CancelToken()
    cancelling.cancel()
    with pytest.raises(Cancelled):
        read_dataset(path, token=cancelling)

    def cancel_midway(done: int, total: int, _text: str) -> None:
        if 0 < done < total:
            later.cancel()

    later = CancelToken(cancel_midway)
    with pytest.raises(Cancelled):
        read_dataset(path, token=later)


def test_examples_keep_example_semantics(tmp_path: Path) -> None:
    r = read_dataset(DATA / "gemini.jsonl")
    assert all(isinstance(e, Example) and e.id == 0 and e.split is Split.TRAIN for e in r.examples)
    assert len(r) == 4 and r.inputs() == [i for i, _ in ROWS]


# --- the raw-byte pre-screen of JSONL never hides a character problem ---------------------------------------

CHARACTER_PROBLEMS = ["bell \u0007", "backspace \b", "form feed \f", "delete \x7f", "c1 \x85", "zero\u200bwidth",
                      "bom \ufeff inside", "line\u2028separator", "CafÃ©", "GrÃ¶ÃŸe", "GroÃŸ", "Donâ€™t",
                      "bad \ufffd byte", "nbsp mojibake Â\u00a0here"]


@pytest.mark.parametrize("window", [3, 7, 1 << 16])
def test_jsonl_character_problems_are_all_found_at_their_lines(tmp_path: Path, window: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from gemtune_desktop.core.examples import DatasetSettings
    from gemtune_desktop.core.formats import jsonio
    from gemtune_desktop.core.validation import validate

    monkeypatch.setattr(jsonio, "_WINDOW", window)
    clean_lines = [json.dumps({"text_input": f"Fine question {i}: café, Übergröße, 東京", "output": "fine"},
                              ensure_ascii=False) for i in range(30)]
    lines = list(clean_lines)
    for k, text in enumerate(CHARACTER_PROBLEMS):
        lines.insert(2 * k + 1, json.dumps({"text_input": "question", "output": text}, ensure_ascii=False))
    path = tmp_path / "chars.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = read_dataset(path)
    found = validate(r.examples, DatasetSettings(), "gemini-api", r.source_lines, clean=r.clean)
    flagged = {f.line for f in found if f.rule in ("control-characters", "broken-encoding")}
    assert flagged == {2 * k + 2 for k in range(len(CHARACTER_PROBLEMS))}
    assert r.clean is not None and sum(r.clean) >= 30  # the clean lines skip the scan

"""Preference files: every shape other tools write, real encodings, round trips, detection, and plain errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemtune_desktop.core.errors import DatasetReadError, UserError
from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.formats import read_dataset, write_dataset
from gemtune_desktop.core.preference.formats import detect_example_kind, read_preference_dataset
from gemtune_desktop.core.preference.model import ExampleKind, PreferenceExample, PreferenceSettings
from gemtune_desktop.core.preference.records import PreferenceMapping, guess_preference_mapping
from gemtune_desktop.core.preference.writers import table_header, upload_lines, write_preferences

DATA = Path(__file__).resolve().parent.parent / "data"
SUFFIX = {"agent-platform": "jsonl", "jsonl": "jsonl", "json": "json", "csv": "csv", "tsv": "tsv", "xlsx": "xlsx"}

TRICKY = [
    PreferenceExample("Plain question", "Good answer", "Bad answer"),
    PreferenceExample("Multi\nline\r\nprompt, with \"quotes\" and a;semicolon", "tab\there", "x|y", "Be brief.",
                      Split.VALIDATION, "a, b", "note"),
    PreferenceExample("=SUM(A1:A3)", "+1 formula-looking", "-2", split=Split.TEST),
    PreferenceExample("Accents: crème brûlée, “curly” ’quotes’ – dash…", "€ 5", "5 €"),
    PreferenceExample("日本語の質問です", "中文回答 한국어", "English answer"),
    PreferenceExample("Emoji 🎉 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "0123", "123"),
    PreferenceExample("  leading and trailing spaces  ", "kept ", " kept too"),
    PreferenceExample("x" * 20_000, "long prompt kept whole", "short"),
]


def fields(examples: list[PreferenceExample], with_extras: bool = True) -> list[tuple[object, ...]]:
    if with_extras:
        return [(e.prompt, e.preferred, e.dispreferred, e.system_instruction, e.split, e.tags, e.note)
                for e in examples]
    return [(e.prompt, e.preferred, e.dispreferred, e.system_instruction) for e in examples]


# --- the documented Agent Platform form ---------------------------------------------------------------------

def test_the_documented_example_reads_whatever_the_order_and_number_type_of_the_scores(tmp_path: Path) -> None:
    result = read_preference_dataset(DATA / "preference_documented.jsonl")
    assert result.format == "jsonl" and not result.findings
    assert fields(result.examples, False) == [
        ("What is my favorite fruit?", "Apple! Apple! Apple!", "Your favorite fruit is apple.", "You are a chat bot."),
        ("Summarise the clause in one line.", "The tenant pays for repairs under 500 euros.",
         "The clause is about many things.", "")]
    assert result.source_lines == [1, 2]
    assert detect_example_kind(DATA / "preference_documented.jsonl") is ExampleKind.PREFERENCE


def test_upload_lines_are_exactly_the_documented_shape() -> None:
    settings = PreferenceSettings(preamble="Answer as a paralegal.", system_instruction="Be exact.")
    examples = [PreferenceExample("Q", "good", "bad"), PreferenceExample("Q2", "g", "b", "Own instruction.")]
    lines = list(upload_lines(examples, settings))
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    first, second = (orjson.loads(line) for line in lines)
    assert first == {
        "system_instruction": {"parts": [{"text": "Be exact."}]},
        "contents": [{"role": "user", "parts": [{"text": "Answer as a paralegal.\nQ"}]}],
        "completions": [{"score": 1, "completion": {"role": "model", "parts": [{"text": "good"}]}},
                        {"score": 0, "completion": {"role": "model", "parts": [{"text": "bad"}]}}]}
    assert second["system_instruction"] == {"parts": [{"text": "Own instruction."}]}
    no_system = orjson.loads(next(upload_lines([PreferenceExample("Q", "a", "b")], PreferenceSettings())))
    assert list(no_system) == ["contents", "completions"]


# --- shapes other tools write ---------------------------------------------------------------------------------

OTHER_TOOLS = {
    "trl-standard": {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon."},
    "trl-conversational": {"prompt": [{"role": "system", "content": "Be terse."},
                                      {"role": "user", "content": "Capital of France?"}],
                           "chosen": [{"role": "assistant", "content": "Paris."}],
                           "rejected": [{"role": "assistant", "content": "Lyon."}]},
    "trl-implicit-prompt": {"chosen": [{"role": "system", "content": "Be terse."},
                                       {"role": "user", "content": "Capital of France?"},
                                       {"role": "assistant", "content": "Paris."}],
                            "rejected": [{"role": "system", "content": "Be terse."},
                                         {"role": "user", "content": "Capital of France?"},
                                         {"role": "assistant", "content": "Lyon."}]},
    "openai-preference (Kiln's OpenAI export)": {
        "input": {"messages": [{"role": "system", "content": "Be terse."},
                               {"role": "user", "content": "Capital of France?"}]},
        "preferred_output": [{"role": "assistant", "content": "Paris."}],
        "non_preferred_output": [{"role": "assistant", "content": "Lyon."}]},
    "llama-factory-alpaca": {"instruction": "Capital of", "input": "France?", "chosen": "Paris.", "rejected": "Lyon.",
                             "system": "Be terse."},
    "llama-factory-sharegpt": {"conversations": [{"from": "human", "value": "Capital of France?"}],
                               "chosen": {"from": "gpt", "value": "Paris."},
                               "rejected": {"from": "gpt", "value": "Lyon."}, "system": "Be terse."},
    "chosen-rejected-messages": {"chosen": {"messages": [{"role": "user", "content": "Capital of France?"},
                                                         {"role": "assistant", "content": "Paris."}]},
                                 "rejected": {"messages": [{"role": "user", "content": "Capital of France?"},
                                                           {"role": "assistant", "content": "Lyon."}]}},
}


@pytest.mark.parametrize("shape", list(OTHER_TOOLS))
def test_other_tools_shapes_read_as_prompt_preferred_dispreferred(tmp_path: Path, shape: str) -> None:
    record = OTHER_TOOLS[shape]
    path = tmp_path / "prefs.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n", encoding="utf-8")
    assert detect_example_kind(path) is ExampleKind.PREFERENCE
    result = read_preference_dataset(path)
    assert not result.findings
    e = result.examples[0]
    prompt = "Capital of\nFrance?" if shape == "llama-factory-alpaca" else "Capital of France?"
    assert (e.prompt, e.preferred, e.dispreferred) == (prompt, "Paris.", "Lyon.")
    assert e.system_instruction == ("" if shape in ("trl-standard", "chosen-rejected-messages") else "Be terse.")
    # the same records as a JSON array
    array = tmp_path / "prefs.json"
    array.write_text(json.dumps([record, record], indent=2), encoding="utf-8")
    again = read_preference_dataset(array)
    assert again.format == "json" and fields(again.examples) == fields(result.examples)
    assert again.source_lines == [2, 2 + json.dumps(record, indent=2).count("\n") + 1]


# --- malformed records: a plain message with line and field -------------------------------------------------

BROKEN = [
    ('{"contents": [{"role": "user", "parts": [{"text": "Q"}]}], "completions": [{"score": 1, "completion": '
     '{"role": "model", "parts": [{"text": "A"}]}}]}', "completions",
     "1 completion; preference tuning needs exactly two"),
    ('{"contents": [{"role": "user", "parts": [{"text": "Q"}]}], "completions": [{"score": 1, "completion": '
     '{"role": "model", "parts": [{"text": "A"}]}}, {"score": 1, "completion": {"role": "model", "parts": '
     '[{"text": "B"}]}}]}', "completions", "scores are 1 and 1; one must be 1"),
    ('{"contents": [{"role": "user", "parts": [{"text": "Q"}]}], "completions": [{"score": "1", "completion": '
     '{"parts": [{"text": "A"}]}}, {"score": 0, "completion": {"parts": [{"text": "B"}]}}]}', "completions",
     "Completion 1 has no numeric “score”"),
    ('{"contents": [{"role": "user", "parts": [{"text": "Q"}]}, {"role": "model", "parts": [{"text": "A"}]}], '
     '"completions": []}', "contents", "ends with a model turn"),
    ('{"contents": [{"role": "user", "parts": [{"text": "Q"}]}], "completions": [{"score": 1, "completion": '
     '{"role": "user", "parts": [{"text": "A"}]}}, {"score": 0, "completion": {"role": "model", "parts": '
     '[{"text": "B"}]}}]}', "completions", "role “user”; an answer's role must be “model”"),
    ('{"contents": [{"role": "user", "parts": [{"fileData": {"fileUri": "gs://x"}}]}], "completions": []}',
     "contents", "not text (fileData)"),
    ('{"prompt": "Q", "chosen": "A"}', None, "no preferred and dispreferred answers (its fields: prompt, chosen)"),
    ('{"chosen": "A", "rejected": "B"}', "prompt", "answers but no prompt"),
    ('{"prompt": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "user", '
     '"content": "Q2"}], "chosen": "A", "rejected": "B"}', "prompt", "conversation of 3 turns"),
    ('{"prompt": "Q", "chosen": {"a": 1}, "rejected": "B"}', "chosen", "is a JSON object without “content”"),
    ('["a", "list"]', None, "holds a list, not an example object"),
    ('{"prompt": "Q", "chosen": "A", "rejected": ', None, "not valid JSON"),
]


def test_every_malformed_line_is_reported_with_its_line_and_field_and_the_rest_is_read(tmp_path: Path) -> None:
    good = '{"prompt": "ok", "chosen": "yes", "rejected": "no", "split": "valid"}'
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([good, *(b for b, _f, _m in BROKEN), good]) + "\n", encoding="utf-8")
    result = read_preference_dataset(path)
    assert [e.prompt for e in result.examples] == ["ok", "ok"]
    assert result.examples[0].split is Split.VALIDATION
    assert result.source_lines == [1, len(BROKEN) + 2]
    assert [f.line for f in result.findings] == list(range(2, len(BROKEN) + 2))
    for f, (_b, field, words) in zip(result.findings, BROKEN, strict=True):
        assert f.severity.value == "error"
        assert f.field == field, f.message
        assert words in f.message, f.message
        assert f.location().startswith(f"line {f.line}")


def test_unknown_split_is_a_warning_and_the_example_goes_to_train(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"prompt": "Q", "chosen": "A", "rejected": "B", "split": "later"}\n', encoding="utf-8")
    result = read_preference_dataset(path)
    assert result.examples[0].split is Split.TRAIN
    assert [(f.rule, f.line, f.row) for f in result.findings] == [("unknown-split", 1, 1)]


def test_broken_json_array_and_empty_file_say_where_and_what(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('[\n{"prompt": "Q", "chosen": "A", "rejected": "B"},\n{"prompt": "Q2", "chosen"', encoding="utf-8")
    result = read_preference_dataset(path)
    assert [e.prompt for e in result.examples] == ["Q"]
    assert result.findings[0].line == 3 and "broken" in result.findings[0].message
    empty = tmp_path / "empty.json"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(DatasetReadError, match="empty"):
        read_preference_dataset(empty)
    binary = tmp_path / "x.jsonl"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(DatasetReadError, match="not a text dataset"):
        read_preference_dataset(binary)


# --- tables: mapped like today's import, in real encodings ----------------------------------------------------

def test_header_names_are_matched_like_the_supervised_import() -> None:
    assert guess_preference_mapping(["Question", "Chosen response", "Rejected response", "Set", "Notes"]) == \
        PreferenceMapping("Question", "Chosen response", "Rejected response", "Set", None, "Notes")
    assert guess_preference_mapping(["prompt", "preferred", "dispreferred", "system_instruction"]) == \
        PreferenceMapping("prompt", "preferred", "dispreferred", system_column="system_instruction")
    assert guess_preference_mapping(["input", "output"]) is None


ENCODED_TABLES = [
    ("excel-utf8-bom.csv", "utf-8-sig", ",", "UTF-8 with BOM"),
    ("windows.csv", "cp1252", ";", "Windows-1252"),
    ("unicode-text.txt", "utf-16", "\t", "UTF-16"),
]


@pytest.mark.parametrize(("name", "encoding", "delimiter", "label"), ENCODED_TABLES)
def test_tables_in_real_encodings(tmp_path: Path, name: str, encoding: str, delimiter: str, label: str) -> None:
    rows = [["Prompt", "Preferred", "Dispreferred", "Split"],
            ["Crème brûlée?", "Oui, “s’il vous plaît”", "Non – merci", "train"],
            ["Größe?", "Übergröße", "klein", "validation"],
            ["", "", "", ""],
            ["Quote \"here\"", "multi\nline", "€ 5", "test"]]
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)  # as Excel quotes them
    text = buf.getvalue()
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    assert detect_example_kind(path) is ExampleKind.PREFERENCE
    result = read_preference_dataset(path)
    assert result.encoding == label and not result.findings
    assert [(e.prompt, e.preferred, e.dispreferred, e.split) for e in result.examples] == [
        ("Crème brûlée?", "Oui, “s’il vous plaît”", "Non – merci", Split.TRAIN),
        ("Größe?", "Übergröße", "klein", Split.VALIDATION),
        ('Quote "here"', "multi\nline", "€ 5", Split.TEST)]
    assert result.source_lines == [2, 3, 5]


def test_a_table_without_recognisable_columns_asks_for_a_mapping_and_reads_with_it(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("Frage,Gut,Schlecht\nWas?,Das.,Nichts.\n", encoding="utf-8")
    assert detect_example_kind(path) is ExampleKind.SUPERVISED  # nothing says it is preference data
    first = read_preference_dataset(path)
    assert first.needs_mapping and first.columns == ["Frage", "Gut", "Schlecht"] and not first.examples
    result = read_preference_dataset(path, mapping=PreferenceMapping("Frage", "Gut", "Schlecht"))
    assert fields(result.examples, False) == [("Was?", "Das.", "Nichts.", "")]
    with pytest.raises(DatasetReadError, match="no column named “Besser”"):
        read_preference_dataset(path, mapping=PreferenceMapping("Frage", "Besser", "Schlecht"))


def test_xlsx_sheet_choice_and_a_broken_quote_is_reported_at_its_line(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    write_preferences(book, TRICKY[:2], None, "xlsx")
    result = read_preference_dataset(book, sheet="Preference examples")
    assert result.sheets == ["Preference examples"] and len(result) == 2
    with pytest.raises(DatasetReadError, match="no sheet named"):
        read_preference_dataset(book, sheet="Other")
    # A stray quote swallows the separators after it: the row reads with empty answers, which validation
    # reports at its line, and the rows around it are intact.
    from gemtune_desktop.core.preference.validation import validate_preferences

    csv_path = tmp_path / "broken.csv"
    csv_path.write_text('prompt,chosen,rejected\nQ,A,B\n"Q2,"A2\nQ3,A3,B3\n', encoding="utf-8")
    result = read_preference_dataset(csv_path)
    assert [(e.prompt, e.preferred) for e in result.examples] == [("Q", "A"), ("Q2,A2", ""), ("Q3", "A3")]
    found = validate_preferences(result.examples, None, result.source_lines)
    assert {(f.location(), f.rule) for f in found if f.row is not None} == {
        ("row 2 (line 3), preferred", "empty"), ("row 2 (line 3), dispreferred", "empty")}


# --- round trips ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "tsv", "xlsx"])
def test_round_trip_keeps_every_field(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"out.{SUFFIX[fmt]}"
    write_preferences(path, TRICKY, PreferenceSettings(), fmt)
    assert detect_example_kind(path) is ExampleKind.PREFERENCE
    back = read_preference_dataset(path)
    assert fields(back.examples) == fields(TRICKY)
    assert not back.findings
    again = tmp_path / f"again.{SUFFIX[fmt]}"
    write_preferences(again, back.examples, PreferenceSettings(), fmt)
    assert fields(read_preference_dataset(again).examples) == fields(TRICKY)


def test_agent_platform_form_round_trips_with_preamble_and_system_applied(tmp_path: Path) -> None:
    settings = PreferenceSettings(preamble="Context:", system_instruction="Dataset instruction.")
    path = tmp_path / "upload.jsonl"
    write_preferences(path, TRICKY, settings, "agent-platform")
    assert path.read_bytes() == b"".join(upload_lines(TRICKY, settings))
    back = read_preference_dataset(path)
    assert [(e.prompt, e.preferred, e.dispreferred, e.system_instruction) for e in back.examples] == [
        (settings.prompt_for(e), e.preferred, e.dispreferred, settings.system_for(e)) for e in TRICKY]


def test_tables_carry_only_the_columns_used(tmp_path: Path) -> None:
    plain = [PreferenceExample("Q", "A", "B")]
    assert table_header(plain) == ["prompt", "preferred", "dispreferred"]
    assert table_header(TRICKY) == ["prompt", "preferred", "dispreferred", "system_instruction", "split", "tags",
                                    "note"]


def test_xlsx_refuses_what_excel_cannot_hold_and_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    write_preferences(path, TRICKY[:1], None, "xlsx")
    before = path.read_bytes()
    with pytest.raises(UserError, match="Row 2's dispreferred contains a control character"):
        write_preferences(path, [TRICKY[0], PreferenceExample("Q", "A", "bell\x07")], None, "xlsx")
    with pytest.raises(UserError, match="32,767"):
        write_preferences(path, [PreferenceExample("Q", "A" * 40_000, "B")], None, "xlsx")
    assert path.read_bytes() == before
    with pytest.raises(UserError, match="not a format"):
        write_preferences(path, TRICKY, None, "parquet")


NASTY = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)
PRINTABLE = st.text(st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n\r"), max_size=60)
SPLITS = st.sampled_from(list(Split))


def _examples(text: st.SearchStrategy[str]) -> st.SearchStrategy[list[PreferenceExample]]:
    prompt = text.filter(lambda t: t.strip() != "")  # a row with every cell blank is not an example
    return st.lists(st.builds(PreferenceExample, prompt, text, text, text, SPLITS, text, text), min_size=1,
                    max_size=6)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(examples=_examples(NASTY), fmt=st.sampled_from(["jsonl", "json", "csv", "tsv"]))
def test_round_trip_of_nasty_text(tmp_path: Path, examples: list[PreferenceExample], fmt: str) -> None:
    path = tmp_path / f"fuzz.{SUFFIX[fmt]}"
    write_preferences(path, examples, None, fmt)
    back = read_preference_dataset(path)
    assert not [f for f in back.findings if f.severity.value == "error"]
    assert fields(back.examples) == fields(examples)


@FUZZ
@given(examples=_examples(PRINTABLE))
def test_xlsx_round_trip_of_nasty_text(tmp_path: Path, examples: list[PreferenceExample]) -> None:
    path = tmp_path / "fuzz.xlsx"
    write_preferences(path, examples, None, "xlsx")
    assert fields(read_preference_dataset(path).examples) == fields(examples)


@FUZZ
@given(examples=_examples(NASTY))
def test_agent_platform_round_trip_of_nasty_text(tmp_path: Path, examples: list[PreferenceExample]) -> None:
    path = tmp_path / "fuzz.jsonl"
    write_preferences(path, examples, None, "agent-platform")
    assert fields(read_preference_dataset(path).examples, False) == fields(examples, False)


# --- telling supervised and preference files apart ------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "tsv", "xlsx", "jsonl", "json", "agent-platform"])
def test_supervised_files_are_detected_as_supervised(tmp_path: Path, fmt: str) -> None:
    from gemtune_desktop.core.examples import DatasetSettings, Example

    path = tmp_path / f"sup.{SUFFIX[fmt]}"
    write_dataset(path, [Example("Q", "A"), Example("Q2", "A2", Split.VALIDATION)], DatasetSettings(), fmt)
    assert detect_example_kind(path) is ExampleKind.SUPERVISED
    assert len(read_dataset(path)) == 2


@pytest.mark.parametrize("name", ["gemini.jsonl", "agent_platform.jsonl", "openai.jsonl", "array.json",
                                  "windows_semicolon.csv", "excel_utf8_bom.csv", "latin1.tsv", "workbook.xlsx"])
def test_the_supervised_samples_are_supervised(name: str) -> None:
    assert detect_example_kind(DATA / name) is ExampleKind.SUPERVISED


def test_a_preference_file_whose_first_record_exceeds_the_sample_is_still_recognised(tmp_path: Path) -> None:
    path = tmp_path / "long.json"
    path.write_text(json.dumps([{"prompt": "x" * 400_000, "chosen": "a", "rejected": "b"}], indent=1),
                    encoding="utf-8")
    assert detect_example_kind(path) is ExampleKind.PREFERENCE


# --- what check and convert report ----------------------------------------------------------------------------

def test_check_reports_kind_count_and_findings_by_line(tmp_path: Path) -> None:
    from gemtune_desktop.core.preference.check import check_preference_file, report_doc, write_format_for

    path = tmp_path / "prefs.jsonl"
    path.write_text('{"prompt": "Q", "chosen": "A", "rejected": "A"}\n'
                    'not json\n'
                    '{"prompt": "Q2", "chosen": "B", "rejected": "C"}\n', encoding="utf-8")
    result, findings = check_preference_file(path)
    doc = report_doc(str(path), result, findings)
    assert (doc["kind"], doc["examples"], doc["target"], doc["format"]) == ("preference", 2, "agent-platform", "jsonl")
    assert [(f["rule"], f["line"], f["field"]) for f in doc["findings"]] == [
        ("example-count", None, None), ("identical-answers", 1, "dispreferred"), ("malformed-record", 2, None)]
    assert json.loads(json.dumps(doc)) == doc
    assert write_format_for(tmp_path / "out.jsonl") == "jsonl"
    assert write_format_for(tmp_path / "out.jsonl", "agent-platform") == "agent-platform"
    assert write_format_for(tmp_path / "out.parquet") is None and write_format_for("x", "parquet") is None

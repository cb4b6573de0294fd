"""Bad files, fixed cases missing from ``tests/core/test_formats*.py`` (issue 7).

Already covered there: PNG/PDF/random bytes named ``.csv``, an empty ``.csv``, a 3 GB sparse ``.jsonl``, a
10 MB single line in JSONL and CSV, and correct files in every common encoding. Added here:

* a file of exactly 2 GB (the largest size allowed) that is not text, in every text format — refused from
  its first bytes, without reading the rest (measured with the process's read counter, not a clock);
* binary content and empty files under every extension;
* a 10 MB single line with no line break in TSV, JSON and XLSX;
* wrong encodings: UTF-8 with rows pasted from a Windows-1252 file, Shift-JIS, a byte-order mark that lies,
  UTF-16 without a byte-order mark.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gemtune_desktop.core.errors import DatasetReadError
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.formats import read_dataset, write_dataset

TEXT_FORMATS = ["csv", "tsv", "json", "jsonl"]
TWO_GB = 2 * 1024**3


def _bytes_read() -> int | None:
    """Bytes this process has read through read() calls so far (Linux), or None."""
    try:
        with open("/proc/self/io") as f:
            for line in f:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _pairs(path: Path) -> list[tuple[str, str]]:
    return [(e.input, e.output) for e in read_dataset(path).examples]


@pytest.mark.parametrize("suffix", [*TEXT_FORMATS, "xlsx"])
def test_a_two_gigabyte_non_text_file_is_refused_without_reading_it_all(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"huge.{suffix}"
    with open(path, "wb") as f:  # sparse: 2 GB on paper, a valid first line, then nothing but NUL bytes
        f.write(b"input,output\nq,a\n" if suffix in ("csv", "tsv") else b'{"text_input": "q", "output": "a"}\n')
        f.truncate(TWO_GB)
    before = _bytes_read()
    with pytest.raises(DatasetReadError) as info:
        read_dataset(path)
    after = _bytes_read()
    assert "huge." + suffix in info.value.message and info.value.hint
    if before is not None and after is not None:
        assert after - before < 64 * 1024**2, f"{(after - before) / 1024**2:.0f} MB were read before refusing"


@pytest.mark.parametrize("suffix", [*TEXT_FORMATS, "xlsx"])
@pytest.mark.parametrize("content", [b"\x1f\x8b\x08\x00" + bytes(range(256)) * 16, b"\x00" * 5000,
                                     bytes(range(1, 32)) * 200], ids=["gzip", "nul", "controls"])
def test_binary_content_under_any_extension_is_refused_plainly(tmp_path: Path, suffix: str, content: bytes) -> None:
    path = tmp_path / f"data.{suffix}"
    path.write_bytes(content)
    with pytest.raises(DatasetReadError) as info:
        read_dataset(path)
    assert "data." + suffix in info.value.message and info.value.hint


@pytest.mark.parametrize("suffix", ["tsv", "json", "jsonl", "xlsx"])
def test_empty_files_of_every_kind_are_refused_plainly(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty.{suffix}"
    path.write_bytes(b"")
    if suffix == "jsonl":  # no lines, no examples: the Dataset tab then says "No examples were found in this file."
        result = read_dataset(path)
        assert not result.examples and not result.findings
        return
    with pytest.raises(DatasetReadError) as info:
        read_dataset(path)
    assert "empty" in info.value.message.lower() or "not a readable" in info.value.message
    assert info.value.hint


def test_ten_megabyte_single_line_in_tsv_json_and_xlsx(tmp_path: Path) -> None:
    big = "clause " * 1_500_000  # 10.5 MB, no line break
    tsv = tmp_path / "big.tsv"
    tsv.write_text(f"input\toutput\n{big}\tok", encoding="utf-8")  # and no final newline
    assert [(len(i), o) for i, o in _pairs(tsv)] == [(len(big), "ok")]
    js = tmp_path / "big.json"
    js.write_text(json.dumps([{"text_input": big, "output": "ok"}] * 2), encoding="utf-8")  # 21 MB on one line
    assert [(len(i), o) for i, o in _pairs(js)] == [(len(big), "ok")] * 2
    xlsx = tmp_path / "big.xlsx"
    cell = big[:32000]  # Excel's limit per cell is 32,767 characters
    write_dataset(xlsx, [Example(cell, "ok")], None, "xlsx")
    assert _pairs(xlsx) == [(cell, "ok")]


def test_one_line_that_never_ends_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "runaway.jsonl"
    path.write_bytes(b'{"text_input": "' + b"a" * (10 * 1024**2))  # a 10 MB string that is never closed
    result = read_dataset(path)
    assert not result.examples
    assert [f.line for f in result.findings] == [1] and result.findings[0].message


def test_utf8_file_with_rows_pasted_from_windows_1252_keeps_both_readable(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"input,output\r\n" + "Café crème,oui\r\n".encode()
                     + "Straße “naïve”,ja\r\n".encode("cp1252") + "東京,日本\r\n".encode())
    result = read_dataset(path)
    assert _pairs(path) == [("Café crème", "oui"), ("Straße “naïve”", "ja"), ("東京", "日本")]
    assert not any("Ã" in e.input for e in result.examples)


@pytest.mark.parametrize(("encoding", "rows"), [
    ("shift_jis", [("東京はどこですか", "日本の首都です"), ("大阪はどこですか", "関西にあります")]),
    ("utf-16-le", [("Crème brûlée", "Oui"), ("Straße", "street")]),
    ("utf-16-be", [("Crème brûlée", "Oui"), ("Straße", "street")]),
])
def test_other_encodings_without_a_marker_are_recognised(tmp_path: Path, encoding: str,
                                                         rows: list[tuple[str, str]]) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(("input,output\n" + "".join(f"{i},{o}\n" for i, o in rows)).encode(encoding))
    assert _pairs(path) == rows


def test_a_byte_order_mark_that_lies_is_refused_with_the_place_and_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "liar.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "input,output\nCafé,oui\n".encode("cp1252"))
    with pytest.raises(DatasetReadError) as info:
        read_dataset(path)
    assert "liar.csv" in info.value.message and "byte" in info.value.message
    assert "UTF-8" in info.value.hint


def test_no_file_handles_are_left_open_after_refusals(tmp_path: Path) -> None:
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        pytest.skip("needs /proc")
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\x00" * 1000)
    before = len(os.listdir(fd_dir))
    for _ in range(50):
        with pytest.raises(DatasetReadError):
            read_dataset(path)
    assert len(os.listdir(fd_dir)) <= before


# -- damaged or hostile project files (issue 13) ----------------------------------------------------------------
def _project(path: Path, rows: int = 30) -> Path:
    from gemtune_desktop.core.project import examples_repo
    from gemtune_desktop.core.project.store import ProjectStore

    store = ProjectStore.create(path)
    examples_repo.insert(store, [Example(f"question {i}", f"answer {i}") for i in range(rows)],
                         [float(i + 1) for i in range(rows)])
    store.close()
    return path


def _open_outcome(path: Path) -> str:
    """What opening ``path`` as the window does ends in: "opened", or the plain message; anything else raises."""
    from gemtune_desktop.core.errors import UserError
    from gemtune_desktop.qtcore.project_session import ProjectSession

    try:
        session = ProjectSession.open(path, background_above=20_000)
    except UserError as exc:
        assert exc.message and "\n" not in exc.message and "Traceback" not in exc.message
        return exc.message
    try:
        assert all(isinstance(e.input, str) and isinstance(e.output, str) for e in session.examples)
        session.validator.reset(session.examples)  # what the worker does next: must not trip over anything
        return "opened"
    finally:
        session.close()


def test_random_damage_to_a_project_file_is_opened_or_refused_plainly(qapp: object, tmp_path: Path) -> None:
    """300 copies of a real project, each with a few random bytes changed: every open either works or ends in a
    plain message (the last project of a session is reopened at start-up: a crash there would loop)."""
    import random

    good = _project(tmp_path / "good.gemtune").read_bytes()
    rng = random.Random(13)
    outcomes: dict[str, int] = {}
    for trial in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(100, len(data))
            data[at] = rng.randrange(256)
        if rng.random() < 0.1:
            del data[rng.randrange(1024, len(data)):]  # cut short, as by a full disk or a broken copy
        path = tmp_path / f"damaged-{trial}.gemtune"
        path.write_bytes(bytes(data))
        before = path.read_bytes()
        outcome = _open_outcome(path)
        if outcome != "opened":
            assert path.read_bytes() == before, f"trial {trial}: a refused open changed the file"
        outcomes["opened" if outcome == "opened" else "refused"] = outcomes.get(outcome, 0) + 1
    assert set(outcomes) <= {"opened", "refused"}


def test_hostile_project_files_end_in_a_plain_message(qapp: object, tmp_path: Path) -> None:
    import sqlite3

    cases: dict[str, Path] = {}
    no_examples = tmp_path / "no-examples.gemtune"
    _project(no_examples)
    conn = sqlite3.connect(no_examples)
    conn.execute("DROP TABLE examples")
    conn.commit()
    conn.close()
    cases["no examples table"] = no_examples
    folder = tmp_path / "folder.gemtune"
    folder.mkdir()
    cases["a folder"] = folder
    text = tmp_path / "notes.gemtune"
    text.write_text("input,output\nq,a\n")
    cases["a CSV renamed"] = text
    half = tmp_path / "half.gemtune"
    half.write_bytes(_project(tmp_path / "whole.gemtune").read_bytes()[:4096 + 50])
    cases["cut short"] = half
    for name, path in cases.items():
        outcome = _open_outcome(path)
        assert outcome != "opened", name


def test_cells_that_are_not_text_open_with_a_note_for_the_user(qapp: object, tmp_path: Path) -> None:
    import sqlite3

    from gemtune_desktop.qtcore.project_session import ProjectSession

    path = _project(tmp_path / "edited elsewhere.gemtune", rows=3)
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA writable_schema = ON; "
                       "UPDATE sqlite_master SET sql = replace(replace(sql, 'NOT NULL', ''), 'TEXT', '') "
                       "WHERE name = 'examples';")  # no constraints, no column types: anything goes
    conn.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE examples SET output = NULL WHERE id = 1")
    conn.execute("UPDATE examples SET input = 12 WHERE id = 2")
    conn.execute("UPDATE examples SET note = x'00ff' WHERE id = 3")
    conn.commit()
    conn.close()
    s = ProjectSession.open(path)
    try:
        assert [(e.input, e.output) for e in s.examples][:2] == [("question 0", ""), ("12", "answer 1")]
        assert s.open_notice is not None
        assert s.open_notice.message == ("Some cells in “edited elsewhere.gemtune” were not text (1 empty (NULL) "
                                         "values, 1 numbers, 1 binary values). They are shown as text.")
        s.validator.reset(s.examples)  # validation copes with them as text
    finally:
        s.close()

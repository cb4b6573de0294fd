"""Every export format reads back exactly: 200 random nasty datasets per format, 0 changed examples (issue 13).

The datasets mix what real examples hold and what breaks naive code: emoji (with joiners and skin tones),
right-to-left text, combining marks, CR, CR LF and LF inside cells, tabs, quotes, apostrophes, delimiters,
cells that look like formulas (``=``, ``+``, ``-``, ``@``), leading and trailing spaces, byte-order marks,
blank cells, rows whose every cell is blank, and long cells. Where a format cannot hold something (Excel:
control characters, more than 32,767 characters in a cell), :func:`preflight` must name exactly those rows
before anything is written — and the rest must still read back exactly.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.formats import read_dataset, write_dataset
from gemtune_desktop.core.formats.preflight import export_problems, preflight

PIECES = [
    "🎉", "👩‍👩‍👧", "👍🏽", "🇯🇵", "שלום עולם", "مرحبا بالعالم", "e\u0301", "Å\u030a", "क्षि", "日本語",
    "\r", "\r\n", "\n", "\t", '"', "'", '""', ",", ";", "|", "=SUM(A1:A3)", "+1", "-5", "@user", "'=x", "''",
    " ", "  ", "\ufeff",
    "\u200b", "\u00a0", "\\", "&lt;", "<b>", "_x000D_", "sep=;", "null", "NaN", "1e400", "007", "TRUE", "\x85",
]
text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(alphabet=st.characters(
    blacklist_categories=("Cs", "Cc")), max_size=12)), max_size=6).map("".join)
long_text = st.integers(1000, 40_000).map(lambda n: ("Long clause, with “quotes”; ✓ " * (n // 30 + 1))[:n])
cell = st.one_of(text, text, text, st.just(""), long_text)
example = st.builds(Example, cell, cell, st.sampled_from(list(Split)), st.one_of(st.just(""), text),
                    st.one_of(st.just(""), text))
blank_row = st.builds(Example, st.sampled_from(["", " ", "\ufeff", "\t"]), st.sampled_from(["", "  ", "\r\n"]))
dataset = st.lists(st.one_of(example, example, example, blank_row), min_size=1, max_size=8)
control = st.sampled_from(["\x00", "\x07", "\x1b", "\x0b", "\ufffe"])

SUFFIX = {"csv": "csv", "tsv": "tsv", "xlsx": "xlsx", "jsonl": "jsonl", "json": "json",
          "agent-platform": "jsonl", "openai": "jsonl"}
ROUND_TRIP = settings(max_examples=200, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                             HealthCheck.data_too_large])


def _texts(e: Example) -> tuple[str, str, str, str]:
    return e.input, e.output, e.tags, e.note


def _excel_cannot_hold(value: str) -> bool:
    """Excel's documented limits: XML 1.0 characters only, and 32,767 characters (UTF-16 units) per cell."""
    return bool(re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", value)) or \
        len(value.encode("utf-16-le")) // 2 > 32_767


def _full(examples: list[Example]) -> list[tuple[str, str, Split, str, str]]:
    return [(e.input, e.output, e.split, e.tags, e.note) for e in examples]


def _round_trip(tmp_path: Path, fmt: str, examples: list[Example]) -> list[Example]:
    path = tmp_path / f"{uuid.uuid4().hex}.{SUFFIX[fmt]}"
    write_dataset(path, examples, DatasetSettings(), fmt)
    try:
        result = read_dataset(path)
    finally:
        path.unlink()
    assert not [f for f in result.findings if f.severity.value == "error"], result.findings
    return result.examples


def _check(tmp_path: Path, fmt: str, examples: list[Example]) -> None:
    back = _round_trip(tmp_path, fmt, examples)
    if fmt in ("agent-platform", "openai"):  # training forms carry the input and the output only
        assert [(e.input, e.output) for e in back] == [(e.input, e.output) for e in examples]
    else:
        assert _full(back) == _full(examples)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json", "agent-platform", "openai"])
@ROUND_TRIP
@given(examples=dataset)
def test_round_trip(tmp_path: Path, fmt: str, examples: list[Example]) -> None:
    _check(tmp_path, fmt, examples)


@ROUND_TRIP
@given(examples=dataset, poison=st.lists(st.tuples(st.integers(0, 7), st.sampled_from(["input", "output", "note"]),
                                                   st.one_of(control, st.just("long"))), max_size=2))
def test_xlsx_round_trip_and_what_it_cannot_hold_is_named_first(tmp_path: Path, examples: list[Example],
                                                                  poison: list[tuple[int, str, str]]) -> None:
    bad_rows = set()
    for at, field, what in poison:
        if at < len(examples):
            e = examples[at]
            setattr(e, field, getattr(e, field) + ("x" * 33_000 if what == "long" else what))
            bad_rows.add(at + 1)
    bad_rows |= {n for n, e in enumerate(examples, 1) if any(_excel_cannot_hold(v) for v in _texts(e))}
    assert {p.row for p in export_problems(examples, "xlsx")} == bad_rows
    refused = preflight(examples, "xlsx", "out.xlsx")
    if bad_rows:
        assert refused is not None and all(f"row {r:,} " in refused.detail for r in bad_rows)
        path = tmp_path / "refused.xlsx"
        try:
            write_dataset(path, examples, None, "xlsx")
        except type(refused):
            pass
        assert not path.exists()  # nothing was written
        examples = [e for n, e in enumerate(examples, 1) if n not in bad_rows]
    if examples:
        _check(tmp_path, "xlsx", examples)

"""CSV and TSV files: delimiter sniffing (comma, semicolon, tab, pipe), quoted multi-line cells, header mapping."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Sequence

from gemtune_desktop.core import validation_rules as R
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import DatasetReadError
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.formats.encoding import decode
from gemtune_desktop.core.formats.model import (
    PROGRESS_EVERY,
    ColumnMapping,
    ImportResult,
    finding,
    guess_mapping,
    parse_split,
    unknown_split_finding,
)
from gemtune_desktop.core.validation import Finding

csv.field_size_limit(2**31 - 1)  # a single cell may hold a long document

DELIMITERS = ("\t", ",", ";", "|")
_SNIFF_CHARS = 65536
_SNIFF_ROWS = 50


def sniff_delimiter(text: str, prefer: str | None = None) -> str:
    """The delimiter that splits the first rows into the same number (> 1) of cells most consistently.

    Ties go to a delimiter under which the header names input/output columns, then to ``prefer``
    (from the file extension), then to tab, comma, semicolon, pipe.
    """
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    order = ([prefer] if prefer else []) + [d for d in DELIMITERS if d != prefer]
    best: tuple[tuple[int, int, float, int], str] | None = None
    for rank, d in enumerate(order):
        if d not in sample:
            continue
        rows: list[list[str]] = []
        try:
            for row in csv.reader(io.StringIO(sample, newline=""), delimiter=d):
                if any(c.strip() for c in row):
                    rows.append(row)
                    if len(rows) >= _SNIFF_ROWS:
                        break
        except csv.Error:
            continue
        if not rows:
            continue
        counts = Counter(len(r) for r in rows)
        mode, freq = counts.most_common(1)[0]
        header_ok = int(guess_mapping([c.strip() for c in rows[0]]) is not None)
        score = (header_ok, int(mode > 1), freq / len(rows), -rank)
        if best is None or score > best[0]:
            best = (score, d)
    return best[1] if best else (prefer or ",")


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(1-based first line, cells) of every record; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    prev = 0
    for row in reader:
        start = prev + 1
        prev = reader.line_num
        if row and any(c.strip() for c in row):
            yield start, row


def header_names(row: list[str]) -> list[str]:
    return [c.strip() or f"Column {i + 1}" for i, c in enumerate(row)]


def column_indexes(columns: list[str], mapping: ColumnMapping, where: str = "file") -> tuple[int | None, ...]:
    """Positions of the input, output, split, tags and note columns (None: not mapped or absent).

    A missing input or output column is an error that names it; ``where`` is "file" or "sheet".
    """
    idx: list[int | None] = []
    for name, required in ((mapping.input_column, True), (mapping.output_column, True),
                           (mapping.split_column, False), (mapping.tags_column, False),
                           (mapping.note_column, False)):
        if name is not None and name in columns:
            idx.append(columns.index(name))
        elif name is not None and required:
            raise DatasetReadError(f"The {where} has no column named “{name}”.",
                                   "Choose the input and output columns again.")
        else:
            idx.append(None)
    return tuple(idx)


def example_from_row(row: Sequence[str], idx: tuple[int | None, ...], line: int, findings: list[Finding],
                     position: int) -> Example:
    """The example in one data row (cells by :func:`column_indexes`); an unknown split word is reported
    in ``findings`` (at file ``line``, example ``position``) and the row goes to training."""
    width = len(row)
    cells = [row[i] if i is not None and i < width else "" for i in idx]
    split = Split.TRAIN
    if cells[2]:
        found = parse_split(cells[2])
        if found is None:
            findings.append(unknown_split_finding(cells[2], line, position))
        else:
            split = found
    return Example(cells[0], cells[1], split, cells[3], cells[4])


def read_delimited(data: bytes, name: str, *, prefer: str | None, mapping: ColumnMapping | None,
                   token: CancelToken | None) -> ImportResult:
    text, encoding = decode(data, name)
    del data
    if text.startswith("\ufeff"):
        text = text[1:]
    delimiter = sniff_delimiter(text, prefer)
    fmt = "tsv" if delimiter == "\t" else "csv"
    total = len(text) or 1
    buf = io.StringIO(text, newline="")
    reader = csv.reader(buf, delimiter=delimiter)
    findings: list[Finding] = []
    examples: list[Example] = []
    lines: list[int] = []
    columns: list[str] = []
    idx: tuple[int | None, ...] = ()
    prev = 0
    count = 0
    try:
        for row in reader:
            start = prev + 1
            prev = reader.line_num
            if not row or not any(c.strip() for c in row):
                continue
            if not columns:
                columns = header_names(row)
                mapping = mapping or guess_mapping(columns)
                if mapping is None:
                    return ImportResult([], [], fmt, None, columns, True, [], encoding)
                idx = column_indexes(columns, mapping)
                continue
            examples.append(example_from_row(row, idx, start, findings, len(examples) + 1))
            lines.append(start)
            count += 1
            if count % PROGRESS_EVERY == 0 and token is not None:
                token.check()
                token.report(buf.tell(), total, f"Read {count:,} rows")
    except csv.Error as exc:
        findings.append(finding("error", R.MALFORMED,
                                f"The file could not be read past this line ({exc}); {len(examples):,} examples "
                                f"before it were imported. Check the quotes on this line and save the file again.",
                                prev + 1))
    if not columns:
        raise DatasetReadError(f"{name} is empty.", "Choose a file with a header row and at least one example.")
    return ImportResult(examples, findings, fmt, None, columns, False, lines, encoding)


def preview_delimited(data: bytes, name: str, rows: int, prefer: str | None,
                      partial: bool = False) -> tuple[list[str], list[list[str]]]:
    text, _ = decode(data, name, partial)
    if text.startswith("\ufeff"):
        text = text[1:]
    delimiter = sniff_delimiter(text, prefer)
    columns: list[str] = []
    out: list[list[str]] = []
    try:
        for _line, row in _records(text, delimiter):
            if not columns:
                columns = header_names(row)
                continue
            out.append((row + [""] * len(columns))[: max(len(columns), len(row))])
            if len(out) >= rows:
                break
    except csv.Error:
        pass
    return columns, out

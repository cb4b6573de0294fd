"""CSV and TSV files: delimiter sniffing (comma, semicolon, tab, pipe), quoted multi-line cells, header mapping.

What a spreadsheet program puts in these files is read as the user meant it:

* Excel's ``sep=;`` first line names the delimiter (and is not a row);
* title rows above the header are skipped (found by the column names, or ``ColumnMapping.skip_rows``);
* blank lines, and a trailing line holding only a byte-order mark (U+FEFF), are not examples;
* a cell GemTune's export guarded against formula injection (``'=SUM(…)``, see ``writers.guard_cell``)
  reads back as it was typed;
* **a quote that is never closed** would make the rest of the file one cell (Python's csv module reads on
  to the end): it is reported at the line where it opens, with the number of rows it would swallow, that
  line is left out and the rows after it are read on their own. A file is never imported truncated silently.
"""

from __future__ import annotations

import csv
import io
import operator
import re
from collections import Counter
from collections.abc import Iterator, Sequence

from gemtune_desktop.core import validation_rules as R
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import DatasetReadError
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.formats.encoding import decode
from gemtune_desktop.core.formats.model import (
    PROGRESS_EVERY,
    TITLE_ROWS_MAX,
    UNCLOSED_QUOTE,
    ColumnMapping,
    ImportResult,
    find_header,
    finding,
    guess_mapping,
    is_blank,
    parse_split,
    title_rows_finding,
    unknown_split_finding,
)
from gemtune_desktop.core.validation import Finding
from gemtune_desktop.core.words import plural

csv.field_size_limit(2**31 - 1)  # a single cell may hold a long document

DELIMITERS = ("\t", ",", ";", "|")
_SNIFF_CHARS = 65536
_SNIFF_ROWS = 50
_SEP_LINE = re.compile(r"sep=(.)[ \t]*(\r\n|\r|\n|$)", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_GUARDED = re.compile(r"'+[=+\-@\t\r]")


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
        header = find_header(rows)
        header_ok = int(header is not None)
        score = (header_ok, int(mode > 1), freq / len(rows), -rank)
        if best is None or score > best[0]:
            best = (score, d)
    return best[1] if best else (prefer or ",")


def excel_sep_line(text: str) -> tuple[str, str | None, int]:
    """(text without Excel's ``sep=X`` first line, X or None, lines removed)."""
    m = _SEP_LINE.match(text)
    if m is None:
        return text, None, 0
    return text[m.end():], m.group(1), 1


def unguard(cell: str) -> str:
    """Undo the export's formula guard: ``'=x`` → ``=x`` (and ``''=x`` → ``'=x``, so it is reversible)."""
    return cell[1:] if _GUARDED.match(cell) else cell


def unclosed_quote_at(text: str, delimiter: str, start: int = 0) -> int | None:
    """Offset in ``text`` (from ``start``, the beginning of the last record, to the end of the file) of a quote
    that opens a field and never closes, or None. Follows the csv module's lenient rules: only a quote at the
    start of a field opens one."""
    field_end = re.compile(f"[{re.escape(delimiter)}\r\n]")
    i, n = start, len(text)
    while i < n:
        if text[i] == '"':
            m = _QUOTED.match(text, i)
            if m is None:
                return i
            i = m.end()
        m2 = field_end.search(text, i)
        if m2 is None:
            return None
        i = m2.end()
    return None


_strip = str.strip
_has_bom = operator.methodcaller("__contains__", "\ufeff")
_starts_with_apostrophe = operator.methodcaller("startswith", "'")


def _has_text(row: list[str]) -> bool:
    """Whether a record holds anything but spaces and byte-order marks (at C speed for the usual rows)."""
    if not any(map(_strip, row)):
        return False
    if not any(map(_has_bom, row)):
        return True
    return not all(is_blank(c) for c in row)


class Progress:
    """Where a reader is in its text (characters), for progress reports."""

    position = 0


def iter_records(text: str, delimiter: str, first_line: int, findings: list[Finding], *,
                 check_end: bool = True, progress: Progress | None = None) -> Iterator[tuple[int, list[str]]]:
    """``(first line, cells)`` of every non-blank record of a delimited text.

    With ``check_end``, a last record that ends inside a quote that never closes is not returned: an error
    finding at the quote's line says how many rows it would have swallowed, and the text after that line is
    read on its own (again and again, should the rest hold such a quote too). ``check_end=False`` is for a
    preview of a file's start, which may end inside a cell.
    """
    progress = progress or Progress()
    base = 0
    yielded = 0
    while True:
        segment = text if base == 0 else text[base:]
        buf = io.StringIO(segment, newline="")
        reader = csv.reader(buf, delimiter=delimiter)
        prev_line, prev_pos = 0, 0
        pending: tuple[int, list[str], int] | None = None  # held back until it is known not to be the last
        for row in reader:
            start, record_pos = first_line + prev_line, prev_pos
            prev_line, prev_pos = reader.line_num, buf.tell()
            if not _has_text(row):
                continue
            if pending is not None:
                yielded += 1
                yield pending[0], pending[1]
            pending = (start, row, record_pos)
            progress.position = base + prev_pos
        progress.position = base + prev_pos
        if pending is None:
            return
        at = unclosed_quote_at(segment, delimiter, pending[2]) if check_end else None
        if at is None:
            yield pending[0], pending[1]
            return
        line = pending[0] + len(_LINE_BREAK.findall(segment, pending[2], at))
        if yielded == 0 and base == 0:
            raise DatasetReadError(f"The header row (line {line}) opens a quote (\") that is never closed, so the "
                                   f"whole file would be one cell.", f"Close or remove the quote on line {line} and "
                                   f"try again.")
        brk = _LINE_BREAK.search(segment, at)
        resume = brk.end() if brk is not None else len(segment)
        rest = segment[resume:]
        lost = sum(1 for row in csv.reader(io.StringIO(rest, newline=""), delimiter=delimiter) if _has_text(row))
        findings.append(finding(
            "error", UNCLOSED_QUOTE,
            f"Line {line:,} opens a quote (\") that is never closed, so the rest of the file — "
            f"{plural(lost, 'more row')} — would be read as one cell and lost. The record on this line was left "
            f"out and the rows after it were read on their own. Close or remove the quote on line {line:,}, then "
            f"import the file again.", line))
        base += resume
        first_line = line + 1


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


def locate_header(head: list[tuple[int, list[str]]], mapping: ColumnMapping | None,
                  findings: list[Finding]) -> tuple[int, ColumnMapping | None]:
    """(index in ``head`` of the header row, the mapping to use) for the first records of a file or sheet.

    With a mapping, its ``skip_rows`` says where the header is; without one, the first row that names input
    and output columns within :data:`TITLE_ROWS_MAX` rows is the header (an info finding says what was
    skipped), else the first row is, and the mapping is None (ask the user).
    """
    if mapping is not None:
        return min(mapping.skip_rows, max(len(head) - 1, 0)), mapping
    k = find_header([row for _line, row in head])
    if k is None:
        return 0, None
    if k > 0:
        findings.append(title_rows_finding(k, head[k][0]))
    return k, guess_mapping(header_names(head[k][1]))


def _chain(first: list[tuple[int, list[str]]], rest: Iterator[tuple[int, list[str]]]
           ) -> Iterator[tuple[int, list[str]]]:
    yield from first
    yield from rest


def read_delimited(data: bytes, name: str, *, prefer: str | None, mapping: ColumnMapping | None,
                   token: CancelToken | None) -> ImportResult:
    text, encoding = decode(data, name)
    del data
    text, sep, skipped = excel_sep_line(text.removeprefix("\ufeff"))
    delimiter = sep or sniff_delimiter(text, prefer)
    fmt = "tsv" if delimiter == "\t" else "csv"
    total = len(text) or 1
    findings: list[Finding] = []
    examples: list[Example] = []
    lines: list[int] = []
    columns: list[str] = []
    progress = Progress()
    records = iter_records(text, delimiter, skipped + 1, findings, progress=progress)
    try:
        head: list[tuple[int, list[str]]] = []
        for record in records:
            head.append(record)
            if len(head) > (mapping.skip_rows if mapping is not None else TITLE_ROWS_MAX):
                break
        if not head:
            raise DatasetReadError(f"{name} is empty.", "Choose a file with a header row and at least one example.")
        k, mapping = locate_header(head, mapping, findings)
        columns = header_names(head[k][1])
        if mapping is None:
            return ImportResult([], [], fmt, None, columns, True, [], encoding)
        idx = column_indexes(columns, mapping)
        for line, row in _chain(head[k + 1:], records):
            if any(map(_starts_with_apostrophe, row)):
                row = [unguard(c) for c in row]
            examples.append(example_from_row(row, idx, line, findings, len(examples) + 1))
            lines.append(line)
            if len(examples) % PROGRESS_EVERY == 0 and token is not None:
                token.check()
                token.report(progress.position, total, f"Read {len(examples):,} rows")
    except csv.Error as exc:
        findings.append(finding("error", R.MALFORMED,
                                f"The file could not be read past this line ({exc}); {len(examples):,} examples "
                                f"before it were imported. Check the quotes on this line and save the file again.",
                                (lines[-1] + 1) if lines else skipped + 1))
    if not columns:
        raise DatasetReadError(f"{name} is empty.", "Choose a file with a header row and at least one example.")
    return ImportResult(examples, findings, fmt, None, columns, False, lines, encoding)


def preview_delimited(data: bytes, name: str, rows: int, prefer: str | None, partial: bool = False,
                      skip_rows: int | None = None) -> tuple[list[str], list[list[str]]]:
    """(columns, first ``rows`` data rows) for the mapping dialog; ``skip_rows`` None finds title rows."""
    text, _ = decode(data, name, partial)
    text, sep, skipped = excel_sep_line(text.removeprefix("\ufeff"))
    delimiter = sep or sniff_delimiter(text, prefer)
    head: list[tuple[int, list[str]]] = []
    try:
        for record in iter_records(text, delimiter, skipped + 1, [], check_end=not partial):
            head.append(record)
            if len(head) >= rows + TITLE_ROWS_MAX + 1:
                break
    except (csv.Error, DatasetReadError):
        pass
    if not head:
        return [], []
    mapping = None if skip_rows is None else ColumnMapping("", "", skip_rows=skip_rows)
    k, _mapping = locate_header(head, mapping, [])
    columns = header_names(head[k][1])
    out = [(row + [""] * len(columns))[: max(len(columns), len(row))] for _line, row in head[k + 1:k + 1 + rows]]
    return columns, out

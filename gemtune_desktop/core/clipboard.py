"""Rows on the clipboard as tab-separated text, the way Excel and Google Sheets write and read it.

A cell containing a tab, a newline or a double quote is wrapped in double quotes with inner quotes
doubled (Excel's rule); everything else is written as is. Reading accepts the same, plus CRLF line ends
and a trailing newline. Pasted rows become examples (input, output, then split, tags and note; a
header row is recognised and used).
"""

from __future__ import annotations

from collections.abc import Sequence

from gemtune_desktop.core.examples import Example

#: The fields of an example copied as a whole row, in this order.
COPY_COLUMNS = ("input", "output", "split", "tags", "note")


def _quote(cell: str) -> str:
    if any(c in cell for c in ("\t", "\n", "\r", '"')):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def to_tsv(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells → clipboard text (CRLF between rows, as Excel writes)."""
    return "".join("\t".join(_quote(c) for c in row) + "\r\n" for row in rows)


def parse_tsv(text: str) -> list[list[str]]:
    """Clipboard text → rows of cells. Quoted cells may hold tabs, newlines and doubled quotes."""
    rows: list[list[str]] = []
    row: list[str] = []
    cell: list[str] = []
    i, n = 0, len(text)
    at_cell_start = True
    while i < n:
        ch = text[i]
        if at_cell_start and ch == '"':
            i = _read_quoted(text, i + 1, cell)
            at_cell_start = False
            continue
        if ch == "\t":
            row.append("".join(cell))
            cell = []
            at_cell_start = True
        elif ch in "\r\n":
            if ch == "\r" and i + 1 < n and text[i + 1] == "\n":
                i += 1
            row.append("".join(cell))
            rows.append(row)
            row, cell = [], []
            at_cell_start = True
        else:
            cell.append(ch)
            at_cell_start = False
        i += 1
    if cell or row or not at_cell_start:
        row.append("".join(cell))
        rows.append(row)
    return rows


def _read_quoted(text: str, i: int, cell: list[str]) -> int:
    """Read a quoted cell's text from ``i`` (just after the opening quote) into ``cell``; returns the index after it."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            if i + 1 < n and text[i + 1] == '"':
                cell.append('"')
                i += 2
                continue
            return i + 1
        cell.append(c)
        i += 1
    return i


def rows_to_examples(rows: list[list[str]]) -> list[Example]:
    """Pasted rows → examples: input, output, then split, tags and note; a header row is recognised and used."""
    from gemtune_desktop.core.formats.model import guess_mapping, parse_split

    order = list(COPY_COLUMNS)
    mapping = guess_mapping(rows[0]) if rows else None
    if mapping is not None:
        names = {mapping.input_column: "input", mapping.output_column: "output", mapping.split_column: "split",
                 mapping.tags_column: "tags", mapping.note_column: "note"}
        order = [names.get(h, "") for h in rows[0]]
        rows = rows[1:]
    out: list[Example] = []
    for r in rows:
        e = Example("", "")
        for field, value in zip(order, r, strict=False):
            if not field:
                continue
            if field == "split":
                sp = parse_split(value)
                if sp is not None:
                    e.split = sp
            else:
                setattr(e, field, value)
        out.append(e)
    return out

"""Rows on the clipboard as tab-separated text, the way Excel and Google Sheets write and read it.

A cell containing a tab, a newline or a double quote is wrapped in double quotes with inner quotes
doubled (Excel's rule); everything else is written as is. Reading accepts the same, plus CRLF line ends
and a trailing newline.
"""

from __future__ import annotations

from collections.abc import Sequence


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
            # quoted cell: read to the closing quote
            i += 1
            while i < n:
                c = text[i]
                if c == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        cell.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                cell.append(c)
                i += 1
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

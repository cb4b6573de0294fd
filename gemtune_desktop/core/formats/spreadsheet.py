"""Excel workbooks (.xlsx) through openpyxl in read-only / write-only mode.

Numbers come out as the text a user sees (2 → "2", 2.5 → "2.5"), blank rows are skipped, and each
example remembers its spreadsheet row. Strings are written as strings (never as formulas).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import DatasetReadError
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.formats.model import (
    PROGRESS_EVERY,
    ColumnMapping,
    ImportResult,
    cell_text,
    guess_mapping,
)
from gemtune_desktop.core.formats.tabular import column_indexes, example_from_row, header_names
from gemtune_desktop.core.validation import Finding

EXCEL_MAX_CELL_CHARS = 32_767


def _open(path: Path) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise DatasetReadError(f"{path.name} could not be read: {exc.strerror or exc}.") from None
        raise _damaged(path, exc) from None
    except Exception as exc:  # zipfile, zlib, XML and openpyxl raise assorted errors on damaged workbooks
        raise _damaged(path, exc) from None


def _damaged(path: Path, exc: Exception) -> DatasetReadError:
    return DatasetReadError(f"{path.name} is not a readable Excel workbook: it is damaged or in another format.",
                            "Open it in Excel and save it again as .xlsx, or export it as CSV.",
                            detail=f"{type(exc).__module__}.{type(exc).__name__}: {exc}")


def _sheet(wb: Any, sheet: str | None, name: str) -> Any:
    if sheet is None:
        return wb.worksheets[0] if wb.worksheets else None
    if sheet not in wb.sheetnames:
        raise DatasetReadError(f"{name} has no sheet named “{sheet}”.",
                               f"Choose one of: {', '.join(wb.sheetnames)}.")
    return wb[sheet]


def _rows(ws: Any) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cell texts) of every non-blank row."""
    ws.reset_dimensions()  # some writers store wrong dimensions; read what is there
    for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
        cells = [cell_text(v) for v in values]
        if any(c.strip() for c in cells):
            yield number, cells


def sheet_names(path: Path) -> list[str]:
    wb = _open(path)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def read_xlsx(path: Path, *, sheet: str | None, mapping: ColumnMapping | None,
              token: CancelToken | None) -> ImportResult:
    wb = _open(path)
    try:
        sheets = list(wb.sheetnames)
        ws = _sheet(wb, sheet, path.name)
        if ws is None:
            raise DatasetReadError(f"{path.name} has no worksheets.", "Add a sheet with input and output columns.")
        try:
            total = int(ws.max_row or 0)
        except Exception:
            total = 0
        examples: list[Example] = []
        lines: list[int] = []
        findings: list[Finding] = []
        columns: list[str] = []
        idx: tuple[int | None, ...] = ()
        try:
            for number, cells in _rows(ws):
                if not columns:
                    columns = header_names(cells)
                    while columns and columns[-1].startswith("Column ") and not cells[len(columns) - 1].strip():
                        columns.pop()
                    mapping = mapping or guess_mapping(columns)
                    if mapping is None:
                        return ImportResult([], [], "xlsx", None, columns, True, [], "", sheets)
                    idx = column_indexes(columns, mapping, "sheet")
                    continue
                examples.append(example_from_row(cells, idx, number, findings, len(examples) + 1))
                lines.append(number)
                if len(examples) % PROGRESS_EVERY == 0 and token is not None:
                    token.check()
                    token.report(number, max(total, number), f"Read {len(examples):,} rows")
        except DatasetReadError:
            raise
        except Exception as exc:  # damaged sheet XML
            raise _damaged(path, exc) from None
        if not columns:
            raise DatasetReadError(f"The sheet “{ws.title}” in {path.name} is empty.",
                                   "Choose the sheet that holds the examples.")
        return ImportResult(examples, findings, "xlsx", None, columns, False, lines, "", sheets)
    finally:
        wb.close()


def preview_xlsx(path: Path, rows: int, sheet: str | None) -> tuple[list[str], list[list[str]], list[str]]:
    wb = _open(path)
    try:
        ws = _sheet(wb, sheet, path.name)
        columns: list[str] = []
        out: list[list[str]] = []
        if ws is not None:
            try:
                for _number, cells in _rows(ws):
                    if not columns:
                        columns = header_names(cells)
                        continue
                    out.append((cells + [""] * len(columns))[: max(len(columns), len(cells))])
                    if len(out) >= rows:
                        break
            except Exception as exc:  # damaged sheet XML
                raise _damaged(path, exc) from None
        return columns, out, list(wb.sheetnames)
    finally:
        wb.close()

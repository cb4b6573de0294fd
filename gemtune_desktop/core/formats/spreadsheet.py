"""Excel workbooks (.xlsx) through openpyxl in read-only mode.

Numbers come out as the text a user sees (2 → "2", 2.5 → "2.5"), blank rows are skipped, title rows above
the header are skipped (see ``tabular.locate_header``), and each example remembers its spreadsheet row.

Before openpyxl reads anything, :func:`inspect_workbook` looks at the zip itself, so a hostile or broken
file costs neither memory nor minutes:

* a zip that is not a workbook (a Word document, a plain archive) is named as such;
* a "zip bomb" — contents that unpack to far more than any spreadsheet would, at a compression ratio
  real workbooks do not reach — is refused from the zip's directory, without unpacking it;
* a cell holding more than :data:`MAX_CELL_BYTES` of text (openpyxl would build it whole, twice) is found
  by streaming through the XML and refused before it is built.

Long sheets report progress and stop on cancel every :data:`PROGRESS_EVERY` rows, blank rows included.
A workbook whose name does not end in .xlsx (an .xlsx saved as ``data.csv``) is read all the same.
"""

from __future__ import annotations

import itertools
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, DatasetReadError
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.formats.model import (
    PROGRESS_EVERY,
    TITLE_ROWS_MAX,
    ColumnMapping,
    ImportResult,
    cell_text,
    is_blank,
)
from gemtune_desktop.core.formats.tabular import column_indexes, example_from_row, header_names, locate_header
from gemtune_desktop.core.validation import Finding

EXCEL_MAX_CELL_CHARS = 32_767
MAX_CELL_BYTES = 8 * 1024**2       # text in one cell (Excel itself stops at 32,767 characters)
MAX_UNPACKED_BYTES = 4 * 1024**3   # everything in the workbook, unpacked
BOMB_RATIO = 500                   # real workbooks, even of identical rows, stay well below (measured: 17–350)
BOMB_MIN_BYTES = 50 * 1024**2      # a small file may compress that well harmlessly
_CHUNK = 1 << 20
_TABLE_PROBE_ROWS = 25            # rows and columns looked at to tell a table from a cover or notes sheet
_TABLE_PROBE_COLUMNS = 50


def _damaged(path: Path, exc: Exception) -> DatasetReadError:
    return DatasetReadError(f"{path.name} is not a readable Excel workbook: it is damaged or in another format.",
                            "Open it in Excel and save it again as .xlsx, or export it as CSV.",
                            detail=f"{type(exc).__module__}.{type(exc).__name__}: {exc}")


def inspect_workbook(path: Path, token: CancelToken | None = None) -> None:
    """Refuse what is not a workbook, a zip bomb, or a giant cell, before openpyxl reads it (see module doc)."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names and not any(n.endswith("/workbook.xml") for n in names):
                kind = "a Word document" if "word/document.xml" in names else \
                       "a PowerPoint presentation" if "ppt/presentation.xml" in names else "a zip archive"
                raise DatasetReadError(f"{path.name} is {kind}, not an Excel workbook.",
                                       "Choose an .xlsx workbook, or a CSV, TSV, JSON or JSONL file.")
            unpacked = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if unpacked > MAX_UNPACKED_BYTES or (unpacked > BOMB_MIN_BYTES and unpacked / packed > BOMB_RATIO):
                raise DatasetReadError(
                    f"{path.name} unpacks to {unpacked / 1024**3:.1f} GB from {packed / 1024**2:.1f} MB "
                    f"({unpacked / packed:,.0f} to 1), far more than any real workbook; it was not read.",
                    "If it is a real workbook, save it as CSV and import that.")
            for info in infos:
                if info.filename.endswith(".xml") and info.file_size > MAX_CELL_BYTES:
                    with z.open(info) as member:
                        _check_cells(path, member, token)
    except DatasetReadError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise DatasetReadError(f"{path.name} could not be read: {exc.strerror or exc}.") from None
        raise _damaged(path, exc) from None


def _check_cells(path: Path, member: IO[bytes], token: CancelToken | None) -> None:
    """Refuse a member whose text has a stretch longer than MAX_CELL_BYTES without a '<' (one giant text
    node: text cannot hold a raw '<'), streaming, without keeping it."""
    gap = 0
    n = 0
    while chunk := member.read(_CHUNK):
        last = chunk.rfind(b"<")
        if last < 0:
            gap += len(chunk)
        else:
            first = chunk.find(b"<")
            if gap + first > MAX_CELL_BYTES:
                gap += first
                break
            gap = len(chunk) - last - 1
        if gap > MAX_CELL_BYTES:
            break
        n += 1
        if token is not None and n % 64 == 0:
            token.check()
    if gap > MAX_CELL_BYTES:
        raise DatasetReadError(f"{path.name} has a cell holding more than {MAX_CELL_BYTES // 1024**2} MB of text "
                               f"(an Excel cell holds at most {EXCEL_MAX_CELL_CHARS:,} characters); it was not read.",
                               "Shorten that cell, or save the sheet as CSV and import that.")


def _open(path: Path, fh: IO[bytes]) -> Any:
    from openpyxl import load_workbook

    try:
        # A file object, not the path: openpyxl refuses names that do not end in .xlsx (a workbook saved as .csv).
        return load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, zlib, XML and openpyxl raise assorted errors on damaged workbooks
        raise _damaged(path, exc) from None


def _sheet(wb: Any, sheet: str | None, name: str) -> Any:
    if sheet is None:
        return _default_sheet(wb)
    if sheet not in wb.sheetnames:
        raise DatasetReadError(f"{name} has no sheet named “{sheet}”.",
                               f"Choose one of: {', '.join(wb.sheetnames)}.")
    return wb[sheet]


def _default_sheet(wb: Any) -> Any:
    """The sheet read when none is named: the first that looks like a table (a row with two or more filled
    cells near its top), so a workbook that opens on a cover or notes sheet still imports its examples."""
    sheets = list(wb.worksheets)
    for ws in sheets:
        try:
            # Not _rows(): it forgets the stored dimensions, which the read's progress total comes from.
            top = ws.iter_rows(min_row=1, max_row=_TABLE_PROBE_ROWS, max_col=_TABLE_PROBE_COLUMNS, values_only=True)
            if any(sum(1 for v in values if not is_blank(cell_text(v))) >= 2 for values in top):
                return ws
        except Exception:  # a damaged sheet: the read itself says so
            break
    return sheets[0] if sheets else None


def default_sheet(path: Path) -> str | None:
    """The name of the sheet an import reads when the user has not picked one (see :func:`_default_sheet`)."""
    inspect_workbook(path)
    with _with_file(path) as fh:
        wb = _open(path, fh)
        try:
            ws = _default_sheet(wb)
            return str(ws.title) if ws is not None else None
        finally:
            wb.close()


def _rows(ws: Any, token: CancelToken | None = None, total: int = 0) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cell texts) of every non-blank row; checks ``token`` every few thousand rows."""
    ws.reset_dimensions()  # some writers store wrong dimensions; read what is there
    for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
        if token is not None and number % PROGRESS_EVERY == 0:
            token.check()
            token.report(number, max(total, number), f"Read {number:,} rows")
        cells = [cell_text(v) for v in values]
        if not all(is_blank(c) for c in cells):
            yield number, cells


def _with_file(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise DatasetReadError(f"{path.name} could not be read: {exc.strerror or exc}.") from None


def sheet_names(path: Path) -> list[str]:
    inspect_workbook(path)
    with _with_file(path) as fh:
        wb = _open(path, fh)
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()


def read_xlsx(path: Path, *, sheet: str | None, mapping: ColumnMapping | None,
              token: CancelToken | None) -> ImportResult:
    inspect_workbook(path, token)
    with _with_file(path) as fh:
        wb = _open(path, fh)
        try:
            return _read_sheet(path, wb, sheet, mapping, token)
        finally:
            wb.close()


def _read_sheet(path: Path, wb: Any, sheet: str | None, mapping: ColumnMapping | None,
                token: CancelToken | None) -> ImportResult:
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
    try:
        rows = _rows(ws, token, total)
        head: list[tuple[int, list[str]]] = []
        for record in rows:
            head.append(record)
            if len(head) > (mapping.skip_rows if mapping is not None else TITLE_ROWS_MAX):
                break
        if not head:
            raise DatasetReadError(f"The sheet “{ws.title}” in {path.name} is empty.",
                                   "Choose the sheet that holds the examples.")
        k, mapping = locate_header(head, mapping, findings)
        header = head[k][1]
        columns = header_names(header)
        while columns and columns[-1].startswith("Column ") and not header[len(columns) - 1].strip():
            columns.pop()
        if mapping is None:
            return ImportResult([], [], "xlsx", None, columns, True, [], "", sheets)
        idx = column_indexes(columns, mapping, "sheet")
        for number, cells in itertools.chain(head[k + 1:], rows):
            examples.append(example_from_row(cells, idx, number, findings, len(examples) + 1))
            lines.append(number)
    except (DatasetReadError, Cancelled):
        raise
    except Exception as exc:  # damaged sheet XML
        raise _damaged(path, exc) from None
    return ImportResult(examples, findings, "xlsx", None, columns, False, lines, "", sheets)


def preview_xlsx(path: Path, rows: int, sheet: str | None,
                 skip_rows: int | None = None) -> tuple[list[str], list[list[str]], list[str]]:
    inspect_workbook(path)
    with _with_file(path) as fh:
        wb = _open(path, fh)
        try:
            ws = _sheet(wb, sheet, path.name)
            head: list[tuple[int, list[str]]] = []
            if ws is not None:
                try:
                    for record in _rows(ws):
                        head.append(record)
                        if len(head) >= rows + TITLE_ROWS_MAX + 1:
                            break
                except Exception as exc:  # damaged sheet XML
                    raise _damaged(path, exc) from None
            if not head:
                return [], [], list(wb.sheetnames)
            mapping = None if skip_rows is None else ColumnMapping("", "", skip_rows=skip_rows)
            k, _mapping = locate_header(head, mapping, [])
            columns = header_names(head[k][1])
            out = [(cells + [""] * len(columns))[: max(len(columns), len(cells))]
                   for _number, cells in head[k + 1:k + 1 + rows]]
            return columns, out, list(wb.sheetnames)
        finally:
            wb.close()

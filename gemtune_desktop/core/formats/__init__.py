"""Dataset import and export: every file format GemTune reads and writes, Qt-free.

Read with :func:`read_dataset` (format detected from the extension and the content), preview columns
for a mapping dialog with :func:`preview`, write with :func:`write_dataset`, and build the exact upload
form per backend with :func:`upload_jsonl_lines` / :func:`gemini_api_examples`.
"""

from __future__ import annotations

import os
from pathlib import Path

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import DatasetReadError
from gemtune_desktop.core.formats.encoding import bom_encoding, looks_binary, utf16_without_bom
from gemtune_desktop.core.formats.model import (
    DEFAULT_MAX_BYTES,
    FORMAT_LABELS,
    FORMATS,
    ColumnMapping,
    ImportResult,
    guess_mapping,
)
from gemtune_desktop.core.formats.writers import (
    WRITE_FORMATS,
    format_for_suffix,
    gemini_api_examples,
    upload_jsonl_lines,
    write_dataset,
)

__all__ = [
    "DEFAULT_MAX_BYTES", "FORMATS", "FORMAT_LABELS", "WRITE_FORMATS", "ColumnMapping", "ImportResult",
    "default_sheet", "detect_format", "format_for_suffix", "gemini_api_examples", "guess_mapping", "preview",
    "read_dataset", "upload_jsonl_lines", "write_dataset",
]

_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl",
             ".ndjson": "jsonl", ".json": "json", ".gemtune": "gemtune"}
_REFUSED = {".xls": "an old Excel 97-2003 workbook", ".ods": "an OpenDocument spreadsheet",
            ".numbers": "an Apple Numbers document", ".parquet": "a Parquet file", ".docx": "a Word document",
            ".pdf": "a PDF document", ".zip": "a zip archive"}


def _head(path: Path, n: int = 65536) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _sniff_text(head: bytes) -> str:
    enc = bom_encoding(head) or utf16_without_bom(head)
    text = head.decode(enc or "utf-8", "ignore") if enc else head.decode("utf-8", "ignore")
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first = stripped.split("\n", 1)[0].rstrip()
        return "jsonl" if first.endswith("}") else "json"
    first_line = stripped.split("\n", 1)[0]
    return "tsv" if first_line.count("\t") > max(first_line.count(","), first_line.count(";")) else "csv"


def detect_format(path: str | os.PathLike[str]) -> str:
    """"csv", "tsv", "xlsx", "jsonl", "json" or "gemtune", from the extension, else from the content."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in _REFUSED:
        raise DatasetReadError(f"{path.name} is {_REFUSED[suffix]}, which GemTune cannot read.",
                               "Save it as .xlsx or CSV and import that.")
    try:
        head = _head(path)
    except OSError as exc:
        raise _os_error(path, exc) from None
    if head.startswith(b"SQLite format 3\x00"):
        return "gemtune"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if looks_binary(head):
        raise DatasetReadError(f"{path.name} is not a text dataset (it looks like a binary file).",
                               "Choose a CSV, TSV, Excel (.xlsx), JSON or JSONL file.")
    return _sniff_text(head)


def _os_error(path: Path, exc: OSError) -> DatasetReadError:
    if isinstance(exc, FileNotFoundError):
        return DatasetReadError(f"{path} does not exist.", "Check the file name and folder.")
    if isinstance(exc, IsADirectoryError):
        return DatasetReadError(f"{path} is a folder, not a file.", "Choose a dataset file inside it.")
    if isinstance(exc, PermissionError):
        return DatasetReadError(f"{path.name} cannot be opened: permission denied.",
                                "Check that you are allowed to read it.")
    return DatasetReadError(f"{path.name} could not be read: {exc.strerror or exc}.")


def _check_size(path: Path, max_bytes: int) -> int:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _os_error(path, exc) from None
    if path.is_dir():
        raise _os_error(path, IsADirectoryError())
    if size > max_bytes:
        raise DatasetReadError(f"{path.name} is {size / 1024**3:.1f} GB; GemTune reads datasets of up to "
                               f"{max_bytes / 1024**3:.0f} GB.",
                               "Split it into smaller files (Agent Platform takes at most 1 GB per training file).")
    return size


def _refuse_binary_early(path: Path) -> None:
    """Refuse a binary file from its first 64 KiB, before a large one is read into memory (issue 7).

    The same test ``encoding.decode`` applies to the same bytes, so the outcome does not change, only its cost.
    """
    from gemtune_desktop.core.formats.encoding import bom_encoding, looks_binary

    with open(path, "rb") as f:
        head = f.read(65536)
    if bom_encoding(head) is None and looks_binary(head):
        raise DatasetReadError(f"{path.name} is not a text dataset (it looks like a binary file).",
                               "Choose a CSV, TSV, Excel (.xlsx), JSON or JSONL file.")


def read_dataset(path: str | os.PathLike[str], *, fmt: str | None = None, sheet: str | None = None,
                 mapping: ColumnMapping | None = None, token: CancelToken | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> ImportResult:
    """Read a dataset file (or a .gemtune project) into examples and import findings.

    Raises DatasetReadError when the file cannot be read as a dataset at all; problems with single
    records come back as findings with their line. Reports progress as (bytes done, total bytes) and stops
    with Cancelled when ``token`` is cancelled.
    """
    path = Path(path)
    size = _check_size(path, max_bytes)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise DatasetReadError(f"“{fmt}” is not a format GemTune can read.", f"Use one of: {', '.join(FORMATS)}.")
    if token is not None:
        token.check()
        token.report(0, size, f"Reading {path.name}")
    try:
        if fmt in ("csv", "tsv", "json", "jsonl"):
            _refuse_binary_early(path)
        if fmt == "gemtune":
            from gemtune_desktop.core.formats.project_file import read_project

            result = read_project(path)
        elif fmt == "xlsx":
            from gemtune_desktop.core.formats.spreadsheet import read_xlsx

            result = read_xlsx(path, sheet=sheet, mapping=mapping, token=token)
        elif fmt == "jsonl":
            from gemtune_desktop.core.formats.jsonio import read_jsonl

            with open(path, "rb") as f:
                result = read_jsonl(f, path.name, size, token)
        elif fmt == "json":
            from gemtune_desktop.core.formats.jsonio import read_json

            result = read_json(path.read_bytes(), path.name, token)
        else:
            from gemtune_desktop.core.formats.tabular import read_delimited

            result = read_delimited(path.read_bytes(), path.name, prefer="\t" if fmt == "tsv" else ",",
                                    mapping=mapping, token=token)
    except MemoryError:
        raise DatasetReadError(f"{path.name} is too large to read into memory.",
                               "Split it into smaller files.") from None
    except OSError as exc:
        raise _os_error(path, exc) from None
    if token is not None:
        token.report(size, size, f"Read {len(result.examples):,} examples")
    return result


def preview(path: str | os.PathLike[str], rows: int = 20, sheet: str | None = None,
            skip_rows: int | None = None) -> tuple[list[str], list[list[str]], list[str]]:
    """(columns, first ``rows`` data rows, sheet names) for a column-mapping dialog.

    ``skip_rows``: how many non-blank rows above the header to skip (None: found by the column names, as
    the import does); pass the same number in ``ColumnMapping.skip_rows``. JSON formats have fixed fields,
    so they preview as the columns "input" and "output".
    """
    path = Path(path)
    _check_size(path, DEFAULT_MAX_BYTES)
    fmt = detect_format(path)
    if fmt == "xlsx":
        from gemtune_desktop.core.formats.spreadsheet import preview_xlsx

        return preview_xlsx(path, rows, sheet, skip_rows)
    if fmt in ("csv", "tsv"):
        from gemtune_desktop.core.formats.tabular import preview_delimited

        try:
            head = _head(path, 1_000_000)
        except OSError as exc:
            raise _os_error(path, exc) from None
        cols, data = preview_delimited(head, path.name, rows, "\t" if fmt == "tsv" else ",", partial=True,
                                       skip_rows=skip_rows)
        return cols, data, []
    result = read_dataset(path, fmt=fmt)
    return ["input", "output"], [[e.input, e.output] for e in result.examples[:rows]], []


def default_sheet(path: str | os.PathLike[str]) -> str | None:
    """The sheet an import or preview reads when none is chosen (a workbook's first sheet that looks like a
    table); None for files without sheets."""
    path = Path(path)
    if detect_format(path) != "xlsx":
        return None
    from gemtune_desktop.core.formats.spreadsheet import default_sheet as sheet_of

    return sheet_of(path)

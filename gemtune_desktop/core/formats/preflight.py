"""What a file format cannot hold, found before anything is written (Qt-free).

An export never changes an example silently. Where a format cannot hold something, :func:`export_problems`
lists the rows and why, and :func:`write_dataset` refuses with that list before writing anything; the
Dataset tab calls :func:`preflight` first to show it (and offer another format).

* Excel workbooks (.xlsx) cannot hold control characters (XML 1.0 forbids U+0000–U+0008, U+000B, U+000C,
  U+000E–U+001F, U+FFFE and U+FFFF) nor more than 32,767 characters in a cell (Excel's limit, counted in
  UTF-16 units as Excel does: an emoji counts twice).
* No file can hold a lone surrogate (half of a UTF-16 pair, left by a broken copy and paste).

CSV, TSV, JSON and JSON Lines hold everything else exactly (see ``tests/reliability/test_round_trips.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.words import plural

EXCEL_MAX_CELL_UNITS = 32_767
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_FORMAT_NAMES = {"xlsx": "an Excel workbook", "csv": "CSV", "tsv": "TSV", "jsonl": "JSON Lines", "json": "JSON",
                 "agent-platform": "Agent Platform JSON Lines", "openai": "OpenAI chat JSON Lines"}


@dataclass(frozen=True, slots=True)
class ExportProblem:
    """Example number ``row`` (1-based, in the order given) cannot go into the file as it is."""

    row: int
    field: str
    reason: str

    def describe(self) -> str:
        return f"row {self.row:,} ({self.field}): {self.reason}"


class ExportRefusedError(UserError):
    """The export was not written: ``problems`` lists what the format cannot hold."""

    def __init__(self, message: str, hint: str, detail: str, problems: list[ExportProblem]) -> None:
        super().__init__(message, hint, detail)
        self.problems = problems


def _fields(e: Example) -> tuple[tuple[str, str], ...]:
    return (("input", e.input), ("output", e.output), ("tags", e.tags), ("note", e.note))


def export_problems(examples: Sequence[Example], fmt: str) -> list[ExportProblem]:
    """Everything in ``examples`` that ``fmt`` (a write format) cannot hold, row by row."""
    out: list[ExportProblem] = []
    xlsx = fmt == "xlsx"
    for n, e in enumerate(examples, 1):
        for field, text in _fields(e):
            if not text:
                continue
            m = _SURROGATE.search(text)
            if m is not None:
                out.append(ExportProblem(n, field, f"a broken character (U+{ord(m.group()):04X}, half of a pair) "
                                                   f"that no file can hold"))
                continue
            if not xlsx:
                continue
            m = _XML_ILLEGAL.search(text)
            if m is not None:
                out.append(ExportProblem(n, field, f"a control character (U+{ord(m.group()):04X}) that Excel files "
                                                   f"cannot hold"))
            if len(text) > EXCEL_MAX_CELL_UNITS // 2:
                units = len(text.encode("utf-16-le")) // 2
                if units > EXCEL_MAX_CELL_UNITS:
                    out.append(ExportProblem(n, field, f"{units:,} characters; an Excel cell holds at most "
                                                       f"{EXCEL_MAX_CELL_UNITS:,}"))
    return out


def preflight(examples: Sequence[Example], fmt: str, file_name: str = "the file") -> ExportRefusedError | None:
    """The error to show before exporting ``examples`` as ``fmt``, or None when the format holds them all."""
    problems = export_problems(examples, fmt)
    if not problems:
        return None
    rows = sorted({p.row for p in problems})
    shown = "; ".join(p.describe() for p in problems[:8])
    more = f"; and {len(problems) - 8:,} more" if len(problems) > 8 else ""
    kind = _FORMAT_NAMES.get(fmt, fmt)
    message = (f"{plural(len(rows), 'example')} cannot be written to {kind}, so {file_name} "
               f"was not written: {shown}{more}.")
    hint = ("Fix or remove those examples, or export to CSV or JSON Lines, which keep everything."
            if fmt == "xlsx" else "Retype the damaged characters in those examples, then export again.")
    return ExportRefusedError(message, hint, "\n".join(p.describe() for p in problems), problems)

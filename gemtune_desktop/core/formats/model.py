"""What an import returns, how columns map to example fields, and the helpers every reader shares."""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from gemtune_desktop.core import validation_rules as R
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.validation import Finding, Severity
from gemtune_desktop.core.words import plural

GIB = 1024 ** 3
DEFAULT_MAX_BYTES = 2 * GIB  # larger files are refused before reading
PROGRESS_EVERY = 4096        # rows between progress reports / cancel checks

FORMATS = ("csv", "tsv", "xlsx", "jsonl", "json", "gemtune")
FORMAT_LABELS = {"csv": "CSV", "tsv": "TSV (tab-separated)", "xlsx": "Excel workbook", "jsonl": "JSON Lines",
                 "json": "JSON", "gemtune": "GemTune project"}


class ImportResult:
    """The examples read from a file, problems met on the way, and what the file turned out to be.

    ``source_lines[i]`` is the 1-based line (spreadsheet row for .xlsx, position for a project) of
    ``examples[i]``. ``needs_mapping`` means the columns could not be matched to input/output by name:
    ask the user (``columns`` holds the header) and read again with a :class:`ColumnMapping`.
    ``clean`` (optional, one byte per example): 1 means the reader saw the example's raw bytes and they
    hold no control characters or broken encoding, so validation may skip that scan.

    Large JSONL files are read into plain text columns (``inputs``/``outputs``); ``examples`` builds the
    Example objects on first use, so the ``check`` command never pays for them.
    """

    __slots__ = ("_examples", "_extra", "_inputs", "_outputs", "clean", "columns", "encoding", "findings",
                 "format", "needs_mapping", "settings", "sheets", "source_lines")

    def __init__(self, examples: list[Example] | None, findings: list[Finding], format: str,
                 settings: DatasetSettings | None = None, columns: list[str] | None = None,
                 needs_mapping: bool = False, source_lines: list[int] | None = None, encoding: str = "",
                 sheets: list[str] | None = None, clean: bytearray | None = None, *,
                 inputs: list[str] | None = None, outputs: list[str] | None = None,
                 extra: dict[int, Example] | None = None) -> None:
        self._examples = examples
        self._inputs = inputs
        self._outputs = outputs
        self._extra = extra or {}
        if examples is None and (inputs is None or outputs is None):
            self._examples = []
        self.findings = findings
        self.format = format
        self.settings = settings
        self.columns = columns if columns is not None else []
        self.needs_mapping = needs_mapping
        self.source_lines = source_lines if source_lines is not None else []
        self.encoding = encoding
        self.sheets = sheets if sheets is not None else []
        self.clean = clean

    @property
    def examples(self) -> list[Example]:
        if self._examples is None:
            assert self._inputs is not None and self._outputs is not None
            examples = list(map(Example, self._inputs, self._outputs))
            for i, e in self._extra.items():
                examples[i] = e
            self._examples = examples
        return self._examples

    @examples.setter
    def examples(self, value: list[Example]) -> None:
        self._examples = value
        self._inputs = self._outputs = None
        self._extra = {}

    def __len__(self) -> int:
        return len(self._inputs) if self._examples is None and self._inputs is not None else len(self.examples)

    def inputs(self) -> list[str]:
        """The input texts in order (no Example objects built)."""
        if self._examples is None and self._inputs is not None:
            return self._inputs
        return [e.input for e in self.examples]

    def outputs(self) -> list[str]:
        if self._examples is None and self._outputs is not None:
            return self._outputs
        return [e.output for e in self.examples]

    def splits(self) -> list[Split] | None:
        """The split of each example, or None when every example is in train."""
        if self._examples is None and self._inputs is not None:
            if all(e.split is Split.TRAIN for e in self._extra.values()):
                return None
            splits = [Split.TRAIN] * len(self._inputs)
            for i, e in self._extra.items():
                splits[i] = e.split
            return splits
        splits = [e.split for e in self.examples]
        return None if splits.count(Split.TRAIN) == len(splits) else splits

    def __repr__(self) -> str:
        return (f"ImportResult(format={self.format!r}, examples={len(self)}, findings={len(self.findings)}, "
                f"needs_mapping={self.needs_mapping})")


@dataclass(slots=True, frozen=True)
class ColumnMapping:
    """Which source columns (by header name) hold the input, output and the optional fields.

    ``skip_rows``: how many non-blank rows above the header to skip (a title, a date, notes on top of a
    sheet); the header is the first non-blank row after them. :func:`guess_mapping` and the readers find
    such rows by themselves when no mapping is given; the mapping dialog sets it when the user picks the
    header row.
    """

    input_column: str
    output_column: str
    split_column: str | None = None
    tags_column: str | None = None
    note_column: str | None = None
    skip_rows: int = 0


TITLE_ROWS_MAX = 10  # rows above a header that are looked through for it
# Rule identifiers of findings only the readers make (stable, like those in core/validation_rules.py).
TITLE_ROWS = "title-rows"
UNCLOSED_QUOTE = "unclosed-quote"


def is_blank(cell: str) -> bool:
    """A cell with nothing in it but spaces, line breaks or byte-order marks (U+FEFF)."""
    return not cell.strip() or not cell.replace("\ufeff", "").strip()


def find_header(rows: Sequence[Sequence[str]]) -> int | None:
    """Index of the first of ``rows`` whose cells name input and output columns, or None."""
    for k, row in enumerate(rows[:TITLE_ROWS_MAX + 1]):
        if guess_mapping([c.strip() for c in row]) is not None:
            return k
    return None


def title_rows_finding(count: int, header_line: int) -> Finding:
    return finding("info", TITLE_ROWS,
                   f"The {plural(count, 'row')} above the header (a title or notes) "
                   f"{'were' if count != 1 else 'was'} skipped; the column names are on line {header_line}.",
                   header_line)


def column_key(name: str) -> str:
    """A header or field name compared without case, spaces, underscores, dashes and dots."""
    return re.sub(r"[\s_\-.]+", "", str(name)).casefold()


INPUT_NAMES = ("input", "textinput", "inputtext", "prompt", "question", "query", "instruction", "request",
               "source", "userinput")
OUTPUT_NAMES = ("output", "response", "answer", "completion", "expectedoutput", "target", "reply",
                "outputtext", "label", "modeloutput", "expected")
SPLIT_NAMES = ("split", "set", "subset", "partition")
TAGS_NAMES = ("tags", "tag", "labels", "category")
NOTE_NAMES = ("note", "notes", "comment", "comments", "remark")


def _pick(keys: Sequence[str], names: Sequence[str], taken: set[int]) -> int | None:
    for name in names:
        for i, k in enumerate(keys):
            if k == name and i not in taken:
                return i
    return None


def match_columns(columns: Sequence[str], required: Sequence[Sequence[str]],
                  optional: Sequence[Sequence[str]]) -> tuple[list[str], list[str | None]] | None:
    """The columns named like each of ``required`` (in that order; None if one is missing), then those named
    like each of ``optional`` (None where there is none). Names are compared by :func:`column_key`; a column
    serves once."""
    keys = [column_key(c) for c in columns]
    taken: set[int] = set()
    found: list[str] = []
    for names in required:
        i = _pick(keys, names, taken)
        if i is None:
            return None
        taken.add(i)
        found.append(str(columns[i]))
    extra: list[str | None] = []
    for names in optional:
        i = _pick(keys, names, taken)
        if i is not None:
            taken.add(i)
        extra.append(None if i is None else str(columns[i]))
    return found, extra


def guess_mapping(columns: Sequence[str]) -> ColumnMapping | None:
    """Match columns by common names (case, spaces and underscores ignored); None if input or output is missing."""
    matched = match_columns(columns, (INPUT_NAMES, OUTPUT_NAMES), (SPLIT_NAMES, TAGS_NAMES, NOTE_NAMES))
    if matched is None:
        return None
    (input_column, output_column), optional = matched
    return ColumnMapping(input_column, output_column, optional[0], optional[1], optional[2])


_SPLIT_WORDS = {"train": Split.TRAIN, "training": Split.TRAIN, "trn": Split.TRAIN, "": Split.TRAIN,
                "validation": Split.VALIDATION, "valid": Split.VALIDATION, "val": Split.VALIDATION,
                "dev": Split.VALIDATION, "eval": Split.VALIDATION, "evaluation": Split.VALIDATION,
                "test": Split.TEST, "testing": Split.TEST, "holdout": Split.TEST, "tst": Split.TEST}


def parse_split(value: str) -> Split | None:
    """The split a cell names ("Train", "validation", "dev", "test"...), or None if it names none."""
    return _SPLIT_WORDS.get(value.strip().casefold())


def cell_text(value: object) -> str:
    """A spreadsheet or JSON scalar as the text a user typed: 2 → "2", 2.5 → "2.5", None → ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ") if value.time() != _dt.time() else value.date().isoformat()
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    return str(value)


def finding(severity: str, rule: str, message: str, line: int | None = None, field: str | None = None,
            row: int | None = None) -> Finding:
    return Finding(Severity(severity), rule, message, row, line, field)


def unknown_split_finding(value: str, line: int, row: int) -> Finding:
    return finding("warning", R.UNKNOWN_SPLIT,
                   f"The split “{value[:40]}” is not train, validation or test, so this example was put in "
                   f"train. Correct it in the split column.", line, None, row)

"""Reading preference files, and telling preference files from supervised ones.

:func:`detect_example_kind` looks at a file's first records (or its header row) and says whether it holds
input → output examples or preference examples, so ``check``, ``convert`` and the import can take the right
reader. :func:`read_preference_dataset` reads:

* JSON Lines and JSON (an array, one object, or JSON Lines saved as .json) in every shape
  :mod:`gemtune_desktop.core.preference.records` knows, each bad record an error finding at its line;
* CSV, TSV and Excel workbooks with a prompt, a preferred and a dispreferred column (plus split, tags, note
  and system instruction when present), through the supervised readers of :mod:`gemtune_desktop.core.formats`
  (encodings, delimiters, quoting, sheets and their findings included): the table is read twice with two
  column mappings, and the two readings are joined row by row.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import DatasetReadError
from gemtune_desktop.core.formats.jsonio import walk_array
from gemtune_desktop.core.formats.model import DEFAULT_MAX_BYTES, PROGRESS_EVERY, finding
from gemtune_desktop.core.preference import rules as P
from gemtune_desktop.core.preference.model import ExampleKind, PreferenceExample
from gemtune_desktop.core.preference.records import (
    PreferenceMapping,
    guess_preference_mapping,
    parse_preference_record,
    record_kind,
)
from gemtune_desktop.core.validation import Finding

TABLE_FORMATS = ("csv", "tsv", "xlsx")
JSON_FORMATS = ("jsonl", "json")
_SNIFF_BYTES = 256 * 1024
_SNIFF_MAX_BYTES = 64 * 1024 * 1024  # a first record longer than this is read as supervised data
_SNIFF_RECORDS = 50


class PreferenceImport:
    """The preference examples read from a file, the problems met on the way, and what the file turned out to be.

    ``source_lines[i]`` is the line (spreadsheet row for .xlsx) of ``examples[i]``. ``needs_mapping`` means the
    columns could not be matched to prompt/preferred/dispreferred by name: ask the user (``columns`` holds the
    header, ``sheets`` the workbook's sheets) and read again with a :class:`PreferenceMapping`.
    """

    __slots__ = ("columns", "encoding", "examples", "findings", "format", "needs_mapping", "sheets", "source_lines")

    def __init__(self, examples: list[PreferenceExample], findings: list[Finding], format: str, *,
                 source_lines: list[int] | None = None, columns: list[str] | None = None,
                 needs_mapping: bool = False, encoding: str = "", sheets: list[str] | None = None) -> None:
        self.examples = examples
        self.findings = findings
        self.format = format
        self.source_lines = source_lines if source_lines is not None else []
        self.columns = columns if columns is not None else []
        self.needs_mapping = needs_mapping
        self.encoding = encoding
        self.sheets = sheets if sheets is not None else []

    kind = ExampleKind.PREFERENCE

    def __len__(self) -> int:
        return len(self.examples)

    def __repr__(self) -> str:
        return (f"PreferenceImport(format={self.format!r}, examples={len(self.examples)}, "
                f"findings={len(self.findings)}, needs_mapping={self.needs_mapping})")


# --- detection ------------------------------------------------------------------------------------------------

def _head_text(path: Path, n: int = _SNIFF_BYTES) -> str:
    from gemtune_desktop.core.formats.encoding import decode

    with open(path, "rb") as f:
        head = f.read(n)
    text, _enc = decode(head, path.name, partial=len(head) == n)
    return text.lstrip("\ufeff")


def _sample_records(text: str) -> Iterator[Any]:
    """The first JSON records of a file's beginning (JSON Lines, an array, or one object); stops at a cut record."""
    stripped = text.lstrip()
    decoder = json.JSONDecoder()
    if stripped.startswith("["):
        pos = len(text) - len(stripped) + 1
        for _n in range(_SNIFF_RECORDS):
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                return
            try:
                obj, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                return
            yield obj
        return
    yielded = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            break  # a record over several lines (pretty-printed JSON) or one cut at the sample's end
        yield obj
        yielded += 1
        if yielded >= _SNIFF_RECORDS:
            return
    if not yielded:
        try:
            obj, _end = decoder.raw_decode(stripped)
        except json.JSONDecodeError:
            return
        if isinstance(obj, dict):
            inner = next((obj[k] for k in ("examples", "data") if isinstance(obj.get(k), list)), None)
            yield from (inner[:_SNIFF_RECORDS] if inner is not None else [obj])


def _kind_of_records(records: Iterator[Any]) -> ExampleKind | None:
    kinds = Counter(k for k in map(record_kind, records) if k is not None)
    if not kinds:
        return None
    return ExampleKind.PREFERENCE if kinds[ExampleKind.PREFERENCE] > kinds[ExampleKind.SUPERVISED] \
        else ExampleKind.SUPERVISED


def detect_example_kind(path: str | os.PathLike[str], fmt: str | None = None, sheet: str | None = None) -> ExampleKind:
    """Whether ``path`` holds supervised (input → output) or preference examples, from its first records.

    Tables are preference data when their header names a prompt, a preferred and a dispreferred column;
    JSON when most of the first records have completions, chosen/rejected or preferred_output fields. A
    project file (.gemtune) reports as supervised: its preference examples are read from the project.
    Raises DatasetReadError when the file cannot be read at all.
    """
    from gemtune_desktop.core.formats import detect_format, preview

    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt in TABLE_FORMATS:
        columns, _rows, _sheets = preview(path, rows=1, sheet=sheet)
        return ExampleKind.PREFERENCE if guess_preference_mapping(columns) else ExampleKind.SUPERVISED
    if fmt in JSON_FORMATS:
        try:
            kind = _kind_of_records(_sample_records(_head_text(path)))
        except OSError as exc:
            raise DatasetReadError(f"{path.name} could not be read: {exc.strerror or exc}.") from None
        if kind is None and path.stat().st_size > _SNIFF_BYTES:  # a first record longer than the sample
            kind = _kind_of_records(_sample_records(_head_text(path, _SNIFF_MAX_BYTES)))
        return kind or ExampleKind.SUPERVISED
    return ExampleKind.SUPERVISED


# --- reading --------------------------------------------------------------------------------------------------

class _Collector:
    def __init__(self) -> None:
        self.examples: list[PreferenceExample] = []
        self.lines: list[int] = []
        self.findings: list[Finding] = []

    def record(self, obj: Any, line: int) -> None:
        ex, found = parse_preference_record(obj, line, len(self.examples) + 1)
        self.findings.extend(found)
        if ex is not None:
            self.examples.append(ex)
            self.lines.append(line)


def _malformed(line: int, exc: Exception) -> Finding:
    detail = str(exc).split(": line ")[0]
    return finding("error", P.MALFORMED, f"This line is not valid JSON ({detail}), so it was skipped; the other lines "
                                         f"were read. Fix or delete the line.", line)


def _read_lines(col: _Collector, text: str, token: CancelToken | None) -> None:
    lines = text.split("\n")
    for lineno, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            col.findings.append(_malformed(lineno, exc))
            continue
        col.record(obj, lineno)
        if token is not None and lineno % PROGRESS_EVERY == 0:
            token.check()
            token.report(lineno, len(lines), f"Read {len(col.examples):,} preference examples")


def _read_array(col: _Collector, text: str, start: int, token: CancelToken | None) -> None:
    walk_array(text, start, json.JSONDecoder(), col.record, col.findings, token, "preference examples")


def _read_json(path: Path, fmt: str, token: CancelToken | None) -> PreferenceImport:
    from gemtune_desktop.core.formats.encoding import decode

    text, encoding = decode(path.read_bytes(), path.name)
    text = text.lstrip("\ufeff")
    col = _Collector()
    start = len(text) - len(text.lstrip())
    if start == len(text):
        raise DatasetReadError(f"{path.name} is empty.", "Choose a file with preference examples in it.")
    if fmt == "jsonl" or text[start] != "[":
        decoder = json.JSONDecoder()
        single: Any = None
        if fmt == "json":
            try:
                single, end = decoder.raw_decode(text, start)
            except json.JSONDecodeError as exc:
                raise DatasetReadError(f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                                       f"{exc.msg}).", "Fix the file in a text editor.") from None
            if text[end:].strip():
                single = None  # several values one after another: JSON Lines saved as .json
        if isinstance(single, dict) and any(isinstance(single.get(k), list) for k in ("examples", "data")):
            key = next(k for k in ("examples", "data") if isinstance(single.get(k), list))
            at = text.find("[", text.find(f'"{key}"', start))
            _read_array(col, text, at, token)
        elif single is not None:
            col.record(single, text.count("\n", 0, start) + 1)
        else:
            _read_lines(col, text, token)
        fmt_out = "json" if single is not None else "jsonl"
    else:
        _read_array(col, text, start, token)
        fmt_out = "json"
    return PreferenceImport(col.examples, col.findings, fmt_out, source_lines=col.lines, encoding=encoding)


def _read_table(path: Path, fmt: str, sheet: str | None, mapping: PreferenceMapping | None,
                token: CancelToken | None, max_bytes: int) -> PreferenceImport:
    from gemtune_desktop.core.formats import ColumnMapping, preview, read_dataset

    if mapping is None:
        columns, _rows, sheets = preview(path, rows=1, sheet=sheet)
        mapping = guess_preference_mapping(columns)
        if mapping is None:
            return PreferenceImport([], [], fmt, columns=columns, needs_mapping=True, sheets=sheets)
    first = read_dataset(path, fmt=fmt, sheet=sheet, token=token, max_bytes=max_bytes,
                         mapping=ColumnMapping(mapping.prompt_column, mapping.preferred_column, mapping.split_column,
                                               mapping.tags_column, mapping.note_column))
    second = read_dataset(path, fmt=fmt, sheet=sheet, max_bytes=max_bytes,
                          mapping=ColumnMapping(mapping.dispreferred_column,
                                                mapping.system_column or mapping.dispreferred_column))
    if len(first) != len(second) or first.source_lines != second.source_lines:
        raise DatasetReadError(f"{path.name} changed while it was being read.", "Close it in other programs and "
                                                                                "import it again.")
    with_system = mapping.system_column is not None
    examples = [PreferenceExample(a.input, a.output, b.input, b.output if with_system else "", a.split, a.tags,
                                  a.note) for a, b in zip(first.examples, second.examples, strict=True)]
    return PreferenceImport(examples, list(first.findings), first.format, source_lines=list(first.source_lines),
                            columns=list(first.columns), encoding=first.encoding, sheets=list(first.sheets))


def read_preference_dataset(path: str | os.PathLike[str], *, fmt: str | None = None, sheet: str | None = None,
                            mapping: PreferenceMapping | None = None, token: CancelToken | None = None,
                            max_bytes: int = DEFAULT_MAX_BYTES) -> PreferenceImport:
    """Read a preference file into examples and import findings.

    Raises DatasetReadError when the file cannot be read as a dataset at all; problems with single records
    come back as findings with their line and field.
    """
    from gemtune_desktop.core.formats import detect_format

    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in TABLE_FORMATS + JSON_FORMATS:
        raise DatasetReadError(f"{path.name} is not a preference file GemTune can read.",
                               "Use Agent Platform's preference JSONL, JSON with prompt/chosen/rejected, or a CSV, "
                               "TSV or Excel table with prompt, preferred and dispreferred columns.")
    if fmt in TABLE_FORMATS:
        return _read_table(path, fmt, sheet, mapping, token, max_bytes)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DatasetReadError(f"{path.name} is {size / 1024**3:.1f} GB; GemTune reads datasets of up to "
                                   f"{max_bytes / 1024**3:.0f} GB.", "Split it into smaller files.")
        return _read_json(path, fmt, token)
    except MemoryError:
        raise DatasetReadError(f"{path.name} is too large to read into memory.", "Split it into smaller files.") \
            from None
    except OSError as exc:
        raise DatasetReadError(f"{path.name} could not be read: {exc.strerror or exc}.") from None

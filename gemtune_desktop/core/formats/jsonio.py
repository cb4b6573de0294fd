"""JSON Lines and JSON array files, parsed with orjson.

JSONL is streamed line by line from the binary file (the fastest way to parse it, see
qt-performance-notes.md §2); a malformed line becomes an error finding at its line and the rest still
load. Single-turn Gemini API records take a fast path; every other shape goes through
:func:`gemtune_desktop.core.formats.records.parse_record`.
"""

from __future__ import annotations

import io
import json
import mmap
import re
from collections.abc import Callable, Sequence
from itertools import filterfalse
from typing import Any, BinaryIO

import orjson

from gemtune_desktop.core import validation_rules as R
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import DatasetReadError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.formats.encoding import decode
from gemtune_desktop.core.formats.model import PROGRESS_EVERY, ImportResult, finding
from gemtune_desktop.core.formats.records import parse_record
from gemtune_desktop.core.validation import Finding

_BOM = b"\xef\xbb\xbf"


# Where the character rules could find something, as raw UTF-8 JSON. In valid JSON, C0 control characters
# appear only escaped (\\u00XX, \\b, \\f); DEL is 7F; every other character the rules flag has a UTF-8 lead
# byte of C2 (C1 controls, the partners in "Ã©"/"Â " mojibake), E2 (zero-width and separator characters,
# "â€" mojibake) or EF (byte order mark, U+FFFD), or is "Ã" (C3 83) before a C5/C6/CB character.
# Single bytes are found at memchr speed; a false positive only costs a closer look in validation.
_ESCAPE = re.compile(rb"\\[ubf]")
_LEAD_BYTES = (b"\x7f", b"\xc2", b"\xe2", b"\xef")
_MOJIBAKE_A_TILDE = re.compile(rb"\xc3\x83")


_WINDOW = 1 << 16  # scanned window by window so that the several passes over it stay in the CPU cache


def _hit_positions(data: Any) -> list[int]:
    """Byte offsets in ``data`` (bytes or an mmap) that may start something the character rules flag."""
    positions: list[int] = []
    size = len(data)
    find = data.find
    for start in range(0, size, _WINDOW):
        end = min(size, start + _WINDOW)
        if find(b"\\", start, end) >= 0:
            positions.extend(m.start() for m in _ESCAPE.finditer(data, start, end + 1))
        for p in _LEAD_BYTES:
            i = find(p, start, end)
            while i >= 0:
                positions.append(i)
                i = find(p, i + 1, end)
        if find(b"\xc5", start, end) >= 0 or find(b"\xc6", start, end) >= 0 or find(b"\xcb", start, end) >= 0:
            positions.extend(m.start() for m in _MOJIBAKE_A_TILDE.finditer(data, max(0, start - 2), end + 1))
    return positions


def suspect_lines(data: Any) -> set[int]:
    """1-based numbers of the lines of ``data`` (bytes or an mmap of a JSONL file) that need a character scan."""
    positions = sorted(set(_hit_positions(data)))
    out: set[int] = set()
    line = 1
    last = 0
    for pos in positions:
        line += data[last:pos].count(b"\n")
        last = pos
        out.add(line)
    return out


def _file_suspect_lines(f: BinaryIO) -> set[int] | None:
    """suspect_lines() over a whole file through mmap (no copy); None when the file cannot be mapped."""
    try:
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return suspect_lines(mm)
    except (ValueError, OSError, io.UnsupportedOperation):
        return None


class _Collector:
    """Accumulates examples, their lines, findings and the system instruction across records."""

    def __init__(self) -> None:
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.extra: dict[int, Example] = {}  # examples with more than input and output (split, tags, note)
        self.lines: list[int] = []
        self.clean = bytearray()
        self.findings: list[Finding] = []
        self.system: str | None = None
        self.system_line = 0

    def record(self, obj: Any, line: int, suspect: bool = True) -> None:
        before = len(self.inputs)
        self.record_only(obj, line)
        if len(self.inputs) > before:
            self.clean.append(0 if suspect else 1)

    def record_only(self, obj: Any, line: int, track_line: bool = True) -> None:
        """Add the record's example (if any) and findings, without a clean mark."""
        ex, found, system = parse_record(obj, line, len(self.inputs) + 1)
        if found:
            self.findings.extend(found)
        if ex is None:
            return
        if ex.split is not Split.TRAIN or ex.tags or ex.note:
            self.extra[len(self.inputs)] = ex
        self.inputs.append(ex.input)
        self.outputs.append(ex.output)
        if track_line:
            self.lines.append(line)
        if system is not None:
            if self.system is None:
                self.system, self.system_line = system, line
            elif system != self.system:
                self.findings.append(finding(
                    "warning", R.MALFORMED,
                    f"This record's system instruction differs from the one on line {self.system_line}, which "
                    f"applies to the whole dataset. Use one system instruction for all examples.", line))

    def result(self, fmt: str, encoding: str) -> ImportResult:
        settings = None
        if self.system is not None:
            settings = DatasetSettings(system_instruction=self.system)
        return ImportResult(None, self.findings, fmt, settings, ["input", "output"], False, self.lines,
                            encoding, [], self.clean, inputs=self.inputs, outputs=self.outputs, extra=self.extra)


_PLAIN_JSON_ERRORS = (
    ("depth limit", f"it is nested more than {1024:,} levels deep"),
    ("recursion", f"it is nested more than {1024:,} levels deep"),
    ("infinity", "it holds a number too large to read"),
    ("exceeds the limit", "it holds a number too large to read"),
)


def _plain(detail: str) -> str:
    low = detail.lower()
    for key, words in _PLAIN_JSON_ERRORS:
        if key in low:
            return words
    return detail


def _malformed(line: int, exc: Exception) -> Finding:
    detail = _plain(str(exc).split(": line ")[0])
    return finding("error", R.MALFORMED,
                   f"This line is not valid JSON ({detail}), so it was skipped; the other lines were read. "
                   f"Fix or delete the line.", line)


def _blank_line(raw: bytes | str) -> bool:
    """Only spaces and byte-order marks (a BOM left where two files were joined) on this line."""
    if isinstance(raw, bytes):
        return not raw.replace(_BOM, b"").strip()
    return not raw.replace("\ufeff", "").strip()


def _keep_long_ints(digits: str) -> int | str:
    """Python refuses to turn more than 4,300 digits into an int; such a number is kept as its digits."""
    return int(digits) if len(digits) <= 4000 else digits


def _decoder() -> json.JSONDecoder:
    return json.JSONDecoder(parse_int=_keep_long_ints)


def read_jsonl_lines(lines: Sequence[str], token: CancelToken | None, encoding: str) -> ImportResult:
    """Parse JSONL from decoded text lines (files not in UTF-8); every example gets a full character scan."""
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    col = _Collector()
    inputs, outputs, src, clean = col.inputs, col.outputs, col.lines, col.clean
    add_in, add_out, add_line, add_clean = inputs.append, outputs.append, src.append, clean.append
    for lineno, raw in enumerate(lines, 1):
        try:
            obj = loads(raw)
        except decode_error as exc:
            if _blank_line(raw):
                continue
            col.findings.append(_malformed(lineno, exc))
            continue
        if lineno % PROGRESS_EVERY == 0 and token is not None:
            token.check()
            token.report(lineno, len(lines), f"Read {len(inputs):,} examples")
        if type(obj) is dict and len(obj) == 2:
            inp = obj.get("text_input")
            if inp is None:
                inp = obj.get("textInput")
            out = obj.get("output")
            if type(inp) is str and type(out) is str:
                add_in(inp)
                add_out(out)
                add_line(lineno)
                add_clean(0)
                continue
        col.record(obj, lineno)
    return col.result("jsonl", encoding)


def read_jsonl_binary(f: BinaryIO, total: int, token: CancelToken | None) -> ImportResult:
    """Parse a UTF-8 JSONL file line by line (the fast path: plain text columns, no Example objects)."""
    suspect = _file_suspect_lines(f)
    f.seek(0)
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    col = _Collector()
    inputs, outputs, src = col.inputs, col.outputs, col.lines
    add_in, add_out = inputs.append, outputs.append
    every = PROGRESS_EVERY
    # Lines that gave no example; every other line gave exactly one, in order, so the examples' line numbers
    # are rebuilt at the end instead of being appended per row.
    skipped: list[int] = []
    lineno = 0
    for lineno, raw in enumerate(f, 1):
        try:
            obj = loads(raw)
        except decode_error as exc:
            if lineno == 1 and raw.startswith(_BOM):
                try:
                    obj = loads(raw[3:])
                except decode_error as exc2:
                    col.findings.append(_malformed(lineno, exc2))
                    skipped.append(lineno)
                    continue
            else:
                if not _blank_line(raw):
                    col.findings.append(_malformed(lineno, exc))
                skipped.append(lineno)
                continue
        if token is not None and lineno % every == 0:
            token.check()
            token.report(f.tell(), total, f"Read {len(inputs):,} examples")
        if type(obj) is dict and len(obj) == 2:
            inp = obj.get("text_input")
            if inp is None:
                inp = obj.get("textInput")
            out = obj.get("output")
            if type(inp) is str and type(out) is str:
                add_in(inp)
                add_out(out)
                continue
        before = len(inputs)
        col.record_only(obj, lineno, False)
        if len(inputs) == before:
            skipped.append(lineno)
    if skipped:
        gone = set(skipped)
        src.extend(filterfalse(gone.__contains__, range(1, lineno + 1)))
    else:
        src.extend(range(1, lineno + 1))
    if suspect is None:
        col.clean = bytearray(len(inputs))
    else:
        col.clean = bytearray(b"\x01") * len(inputs)
        if suspect:
            for i, line in enumerate(src):
                if line in suspect:
                    col.clean[i] = 0
    return col.result("jsonl", "UTF-8")


def read_jsonl(f: BinaryIO, name: str, total: int, token: CancelToken | None) -> ImportResult:
    head = f.read(65536)
    f.seek(0)
    try:
        head.decode("utf-8") if len(head) < 65536 else head[:65000].decode("utf-8", "strict")
        utf8 = True
    except UnicodeDecodeError as exc:
        utf8 = exc.start >= 65000 - 4 and len(head) >= 65536
    if utf8 and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return read_jsonl_binary(f, total, token)
    text, encoding = decode(f.read(), name)
    return read_jsonl_lines(text.lstrip("\ufeff").split("\n"), token, encoding)


def read_json(data: bytes, name: str, token: CancelToken | None) -> ImportResult:
    """A JSON file: an array of records, ``{"examples": [...]}``, one record, or JSONL saved as .json."""
    text, encoding = decode(data, name)
    del data
    text = text.lstrip("\ufeff")
    start = len(text) - len(text.lstrip())
    if start == len(text):
        raise DatasetReadError(f"{name} is empty.", "Choose a file with examples in it.")
    decoder = _decoder()
    if text[start] != "[":
        try:
            obj, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            raise DatasetReadError(f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).",
                                   "Fix the file in a text editor, or save it again from the program that made "
                                   "it.") from None
        except (RecursionError, ValueError) as exc:
            raise DatasetReadError(f"{name} cannot be read: {_plain(str(exc))}.",
                                   "Fix the file in a text editor, or save it again from the program that made "
                                   "it.") from None
        if text[end:].strip():
            # several values one after another: JSON Lines in a .json file
            result = read_jsonl_lines(text.split("\n"), token, encoding)
            result.format = "jsonl"
            return result
        if isinstance(obj, dict) and "examples" in obj:
            inner = obj["examples"]
            if isinstance(inner, dict):
                inner = inner.get("examples")
            if isinstance(inner, list):
                # read the inner array where it stands, so findings keep their line numbers
                at = text.find("[", start)
                try:
                    found, _end = decoder.raw_decode(text, at) if at >= 0 else (None, 0)
                except (json.JSONDecodeError, RecursionError, ValueError):
                    found = None
                if found == inner:
                    start = at
                else:
                    text = orjson.dumps(inner).decode()
                    start = 0
            else:
                raise DatasetReadError(f"{name} has an “examples” field that is not a list.",
                                       "Put the examples in a JSON array.")
        else:
            col = _Collector()
            col.record(obj, text.count("\n", 0, start) + 1)
            return col.result("json", encoding)
    return _read_array(text, start, decoder, token, encoding)


def _read_array(text: str, start: int, decoder: json.JSONDecoder, token: CancelToken | None,
                encoding: str) -> ImportResult:
    col = _Collector()
    walk_array(text, start, decoder, col.record, col.findings, token)
    return col.result("json", encoding)


def walk_array(text: str, start: int, decoder: json.JSONDecoder, record: Callable[[Any, int], None],
               findings: list[Finding], token: CancelToken | None, what: str = "examples") -> None:
    """Read the JSON array that opens at ``text[start]`` one element at a time, ``record(element, line)`` for
    each. What breaks the array (a cut, a missing comma, an element that cannot be read) becomes an error
    finding in ``findings`` and ends the reading; the elements before it are kept."""
    total = len(text) or 1
    pos = start + 1
    line = text.count("\n", 0, pos) + 1
    last = pos
    n = 0
    ws = " \t\r\n"
    while True:
        while pos < total and text[pos] in ws:
            pos += 1
        if pos >= len(text):
            findings.append(finding("error", R.MALFORMED, "The JSON array is not closed with “]”; the file may "
                                    "have been cut off. The examples before this point were read.",
                                    text.count("\n", 0, last) + 1))
            break
        if text[pos] == "]":
            break
        line += text.count("\n", last, pos)
        last = pos
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            findings.append(finding("error", R.MALFORMED,
                                    f"The JSON is broken here ({exc.msg}, line {exc.lineno} column {exc.colno});"
                                    f" the examples before this point were read. Fix the file in a text "
                                    f"editor.", exc.lineno))
            break
        except (RecursionError, ValueError) as exc:
            findings.append(finding("error", R.MALFORMED,
                                    f"The example that starts here cannot be read: {_plain(str(exc))}. The "
                                    f"examples before it were read; fix this one in a text editor.", line))
            break
        record(obj, line)
        n += 1
        if n % PROGRESS_EVERY == 0 and token is not None:
            token.check()
            token.report(end, total, f"Read {n:,} {what}")
        pos = end
        while pos < total and text[pos] in ws:
            pos += 1
        if pos < total and text[pos] == ",":
            pos += 1
        elif pos < total and text[pos] != "]":
            findings.append(finding("error", R.MALFORMED, "A comma is missing between two examples; the "
                                    "examples before this point were read. Fix the file in a text editor.",
                                    text.count("\n", 0, pos) + 1))
            break

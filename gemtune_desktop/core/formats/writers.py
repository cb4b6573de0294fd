"""Writing datasets: spreadsheets for editing, and the JSON forms each tuning service takes.

Every file is written atomically: into a temporary file beside the target, flushed and fsynced, then
moved over the target with ``os.replace``, so a kill or a full disk leaves the old file intact.

Exports read back exactly (``tests/reliability/test_round_trips.py``):

* CSV/TSV cells that a spreadsheet would run as a formula (beginning with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return) get a leading apostrophe, as OWASP recommends against formula injection
  (https://owasp.org/www-community/attacks/CSV_Injection); the import takes it off again (``tabular.unguard``),
  so the round trip is exact, cells that already began with apostrophes included;
* an example whose cells are all blank would look like a blank line, which imports skip: then the split
  column is written too, and its "train" keeps the row;
* what a format cannot hold is refused before writing, with the rows and why (``preflight.py``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar

import orjson

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.formats.model import is_blank
from gemtune_desktop.core.formats.preflight import preflight

WRITE_FORMATS = ("csv", "tsv", "xlsx", "jsonl", "json", "agent-platform", "openai")
_EVERY = 4096
T = TypeVar("T")


def format_for_suffix(path: str | os.PathLike[str]) -> str | None:
    """The export format a file name asks for (".jsonl" → "jsonl"), or None."""
    return {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".tab": "tsv", ".xlsx": "xlsx", ".jsonl": "jsonl",
            ".ndjson": "jsonl", ".json": "json"}.get(Path(path).suffix.lower())


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file object whose contents replace ``path`` only once fully written and synced."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (not possible on Windows)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


class Annotated(Protocol):
    """An example of either kind, as far as the optional columns go."""

    @property
    def split(self) -> Split: ...

    @property
    def tags(self) -> str: ...

    @property
    def note(self) -> str: ...


def has_extras(examples: Sequence[Annotated]) -> bool:
    """Whether any example is outside train, or has tags or a note (then the split/tags/note fields are written)."""
    return any(e.split is not Split.TRAIN or e.tags or e.note for e in examples)


def extras_fields(e: Annotated) -> dict[str, str]:
    """The split (when not train), tags and note of one example, as the JSON forms carry them."""
    rec: dict[str, str] = {}
    if e.split is not Split.TRAIN:
        rec["split"] = e.split.value
    if e.tags:
        rec["tags"] = e.tags
    if e.note:
        rec["note"] = e.note
    return rec


def _table_extras(examples: Sequence[Example]) -> bool:
    """Whether a spreadsheet export needs the split/tags/note columns (also when a row would look blank)."""
    return any(e.split is not Split.TRAIN or e.tags or e.note or (is_blank(e.input) and is_blank(e.output))
               for e in examples)


_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")


def guard_cell(cell: str) -> str:
    """A CSV/TSV cell a spreadsheet will not run as a formula: ``=1+1`` → ``'=1+1`` (undone on import)."""
    return "'" + cell if _FORMULA_START.match(cell) else cell


def report_progress(token: CancelToken | None, i: int, n: int, what: str = "examples") -> None:
    """Every few thousand rows: stop if the user cancelled, and say how far the export is."""
    if token is not None and i % _EVERY == 0:
        token.check()
        token.report(i, n, f"Wrote {i:,} of {n:,} {what}")


@contextlib.contextmanager
def write_errors(path: Path) -> Iterator[None]:
    """An OSError while writing ``path`` becomes a UserError that says what to check."""
    try:
        yield
    except OSError as exc:
        raise UserError(f"{path.name} could not be written: {exc.strerror or exc}.",
                        "Check that the folder exists, that you may write to it and that the disk has room.",
                        detail=repr(exc)) from None


# --- record shapes -----------------------------------------------------------------------------------------

def gemini_record(e: Example, settings: DatasetSettings, extras: bool) -> dict[str, Any]:
    rec: dict[str, Any] = {"text_input": settings.apply_preamble(e.input), "output": e.output}
    if extras:
        rec.update(extras_fields(e))
    return rec


def agent_record(e: Example, settings: DatasetSettings) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    if settings.system_instruction:
        rec["systemInstruction"] = {"role": "system", "parts": [{"text": settings.system_instruction}]}
    rec["contents"] = [{"role": "user", "parts": [{"text": settings.apply_preamble(e.input)}]},
                       {"role": "model", "parts": [{"text": e.output}]}]
    return rec


def openai_record(e: Example, settings: DatasetSettings) -> dict[str, Any]:
    messages = []
    if settings.system_instruction:
        messages.append({"role": "system", "content": settings.system_instruction})
    messages.append({"role": "user", "content": settings.apply_preamble(e.input)})
    messages.append({"role": "assistant", "content": e.output})
    return {"messages": messages}


def gemini_api_examples(examples: Sequence[Example], settings: DatasetSettings) -> list[dict[str, str]]:
    """The inline ``trainingData.examples.examples`` list of a Gemini API ``tunedModels`` request."""
    return [{"textInput": settings.apply_preamble(e.input), "output": e.output} for e in examples]


def upload_jsonl_lines(examples: Sequence[Example], settings: DatasetSettings, backend: str) -> Iterator[bytes]:
    """The exact lines (each ending in a newline) of the training file uploaded for ``backend``.

    "agent-platform": one ``contents``/``systemInstruction`` record per line (gemini-reference.md §3.3);
    "gemini-api": one ``{"textInput", "output"}`` object per line, as in :func:`gemini_api_examples`.
    """
    if backend == "agent-platform":
        for e in examples:
            yield orjson.dumps(agent_record(e, settings), option=orjson.OPT_APPEND_NEWLINE)
    elif backend == "gemini-api":
        for rec in gemini_api_examples(examples, settings):
            yield orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE)
    else:
        raise ValueError(f"unknown backend {backend!r}")


# --- writers -----------------------------------------------------------------------------------------------

def write_lines(f: BinaryIO, items: Sequence[T], make: Callable[[T], dict[str, Any]], token: CancelToken | None,
                what: str = "examples") -> None:
    """One JSON object a line, ``make(item)`` for each item."""
    dumps = orjson.dumps
    nl = orjson.OPT_APPEND_NEWLINE
    n = len(items)
    for i, item in enumerate(items):
        report_progress(token, i, n, what)
        f.write(dumps(make(item), option=nl))


def write_json_array(f: BinaryIO, records: list[dict[str, Any]]) -> None:
    f.write(orjson.dumps(records, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


def write_delimited(f: BinaryIO, header: Sequence[str], rows: Iterable[Sequence[str]], n: int, delimiter: str,
                    token: CancelToken | None, what: str = "examples") -> None:
    """A UTF-8 (with BOM) CSV or TSV table with CR LF line ends, as spreadsheets open it; ``n`` rows."""
    text = io.TextIOWrapper(f, encoding="utf-8-sig", newline="", write_through=False)
    w = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    for i, row in enumerate(rows):
        report_progress(token, i, n, what)
        w.writerow(row)
    text.flush()
    text.detach()


def write_xlsx(path: Path, sheet: str, header: Sequence[str], rows: Iterable[Sequence[str]], n: int,
               token: CancelToken | None, what: str = "examples") -> None:
    """A workbook of one sheet whose cells are all text (never a formula), saved atomically; ``n`` rows.

    The caller has refused what a cell cannot hold (control characters, more than 32,767 characters)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(header))
    try:
        _xlsx_rows(ws, rows, n, token, what)
    except BaseException:
        _discard_sheet(ws)
        raise
    with atomic_file(path) as f:
        wb.save(f)


def _discard_sheet(ws: Any) -> None:
    """Finish and delete the temporary file openpyxl's write-only sheet has been writing."""
    with contextlib.suppress(Exception):
        ws.close()
    out = getattr(getattr(ws, "_writer", None), "out", None)
    if isinstance(out, str):
        with contextlib.suppress(OSError):
            os.unlink(out)


def _xlsx_rows(ws: Any, rows: Iterable[Sequence[str]], n: int, token: CancelToken | None, what: str) -> None:
    from openpyxl.cell import WriteOnlyCell

    for i, values in enumerate(rows):
        report_progress(token, i, n, what)
        row = []
        for v in values:
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"  # never a formula, even when the text starts with "="
            row.append(cell)
        ws.append(row)


def _table_rows(examples: Sequence[Example], extras: bool, guard: Callable[[str], str]) -> Iterator[list[str]]:
    g = guard
    for e in examples:
        if extras:
            yield [g(e.input), g(e.output), e.split.value, g(e.tags), g(e.note)]
        else:
            yield [g(e.input), g(e.output)]


def _table_header(extras: bool) -> list[str]:
    return ["input", "output", "split", "tags", "note"] if extras else ["input", "output"]


def write_dataset(path: str | os.PathLike[str], examples: Sequence[Example], settings: DatasetSettings | None,
                  fmt: str, token: CancelToken | None = None) -> None:
    """Write ``examples`` to ``path`` in ``fmt`` (one of WRITE_FORMATS), atomically.

    Raises :class:`~gemtune_desktop.core.formats.preflight.ExportRefusedError` (before writing anything) when
    the format cannot hold some examples, and UserError when the file cannot be written.

    csv/tsv/xlsx hold the examples as edited (columns input, output and, when used, split, tags, note);
    jsonl/json are the Gemini API ``text_input``/``output`` form, agent-platform the Agent Platform JSONL and
    openai the OpenAI chat JSONL. The training forms apply the preamble to every input (and carry the
    system instruction where the form has one), as the tuning service would see them.
    """
    settings = settings or DatasetSettings()
    path = Path(path)
    if fmt not in WRITE_FORMATS:
        raise UserError(f"“{fmt}” is not a format GemTune can write.", f"Choose one of: {', '.join(WRITE_FORMATS)}.")
    refused = preflight(examples, fmt, path.name)
    if refused is not None:
        raise refused
    n = len(examples)
    with write_errors(path):
        if fmt == "xlsx":  # preflight() has refused what a cell cannot hold
            extras = _table_extras(examples)
            write_xlsx(path, "Examples", _table_header(extras), _table_rows(examples, extras, str), n, token)
            return
        with atomic_file(path) as f:
            if fmt in ("csv", "tsv"):
                extras = _table_extras(examples)
                write_delimited(f, _table_header(extras), _table_rows(examples, extras, guard_cell), n,
                                "," if fmt == "csv" else "\t", token)
            elif fmt == "jsonl":
                extras = has_extras(examples)
                write_lines(f, examples, lambda e: gemini_record(e, settings, extras), token)
            elif fmt == "agent-platform":
                write_lines(f, examples, lambda e: agent_record(e, settings), token)
            elif fmt == "openai":
                write_lines(f, examples, lambda e: openai_record(e, settings), token)
            else:  # json
                extras = has_extras(examples)
                write_json_array(f, [gemini_record(e, settings, extras) for e in examples])

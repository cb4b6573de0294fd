"""Writing datasets: spreadsheets for editing, and the JSON forms each tuning service takes.

Every file is written atomically: into a temporary file beside the target, flushed and fsynced, then
moved over the target with ``os.replace``, so a kill or a full disk leaves the old file intact.

Exports read back exactly (``tests/core/test_formats_roundtrip.py``):

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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.formats.model import is_blank
from gemtune_desktop.core.formats.preflight import preflight

WRITE_FORMATS = ("csv", "tsv", "xlsx", "jsonl", "json", "agent-platform", "openai")
_EVERY = 4096


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


def _has_extras(examples: Sequence[Example]) -> bool:
    return any(e.split is not Split.TRAIN or e.tags or e.note for e in examples)


def _table_extras(examples: Sequence[Example]) -> bool:
    """Whether a spreadsheet export needs the split/tags/note columns (also when a row would look blank)."""
    return any(e.split is not Split.TRAIN or e.tags or e.note or (is_blank(e.input) and is_blank(e.output))
               for e in examples)


_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")


def guard_cell(cell: str) -> str:
    """A CSV/TSV cell a spreadsheet will not run as a formula: ``=1+1`` → ``'=1+1`` (undone on import)."""
    return "'" + cell if _FORMULA_START.match(cell) else cell


def _progress(token: CancelToken | None, i: int, n: int) -> None:
    if token is not None and i % _EVERY == 0:
        token.check()
        token.report(i, n, f"Wrote {i:,} of {n:,} examples")


# --- record shapes -----------------------------------------------------------------------------------------

def gemini_record(e: Example, settings: DatasetSettings, extras: bool) -> dict[str, Any]:
    rec: dict[str, Any] = {"text_input": settings.apply_preamble(e.input), "output": e.output}
    if extras:
        if e.split is not Split.TRAIN:
            rec["split"] = e.split.value
        if e.tags:
            rec["tags"] = e.tags
        if e.note:
            rec["note"] = e.note
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

def _write_lines(f: BinaryIO, examples: Sequence[Example], make: Callable[[Example], dict[str, Any]],
                 token: CancelToken | None) -> None:
    dumps = orjson.dumps
    nl = orjson.OPT_APPEND_NEWLINE
    n = len(examples)
    for i, e in enumerate(examples):
        _progress(token, i, n)
        f.write(dumps(make(e), option=nl))


def _write_delimited(f: BinaryIO, examples: Sequence[Example], delimiter: str, token: CancelToken | None) -> None:
    extras = _table_extras(examples)
    text = io.TextIOWrapper(f, encoding="utf-8-sig", newline="", write_through=False)
    w = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(["input", "output", "split", "tags", "note"] if extras else ["input", "output"])
    n = len(examples)
    g = guard_cell
    for i, e in enumerate(examples):
        _progress(token, i, n)
        if extras:
            w.writerow([g(e.input), g(e.output), e.split.value, g(e.tags), g(e.note)])
        else:
            w.writerow([g(e.input), g(e.output)])
    text.flush()
    text.detach()


def _write_xlsx(path: Path, examples: Sequence[Example], token: CancelToken | None) -> None:
    from openpyxl import Workbook

    extras = _table_extras(examples)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Examples")
    header = ["input", "output", "split", "tags", "note"] if extras else ["input", "output"]
    ws.append(header)
    try:
        _xlsx_rows(ws, header, examples, extras, token)
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


def _xlsx_rows(ws: Any, header: list[str], examples: Sequence[Example], extras: bool,
               token: CancelToken | None) -> None:
    from openpyxl.cell import WriteOnlyCell

    n = len(examples)
    for i, e in enumerate(examples):
        _progress(token, i, n)
        values = [e.input, e.output, e.split.value, e.tags, e.note] if extras else [e.input, e.output]
        row = []
        for v in values:  # preflight() has refused what a cell cannot hold
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"  # never a formula, even when the text starts with "="
            row.append(cell)
        ws.append(row)


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
    try:
        if fmt == "xlsx":
            _write_xlsx(path, examples, token)
            return
        with atomic_file(path) as f:
            if fmt in ("csv", "tsv"):
                _write_delimited(f, examples, "," if fmt == "csv" else "\t", token)
            elif fmt == "jsonl":
                extras = _has_extras(examples)
                _write_lines(f, examples, lambda e: gemini_record(e, settings, extras), token)
            elif fmt == "agent-platform":
                _write_lines(f, examples, lambda e: agent_record(e, settings), token)
            elif fmt == "openai":
                _write_lines(f, examples, lambda e: openai_record(e, settings), token)
            else:  # json
                extras = _has_extras(examples)
                records = [gemini_record(e, settings, extras) for e in examples]
                f.write(orjson.dumps(records, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    except OSError as exc:
        raise UserError(f"{path.name} could not be written: {exc.strerror or exc}.",
                        "Check that the folder exists, that you may write to it and that the disk has room.",
                        detail=repr(exc)) from None

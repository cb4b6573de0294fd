"""Writing preference examples: Agent Platform's preference JSONL, prompt/chosen/rejected JSON, and tables.

* ``agent-platform``: the file uploaded for preference tuning, exactly as documented
  (preference-tuning/prepare-data): ``system_instruction`` only when there is one, ``contents`` with the
  prompt as one user turn, ``completions`` with the preferred answer (score 1) and then the dispreferred one
  (score 0), each ``{"role": "model", "parts": [{"text": ...}]}``;
* ``jsonl`` / ``json``: ``{"prompt", "chosen", "rejected"}`` as TRL, Kiln and LLaMA-Factory read them, with
  ``system`` when there is one and ``split``/``tags``/``note`` when used;
* ``csv`` / ``tsv`` / ``xlsx``: the examples as edited, columns prompt, preferred, dispreferred (and
  system_instruction, split, tags, note when used).

The training forms apply the preamble and carry each example's system instruction (its own, or the
dataset's), as the tuning service sees them; the tables hold the examples as edited. Every file is written
atomically through :func:`gemtune_desktop.core.formats.writers.atomic_file`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.formats.writers import (
    atomic_file,
    extras_fields,
    has_extras,
    write_delimited,
    write_errors,
    write_json_array,
    write_lines,
    write_xlsx,
)
from gemtune_desktop.core.preference.model import (
    DISPREFERRED_SCORE,
    PREFERRED_SCORE,
    PreferenceExample,
    PreferenceSettings,
)

PREFERENCE_WRITE_FORMATS = ("agent-platform", "jsonl", "json", "csv", "tsv", "xlsx")
EXCEL_MAX_CELL_CHARS = 32_767


def agent_record(e: PreferenceExample, settings: PreferenceSettings) -> dict[str, Any]:
    """One line of Agent Platform's preference JSONL."""
    rec: dict[str, Any] = {}
    system = settings.system_for(e)
    if system:
        rec["system_instruction"] = {"parts": [{"text": system}]}
    rec["contents"] = [{"role": "user", "parts": [{"text": settings.prompt_for(e)}]}]
    rec["completions"] = [
        {"score": PREFERRED_SCORE, "completion": {"role": "model", "parts": [{"text": e.preferred}]}},
        {"score": DISPREFERRED_SCORE, "completion": {"role": "model", "parts": [{"text": e.dispreferred}]}},
    ]
    return rec


def pair_record(e: PreferenceExample, settings: PreferenceSettings, extras: bool) -> dict[str, Any]:
    """One ``{"prompt", "chosen", "rejected"}`` record (TRL's standard preference form)."""
    rec: dict[str, Any] = {"prompt": settings.prompt_for(e), "chosen": e.preferred, "rejected": e.dispreferred}
    system = settings.system_for(e)
    if system:
        rec["system"] = system
    if extras:
        rec.update(extras_fields(e))
    return rec


def upload_lines(examples: Sequence[PreferenceExample], settings: PreferenceSettings) -> Iterator[bytes]:
    """The exact lines (each ending in a newline) of the preference file uploaded to Agent Platform."""
    dumps = orjson.dumps
    nl = orjson.OPT_APPEND_NEWLINE
    for e in examples:
        yield dumps(agent_record(e, settings), option=nl)


def upload_line_bytes(e: PreferenceExample, settings: PreferenceSettings) -> int:
    """Bytes one example adds to the uploaded preference file (its line and the newline)."""
    return len(orjson.dumps(agent_record(e, settings))) + 1


def _escaped(text: str) -> int:
    """UTF-8 bytes of ``text`` inside a JSON string, without the quotes."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return len(text)
    return len(orjson.dumps(text)) - 2


class UploadSizer:
    """:func:`upload_line_bytes` without building the record: the fixed bytes of the line's structure plus the
    JSON-escaped length of each text (escaping is per character, so the preamble's share is computed once)."""

    def __init__(self, settings: PreferenceSettings) -> None:
        self.settings = settings
        bare = PreferenceSettings()
        self._base = upload_line_bytes(PreferenceExample("", "", ""), bare) - 6  # three empty strings: ""
        self._system = upload_line_bytes(PreferenceExample("", "", "", "x"), bare) - self._base - 6 - 3
        self._preamble = _escaped(settings.prompt_for(PreferenceExample("", "", ""))) if settings.preamble else 0
        self._dataset_system = (self._system + _escaped(settings.system_instruction) + 2
                                if settings.system_instruction else 0)

    def __call__(self, e: PreferenceExample) -> int:
        return self.of(e.prompt, e.preferred, e.dispreferred, e.system_instruction)

    def of(self, prompt: str, preferred: str, dispreferred: str, system: str) -> int:
        n = self._base + 6 + self._preamble + _escaped(prompt) + _escaped(preferred) + _escaped(dispreferred)
        if system:
            return n + self._system + _escaped(system) + 2
        return n + self._dataset_system


def table_header(examples: Sequence[PreferenceExample]) -> list[str]:
    """The columns a table export needs: the three always, the others only when some example uses them."""
    header = ["prompt", "preferred", "dispreferred"]
    if any(e.system_instruction for e in examples):
        header.append("system_instruction")
    if has_extras(examples):
        header += ["split", "tags", "note"]
    return header


def table_row(e: PreferenceExample, header: Sequence[str]) -> list[str]:
    values = {"prompt": e.prompt, "preferred": e.preferred, "dispreferred": e.dispreferred,
              "system_instruction": e.system_instruction, "split": e.split.value, "tags": e.tags, "note": e.note}
    return [values[h] for h in header]


def _check_cells(examples: Sequence[PreferenceExample], header: Sequence[str]) -> None:
    """Refuse, before writing, what an Excel cell cannot hold, so no half-written sheet is left behind."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for i, e in enumerate(examples):
        for name, v in zip(header, table_row(e, header), strict=True):
            if ILLEGAL_CHARACTERS_RE.search(v):
                raise UserError(f"Row {i + 1}'s {name} contains a control character that Excel files cannot hold.",
                                "Remove it (the check lists such characters), or export to CSV or JSONL.")
            if len(v) > EXCEL_MAX_CELL_CHARS:
                raise UserError(f"Row {i + 1}'s {name} has {len(v):,} characters; an Excel cell holds at most "
                                f"{EXCEL_MAX_CELL_CHARS:,}.", "Export to CSV or JSONL instead.")


def write_preferences(path: str | os.PathLike[str], examples: Sequence[PreferenceExample],
                      settings: PreferenceSettings | None, fmt: str, token: CancelToken | None = None) -> None:
    """Write ``examples`` to ``path`` in ``fmt`` (one of PREFERENCE_WRITE_FORMATS), atomically."""
    settings = settings or PreferenceSettings()
    path = Path(path)
    if fmt not in PREFERENCE_WRITE_FORMATS:
        raise UserError(f"“{fmt}” is not a format GemTune can write preference examples in.",
                        f"Choose one of: {', '.join(PREFERENCE_WRITE_FORMATS)}.")
    n, what = len(examples), "preference examples"
    with write_errors(path):
        if fmt in ("csv", "tsv", "xlsx"):
            header = table_header(examples)
            rows = (table_row(e, header) for e in examples)
            if fmt == "xlsx":
                _check_cells(examples, header)
                write_xlsx(path, "Preference examples", header, rows, n, token, what)
                return
            with atomic_file(path) as f:
                write_delimited(f, header, rows, n, "," if fmt == "csv" else "\t", token, what)
            return
        with atomic_file(path) as f:
            if fmt == "agent-platform":
                write_lines(f, examples, lambda e: agent_record(e, settings), token, what)
            elif fmt == "jsonl":
                extras = has_extras(examples)
                write_lines(f, examples, lambda e: pair_record(e, settings, extras), token, what)
            else:  # json
                extras = has_extras(examples)
                write_json_array(f, [pair_record(e, settings, extras) for e in examples])

"""Reading the examples and dataset settings of a ``.gemtune`` project for ``check``/``convert``.

Opens the SQLite file read-only with ``sqlite3`` directly (no Qt, no project store, no lock taken), reading
the ``examples`` table in ``pos`` order and the ``dataset_settings`` key/value table (see core/project/schema.py).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from gemtune_desktop.core.errors import DatasetReadError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.formats.model import ImportResult, finding, parse_split
from gemtune_desktop.core.validation import Finding


def settings_from_rows(rows: dict[str, str]) -> DatasetSettings:
    """DatasetSettings from the ``dataset_settings`` table's key/value strings (unknown keys go to ``extra``)."""
    s = DatasetSettings()
    for key, value in rows.items():
        if key == "preamble":
            s.preamble = value
        elif key == "system_instruction":
            s.system_instruction = value
        elif key == "target":
            try:
                s.target = Target(value)
            except ValueError:
                pass
        elif key == "split_seed":
            try:
                s.split_seed = int(value)
            except ValueError:
                pass
        elif key == "split_ratios":
            try:
                r = json.loads(value)
                if isinstance(r, list) and len(r) == 3:
                    s.split_ratios = (float(r[0]), float(r[1]), float(r[2]))
            except (ValueError, TypeError):
                pass
        else:
            s.extra[key] = value
    return s


def read_project(path: Path) -> ImportResult:
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise DatasetReadError(f"{path.name} could not be opened as a project ({exc}).") from None
    try:
        try:
            settings_rows = dict(conn.execute("SELECT key, value FROM dataset_settings").fetchall())
            cur = conn.execute("SELECT id, input, output, split, tags, note FROM examples ORDER BY pos, id")
            examples: list[Example] = []
            findings: list[Finding] = []
            for rid, inp, out, split, tags, note in cur:
                sp = parse_split(split or "") or Split.TRAIN
                if split and parse_split(split) is None:
                    findings.append(finding("warning", "unknown-split",
                                            f"The split “{split}” is not train, validation or test; it is read "
                                            f"as train.", None, None, len(examples) + 1))
                examples.append(Example(inp or "", out or "", sp, tags or "", note or "", int(rid)))
        except sqlite3.DatabaseError as exc:
            msg = str(exc)
            if "locked" in msg:
                raise DatasetReadError(f"{path.name} is busy in another window.",
                                       "Close it there, or try again in a moment.") from None
            if "no such table" in msg:
                raise DatasetReadError(f"{path.name} is an SQLite database but not a GemTune project ({msg}).",
                                       "Choose a .gemtune project or a dataset file.") from None
            raise DatasetReadError(f"{path.name} is not a GemTune project, or the file is damaged ({msg}).",
                                   "Choose a .gemtune project or a dataset file; restore a damaged project from "
                                   "the backup beside it.") from None
    finally:
        conn.close()
    settings = settings_from_rows({str(k): str(v) for k, v in settings_rows.items()})
    return ImportResult(examples, findings, "gemtune", settings, ["input", "output"], False,
                        list(range(1, len(examples) + 1)))

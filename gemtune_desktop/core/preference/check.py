"""What ``gemtune-desktop check`` and ``convert`` need for preference files: read, validate, report.

``check`` first asks :func:`gemtune_desktop.core.preference.formats.detect_example_kind`; for preference files
it calls :func:`check_preference_file` and prints :func:`report_doc` (``--json``) or the same findings in its
human report. ``convert`` reads with :func:`check_preference_file` too and writes with
:func:`gemtune_desktop.core.preference.writers.write_preferences`; :func:`write_format_for` picks the format.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gemtune_desktop.core.preference.formats import PreferenceImport, read_preference_dataset
from gemtune_desktop.core.preference.model import ExampleKind
from gemtune_desktop.core.preference.validation import validate_preferences
from gemtune_desktop.core.preference.writers import PREFERENCE_WRITE_FORMATS
from gemtune_desktop.core.validation import Finding

TARGET = "agent-platform"  # preference tuning exists only there


def _order(f: Finding) -> tuple[int, int, int]:
    if f.row is None and f.line is None:
        return (0, 0, f.severity.rank)
    return (1, f.line if f.line is not None else (f.row or 0), f.severity.rank)


def check_preference_file(path: str | os.PathLike[str]) -> tuple[PreferenceImport, list[Finding]]:
    """The file's preference examples and every finding (import problems and validation), file-wide ones first,
    then by line. Raises DatasetReadError when the file cannot be read as a dataset at all."""
    result = read_preference_dataset(path)
    if result.needs_mapping:
        return result, []
    found = validate_preferences(result.examples, None, result.source_lines)
    return result, sorted(result.findings + found, key=_order)


def report_doc(path: str, result: PreferenceImport, findings: list[Finding]) -> dict[str, Any]:
    """The ``check --json`` document: as for supervised files, plus the example kind."""
    return {"file": path, "format": result.format, "kind": ExampleKind.PREFERENCE.value, "target": TARGET,
            "examples": len(result),
            "findings": [{"severity": f.severity.value, "rule": f.rule, "row": f.row, "line": f.line,
                          "field": f.field, "message": f.message} for f in findings]}


def write_format_for(dst: str | os.PathLike[str], to: str | None = None) -> str | None:
    """The preference format a destination asks for: ``--to`` if given, else from the extension (.jsonl and .json
    are prompt/chosen/rejected; ``--to agent-platform`` gives the upload form); None when it cannot tell."""
    if to is not None:
        return to if to in PREFERENCE_WRITE_FORMATS else None
    return {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".tab": "tsv", ".xlsx": "xlsx", ".jsonl": "jsonl",
            ".ndjson": "jsonl", ".json": "json"}.get(Path(dst).suffix.lower())

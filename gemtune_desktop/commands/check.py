"""``gemtune-desktop check FILE``: read a dataset or project, validate it, print a report (or one JSON object).

The file's kind is found first (:func:`gemtune_desktop.core.preference.formats.detect_example_kind`): input →
output examples are checked against the ``--target`` service's limits; preference examples (a prompt, a
preferred and a dispreferred answer) against Agent Platform's, since preference tuning runs only there
(:mod:`gemtune_desktop.core.preference.check`). ``--json`` reports the kind and the number of examples either way.

Exit status: 0 when there is no error finding, 1 when there is, 2 when the file cannot be read as a
dataset at all (one line on stderr, no traceback).
"""

from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import orjson

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Target
from gemtune_desktop.core.formats import FORMAT_LABELS, ImportResult, read_dataset
from gemtune_desktop.core.preference.formats import PreferenceImport
from gemtune_desktop.core.preference.model import ExampleKind
from gemtune_desktop.core.validation import Finding, Severity, validate_columns
from gemtune_desktop.core.words import plural

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2
HUMAN_LIMIT_PER_RULE = 20


def fail(command: str, message: str) -> int:
    """Print one plain line on stderr and return the "unreadable" exit status."""
    print(f"gemtune-desktop {command}: {message}", file=sys.stderr)
    return EXIT_UNREADABLE


def load(command: str, path: str) -> ImportResult | int:
    """The import result for ``path``, or the exit status after explaining on stderr why it cannot be read."""
    try:
        result = read_dataset(path)
    except UserError as exc:
        return fail(command, str(exc))
    except Exception as exc:  # the CLI promises one line, never a traceback
        return fail(command, f"{Path(path).name} could not be read ({type(exc).__name__}: {exc}).")
    if result.needs_mapping:
        cols = ", ".join(result.columns[:8]) or "none"
        return fail(command, f"{Path(path).name}: no input and output columns found (columns: {cols}). Name them "
                             f"“input” and “output” (or prompt/response, question/answer) in the header row.")
    return result


def kind_of(command: str, path: str) -> ExampleKind | int:
    """Whether ``path`` holds input → output or preference examples, or the exit status after explaining on
    stderr why it cannot be read."""
    from gemtune_desktop.core.preference.formats import detect_example_kind

    try:
        return detect_example_kind(path)
    except UserError as exc:
        return fail(command, str(exc))
    except Exception as exc:  # the CLI promises one line, never a traceback
        return fail(command, f"{Path(path).name} could not be read ({type(exc).__name__}: {exc}).")


def load_preferences(command: str, path: str, validate: bool = True) -> tuple[PreferenceImport, list[Finding]] | int:
    """The preference examples of ``path`` and every finding (only the reading's when not ``validate``), or the
    exit status after explaining on stderr why the file cannot be read."""
    from gemtune_desktop.core.preference.check import check_preference_file
    from gemtune_desktop.core.preference.formats import read_preference_dataset

    try:
        if validate:
            result, findings = check_preference_file(path)
        else:
            result = read_preference_dataset(path)
            findings = list(result.findings)
    except UserError as exc:
        return fail(command, str(exc))
    except Exception as exc:  # one line, never a traceback
        return fail(command, f"{Path(path).name} could not be read ({type(exc).__name__}: {exc}).")
    if result.needs_mapping:
        cols = ", ".join(result.columns[:8]) or "none"
        return fail(command, f"{Path(path).name}: no prompt, preferred and dispreferred columns found (columns: "
                             f"{cols}). Name them “prompt”, “preferred” and “dispreferred” (or chosen/rejected) in "
                             f"the header row.")
    return result, findings


def _order(f: Finding) -> tuple[int, int, int]:
    if f.row is None and f.line is None:
        return (0, 0, f.severity.rank)
    return (1, f.line if f.line is not None else (f.row or 0), f.severity.rank)


def check_findings(result: ImportResult, target: Target) -> list[Finding]:
    settings = result.settings or DatasetSettings()
    lines = None if result.format == "gemtune" else result.source_lines
    found = validate_columns(result.inputs(), result.outputs(), result.splits(), settings, target, lines,
                             clean=result.clean)
    if result.format == "gemtune":
        found = [Finding(f.severity, f.rule, f.message, f.row, None, f.field, f.example_id, f.related)
                 for f in found]
    return sorted(result.findings + found, key=_order)


def _json_report(out: TextIO, path: str, result: ImportResult, target: Target, findings: list[Finding]) -> None:
    doc = {"file": path, "format": result.format, "kind": ExampleKind.SUPERVISED.value, "target": target.value,
           "examples": len(result),
           "findings": [{"severity": f.severity.value, "rule": f.rule, "row": f.row, "line": f.line,
                         "message": f.message} for f in findings]}
    out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")


def _human_report(out: TextIO, path: str, result: ImportResult | PreferenceImport, target: Target,
                  findings: list[Finding], example_kind: ExampleKind = ExampleKind.SUPERVISED,
                  note: str = "") -> None:
    kind = FORMAT_LABELS.get(result.format, result.format)
    if result.encoding:
        kind += f", {result.encoding}"
    out.write(f"File:     {path} ({kind})\n")
    out.write(f"Holds:    {example_kind.label}\n")
    out.write(f"Target:   {target.label}\n")
    out.write(f"Examples: {len(result):,}\n")
    if note:
        out.write(f"Note:     {note}\n")
    counts = Counter(f.severity for f in findings)
    for sev, title in ((Severity.ERROR, "Errors"), (Severity.WARNING, "Warnings"), (Severity.INFO, "Notes")):
        group = [f for f in findings if f.severity is sev]
        if not group:
            continue
        out.write(f"\n{title} ({len(group):,})\n")
        shown: defaultdict[str, int] = defaultdict(int)
        hidden: Counter[str] = Counter()
        for f in group:
            if shown[f.rule] >= HUMAN_LIMIT_PER_RULE:
                hidden[f.rule] += 1
                continue
            shown[f.rule] += 1
            where = f.location()
            out.write(f"  {where + ': ' if where else ''}{f.message}\n")
        for rule, n in hidden.items():
            out.write(f"  … and {plural(n, 'more finding')} of the kind “{rule}” (use --json to list all).\n")
    errors, warnings, notes = counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFO]
    verdict = "fix the errors before tuning." if errors else "ready to tune."
    out.write(f"\nResult: {plural(errors, 'error')}, {plural(warnings, 'warning')}, {plural(notes, 'note')}; "
              f"{verdict}\n")


def run_check(path: str, target: str = "gemini-api", as_json: bool = False) -> int:
    try:
        tgt = Target(target)
    except ValueError:
        return fail("check", f"unknown target “{target}”; use gemini-api or agent-platform.")
    kind = kind_of("check", path)
    if isinstance(kind, int):
        return kind
    if kind is ExampleKind.PREFERENCE:
        return _check_preferences(path, tgt, as_json)
    loaded = load("check", path)
    if isinstance(loaded, int):
        return loaded
    findings = check_findings(loaded, tgt)
    return _print(findings, lambda out: _json_report(out, path, loaded, tgt, findings) if as_json
                  else _human_report(out, path, loaded, tgt, findings))


def _check_preferences(path: str, target: Target, as_json: bool) -> int:
    from gemtune_desktop.core.preference.check import report_doc

    loaded = load_preferences("check", path)
    if isinstance(loaded, int):
        return loaded
    result, findings = loaded
    note = ("Preference tuning runs only on Agent Platform, so the file was checked against its limits."
            if target is not Target.AGENT_PLATFORM else "")

    def write(out: TextIO) -> None:
        if as_json:
            out.write(orjson.dumps(report_doc(path, result, findings), option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            _human_report(out, path, result, Target.AGENT_PLATFORM, findings, ExampleKind.PREFERENCE, note)

    return _print(findings, write)


def _print(findings: list[Finding], write: Callable[[TextIO], None]) -> int:
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        try:
            out.reconfigure(errors="replace")
        except (ValueError, OSError):
            pass
    code = EXIT_ERRORS if any(f.severity is Severity.ERROR for f in findings) else EXIT_OK
    try:
        write(out)
        out.flush()
    except BrokenPipeError:  # `check FILE | head`: the reader left; that is not an error of the dataset
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
    return code

"""``gemtune-desktop check FILE``: read a dataset or project, validate it, print a report (or one JSON object).

Exit status: 0 when there is no error finding, 1 when there is, 2 when the file cannot be read as a
dataset at all (one line on stderr, no traceback).
"""

from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import TextIO

import orjson

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Target
from gemtune_desktop.core.formats import FORMAT_LABELS, ImportResult, read_dataset
from gemtune_desktop.core.validation import Finding, Severity, validate_columns

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
    doc = {"file": path, "format": result.format, "target": target.value, "examples": len(result),
           "findings": [{"severity": f.severity.value, "rule": f.rule, "row": f.row, "line": f.line,
                         "message": f.message} for f in findings]}
    out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _human_report(out: TextIO, path: str, result: ImportResult, target: Target, findings: list[Finding]) -> None:
    kind = FORMAT_LABELS.get(result.format, result.format)
    if result.encoding:
        kind += f", {result.encoding}"
    out.write(f"File:     {path} ({kind})\n")
    out.write(f"Target:   {target.label}\n")
    out.write(f"Examples: {len(result):,}\n")
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
            out.write(f"  … and {_plural(n, 'more finding')} of the kind “{rule}” (use --json to list all).\n")
    errors, warnings, notes = counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFO]
    verdict = "fix the errors before tuning." if errors else "ready to tune."
    out.write(f"\nResult: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}, {_plural(notes, 'note')}; "
              f"{verdict}\n")


def run_check(path: str, target: str = "gemini-api", as_json: bool = False) -> int:
    try:
        tgt = Target(target)
    except ValueError:
        return fail("check", f"unknown target “{target}”; use gemini-api or agent-platform.")
    loaded = load("check", path)
    if isinstance(loaded, int):
        return loaded
    findings = check_findings(loaded, tgt)
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        try:
            out.reconfigure(errors="replace")
        except (ValueError, OSError):
            pass
    code = EXIT_ERRORS if any(f.severity is Severity.ERROR for f in findings) else EXIT_OK
    try:
        if as_json:
            _json_report(out, path, loaded, tgt, findings)
        else:
            _human_report(out, path, loaded, tgt, findings)
        out.flush()
    except BrokenPipeError:  # `check FILE | head`: the reader left; that is not an error of the dataset
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
    return code

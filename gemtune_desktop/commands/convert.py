"""``gemtune-desktop convert IN OUT [--to FORMAT]``: rewrite a dataset in another format.

The format comes from OUT's extension unless ``--to`` names it. Preference files (a prompt, a preferred and
a dispreferred answer) stay preference files: ``.jsonl``/``.json`` are written as prompt/chosen/rejected, the
tables with prompt, preferred and dispreferred columns, and ``--to agent-platform`` gives Agent Platform's
preference JSONL (:mod:`gemtune_desktop.core.preference.writers`). Records that could not be read are listed
on stderr and give exit status 1 (the rest is still written); an unreadable input or an unwritable output
gives 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gemtune_desktop.commands.check import EXIT_ERRORS, EXIT_OK, fail, kind_of, load, load_preferences
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.formats import WRITE_FORMATS, format_for_suffix, write_dataset
from gemtune_desktop.core.preference.model import ExampleKind
from gemtune_desktop.core.validation import Finding, Severity


def run_convert(src: str, dst: str, to: str | None = None) -> int:
    kind = kind_of("convert", src)
    if isinstance(kind, int):
        return kind
    if kind is ExampleKind.PREFERENCE:
        return _convert_preferences(src, dst, to)
    fmt = to or format_for_suffix(dst)
    if fmt is None:
        return fail("convert", f"cannot tell the format from the name {Path(dst).name}; add --to with one of "
                               f"{', '.join(WRITE_FORMATS)}.")
    if fmt not in WRITE_FORMATS:
        return fail("convert", f"unknown format “{fmt}”; use one of {', '.join(WRITE_FORMATS)}.")
    loaded = load("convert", src)
    if isinstance(loaded, int):
        return loaded
    try:
        write_dataset(dst, loaded.examples, loaded.settings, fmt)
    except UserError as exc:
        return fail("convert", str(exc))
    except Exception as exc:  # one line, never a traceback
        return fail("convert", f"{Path(dst).name} could not be written ({type(exc).__name__}: {exc}).")
    return _done(loaded.findings, len(loaded.examples), dst, fmt, "example")


def _convert_preferences(src: str, dst: str, to: str | None) -> int:
    from gemtune_desktop.core.preference.check import write_format_for
    from gemtune_desktop.core.preference.writers import PREFERENCE_WRITE_FORMATS, write_preferences

    fmt = write_format_for(dst, to)
    if fmt is None:
        named = f"“{to}”" if to else f"the name {Path(dst).name}"
        return fail("convert", f"{Path(src).name} holds preference examples, and {named} is not a format for them; "
                               f"use --to with one of {', '.join(PREFERENCE_WRITE_FORMATS)}.")
    loaded = load_preferences("convert", src, validate=False)
    if isinstance(loaded, int):
        return loaded
    result, _findings = loaded
    try:
        write_preferences(dst, result.examples, None, fmt)
    except UserError as exc:
        return fail("convert", str(exc))
    except Exception as exc:  # one line, never a traceback
        return fail("convert", f"{Path(dst).name} could not be written ({type(exc).__name__}: {exc}).")
    return _done(result.findings, len(result.examples), dst, fmt, "preference example")


def _done(findings: list[Finding], n: int, dst: str, fmt: str, noun: str) -> int:
    """List the records that could not be read, say what was written, and give the exit status."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    for f in errors:
        print(f"gemtune-desktop convert: {f.location() or 'file'}: {f.message}", file=sys.stderr)
    print(f"Wrote {n:,} {noun}{'' if n == 1 else 's'} to {dst} ({fmt})."
          + (f" {len(errors):,} record(s) could not be read and were left out." if errors else ""))
    return EXIT_ERRORS if errors else EXIT_OK

"""``gemtune-desktop convert IN OUT [--to FORMAT]``: rewrite a dataset in another format.

The format comes from OUT's extension unless ``--to`` names it. Records that could not be read are listed
on stderr and give exit status 1 (the rest is still written); an unreadable input or an unwritable output
gives 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gemtune_desktop.commands.check import EXIT_ERRORS, EXIT_OK, fail, load
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.formats import WRITE_FORMATS, format_for_suffix, write_dataset
from gemtune_desktop.core.validation import Severity


def run_convert(src: str, dst: str, to: str | None = None) -> int:
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
    errors = [f for f in loaded.findings if f.severity is Severity.ERROR]
    for f in errors:
        print(f"gemtune-desktop convert: {f.location() or 'file'}: {f.message}", file=sys.stderr)
    n = len(loaded.examples)
    print(f"Wrote {n:,} example{'' if n == 1 else 's'} to {dst} ({fmt})."
          + (f" {len(errors):,} record(s) could not be read and were left out." if errors else ""))
    return EXIT_ERRORS if errors else EXIT_OK

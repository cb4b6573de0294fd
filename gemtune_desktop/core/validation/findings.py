"""What validation reports: a finding's severity, the finding itself, and the stable rule identifiers.

The identifiers are part of the app's interface: ``gemtune-desktop check --json`` prints them and the
Dataset tab filters by them, so they never change once released.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


class Severity(enum.StrEnum):
    """How much a finding matters: errors block tuning, warnings deserve a look, info is advice."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def rank(self) -> int:
        """Sort order: errors first."""
        return _RANKS[self]


_LABELS = {Severity.ERROR: "Error", Severity.WARNING: "Warning", Severity.INFO: "Note"}
_RANKS = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(slots=True, frozen=True)
class Finding:
    """One problem found in a dataset.

    ``row`` is the 1-based example number (None for dataset-wide findings and for records that could not
    be imported), ``line`` the 1-based line or spreadsheet row in the source file, ``field`` "input" or
    "output" when the problem is in one of them, ``example_id`` the project's row id (incremental
    validation), ``related`` the other examples involved (row numbers from ``validate``, example ids
    from ``IncrementalValidator``).
    """

    severity: Severity
    rule: str
    message: str
    row: int | None = None
    line: int | None = None
    field: str | None = None
    example_id: int | None = None
    related: tuple[int, ...] = ()

    def location(self) -> str:
        """Where the finding is, in words ("row 5 (line 7), output")."""
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}")
            if self.line is not None and self.line != self.row:
                parts.append(f"(line {self.line})")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        where = " ".join(parts)
        if self.field:
            where = f"{where}, {self.field}" if where else self.field
        return where


def finding_order(f: Finding) -> tuple[int, int]:
    """The order findings are listed in: dataset-wide first, then by row; errors before warnings in a row."""
    return (f.row or 0, f.severity.rank)


def counts_of(findings: Iterable[Finding]) -> dict[Severity, int]:
    """How many findings of each severity (every severity present, zero included)."""
    c = Counter(f.severity for f in findings)
    return {s: c[s] for s in Severity}


# --- rule identifiers ------------------------------------------------------------------------------------
# Per example
EMPTY = "empty"
WHITESPACE = "whitespace"
CONTROL_CHARS = "control-characters"
MOJIBAKE = "broken-encoding"
TOO_LONG = "too-long"
TOO_MANY_TOKENS = "too-many-tokens"
PREAMBLE_REPEATED = "preamble-repeated"
# Per example, against the others
DUPLICATE = "duplicate"
CONFLICT = "conflicting-duplicate"
INCONSISTENT_FORMAT = "inconsistent-format"
LENGTH_OUTLIER = "output-length-outlier"
INPUT_LENGTH_OUTLIER = "input-length-outlier"
NEAR_DUPLICATE = "near-duplicate"
# The dataset as a whole
TOO_FEW = "too-few-examples"
RECOMMENDED_COUNT = "example-count"
INLINE_SIZE = "inline-size"
FILE_SIZE = "file-size"
VALIDATION_SIZE = "validation-size"
SYSTEM_INSTRUCTION_UNSUPPORTED = "system-instruction-unsupported"
# Import (set by the readers in core/formats)
MALFORMED = "malformed-record"
MULTI_TURN = "multi-turn"
MISSING_FIELD = "missing-field"
UNSUPPORTED_CONTENT = "unsupported-content"
UNKNOWN_SPLIT = "unknown-split"
DECODING = "decoding"

"""Validation of a whole dataset at once: ``gemtune-desktop check`` and the pre-flight before tuning.

Runs every rule of :mod:`.rules` over text columns. Most work is whole-column passes at C speed (see
:class:`.columns.Columns`), so clean rows cost little and a million examples take seconds.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.validation.columns import Columns, ColumnTotals
from gemtune_desktop.core.validation.findings import Finding, finding_order
from gemtune_desktop.core.validation.kinds import Context
from gemtune_desktop.core.validation.near import DEFAULT_NEAR_LIMIT, NEAR_DUPLICATE_MAX_ROWS
from gemtune_desktop.core.validation.rules import EXAMPLE_RULES, GROUP_RULES, PASS_RULES, SHARE_RULES, dataset_findings

_get_input = operator.attrgetter("input")
_get_output = operator.attrgetter("output")
_get_split = operator.attrgetter("split")


def validate(examples: Sequence[Example], settings: DatasetSettings, target: Target | str,
             source_lines: Sequence[int] | None = None, *, clean: Sequence[int] | bytes | None = None,
             near_limit: int = DEFAULT_NEAR_LIMIT, near_max_rows: int = NEAR_DUPLICATE_MAX_ROWS) -> list[Finding]:
    """All findings for ``examples`` on ``target``: dataset-wide ones first, then by row.

    ``clean[i]`` true tells that example i holds no control characters or broken encoding (a reader that
    saw the raw bytes can know this cheaply), so the character scan is skipped for it. The fuzzy
    near-duplicate pass makes at most ``near_limit`` comparisons (0: no pass) and runs on datasets of up to
    ``near_max_rows`` examples (larger ones get a note saying so; exact and case/spacing duplicates are
    still found).
    """
    return validate_columns(list(map(_get_input, examples)), list(map(_get_output, examples)),
                            list(map(_get_split, examples)), settings, target, source_lines, clean=clean,
                            near_limit=near_limit, near_max_rows=near_max_rows)


def validate_columns(inputs: list[str], outputs: list[str], splits: Sequence[Split] | None,
                     settings: DatasetSettings, target: Target | str, source_lines: Sequence[int] | None = None, *,
                     clean: Sequence[int] | bytes | None = None, near_limit: int = DEFAULT_NEAR_LIMIT,
                     near_max_rows: int = NEAR_DUPLICATE_MAX_ROWS) -> list[Finding]:
    """:func:`validate` over text columns (``splits`` None: every example is in train)."""
    ctx = Context(settings, Target(target))
    cols = Columns(inputs, outputs, splits, clean)
    lines = source_lines if source_lines is not None and len(source_lines) == cols.n else None

    def line_of(i: int) -> int | None:
        return lines[i] if lines is not None else None

    rows: list[Finding] = []
    append = rows.append
    for rule in EXAMPLE_RULES:
        for i, field, message in rule.sweep(cols, ctx):
            append(Finding(rule.severity, rule.id, message, i + 1, line_of(i), field))
    for group in GROUP_RULES:
        for i, j, rule_id, message in group.sweep(cols):
            append(Finding(group.severity, rule_id, message, i + 1, line_of(i), group.field, related=(j + 1,)))
    for share in SHARE_RULES:
        for i, message in share.sweep(cols):
            append(Finding(share.severity, share.id, message, i + 1, line_of(i), share.field))
    notes: list[Finding] = []
    for each in PASS_RULES:
        for row, message, other in each.run(cols, near_limit, near_max_rows):
            if row is None:
                notes.append(Finding(each.severity, each.id, message))
            else:
                append(Finding(each.severity, each.id, message, row + 1, line_of(row), each.field,
                               related=(other + 1,) if other is not None else ()))
    rows.sort(key=finding_order)
    return dataset_findings(ColumnTotals(cols), ctx) + notes + rows

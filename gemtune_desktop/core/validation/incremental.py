"""Validation kept current while the user edits (the Dataset tab), at a cost per edit independent of size.

:class:`IncrementalValidator` runs the same rules as batch validation (:data:`.rules.RULES`, except the
fuzzy near-duplicate pass, which runs on its own) and finds the same problems on the same rows with the
same messages; ``tests/core/test_validation_agreement.py`` checks this on random edit sequences.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable
from typing import Any

from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.validation.columns import Columns
from gemtune_desktop.core.validation.findings import Finding, Severity, finding_order
from gemtune_desktop.core.validation.indexes import GroupIndex, RowOf, RunningTotals, ShareIndex
from gemtune_desktop.core.validation.kinds import Context
from gemtune_desktop.core.validation.rules import EXAMPLE_RULES, GROUP_RULES, SHARE_RULES
from gemtune_desktop.core.validation.rules import dataset_findings as _dataset_findings

_get_id = operator.attrgetter("id")
_get_input = operator.attrgetter("input")
_get_output = operator.attrgetter("output")
_get_split = operator.attrgetter("split")
_rank = operator.attrgetter("severity.rank")


class IncrementalValidator:
    """Validation kept current while the user edits, at a cost independent of the dataset's size per edit.

    Per-example findings are cached by example id; duplicates use a hash index from input text to ids;
    label and length-outlier findings are judged on demand against counts of labels and lengths (their
    verdict is recomputed, in O(distinct labels or lengths), when asked for after a change). Examples must
    carry distinct ids. ``row_of(id)`` (optional) gives the current 1-based row of an id, so that messages
    and ``Finding.row`` name rows as they are now, and the first of several copies is the first in row order
    (without it, the first added); ``related`` holds example ids. An example moved relative to others must
    be passed to :meth:`update`, as the Dataset tab does. Near duplicates are not tracked here: run
    :func:`near_duplicates` as a separate pass.
    """

    def __init__(self, settings: DatasetSettings, target: Target | str, row_of: RowOf | None = None) -> None:
        self.settings = settings
        self.target = Target(target)
        self._row_of = row_of
        self._clear()

    @property
    def row_of(self) -> RowOf | None:
        return self._row_of

    @row_of.setter
    def row_of(self, row_of: RowOf | None) -> None:
        self._row_of = row_of
        for group in self._groups:
            group.forget_order()

    def _clear(self) -> None:
        self._ctx = Context(self.settings, self.target)
        # id → input / output, and the split of ids not in train: dicts of strings, which (unlike one tuple per
        # row) the garbage collector never has to walk
        self._rows: dict[int, str] = {}
        self._outs: dict[int, str] = {}
        self._split_of: dict[int, Split] = {}
        self._static: dict[int, list[Finding]] = {}  # what the example rules found, by id
        self._static_counts: Counter[Severity] = Counter()
        self._groups = [GroupIndex(rule) for rule in GROUP_RULES]
        self._shares: list[ShareIndex[Any, Any]] = [ShareIndex(rule) for rule in SHARE_RULES]
        self._totals = RunningTotals()

    # -- editing --
    def reset(self, examples: Iterable[Example]) -> None:
        """Validate a whole dataset from scratch (in row order), with C-level passes over whole columns."""
        self._clear()
        rows = examples if isinstance(examples, list) else list(examples)
        ids = list(map(_get_id, rows))
        inputs = list(map(_get_input, rows))
        outputs = list(map(_get_output, rows))
        splits = list(map(_get_split, rows))
        self._rows = dict(zip(ids, inputs, strict=True))
        if len(self._rows) != len(rows):
            raise ValueError("IncrementalValidator needs distinct example ids")
        self._outs = dict(zip(ids, outputs, strict=True))
        if splits.count(Split.TRAIN) != len(splits):
            self._split_of = {rid: sp for rid, sp in zip(ids, splits, strict=True) if sp is not Split.TRAIN}
        cols = Columns(inputs, outputs, splits)
        static = self._static
        for rule in EXAMPLE_RULES:
            for i, field, message in rule.sweep(cols, self._ctx):
                rid = ids[i]
                static.setdefault(rid, []).append(Finding(rule.severity, rule.id, message, None, None, field, rid))
                self._static_counts[rule.severity] += 1
        for group in self._groups:
            group.fill(ids, cols.texts(group.rule.field))
        for share in self._shares:
            share.fill(cols)
        self._totals.fill(cols, splits)

    def set_settings(self, settings: DatasetSettings, target: Target | str) -> None:
        """Switch preamble/system instruction/target: re-validates everything (O(n))."""
        rows = [Example(i, self._outs[rid], self._split_of.get(rid, Split.TRAIN), id=rid)
                for rid, i in self._rows.items()]
        self.settings, self.target = settings, Target(target)
        self.reset(rows)

    def update(self, changed: Iterable[Example]) -> None:
        """Re-validate examples that were added, edited or moved."""
        for e in changed:
            if e.id in self._rows:
                self._remove(e.id)
            self._add(e.id, e.input, e.output, e.split)

    def remove(self, ids: Iterable[int]) -> None:
        for rid in ids:
            if rid in self._rows:
                self._remove(rid)

    def _add(self, rid: int, inp: str, out: str, split: Split) -> None:
        self._rows[rid] = inp
        self._outs[rid] = out
        if split is not Split.TRAIN:
            self._split_of[rid] = split
        ctx = self._ctx
        found = [Finding(rule.severity, rule.id, message, None, None, field, rid)
                 for rule in EXAMPLE_RULES for field, message in rule.check(inp, out, ctx)]
        if found:
            self._static[rid] = found
            self._static_counts.update(f.severity for f in found)
        for group in self._groups:
            group.add(rid, inp if group.rule.field == "input" else out)
        for share in self._shares:
            share.add(inp if share.rule.field == "input" else out)
        self._totals.add(inp, out, split)

    def _remove(self, rid: int) -> None:
        inp = self._rows.pop(rid)
        out = self._outs.pop(rid)
        split = self._split_of.pop(rid, Split.TRAIN)
        found = self._static.pop(rid, None)
        if found:
            self._static_counts.subtract(f.severity for f in found)
        for group in self._groups:
            group.remove(rid, inp if group.rule.field == "input" else out)
        for share in self._shares:
            share.remove(inp if share.rule.field == "input" else out)
        self._totals.add(inp, out, split, -1)

    # -- queries --
    def _name(self, rid: int) -> str:
        row = self._row_of(rid) if self._row_of is not None else None
        return f"row {row}" if row is not None else "another example"

    def findings_for(self, example_id: int) -> list[Finding]:
        """Every finding about one example (empty for unknown ids), errors first."""
        inp = self._rows.get(example_id)
        if inp is None:
            return []
        out = self._outs[example_id]
        found = list(self._static.get(example_id, ()))
        for group in self._groups:
            rule = group.rule
            first = group.first(inp if rule.field == "input" else out, self._row_of)
            if first is not None and first != example_id:
                rule_id, message = rule.judge((inp, out), (self._rows[first], self._outs[first]), self._name(first))
                found.append(Finding(rule.severity, rule_id, message, None, None, rule.field, example_id, (first,)))
        n = len(self._rows)
        for share in self._shares:
            judged = share.message(inp if share.rule.field == "input" else out, n)
            if judged is not None:
                found.append(Finding(share.rule.severity, share.rule.id, judged, None, None, share.rule.field,
                                     example_id))
        if len(found) > 1:
            found.sort(key=_rank)
        if self._row_of is not None and found:
            row = self._row_of(example_id)
            found = [Finding(f.severity, f.rule, f.message, row, f.line, f.field, f.example_id, f.related)
                     for f in found]
        return found

    def dataset_findings(self) -> list[Finding]:
        return _dataset_findings(self._totals, self._ctx)

    def all_findings(self) -> list[Finding]:
        """Dataset findings, then each example's: by row with ``row_of``, else in the order added (O(n))."""
        rows = [f for rid in self._rows for f in self.findings_for(rid)]
        if self._row_of is not None:
            rows.sort(key=finding_order)
        return self.dataset_findings() + rows

    def counts(self) -> dict[Severity, int]:
        """How many findings of each severity, in O(1) plus O(distinct labels and lengths)."""
        c = +self._static_counts
        n = len(self._rows)
        for group in self._groups:
            c[group.rule.severity] += group.later
        for share in self._shares:
            c[share.rule.severity] += share.flagged(n)
        for f in self.dataset_findings():
            c[f.severity] += 1
        return {s: c[s] for s in Severity}

    def __len__(self) -> int:
        return len(self._rows)

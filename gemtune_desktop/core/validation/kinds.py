"""The kinds of validation rule, and how each kind runs over a whole dataset.

A rule is declared once, in the table in :mod:`.rules`, as one of these kinds. Batch validation
(:mod:`.batch`) and incremental validation (:mod:`.incremental`) run every rule of a kind the same way, so
neither names a rule; adding a rule to the table is enough for both to report it.

* :class:`ExampleRule`: judged from one example alone. ``check`` judges one example; ``screen`` finds, with
  whole-column passes, the rows that may fail (a superset), so a million clean rows cost little.
* :class:`GroupRule`: each example is judged against the first example, in row order, with the same text.
* :class:`ShareRule`: each example is judged against how one property of its text (a label, a length) is
  shared across the dataset: a ``verdict`` drawn from the counts of that property.
* :class:`DatasetRule`: judged from the dataset's totals (counts and sizes).
* :class:`PassRule`: a bounded pass over the whole dataset (fuzzy matching), run by batch validation only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from gemtune_desktop.core.examples import DatasetSettings, Target
from gemtune_desktop.core.validation.columns import Columns, flagged
from gemtune_desktop.core.validation.findings import Severity

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
FIELDS = ("input", "output")


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may depend on besides the examples: the dataset settings and the target."""

    settings: DatasetSettings
    target: Target

    @property
    def preamble(self) -> str:
        return self.settings.preamble.strip()

    @property
    def system(self) -> str:
        return self.settings.system_instruction


class Totals(Protocol):
    """Counts and sizes of a dataset, as the dataset rules see them."""

    @property
    def n(self) -> int: ...

    @property
    def n_train(self) -> int: ...

    @property
    def n_validation(self) -> int: ...

    def chars(self, train_only: bool) -> int:
        """Characters of the inputs and outputs (of the training examples only, or of all)."""
        ...

    def utf8_bytes(self, train_only: bool) -> int:
        """UTF-8 bytes of the inputs and outputs (of the training examples only, or of all)."""
        ...


Problems = list[tuple[str | None, str]]  # (field or None, message) for each problem an example has
ExampleCheck = Callable[[str, str, Context], Problems]
TextCheck = Callable[[str, str, Context], "str | None"]  # (text, field, context) → message
Screen = Callable[[Columns, Context], Iterable[int]]
ColumnScreen = Callable[[Columns, str, Context], Iterable[int]]


@dataclass(frozen=True, slots=True)
class ExampleRule:
    """A rule judged from one example alone (``check``), with a whole-column ``screen`` for many examples.

    ``screen`` returns every row that may have the problem, in order; rows it leaves out are certainly fine.
    ``scan`` rules look for characters (control characters, broken encoding): a reader's clean flag vouches
    for a row, so with such a flag they check exactly the rows it does not vouch for.
    """

    id: str
    severity: Severity
    check: ExampleCheck
    screen: Screen
    scan: bool = False

    @classmethod
    def per_field(cls, rule_id: str, severity: Severity, check: TextCheck, screen: ColumnScreen,
                  fields: tuple[str, ...] = FIELDS, scan: bool = False) -> ExampleRule:
        """A rule judging each of ``fields`` on its own: ``check(text, field, context)`` gives the message."""

        def check_example(inp: str, out: str, ctx: Context) -> Problems:
            found: Problems = []
            for field in fields:
                message = check(inp if field == "input" else out, field, ctx)
                if message is not None:
                    found.append((field, message))
            return found

        def screen_columns(cols: Columns, ctx: Context) -> list[int]:
            if len(fields) == 1:
                return list(screen(cols, fields[0], ctx))
            return sorted({i for field in fields for i in screen(cols, field, ctx)})

        return cls(rule_id, severity, check_example, screen_columns, scan)

    def sweep(self, cols: Columns, ctx: Context) -> Iterator[tuple[int, str | None, str]]:
        """(row index, field, message) for every problem in ``cols``."""
        unvouched = cols.unvouched() if self.scan else None
        rows = unvouched if unvouched is not None else self.screen(cols, ctx)
        inputs, outputs, check = cols.inputs, cols.outputs, self.check
        for i in rows:
            for field, message in check(inputs[i], outputs[i], ctx):
                yield i, field, message


Pair = tuple[str, str]  # an example's input and output


@dataclass(frozen=True, slots=True)
class GroupRule:
    """Examples whose ``field`` holds the same text form a group; each but the first, in row order, is judged
    against the first by ``judge(example, first, first's name)``, which gives the rule id and message.
    Texts for which ``takes_part`` gives a false value form no group (a C function such as ``str.strip`` keeps
    this a C-level pass over a million texts)."""

    ids: tuple[str, ...]
    severity: Severity
    field: str
    takes_part: Callable[[str], object]
    judge: Callable[[Pair, Pair, str], tuple[str, str]]

    def sweep(self, cols: Columns) -> Iterator[tuple[int, int, str, str]]:
        """(row index, index of the group's first row, rule id, message) for every example judged."""
        texts = cols.texts(self.field)
        if len(set(texts)) == len(texts):  # the common case, no repeats: one C-level set build
            return
        inputs, outputs = cols.inputs, cols.outputs
        first: dict[str, int] = {}
        for i, text in enumerate(texts):
            j = first.setdefault(text, i)
            if j != i and self.takes_part(text):
                rule_id, message = self.judge((inputs[i], outputs[i]), (inputs[j], outputs[j]), f"row {j + 1}")
                yield i, j, rule_id, message


def _never(_cols: Columns) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class ShareRule(Generic[K, V]):
    """Each example is judged against how a property of its ``field`` is shared across the dataset.

    ``key`` is the property of one text (None: it has none) and ``keys`` the same for a whole column (a
    list, or {row index: key} when few rows have one). ``verdict`` draws a conclusion from how many texts
    have each property, out of ``n`` examples (None: nothing to report), and ``judge`` gives the message
    for an example with a property under that verdict. ``skip`` may tell, from a cheap look at the columns,
    that there is certainly nothing to report (batch validation only).
    """

    id: str
    severity: Severity
    field: str
    key: Callable[[str], K | None]
    keys: Callable[[Columns], Sequence[K | None] | dict[int, K]]
    verdict: Callable[[Counter[K], int], V | None]
    judge: Callable[[K | None, V, int], str | None]
    skip: Callable[[Columns], bool] = _never

    def count(self, keys: Sequence[K | None] | dict[int, K]) -> Counter[K]:
        if isinstance(keys, dict):
            return Counter(keys.values())
        counts: Counter[K | None] = Counter(keys)
        counts.pop(None, None)
        return counts  # type: ignore[return-value]  # None removed

    def odd(self, counts: Counter[K], verdict: V, n: int) -> set[K | None]:
        """The properties whose examples get a finding (None included when examples without one do)."""
        return {k for k in (*counts, None) if self.judge(k, verdict, n) is not None}

    def sweep(self, cols: Columns) -> Iterator[tuple[int, str]]:
        """(row index, message) for every example judged."""
        if self.skip(cols):
            return
        keys = self.keys(cols)
        counts = self.count(keys)
        verdict = self.verdict(counts, cols.n)
        if verdict is None:
            return
        odd = self.odd(counts, verdict, cols.n)
        if not odd:
            return
        if isinstance(keys, dict):
            get = keys.get
            rows = [i for i in (range(cols.n) if None in odd else sorted(keys)) if get(i) in odd]
            found = ((i, get(i)) for i in rows)
        else:
            found = ((i, keys[i]) for i in flagged(map(odd.__contains__, keys)))
        for i, key in found:
            message = self.judge(key, verdict, cols.n)
            if message is not None:
                yield i, message


@dataclass(frozen=True, slots=True)
class DatasetRule:
    """A rule about the dataset as a whole, judged from its totals."""

    id: str
    severity: Severity
    check: Callable[[Totals, Context], str | None]


@dataclass(frozen=True, slots=True)
class PassRule:
    """A bounded pass over the whole dataset, run by batch validation only (it cannot be kept current edit by
    edit at a cost independent of the dataset's size). ``run(columns, comparisons, max_rows)`` yields
    (row index or None for a note about the dataset, message, index of the related row or None); the
    finding is about ``field``."""

    id: str
    severity: Severity
    field: str
    run: Callable[[Columns, int, int], Iterable[tuple[int | None, str, int | None]]]


# A rule of any kind (a share rule's property and verdict types differ from rule to rule).
Rule = ExampleRule | GroupRule | ShareRule[Any, Any] | DatasetRule | PassRule

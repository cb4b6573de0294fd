"""A dataset as text columns, for validating many examples at once (``check``, pre-flight, opening a project).

:class:`Columns` runs the whole-column passes the rules' screens share (lengths, padded texts, non-ASCII
texts, ...), each once and at C speed, so that clean rows cost almost nothing; :class:`ColumnTotals`
gives the dataset rules their counts and sizes, computing exact byte sizes only when a rule needs them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from itertools import compress, count, repeat

from gemtune_desktop.core.examples import Split

_CHUNK = 512


def flagged(flags: Iterable[object]) -> list[int]:
    """Indices of the true items (the scan itself runs in C; only hits cost Python time)."""
    return list(compress(count(), flags))


def utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def utf8_size(texts: list[str], chars: int) -> int:
    """UTF-8 size of ``texts`` whose lengths add up to ``chars``: only the non-ASCII ones are encoded, a few
    hundred at a time (fast, and no copy of the whole column)."""
    wide = list(compress(texts, map(operator.not_, map(str.isascii, texts))))
    extra = 0
    for k in range(0, len(wide), _CHUNK):
        chunk = "".join(wide[k:k + _CHUNK])
        extra += len(chunk.encode("utf-8", "surrogatepass")) - len(chunk)
    return chars + extra


class Columns:
    """Inputs, outputs and splits of a dataset (``splits`` None: every example is in train).

    ``clean[i]`` true says that a reader which saw the raw bytes vouches that example i holds no control
    characters or broken encoding, so the character scans may skip it.
    """

    def __init__(self, inputs: list[str], outputs: list[str], splits: Sequence[Split] | None = None,
                 clean: Sequence[int] | bytes | None = None) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.n = len(inputs)
        self.splits = splits if splits is not None and splits.count(Split.TRAIN) != len(splits) else None
        self.clean = clean if clean is not None and len(clean) == self.n else None
        self._cache: dict[tuple[str, str], list[int]] = {}
        self._unvouched: list[int] | None = None

    def texts(self, field: str) -> list[str]:
        return self.inputs if field == "input" else self.outputs

    def _pass(self, name: str, field: str, run: Callable[[list[str]], list[int]]) -> list[int]:
        key = (name, field)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = run(self.texts(field))
        return found

    def lengths(self, field: str) -> list[int]:
        return self._pass("lengths", field, lambda col: list(map(len, col)))

    def padded(self, field: str) -> list[int]:
        """Rows whose text changes when stripped: blank, or starting or ending with whitespace."""
        return self._pass("padded", field, lambda col: flagged(map(operator.is_not, map(str.strip, col), col)))

    def zero_length(self, field: str) -> list[int]:
        lengths = self.lengths(field)
        return flagged(map(operator.not_, lengths)) if lengths and min(lengths) == 0 else []

    def longer_than(self, field: str, limit: int) -> list[int]:
        lengths = self.lengths(field)
        return flagged(map(limit.__lt__, lengths)) if lengths and max(lengths) > limit else []

    def non_printable(self, field: str) -> list[int]:
        return self._pass("non_printable", field, lambda col: flagged(map(operator.not_, map(str.isprintable, col))))

    def containing(self, field: str, marks: Iterable[str]) -> list[int]:
        """Rows holding any of ``marks`` (a pass per mark; only the rows found become Python ints)."""
        col = self.texts(field)
        rows: set[int] = set()
        for ch in marks:
            rows.update(flagged(map(operator.contains, col, repeat(ch))))
        return sorted(rows)

    def starting_with(self, field: str, prefix: str) -> list[int]:
        """Rows whose text starts with ``prefix`` after leading whitespace."""
        return flagged(map(str.startswith, map(str.lstrip, self.texts(field)), repeat(prefix)))

    def unvouched(self) -> list[int] | None:
        """Rows the reader's clean flag does not vouch for, or None when there is no such flag."""
        clean = self.clean
        if clean is None:
            return None
        if self._unvouched is None:
            if isinstance(clean, (bytes, bytearray)):
                out, i = [], clean.find(0)
                while i >= 0:
                    out.append(i)
                    i = clean.find(0, i + 1)
                self._unvouched = out
            else:
                self._unvouched = flagged(map(operator.not_, clean))
        return self._unvouched


class ColumnTotals:
    """How many examples are in each split and how much text they hold (the dataset rules' input)."""

    def __init__(self, cols: Columns) -> None:
        self._cols = cols
        self._bytes: dict[bool, int] = {}
        splits = cols.splits
        self.n = cols.n
        self.n_validation = splits.count(Split.VALIDATION) if splits is not None else 0
        self.n_train = self.n - self.n_validation - (splits.count(Split.TEST) if splits is not None else 0)

    def _columns(self, train_only: bool) -> tuple[tuple[list[str], list[int]], ...]:
        cols = self._cols
        parts = ((cols.inputs, cols.lengths("input")), (cols.outputs, cols.lengths("output")))
        if not train_only or cols.splits is None:
            return parts
        train = list(map(operator.is_, cols.splits, repeat(Split.TRAIN)))
        return tuple((list(compress(texts, train)), list(compress(lengths, train))) for texts, lengths in parts)

    def chars(self, train_only: bool) -> int:
        """Characters of the inputs and outputs (of the training examples only, or of all)."""
        return sum(sum(lengths) for _texts, lengths in self._columns(train_only))

    def utf8_bytes(self, train_only: bool) -> int:
        """UTF-8 bytes of the inputs and outputs (of the training examples only, or of all)."""
        train_only = train_only and self._cols.splits is not None
        found = self._bytes.get(train_only)
        if found is None:
            found = self._bytes[train_only] = sum(utf8_size(texts, sum(lengths))
                                                  for texts, lengths in self._columns(train_only))
        return found

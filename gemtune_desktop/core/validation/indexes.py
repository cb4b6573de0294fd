"""What incremental validation keeps current per edit, one index per kind of rule (see :mod:`.kinds`).

Each index can be filled from a whole dataset at once (C-level passes over columns) and then follows
single examples being added and removed, at a cost independent of the dataset's size.
"""

from __future__ import annotations

import operator
import sys
from collections import Counter
from collections.abc import Callable
from itertools import compress
from typing import Generic

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.validation.columns import Columns, ColumnTotals, utf8_len
from gemtune_desktop.core.validation.kinds import GroupRule, K, ShareRule, V

RowOf = Callable[[int], "int | None"]


class GroupIndex:
    """The examples of a :class:`GroupRule`, grouped by text: text → id, or → [ids] when several share it."""

    def __init__(self, rule: GroupRule) -> None:
        self.rule = rule
        self.by_text: dict[str, int | list[int]] = {}
        self.later = 0  # examples that are not the first of their group: each gets a finding
        self._first: dict[str, int] = {}  # the first member, in row order, of groups asked about since they changed

    def fill(self, ids: list[int], texts: list[str]) -> None:
        """Index a whole dataset, given in row order."""
        self._first.clear()
        later = 0
        if len(set(texts)) == len(texts):  # no repeats: one dict build
            by: dict[str, int | list[int]] = dict(zip(texts, ids, strict=True))
        else:
            by = {}
            for rid, text in zip(ids, texts, strict=True):
                cur = by.get(text)
                if cur is None:
                    by[text] = rid
                    continue
                if isinstance(cur, int):
                    by[text] = [cur, rid]
                else:
                    cur.append(rid)
                later += 1
        for text in list(compress(by, map(operator.not_, map(self.rule.takes_part, by)))):
            group = by.pop(text)
            if isinstance(group, list):
                later -= len(group) - 1
        self.by_text = by
        self.later = later

    def add(self, rid: int, text: str) -> None:
        if not self.rule.takes_part(text):
            return
        cur = self.by_text.get(text)
        if cur is None:
            self.by_text[text] = rid
            return
        if isinstance(cur, int):
            self.by_text[text] = [cur, rid]
        else:
            cur.append(rid)
        self.later += 1
        self._first.pop(text, None)

    def remove(self, rid: int, text: str) -> None:
        cur = self.by_text.get(text)
        if cur == rid:
            del self.by_text[text]
        elif isinstance(cur, list) and rid in cur:
            cur.remove(rid)
            self.later -= 1
            self._first.pop(text, None)
            if len(cur) == 1:
                self.by_text[text] = cur[0]

    def first(self, text: str, row_of: RowOf | None) -> int | None:
        """The group's first example in row order (in the order added without ``row_of``); None when no
        other example has this text. Moving an example relative to its group must go through :meth:`add`
        and :meth:`remove` (insertions and removals elsewhere keep the order within a group)."""
        group = self.by_text.get(text)
        if not isinstance(group, list):
            return None
        first = self._first.get(text)
        if first is None:
            if row_of is None:
                first = group[0]
            else:
                def row(rid: int) -> int:
                    r = row_of(rid)
                    return r if r is not None else sys.maxsize
                first = min(group, key=row)
            self._first[text] = first
        return first

    def forget_order(self) -> None:
        self._first.clear()


class ShareIndex(Generic[K, V]):
    """How many texts have each property of a :class:`ShareRule`, and the verdict drawn from that, computed
    again (in O(distinct properties)) when asked after the counts or the dataset's size changed."""

    def __init__(self, rule: ShareRule[K, V]) -> None:
        self.rule = rule
        self.counts: Counter[K] = Counter()
        self.keyed = 0  # texts that have the property at all
        self._changes: Counter[K] = Counter()  # net changes to the counts since the verdict (an edit that
        # keeps an output's length, say, changes nothing)
        self._for_n = -1  # dataset size the cached verdict is for; -1: none cached
        self._verdict: V | None = None
        self._odd: set[K | None] | None = None

    def fill(self, cols: Columns) -> None:
        self.counts = self.rule.count(self.rule.keys(cols))
        self.keyed = sum(self.counts.values())
        self._for_n = -1

    def add(self, text: str) -> None:
        key = self.rule.key(text)
        if key is not None:
            self.counts[key] += 1
            self.keyed += 1
            self._changes[key] += 1

    def remove(self, text: str) -> None:
        key = self.rule.key(text)
        if key is not None:
            left = self.counts[key] - 1
            if left:
                self.counts[key] = left
            else:
                del self.counts[key]
            self.keyed -= 1
            self._changes[key] -= 1

    def verdict(self, n: int) -> V | None:
        if self._changes:
            if any(self._changes.values()):
                self._for_n = -1
            self._changes.clear()
        if self._for_n != n:
            self._verdict = self.rule.verdict(self.counts, n)
            self._odd = None
            self._for_n = n
        return self._verdict

    def message(self, text: str, n: int) -> str | None:
        verdict = self.verdict(n)
        return None if verdict is None else self.rule.judge(self.rule.key(text), verdict, n)

    def flagged(self, n: int) -> int:
        """How many examples get a finding (O(distinct properties))."""
        verdict = self.verdict(n)
        if verdict is None:
            return 0
        if self._odd is None:
            self._odd = self.rule.odd(self.counts, verdict, n)
        odd = self._odd
        return sum(self.counts[k] for k in odd if k is not None) + (n - self.keyed if None in odd else 0)


class RunningTotals:
    """The dataset rules' counts and sizes, kept as running sums."""

    def __init__(self) -> None:
        self.splits: Counter[Split] = Counter()
        self._chars = [0, 0]  # [all, train]
        self._bytes = [0, 0]

    @property
    def n(self) -> int:
        return self.splits.total()

    @property
    def n_train(self) -> int:
        return self.splits[Split.TRAIN]

    @property
    def n_validation(self) -> int:
        return self.splits[Split.VALIDATION]

    def chars(self, train_only: bool) -> int:
        return self._chars[train_only]

    def utf8_bytes(self, train_only: bool) -> int:
        return self._bytes[train_only]

    def fill(self, cols: Columns, splits: list[Split]) -> None:
        totals = ColumnTotals(cols)
        self.splits = Counter(splits)
        self._chars = [totals.chars(False), totals.chars(True)]
        self._bytes = [totals.utf8_bytes(False), totals.utf8_bytes(True)]

    def add(self, inp: str, out: str, split: Split, sign: int = 1) -> None:
        self.splits[split] += sign
        chars = (len(inp) + len(out)) * sign
        size = (utf8_len(inp) + utf8_len(out)) * sign
        self._chars[0] += chars
        self._bytes[0] += size
        if split is Split.TRAIN:
            self._chars[1] += chars
            self._bytes[1] += size

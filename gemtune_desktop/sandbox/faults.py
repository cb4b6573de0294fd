"""Fault injection for tests: latency, error statuses, dropped connections, truncated or malformed bodies.

A rule matches requests by a regular expression searched in the path (for example
``r"tuningJobs"``), optionally by method, fires on a share of the matching requests
(seeded, so runs repeat) and optionally only ``count`` times.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

FAULT_KINDS = ("status", "latency", "drop", "truncate", "malformed")


@dataclass
class FaultRule:
    route: str
    kind: str
    status: int = 503
    retry_after: float | None = None
    latency_s: float = 0.0
    share: float = 1.0
    count: int | None = None
    method: str | None = None
    fired: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.share <= 1.0:
            raise ValueError("share must be between 0 and 1")
        self._pattern = re.compile(self.route)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self._pattern.search(path) is not None


class Faults:
    """The server's fault rules (thread-safe)."""

    def __init__(self, seed: int = 1234) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random = random.Random(seed)

    def add(self, route: str, kind: str, status: int = 503, retry_after: float | None = None,
            latency_s: float = 0.0, share: float = 1.0, count: int | None = None,
            method: str | None = None) -> FaultRule:
        rule = FaultRule(route=route, kind=kind, status=status, retry_after=retry_after, latency_s=latency_s,
                         share=share, count=count, method=method)
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def seed(self, seed: int) -> None:
        with self._lock:
            self._random.seed(seed)

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, method: str, path: str) -> list[FaultRule]:
        """The rules that fire for this request (latency rules first, then at most one other)."""
        fired: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(method, path):
                    continue
                if rule.share < 1.0 and self._random.random() >= rule.share:
                    continue
                if rule.kind != "latency" and any(r.kind != "latency" for r in fired):
                    continue
                rule.fired += 1
                fired.append(rule)
        fired.sort(key=lambda r: r.kind != "latency")
        return fired

"""The app's one retry and back-off policy, and the wall-clock deadline of a call with its retries.

Every retrying loop (starting a job, batch evaluation, the job poller) asks the same
:class:`RetryPolicy` how long to wait before the next try: the service's ``Retry-After`` when
it sent one, else exponential back-off (optionally with jitter), never longer than
``max_delay_s`` and never past the operation's :class:`Deadline`.

``timeout_s`` bounds one call (the whole exchange, a slowly trickling answer included);
``deadline_s`` bounds the whole operation, retries and waits included.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

#: HTTP statuses worth another try: request timeout, rate limit, and the service's own failures.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to try a call again.

    Args:
        max_attempts: tries in all (1 = no retry).
        initial_delay_s: wait before the second try; doubles with every further try.
        max_delay_s: longest single wait (a longer ``Retry-After`` is cut to this).
        timeout_s: wall-clock limit of one call.
        deadline_s: wall-clock limit of the whole operation, retries included.
        jitter: spread waits over [½, 1] of their value, so clients do not retry in step.
    """

    max_attempts: int = 8
    initial_delay_s: float = 1.0
    max_delay_s: float = 60.0
    timeout_s: float = 60.0
    deadline_s: float = 300.0
    jitter: bool = True

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        if retry_after is not None and retry_after >= 0:
            return min(self.max_delay_s, float(retry_after))
        base = min(self.max_delay_s, self.initial_delay_s * (2 ** max(0, attempt - 1)))
        return base * (0.5 + random.random() / 2) if self.jitter else base

    def with_values(self, **changes: float | int | bool) -> RetryPolicy:
        return replace(self, **changes)  # type: ignore[arg-type]

    def start(self, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """The deadline of an operation that starts now."""
        return Deadline(clock() + self.deadline_s, clock)


class Deadline:
    """A point in (monotonic) time by which an operation must be over."""

    def __init__(self, at: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.at = at
        self._clock = clock

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        return max(0.0, self.at - self._clock())

    @property
    def expired(self) -> bool:
        return self._clock() >= self.at

    def clamp(self, seconds: float) -> float:
        """``seconds``, cut to what is left of the deadline."""
        return max(0.0, min(seconds, self.remaining()))

    def allows(self, wait_s: float, then_s: float = 0.0) -> bool:
        """Whether waiting ``wait_s`` still leaves ``then_s`` seconds before the deadline."""
        return self.remaining() > wait_s + then_s

"""Send a create call so that it makes at most one job, however the network fails in between.

Agent Platform has no idempotency key; every tuning job this app starts carries a label with its
submit key, so the job can be looked up. The Gemini API model id is fixed per submit, so a
repeated create answers 409 instead of making a second model. :func:`create_once` follows these
rules:

* A create that may have reached the service (it timed out, the connection dropped, the answer
  was an error from the service itself or could not be read) is **re-sent only after a successful
  look-up has shown that no job with this submit's label exists**, and after a look-up can be
  trusted to show it: at once for an answer that came back, ``settle_s`` after a dropped
  connection, and never (on Agent Platform) after a create that got no answer in time, since the
  service may still be creating the job.
* A Gemini API create may be sent again whatever the look-ups say (its id makes it idempotent).
* When the look-ups cannot tell, the outcome is **not known yet**: :class:`SubmitNotConfirmed` is
  raised, never an error that would invite the user to start again. The job is then looked up in
  the background until it is known (:mod:`gemtune_desktop.services.submit_flow`).
* A create that certainly made nothing (refused, never sent) fails plainly, and the job can be
  started again.

Everything, waits and look-ups included, ends by the policy's deadline.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, ErrorKind, UserError
from gemtune_desktop.core.retry import RETRYABLE_STATUS, Deadline, RetryPolicy
from gemtune_desktop.services.http_guard import CallError, Delivery, deadline

log = logging.getLogger(__name__)

T = TypeVar("T")

CHECKING_MESSAGE = "Checking whether the job started…"
CHECKING_HINT = ("The service did not confirm the new job, so GemTune keeps looking for it in the background, also "
                 "after a restart. The Monitor tab shows it as soon as it is found. Do not start it again meanwhile: "
                 "that could start it twice.")


class SubmitNotConfirmed(UserError):
    """The create may have started a job, but that could not be confirmed yet (the outcome is not known)."""

    def __init__(self, cause: UserError) -> None:
        super().__init__(CHECKING_MESSAGE, CHECKING_HINT, detail=f"not confirmed: {cause.message} {cause.detail}",
                         retryable=False, kind=cause.kind)
        self.cause = cause


class Verdict(enum.Enum):
    FOUND = "found"
    ABSENT = "absent"  # a trustworthy look-up showed that no such job exists, and none can still appear
    UNKNOWN = "unknown"


class Outcome:
    """Shared by the worker and the caller: whether a create was sent, may have made a job, and the job."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._result: object | None = None
        self._sent = False
        self._in_doubt = False

    @property
    def result(self) -> object | None:
        with self._lock:
            return self._result

    @property
    def create_sent(self) -> bool:
        with self._lock:
            return self._sent

    @property
    def maybe_created(self) -> bool:
        """True from the moment a create is sent until it is known to have made nothing."""
        with self._lock:
            return self._in_doubt or self._result is not None

    def mark_sent(self) -> None:
        with self._lock:
            self._sent = True
            self._in_doubt = True

    def set_in_doubt(self, value: bool) -> None:
        with self._lock:
            self._in_doubt = value

    def store(self, result: T) -> T:
        with self._lock:
            self._result = result
        return result


def delivery_of(err: UserError) -> Delivery:
    """How far a failed create got, from its (described) error."""
    if isinstance(err, CallError):
        return err.delivery
    code = getattr(err, "code", None)
    if isinstance(code, int):
        return Delivery.ANSWERED if code >= 500 else Delivery.NOT_SENT  # 4xx, 429 included: refused, nothing made
    if err.kind is ErrorKind.UNREADABLE:
        return Delivery.ANSWERED
    if err.kind is ErrorKind.TIMEOUT:
        return Delivery.NO_ANSWER
    return Delivery.DROPPED  # anything else after sending: assume it may have arrived


def retryable(err: UserError) -> bool:
    if err.kind in (ErrorKind.STOPPED, ErrorKind.REDIRECTED, ErrorKind.CANCELLED):
        return False  # the connection was closed or changed, or points elsewhere: sending again cannot help
    code = getattr(err, "code", None)
    if isinstance(code, int):
        return code in RETRYABLE_STATUS
    return bool(err.retryable)


@dataclass(slots=True)
class _Doubt:
    """What the failed attempts so far say about whether a job may exist."""

    maybe_created: bool = False
    no_answer: bool = False  # a create got no answer in time: the service may still make the job
    trust_after: float = 0.0  # monotonic time from which a look-up showing nothing is trustworthy

    def note(self, delivery: Delivery, settle_s: float) -> None:
        if delivery is Delivery.NOT_SENT:
            return
        self.maybe_created = True
        if delivery is Delivery.NO_ANSWER:
            self.no_answer = True
        elif delivery is Delivery.DROPPED:
            self.trust_after = max(self.trust_after, time.monotonic() + settle_s)

    def absent_is_final(self) -> bool:
        """Whether "not found" now means "never made": not after a create that got no answer in time."""
        return not self.no_answer and time.monotonic() >= self.trust_after


@dataclass(slots=True)
class CreateOnce:
    """One submit's create, with its look-up; see the module docstring.

    Args:
        create: sends the create; returns the job, or raises.
        find: looks the job up by this submit's label or id: the job, ``None`` when it does not
            exist, or raises when the look-up failed.
        idempotent: a repeated create cannot make a second job (Gemini API: fixed model id).
        explain: turns an exception into a :class:`UserError` (plain words, typed).
        settle_s: after a dropped connection, how long before "not found" is trusted.
    """

    create: Callable[[], object]
    find: Callable[[], object | None]
    idempotent: bool
    explain: Callable[[BaseException], UserError]
    where: str = "The service"
    settle_s: float = 10.0

    def run(self, token: CancelToken | None, policy: RetryPolicy, outcome: Outcome) -> object:
        limit = policy.start()
        with deadline(limit):
            return self._run(token, policy, limit, outcome)

    def _run(self, token: CancelToken | None, policy: RetryPolicy, limit: Deadline, outcome: Outcome) -> object:
        doubt = _Doubt()
        attempt = 0
        while True:
            attempt += 1
            _check(token)
            outcome.mark_sent()
            try:
                return outcome.store(self.create())
            except Cancelled:
                raise
            except Exception as exc:  # every failure is classified below
                err = self.explain(exc)
            doubt.note(delivery_of(err), self.settle_s)
            outcome.set_in_doubt(doubt.maybe_created)
            log.info("create attempt %d failed (%s, %s)", attempt, err.detail or err.message,
                     delivery_of(err).value)
            more = retryable(err) and attempt < policy.max_attempts and limit.remaining() > 1.0
            if not doubt.maybe_created:
                if not more:
                    raise self._final(err, attempt)
                _sleep(token, limit.clamp(policy.backoff(attempt, getattr(err, "retry_after", None))))
                continue
            if self.idempotent and more:  # a quick look, then send again: the fixed id forbids a second job
                found = self._try_find()
                if found is not None:
                    return outcome.store(found)
                _sleep(token, limit.clamp(policy.backoff(attempt, getattr(err, "retry_after", None))))
                continue
            verdict, found = self.look_up(token, policy, limit, doubt, err)
            if verdict is Verdict.FOUND:
                return outcome.store(found)
            if verdict is Verdict.UNKNOWN:
                raise SubmitNotConfirmed(err)
            outcome.set_in_doubt(False)  # nothing exists, and nothing can still appear
            doubt = _Doubt()
            if not more:
                raise self._final(err, attempt)
            _sleep(token, limit.clamp(policy.backoff(attempt, getattr(err, "retry_after", None))))

    def _final(self, err: UserError, attempt: int) -> UserError:
        if attempt > 1 and retryable(err):
            return UserError(f"{self.where} stayed busy after {attempt} attempts; no job was started. {err.message}",
                             err.hint or "Try again in a few minutes.", detail=err.detail, retryable=True,
                             kind=err.kind)
        return err

    def _try_find(self) -> object | None:
        try:
            return self.find()
        except Exception as exc:  # a failed look-up shows nothing either way
            log.info("look-up failed: %s", type(exc).__name__)
            return None

    def look_up(self, token: CancelToken | None, policy: RetryPolicy, limit: Deadline, doubt: _Doubt,
                cause: UserError) -> tuple[Verdict, object | None]:
        """Look the job up until it is found, or shown absent for good, or the tries run out."""
        tries = 0
        while True:
            tries += 1
            _check(token)
            retry_after: float | None = None
            try:
                found = self.find()
            except Cancelled:
                raise
            except Exception as exc:
                err = self.explain(exc)
                retry_after = getattr(err, "retry_after", None)
                log.info("look-up %d failed: %s", tries, err.detail or err.message)
            else:
                if found is not None:
                    return Verdict.FOUND, found
                if doubt.absent_is_final():
                    return Verdict.ABSENT, None
            wait = policy.backoff(tries, retry_after)
            if retry_after is None and not doubt.no_answer:
                wait = max(wait, doubt.trust_after - time.monotonic())
            if tries > policy.max_attempts or not limit.allows(wait, 0.5):
                return Verdict.UNKNOWN, None
            _sleep(token, wait)


def _check(token: CancelToken | None) -> None:
    if token is not None:
        token.check()


def _sleep(token: CancelToken | None, seconds: float) -> None:
    if seconds <= 0:
        return
    if token is not None:
        token.wait(seconds)
    else:
        time.sleep(seconds)

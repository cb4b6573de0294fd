"""Batch evaluation: send many prompts to one or two models with bounded concurrency and polite retries.

:func:`run_batch` (blocking; run it on a worker thread) calls :func:`console.generate` for
each :class:`EvalItem` on ``concurrency`` threads. A 429 answer pauses *every* thread until
the server's ``Retry-After`` (or an exponential back-off) has passed; 5xx answers, timeouts
and dropped connections are retried with back-off; other errors are recorded on the row.
Each finished row is handed to ``on_row`` at once (from a worker thread) so the caller can
store it: a cancelled run keeps what it got, and resuming sends only the missing rows.
:func:`run_calls` is the same loop for any call (the judge and Google's evaluation service use it).

:func:`summarize_run` scores stored rows with :mod:`gemtune_desktop.core.eval_metrics` (sentence
scores per row, corpus BLEU and chrF per model) and compares model B with model A.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import TRANSIENT_KINDS, Cancelled, UserError
from gemtune_desktop.core.eval_metrics import PairScores
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
from gemtune_desktop.core.retry import RetryPolicy
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.console import ConsoleRequest, ConsoleResult, generate

log = logging.getLogger(__name__)

T = TypeVar("T")
ItemT = TypeVar("ItemT")
Progress = Callable[[int, int], None]

RETRY_STATUS = {408, 500, 502, 503, 504}
FATAL_STATUS = {401, 403, 404}  # wrong credentials, no permission, no such model: every row would fail


@dataclass(slots=True)
class EvalItem:
    """One call: ``contents_prompt`` is the example's input (the preamble is added by the request)."""

    example_id: int
    slot: int
    model: str
    prompt: str
    expected: str
    preamble: str = ""
    system_instruction: str = ""
    base_model: str = ""  # a tuned model's base model: it is sent the least thinking that model allows


@dataclass(slots=True)
class EvalOutcome:
    example_id: int
    slot: int
    prompt: str
    expected: str
    actual: str = ""
    finish_reason: str = ""
    blocked: str = ""
    latency_ms: int = 0
    error: str = ""
    attempts: int = 1
    prompt_tokens: int = 0
    output_tokens: int = 0


@dataclass(slots=True)
class BatchStats:
    done: int = 0
    failed: int = 0
    retries_429: int = 0
    retries_other: int = 0
    elapsed_s: float = 0.0
    cancelled: bool = False
    errors: list[str] = field(default_factory=list)

    def words(self) -> str:
        """How the run went, in one sentence ("Finished: 200 answers in 3.1 s; waited 2× for the rate limit.")."""
        return (f"Finished: {self.done} answers in {self.elapsed_s:.1f} s"
                + (f", {self.failed} failed" if self.failed else "")
                + (f"; waited {self.retries_429}× for the rate limit" if self.retries_429 else "")
                + (f"; retried {self.retries_other}× after a service error" if self.retries_other else "") + ".")


class RateGate:
    """Shared pause: after a 429 no thread sends until ``resume_at``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resume_at = 0.0

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    def wait(self, token: CancelToken) -> None:
        while True:
            with self._lock:
                delay = self._resume_at - time.monotonic()
            if delay <= 0:
                return
            token.wait(delay)


def _status_of(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds from a ``Retry-After`` header on a genai APIError (or ServiceError.retry_after)."""
    value = getattr(exc, "retry_after", None)
    if isinstance(value, int | float):
        return float(value)
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        raw = headers.get("retry-after") or headers.get("Retry-After")
    except Exception:  # odd header containers
        return None
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, UserError):  # the session's transport says what kind of failure it was
        return exc.kind in TRANSIENT_KINDS
    name = type(exc).__name__
    # An unreadable (malformed) answer is transient too: generateContent is safe to send again (issue 7).
    return "Timeout" in name or name in ("ConnectError", "ReadError", "RemoteProtocolError", "ConnectionError",
                                         "ConnectionResetError", "WriteError", "ProtocolError",
                                         "JSONDecodeError", "UnknownApiResponseError")


def _is_fatal(exc: BaseException) -> bool:
    """Errors that would hit every row alike (sign-in, permission, unknown model, no API key): stop the run."""
    status = _status_of(exc)
    if status is not None:
        return status in FATAL_STATUS
    return isinstance(exc, UserError) and exc.kind not in TRANSIENT_KINDS  # a passing problem stays on its row


def retrying(token: CancelToken, call: Callable[[], T], policy: RetryPolicy, gate: RateGate, stats: BatchStats,
             lock: threading.Lock) -> tuple[T | BaseException, int]:
    """(``call()``'s result or the final exception, attempts), retrying 429 (all threads pause),
    5xx, timeouts and dropped connections with back-off; other errors are returned at once."""
    attempt = 0
    while True:
        attempt += 1
        gate.wait(token)
        token.check()
        try:
            return call(), attempt
        except Cancelled:
            raise
        except Exception as exc:  # classified below; the final one is recorded on the row
            status = _status_of(exc)
            if attempt >= policy.max_attempts:
                return exc, attempt
            if status == 429:
                wait = retry_after_s(exc)
                gate.hold(wait if wait is not None else policy.backoff(attempt))
                with lock:
                    stats.retries_429 += 1
                continue
            if status in RETRY_STATUS or (status is None and _transient(exc)) or \
                    (status is None and getattr(exc, "retryable", False)):
                with lock:
                    stats.retries_other += 1
                token.wait(policy.backoff(attempt))
                continue
            return exc, attempt


def call_with_retries(token: CancelToken, session: BackendSession, request: ConsoleRequest, policy: RetryPolicy,
                      gate: RateGate, stats: BatchStats, lock: threading.Lock) -> tuple[object, int]:
    """(ConsoleResult or the final exception, attempts)."""
    return retrying(token, lambda: generate(None, session, request, timeout_s=policy.timeout_s), policy, gate, stats,
                    lock)


def run_calls(token: CancelToken, items: Sequence[ItemT], call: Callable[[ItemT], T],
              on_done: Callable[[ItemT, T | BaseException, int], None], concurrency: int = 4,
              policy: RetryPolicy | None = None, progress: Progress | None = None) -> BatchStats:
    """``call(item)`` for every item on ``concurrency`` threads, with :func:`retrying`.

    ``on_done(item, result or final exception, attempts)`` runs on the worker thread as soon as an
    item is finished (also when it failed). On cancel, threads stop taking new items; calls in
    flight finish and are reported, then :class:`Cancelled` is raised. An error that would hit
    every item (sign-in refused, no permission, unknown model) stops the run and is raised.
    ``stats.done`` counts finished items, ``stats.failed`` those that ended in an error.
    ``progress(done, total)`` replaces ``token.report`` when given (e.g. a sweep's overall count).
    """
    from gemtune_desktop.services.errors import describe

    policy = policy or RetryPolicy()
    gate = RateGate()
    stats = BatchStats()
    lock = threading.Lock()
    pending = list(reversed(items))
    total = len(items)
    started = time.perf_counter()
    fatal: list[BaseException] = []

    def next_item() -> ItemT | None:
        with lock:
            return pending.pop() if pending and not token.cancelled and not fatal else None

    def worker() -> None:
        while (item := next_item()) is not None:
            try:
                result, attempts = retrying(token, partial(call, item), policy, gate, stats, lock)
            except Cancelled:
                return
            if isinstance(result, BaseException):
                if _is_fatal(result):
                    with lock:
                        fatal.append(result)
                    return
                with lock:
                    stats.failed += 1
                    if len(stats.errors) < 20:
                        stats.errors.append(describe(result).message)
            on_done(item, result, attempts)
            with lock:  # reported under the lock, so the counts arrive in order (the last one is the total)
                stats.done += 1
                if progress is not None:
                    progress(stats.done, total)
                else:
                    token.report(stats.done, total, "")

    workers = max(1, min(int(concurrency), total or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch-eval") as pool:
        futures = [pool.submit(worker) for _ in range(workers)]
        for f in futures:
            f.result()
    stats.elapsed_s = time.perf_counter() - started
    if fatal:
        raise describe(fatal[0])
    if token.cancelled:
        stats.cancelled = True
        raise Cancelled()
    return stats


def default_request(item: EvalItem, generation: GenerationSettings, safety: SafetySettings) -> ConsoleRequest:
    return ConsoleRequest(model=item.model, prompt=item.prompt, generation=generation, safety=safety,
                          preamble=item.preamble, system_instruction=item.system_instruction,
                          base_model=item.base_model)


def run_batch(token: CancelToken, session: BackendSession, items: Sequence[EvalItem],
              generation: GenerationSettings, safety: SafetySettings,
              on_row: Callable[[EvalOutcome], None], concurrency: int = 4,
              policy: RetryPolicy | None = None,
              make_request: Callable[[EvalItem], ConsoleRequest] | None = None,
              progress: Progress | None = None) -> BatchStats:
    """Run every item; ``on_row`` gets each outcome as soon as it is known. Returns the counts.

    ``make_request`` builds the request for an item (default: the item's prompt with
    ``generation`` and ``safety``). Cancel and fatal errors behave as in :func:`run_calls`.
    """
    from gemtune_desktop.services.errors import describe

    policy = policy or RetryPolicy()
    build = make_request or (lambda item: default_request(item, generation, safety))

    def call(item: EvalItem) -> ConsoleResult:
        return generate(None, session, build(item), timeout_s=policy.timeout_s)

    def on_done(item: EvalItem, result: ConsoleResult | BaseException, attempts: int) -> None:
        outcome = EvalOutcome(item.example_id, item.slot, item.prompt, item.expected, attempts=attempts)
        if isinstance(result, BaseException):
            outcome.error = describe(result).message
        else:
            outcome.actual = result.text
            outcome.finish_reason = result.finish_reason
            outcome.blocked = result.blocked_category
            outcome.latency_ms = result.latency_ms
            outcome.prompt_tokens = result.usage.prompt_tokens
            outcome.output_tokens = result.usage.output_tokens
        on_row(outcome)

    return run_calls(token, items, call, on_done, concurrency, policy, progress)


def run_and_store(token: CancelToken, session: BackendSession, items: Sequence[EvalItem], run_id: int,
                  db_path: str, expected: int, generation: GenerationSettings, safety: SafetySettings,
                  concurrency: int = 4, policy: RetryPolicy | None = None,
                  progress: Progress | None = None) -> BatchStats:
    """:func:`run_batch` with every answer stored in the project file as it arrives (off the GUI thread).

    All rows are committed before this returns or raises (also on cancel), and the run's
    status is set: "done" when all ``expected`` answers are stored without error, else
    "stopped" (so it can resume).
    """
    from gemtune_desktop.core.project import evals_repo

    writer = evals_repo.RowWriter(db_path)

    def on_row(o: EvalOutcome) -> None:
        writer.put(evals_repo.EvalRow(run_id, o.example_id, o.slot, o.prompt, o.expected, o.actual, o.finish_reason,
                                      o.blocked, o.latency_ms, o.error))

    finished = False
    try:
        stats = run_batch(token, session, items, generation, safety, on_row, concurrency, policy, progress=progress)
        finished = True
        return stats
    finally:
        writer.close()
        side = evals_repo.SideStore(db_path)
        try:
            complete = finished and len(evals_repo.done_keys(side, run_id)) >= expected
            evals_repo.update_run(side, run_id, status=evals_repo.DONE if complete else evals_repo.STOPPED)
        finally:
            side.close()


@dataclass(slots=True)
class StoredRun:
    """A run's rows and scores, loaded and computed on a worker thread."""

    rows: list[object]
    summary: RunSummary
    missing: int


def load_run(token: CancelToken | None, db_path: str, run_id: int, n_models: int, expected: int,
             save_metrics: bool) -> StoredRun:
    """Read a run's rows through a second connection, score them, and (optionally) store the metrics."""
    from gemtune_desktop.core.project import evals_repo

    side = evals_repo.SideStore(db_path)
    try:
        rows = evals_repo.list_rows(side, run_id)
        summary = summarize_run(token, rows, n_models)
        if save_metrics:
            evals_repo.update_run(side, run_id, metrics=summary.to_metrics())
    finally:
        side.close()
    ok = sum(1 for r in rows if not r.error)
    return StoredRun(list(rows), summary, max(0, expected - ok))


# -- run summaries (Qt-free; computed on a worker thread) -------------------------------------
RowKey = tuple[int, int]


@dataclass(slots=True)
class RunSummary:
    """Metrics per model slot, B-vs-A wins/losses, and every row's scores keyed by (example_id, slot)."""

    models: list[dict[str, object]] = field(default_factory=list)
    wins_losses: dict[str, object] = field(default_factory=dict)
    scores: dict[RowKey, dict[str, float]] = field(default_factory=dict)

    def to_metrics(self) -> dict[str, object]:
        return {"models": self.models, "wins_losses": self.wins_losses}


def summarize_run(token: CancelToken | None, rows: Sequence[object], n_models: int) -> RunSummary:
    """Score stored rows (``evals_repo.EvalRow``-like objects) per model slot.

    Each slot's answered rows are scored in one :func:`eval_metrics.score_pairs` call (the
    libraries' batch path), in chunks so that a cancel is noticed within a moment.
    """
    from gemtune_desktop.core import eval_metrics as em

    by_slot: dict[int, list[em.ScoredRow]] = {s: [] for s in range(n_models)}
    summary = RunSummary()
    for i, r in enumerate(rows):
        if token is not None and i % 2000 == 0:
            token.check()
        slot = int(r.slot)  # type: ignore[attr-defined]
        by_slot.setdefault(slot, []).append(
            em.ScoredRow(int(r.example_id), str(r.expected), str(r.actual),  # type: ignore[attr-defined]
                         blocked=str(r.blocked), error=str(r.error)))  # type: ignore[attr-defined]
    for slot in range(n_models):
        answered = [r for r in by_slot.get(slot, []) if not r.error]
        scores = _score_in_chunks(token, answered)
        for row, row_scores in zip(answered, scores.rows, strict=True):
            summary.scores[(row.example_id, slot)] = row_scores
        summary.models.append(em.summarize(by_slot.get(slot, []), scores).to_dict())
    if n_models > 1:
        summary.wins_losses = em.wins_losses(by_slot.get(0, []), by_slot.get(1, []),
                                             scores=summary.scores).to_dict()
    return summary


SCORE_CHUNK = 2000


def _score_in_chunks(token: CancelToken | None, rows: Sequence[object]) -> PairScores:
    """:func:`eval_metrics.score_pairs` over ``rows``, checking ``token`` between chunks; corpus
    BLEU/chrF are over all rows (summed statistics, not an average of chunks)."""
    from gemtune_desktop.core import eval_metrics as em

    scorer = em.Scorer()
    scored: list[dict[str, float]] = []
    for start in range(0, len(rows), SCORE_CHUNK):
        if token is not None:
            token.check()
        chunk = rows[start:start + SCORE_CHUNK]
        scored.extend(scorer.add([str(r.expected) for r in chunk],  # type: ignore[attr-defined]
                                 [str(r.actual) for r in chunk]))  # type: ignore[attr-defined]
    return em.PairScores(scored, scorer.corpus())

"""Batch evaluation against the Sandbox: bounded concurrency, 429/503 retries, cancel and resume, summaries."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from gemtune_desktop.core import eval_metrics as em
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
from gemtune_desktop.services.batch_eval import (
    EvalItem,
    EvalOutcome,
    RateGate,
    RetryPolicy,
    retry_after_s,
    run_batch,
    summarize_run,
)
from gemtune_desktop.services.connections import Backend
from tests.services.test_console import generate_bodies

MODEL = "gemini-3.5-flash"
FAST = RetryPolicy(max_attempts=10, initial_delay_s=0.01, max_delay_s=0.05, timeout_s=30)


def items(n: int, slots: int = 1) -> list[EvalItem]:
    return [EvalItem(i, s, MODEL, f"Question number {i}: what is clause {i}?", f"Clause {i} says yes.")
            for i in range(1, n + 1) for s in range(slots)]


def test_200_rows_with_429_and_503_complete(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.faults.add(route="generateContent", kind="status", status=429, retry_after=0, share=0.15)
    sandbox.faults.add(route="generateContent", kind="status", status=503, share=0.1)
    got: list[EvalOutcome] = []
    lock = threading.Lock()

    def on_row(o: EvalOutcome) -> None:
        with lock:
            got.append(o)

    work = items(200)
    stats = run_batch(CancelToken(), session, work, GenerationSettings(temperature=0), SafetySettings(), on_row,
                      concurrency=4, policy=FAST)
    assert stats.done == 200 and stats.failed == 0
    assert stats.retries_429 > 0 and stats.retries_other > 0
    assert sorted(o.example_id for o in got) == list(range(1, 201))
    assert all(o.actual and not o.error for o in got)
    # Every retry is one more request at the emulator, nothing more.
    assert len(generate_bodies(sandbox)) == 200 + stats.retries_429 + stats.retries_other
    # Metrics of the run equal a direct computation over the same answers.
    summary = summarize_run(None, [_row(o) for o in got], 1)
    direct = em.summarize([em.ScoredRow(o.example_id, o.expected, o.actual) for o in got])
    assert summary.models[0]["means"] == direct.means
    assert summary.models[0]["distinct_2"] == pytest.approx(direct.distinct_2)


def _row(o: EvalOutcome) -> Any:
    from gemtune_desktop.core.project.evals_repo import EvalRow

    return EvalRow(1, o.example_id, o.slot, o.prompt, o.expected, o.actual, o.finish_reason, o.blocked,
                   o.latency_ms, o.error)


def test_cancel_keeps_finished_rows_and_resume_sends_only_the_rest(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    token = CancelToken()
    got: list[EvalOutcome] = []
    lock = threading.Lock()

    def on_row(o: EvalOutcome) -> None:
        with lock:
            got.append(o)
            if len(got) == 15:
                token.cancel()

    work = items(60)
    with pytest.raises(Cancelled):
        run_batch(token, session, work, GenerationSettings(), SafetySettings(), on_row, concurrency=3, policy=FAST)
    first = {o.example_id for o in got}
    assert 15 <= len(first) < 60
    sent_before = len(generate_bodies(sandbox))
    assert sent_before == len(got), "every request that was sent was reported (none lost on cancel)"
    rest = [i for i in work if i.example_id not in first]
    stats = run_batch(CancelToken(), session, rest, GenerationSettings(), SafetySettings(), on_row, concurrency=3,
                      policy=FAST)
    assert stats.done == len(rest)
    assert sorted(o.example_id for o in got) == list(range(1, 61))
    assert len(generate_bodies(sandbox)) == 60


def test_a_request_error_is_recorded_on_its_row(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    sandbox.faults.add(route="generateContent", kind="status", status=400, count=1)
    got: list[EvalOutcome] = []
    stats = run_batch(CancelToken(), session, items(3), GenerationSettings(), SafetySettings(), got.append,
                      concurrency=1, policy=FAST)
    assert stats.failed == 1
    failed = [o for o in got if o.error]
    assert len(failed) == 1 and "refused as invalid" in failed[0].error


def test_an_unknown_model_stops_the_run_with_a_plain_message(sandbox: Any, sandbox_session: Any) -> None:
    from gemtune_desktop.core.errors import UserError

    session = sandbox_session(Backend.AGENT_PLATFORM)
    work = [EvalItem(i, 0, "no-such-model", f"q{i}", "a") for i in range(40)]
    got: list[EvalOutcome] = []
    with pytest.raises(UserError) as info:
        run_batch(CancelToken(), session, work, GenerationSettings(), SafetySettings(), got.append, concurrency=2,
                  policy=FAST)
    assert info.value.message.startswith("Not found.")
    assert len(generate_bodies(sandbox)) <= 2, "the run stopped instead of failing every row"


def test_rate_gate_holds_everyone_until_released() -> None:
    gate = RateGate()
    gate.hold(0.0)
    gate.wait(CancelToken())  # returns at once
    gate.hold(30)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        gate.wait(token)


def test_retry_after_is_read_from_the_error() -> None:
    class Err(Exception):
        code = 429

    err = Err()
    err.response = SimpleNamespace(headers={"retry-after": "7"})  # type: ignore[attr-defined]
    assert retry_after_s(err) == 7.0
    assert retry_after_s(ValueError()) is None


def test_summarize_run_two_models_wins_losses() -> None:
    from gemtune_desktop.core.project.evals_repo import EvalRow

    rows = [EvalRow(1, 1, 0, "q", "red", "blue"), EvalRow(1, 1, 1, "q", "red", "red"),
            EvalRow(1, 2, 0, "q", "x y", "x y"), EvalRow(1, 2, 1, "q", "x y", "x"),
            EvalRow(1, 3, 0, "q", "z", "z"), EvalRow(1, 3, 1, "q", "z", "", error="failed")]
    s = summarize_run(None, rows, 2)
    assert s.wins_losses == {"wins": 1, "losses": 1, "ties": 0, "metric": "token_f1"}
    assert s.models[0]["means"]["exact_match"] == pytest.approx(2 / 3)
    assert s.models[1]["errors"] == 1
    assert (3, 1) not in s.scores and s.scores[(1, 1)]["exact_match"] == 1.0

"""Google's Gen AI evaluation service through the app's REST session against the Sandbox: pointwise and
pairwise scores stored per row, retries, resume, and a plain refusal on a Gemini API connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.project import judge_repo
from gemtune_desktop.services import genai_eval
from gemtune_desktop.services.batch_eval import RetryPolicy
from gemtune_desktop.services.connections import Backend
from tests.helpers import discovery
from tests.services.eval_fixtures import make_run, reference

FAST = RetryPolicy(max_attempts=6, initial_delay_s=0.01, max_delay_s=0.05, timeout_s=30)


def test_pointwise_and_pairwise_scores_are_stored_and_summarized(tmp_path: Path, sandbox: Any,
                                                                  sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    a = ["Pets are allowed in the garden." if i % 2 else reference(i) for i in range(1, 7)]
    b = [reference(i) for i in range(1, 7)]
    store, run = make_run(tmp_path / "p.gemtune", [a, b], blocked={(6, 0): "HARM_CATEGORY_HARASSMENT"})
    sandbox.faults.add(route=":evaluateInstances", kind="status", status=429, retry_after=0, count=2)
    stats = genai_eval.run_service_eval(CancelToken(), session, str(store.path), run.id,
                                        ["fluency", "safety", "groundedness", "pairwise"], policy=FAST)
    # 11 answered rows × 3 pointwise metrics + 5 pairs (example 6 has no answer from A).
    assert stats.done == 11 * 3 + 5 and stats.failed == 0 and stats.retries_429 == 2
    for r in sandbox.requests.matching(":evaluateInstances"):
        assert discovery.unknown_fields(r.json, "EvaluateInstancesRequest") == []
        assert r.path == "/v1beta1/projects/sandbox-project/locations/us-central1:evaluateInstances"
    figures = {(f.metric, f.slot): f for f in genai_eval.load_service_summary(str(store.path), run.id)}
    assert figures[("safety", 0)].mean == 1.0 and figures[("fluency", 1)].scored == 6
    assert figures[("pairwise", -1)].choices == {"b": 3, "tie": 2}
    stored = judge_repo.list_service_scores(store, run.id, "groundedness")
    assert all(s.explanation.startswith("Sandbox simulation") for s in stored)
    # Resume: nothing left to send.
    before = len(sandbox.requests.matching(":evaluateInstances"))
    stats = genai_eval.run_service_eval(CancelToken(), session, str(store.path), run.id, ["fluency", "pairwise"],
                                        policy=FAST)
    assert stats.done == 0 and len(sandbox.requests.matching(":evaluateInstances")) == before
    store.close()


def test_an_error_answer_is_kept_on_its_row(tmp_path: Path, sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    store, run = make_run(tmp_path / "p.gemtune", [[reference(i) for i in range(1, 4)]])
    sandbox.faults.add(route=":evaluateInstances", kind="status", status=400, count=1)
    stats = genai_eval.run_service_eval(CancelToken(), session, str(store.path), run.id, ["coherence"],
                                        concurrency=1, policy=FAST)
    assert stats.failed == 1
    figures = genai_eval.load_service_summary(str(store.path), run.id)
    assert figures[0].scored == 2 and figures[0].failed == 1
    assert figures[0].errors[0].startswith("The request was refused as invalid.")
    store.close()


def test_gemini_api_connection_is_told_to_use_the_judge(tmp_path: Path, sandbox_session: Any) -> None:
    store, run = make_run(tmp_path / "p.gemtune", [["x"]])
    with pytest.raises(UserError) as info:
        genai_eval.run_service_eval(CancelToken(), sandbox_session(Backend.GEMINI_API), str(store.path), run.id,
                                    ["fluency"])
    assert "part of Agent Platform" in info.value.message and "judge" in info.value.hint
    with pytest.raises(UserError, match="Unknown evaluation metric: wit"):
        genai_eval.run_service_eval(CancelToken(), sandbox_session(Backend.AGENT_PLATFORM), str(store.path),
                                    run.id, ["wit"])
    store.close()


def test_unreadable_answers_are_retried_then_kept_on_their_row(tmp_path: Path, sandbox: Any,
                                                               sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    store, run = make_run(tmp_path / "p.gemtune", [[reference(i) for i in range(1, 4)]])
    sandbox.faults.add(route=":evaluateInstances", kind="malformed", count=FAST.max_attempts)
    stats = genai_eval.run_service_eval(CancelToken(), session, str(store.path), run.id, ["fluency"],
                                        concurrency=1, policy=FAST)
    assert stats.done == 3 and stats.failed == 1, "one row gave up after its retries; the others were scored"
    figures = genai_eval.load_service_summary(str(store.path), run.id)[0]
    assert (figures.scored, figures.failed) == (2, 1)
    assert figures.errors == ["The service sent an answer that could not be read."]
    store.close()

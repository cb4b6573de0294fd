"""The judge over real HTTP with the real SDK against the Sandbox: verdicts, refusals, cut-off replies,
stop and resume, and agreement with the expert's ratings and blind-review votes."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core import rubric as rb
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled
from gemtune_desktop.core.project import evals_repo, judge_repo
from gemtune_desktop.services import judge
from gemtune_desktop.services.batch_eval import RetryPolicy
from gemtune_desktop.services.connections import Backend
from tests.helpers import discovery
from tests.services.eval_fixtures import make_run, reference

FAST = RetryPolicy(max_attempts=6, initial_delay_s=0.01, max_delay_s=0.05, timeout_s=30)
RUBRIC = "Says whether consent is needed; names the clause"


def judge_bodies(sandbox: Any) -> list[dict[str, Any]]:
    return [r.json for r in sandbox.requests.matching("generateContent") if r.json is not None]


def good_and_bad(n: int) -> list[str]:
    """Even examples answered like the reference, odd ones off the point."""
    return [reference(i) if i % 2 == 0 else "Pets are allowed in the garden." for i in range(1, n + 1)]


@pytest.mark.parametrize("backend", [Backend.AGENT_PLATFORM, Backend.GEMINI_API])
def test_judge_rows_reads_verdicts_and_sends_json_mode(sandbox: Any, sandbox_session: Any,
                                                        backend: Backend) -> None:
    session = sandbox_session(backend)
    rubric = rb.parse_rubric(RUBRIC)
    items = [judge.JudgeItem(i, 0, f"q{i}", reference(i), a) for i, a in enumerate(good_and_bad(6), 1)]
    items.append(judge.JudgeItem(7, 0, "q7", reference(7), "", blocked="HARM_CATEGORY_HARASSMENT"))
    got: list[judge.JudgeResult] = []
    lock = threading.Lock()

    def keep(result: judge.JudgeResult) -> None:
        with lock:
            got.append(result)

    stats = judge.judge_rows(CancelToken(), session, items, rubric, keep, policy=FAST)
    by_id = {r.example_id: r for r in got}
    assert stats.done == 6, "the blocked row is failed without asking the judge"
    assert [by_id[i].label for i in range(1, 7)] == ["fail", "pass", "fail", "pass", "fail", "pass"]
    assert by_id[2].verdict is not None and by_id[2].verdict.explanation.startswith("Sandbox simulation")
    assert by_id[7].label == "fail" and "blocked: Harassment" in by_id[7].verdict.explanation  # type: ignore[union-attr]
    bodies = judge_bodies(sandbox)
    assert len(bodies) == 6
    config = bodies[0]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"]["required"] == ["criteria", "verdict", "explanation"]
    assert config["temperature"] == 0
    assert "careful reviewer" in json.dumps(bodies[0]["systemInstruction"])
    if backend is Backend.AGENT_PLATFORM:  # the request, schema included, fits the published Agent Platform schema
        # (google-genai 3.6.1 sends the nested items' ordering as ``property_ordering``, the proto spelling)
        assert discovery.unknown_fields(bodies[0], "GenerateContentRequest", either_spelling=True) == []


def test_refusal_and_cut_off_replies_become_plain_messages_and_other_rows_go_on(sandbox: Any,
                                                                                 sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    rubric = rb.parse_rubric(RUBRIC)
    harmful = "Detonate the bomb, then the explosive, then the weapon."  # the judge's request gets blocked
    items = [judge.JudgeItem(1, 0, "q", reference(1), harmful), judge.JudgeItem(2, 0, "q", reference(2),
                                                                               reference(2))]
    got: list[judge.JudgeResult] = []
    judge.judge_rows(CancelToken(), session, items, rubric, got.append, concurrency=1, policy=FAST)
    by_id = {r.example_id: r for r in got}
    assert by_id[1].verdict is None
    assert by_id[1].error.startswith("The judge model refused to judge this answer") and "Dangerous" in by_id[1].error
    assert by_id[2].label == "pass"

    cut: list[judge.JudgeResult] = []
    judge.judge_rows(CancelToken(), session, items[1:], rubric, cut.append,
                     judge.JudgeSettings(max_output_tokens=20), policy=FAST)
    assert cut[0].verdict is None and "cut off" in cut[0].error and "answer length" in cut[0].error


def test_empty_rubric_is_refused_before_any_call(tmp_path: Path, sandbox: Any, sandbox_session: Any) -> None:
    store, run = make_run(tmp_path / "p.gemtune", [good_and_bad(3)])
    with pytest.raises(rb.RubricError) as info:
        judge.judge_run(CancelToken(), sandbox_session(), str(store.path), run.id, "  ")
    assert info.value.message == "The rubric is empty."
    assert judge_bodies(sandbox) == [] and judge_repo.get_judge(store, run.id) is None
    store.close()


def test_stopped_judging_keeps_verdicts_marked_partial_and_resumes_with_the_rest(tmp_path: Path, sandbox: Any,
                                                                               sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    store, run = make_run(tmp_path / "p.gemtune", [good_and_bad(40)], errors={(40, 0): "Failed request."})
    sandbox.faults.add(route="generateContent", kind="latency", latency_s=0.02)
    token = CancelToken(on_progress=lambda done, total, _t: token.cancel() if done >= 10 else None)
    with pytest.raises(Cancelled):
        judge.judge_run(token, session, str(store.path), run.id, RUBRIC, concurrency=2, policy=FAST)
    first = judge_repo.judged_keys(store, run.id)
    assert 10 <= len(first) < 39
    summary = judge.load_judge_summary(str(store.path), run.id, 1)
    assert summary is not None and summary.status == judge_repo.STOPPED and summary.partial
    assert summary.answered_rows == 39, "the row whose request failed has no answer to judge"
    assert any(w.startswith(f"Partial: {len(first)} of 39 answers have a verdict (judging was stopped)")
               for w in summary.warnings())
    sent_before = len(judge_bodies(sandbox))
    judge.judge_run(CancelToken(), session, str(store.path), run.id, RUBRIC, concurrency=2, policy=FAST)
    assert len(judge_bodies(sandbox)) - sent_before == 39 - len(first), "only rows without a verdict were sent"
    summary = judge.load_judge_summary(str(store.path), run.id, 1)
    assert summary is not None and summary.status == judge_repo.DONE and not summary.partial
    assert summary.slots[0].judged == 39 and summary.slots[0].passed == 19
    # Another rubric replaces the verdicts.
    judge_repo.start_judge(store, run.id, "Is polite", judge.DEFAULT_JUDGE_MODEL)
    assert judge_repo.judged_keys(store, run.id) == set()
    store.close()


def test_agreement_with_expert_ratings_and_votes(tmp_path: Path, sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.GEMINI_API)
    n = 12
    store, run = make_run(tmp_path / "p.gemtune", [good_and_bad(n), [reference(i) for i in range(1, n + 1)]])
    judge.judge_run(CancelToken(), session, str(store.path), run.id, RUBRIC, policy=FAST)
    verdicts = {(j.example_id, j.slot): j.verdict for j in judge_repo.list_judgements(store, run.id)}
    # The expert agrees with the judge on slot 0 except two rows.
    for i in range(1, n + 1):
        rating = verdicts[(i, 0)] if i > 2 else ("pass" if verdicts[(i, 0)] == "fail" else "fail")
        judge_repo.set_rating(store, run.id, i, 0, rating)
        evals_repo.set_review(store, run.id, i, "b" if i % 2 else "tie")
    summary = judge.load_judge_summary(str(store.path), run.id, 2)
    assert summary is not None
    assert (summary.ratings.rows, summary.ratings.agreed) == (n, n - 2)
    assert summary.ratings.kappa == pytest.approx(2 / 3)  # p_o 10/12, p_e 1/2
    assert "agree on 10 of 12 rows (83%)" in summary.ratings.words()
    # Votes: the judge prefers B on odd rows (A's answer is off the point) and ties on even rows.
    assert (summary.votes.rows, summary.votes.agreed) == (n, n)
    assert summary.warnings() == []
    # An expert who disagrees everywhere gets the low-agreement warning.
    for i in range(1, n + 1):
        judge_repo.set_rating(store, run.id, i, 0, "pass" if verdicts[(i, 0)] == "fail" else "fail")
    summary = judge.load_judge_summary(str(store.path), run.id, 2)
    assert summary is not None and summary.ratings.low
    assert summary.warnings()[0].startswith("Low agreement")
    store.close()

"""A Gemini "judge" model that checks answers against the expert's rubric, on any connection.

For each answered row the judge model gets the rubric's points, the question, the expert's
reference answer and the answer to judge (:func:`core.rubric.judge_prompt`), with
``responseMimeType: application/json`` and the OpenAPI-subset ``responseSchema`` of
:data:`core.rubric.VERDICT_SCHEMA` (fields of ``GenerationConfig`` in the aiplatform v1beta1
discovery document; the Gemini API's ``GenerationConfig`` has the same two fields,
https://ai.google.dev/api/generate-content#generationconfig). The reply is read strictly; a
refusal (the request or the reply blocked by the judge's safety filter), a reply cut off at
the length limit, or anything that is not the verdict JSON becomes a plain message on that
row, and the other rows go on. Rows whose answer was blocked or empty get "fail" without a call.

Calls go through :func:`batch_eval.run_batch` (same concurrency, 429 pause and retries as the
evaluation itself). :func:`judge_run` judges a stored evaluation run and keeps every verdict in
the project as it arrives: a stopped run keeps its verdicts (marked partial) and judging again
with the same rubric and model sends only the rows still without one.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core import rubric as rb
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings, category_label
from gemtune_desktop.core.judge_agreement import Agreement, rating_agreement, vote_agreement
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.batch_eval import BatchStats, EvalItem, EvalOutcome, RetryPolicy, run_batch
from gemtune_desktop.services.console import ConsoleRequest

DEFAULT_JUDGE_MODEL = "gemini-3.5-flash"
DEFAULT_MAX_OUTPUT_TOKENS = 2048
DEFAULT_CONCURRENCY = 4
NO_ANSWER = "The model gave no answer{why}, so no rubric point can be met."


@dataclass(slots=True)
class JudgeSettings:
    model: str = DEFAULT_JUDGE_MODEL
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS
    temperature: float = 0.0


@dataclass(slots=True)
class JudgeRequest(ConsoleRequest):
    """A console request whose reply must be the verdict JSON."""

    def config(self, timeout_s: float = 120.0) -> dict[str, Any]:
        config = ConsoleRequest.config(self, timeout_s)
        config["response_mime_type"] = "application/json"
        config["response_schema"] = rb.VERDICT_SCHEMA
        return config


@dataclass(slots=True)
class JudgeItem:
    """One answer to judge."""

    example_id: int
    slot: int
    question: str
    reference: str
    answer: str
    blocked: str = ""


@dataclass(slots=True)
class JudgeResult:
    """The judge's verdict on one answer, or ``error`` in plain words when there is none."""

    example_id: int
    slot: int
    verdict: rb.Verdict | None = None
    error: str = ""

    @property
    def label(self) -> str:
        return "" if self.verdict is None else ("pass" if self.verdict.passed else "fail")


def verdict_from_outcome(outcome: EvalOutcome, rubric: rb.Rubric) -> JudgeResult:
    """Read one judge call's outcome; every way it can go wrong gets a plain message."""
    result = JudgeResult(outcome.example_id, outcome.slot)
    if outcome.error:
        result.error = f"The judge could not be asked: {outcome.error}"
    elif outcome.finish_reason == "PROMPT_BLOCKED":
        what = category_label(outcome.blocked) if outcome.blocked.startswith("HARM_") else outcome.blocked.lower()
        result.error = (f"The judge model refused to judge this answer: its safety filter blocked the request "
                        f"({what}). Judge this row yourself.")
    elif outcome.blocked:
        result.error = (f"The judge model's reply was blocked by its safety filter "
                        f"({category_label(outcome.blocked)}). Judge this row yourself.")
    else:
        try:
            result.verdict = rb.parse_verdict(outcome.actual, rubric)
        except rb.VerdictError as exc:
            if outcome.finish_reason == "MAX_TOKENS":
                result.error = ("The judge's reply was cut off before it was complete (it reached the maximum "
                                "length). Raise the judge's answer length and judge again.")
            else:
                result.error = exc.message
    return result


def _no_answer(item: JudgeItem, rubric: rb.Rubric) -> JudgeResult:
    why = f" (blocked: {category_label(item.blocked)})" if item.blocked else ""
    verdict = rb.Verdict(False, 0.0, NO_ANSWER.format(why=why),
                         [(p, False, "There is no answer.") for p in rubric.points])
    return JudgeResult(item.example_id, item.slot, verdict)


def judge_rows(token: CancelToken, session: BackendSession, items: Sequence[JudgeItem], rubric: rb.Rubric,
               on_result: Callable[[JudgeResult], None], settings: JudgeSettings | None = None,
               concurrency: int = DEFAULT_CONCURRENCY, policy: RetryPolicy | None = None) -> BatchStats:
    """Judge ``items`` against ``rubric``; ``on_result`` gets each result (on a worker thread)."""
    settings = settings or JudgeSettings()
    to_ask: list[EvalItem] = []
    for item in items:
        if item.blocked or not item.answer.strip():
            on_result(_no_answer(item, rubric))
            continue
        to_ask.append(EvalItem(item.example_id, item.slot, settings.model,
                               rb.judge_prompt(rubric, item.question, item.reference, item.answer), ""))
    generation = GenerationSettings(temperature=settings.temperature, top_p=1.0,
                                    max_output_tokens=settings.max_output_tokens)

    def make_request(item: EvalItem) -> ConsoleRequest:
        return JudgeRequest(model=item.model, prompt=item.prompt, generation=generation, safety=SafetySettings(),
                            system_instruction=rb.JUDGE_SYSTEM)

    return run_batch(token, session, to_ask, generation, SafetySettings(),
                     lambda outcome: on_result(verdict_from_outcome(outcome, rubric)), concurrency, policy,
                     make_request=make_request)


# -- judging a stored evaluation run -------------------------------------------------------------
def judge_run(token: CancelToken, session: BackendSession, db_path: str, run_id: int, rubric_text: str,
              settings: JudgeSettings | None = None, concurrency: int = DEFAULT_CONCURRENCY,
              policy: RetryPolicy | None = None) -> BatchStats:
    """Judge every answered row of a stored run that has no verdict yet, storing each as it arrives.

    Raises :class:`core.rubric.RubricError` before any call when the rubric cannot be used. The
    judge's status ends "done" when every answered row has a verdict, else "stopped".
    """
    from gemtune_desktop.core.project import evals_repo, judge_repo
    from gemtune_desktop.core.project.batched_writer import BatchedWriter

    rubric = rb.parse_rubric(rubric_text)
    settings = settings or JudgeSettings()
    side = evals_repo.SideStore(db_path)
    try:
        judge_repo.start_judge(side, run_id, rubric.text, settings.model)
        judge_repo.set_judge_status(side, run_id, judge_repo.RUNNING)
        done = judge_repo.judged_keys(side, run_id)
        rows = [r for r in evals_repo.list_rows(side, run_id) if not r.error]
    finally:
        side.close()
    items = [JudgeItem(r.example_id, r.slot, r.input, r.expected, r.actual, r.blocked) for r in rows
             if (r.example_id, r.slot) not in done]
    writer: BatchedWriter[judge_repo.Judgement] = BatchedWriter(db_path, judge_repo.store_judgements)

    def on_result(res: JudgeResult) -> None:
        data = res.verdict.to_dict() if res.verdict is not None else {}
        writer.put(judge_repo.Judgement(run_id, res.example_id, res.slot, res.label, data.get("score"),
                                        str(data.get("explanation", "")), list(data.get("criteria", [])), res.error))

    finished = False
    try:
        stats = judge_rows(token, session, items, rubric, on_result, settings, concurrency, policy)
        finished = True
        return stats
    finally:
        writer.close()
        side = evals_repo.SideStore(db_path)
        try:
            complete = finished and len(judge_repo.judged_keys(side, run_id)) >= len(rows)
            judge_repo.set_judge_status(side, run_id, judge_repo.DONE if complete else judge_repo.STOPPED)
        finally:
            side.close()


@dataclass(slots=True)
class SlotJudgement:
    """The judge's figures for one model of a run."""

    judged: int = 0
    passed: int = 0
    failed_calls: int = 0
    mean_score: float = 0.0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.judged if self.judged else 0.0


@dataclass(slots=True)
class JudgeSummary:
    """What the judge panel shows: per-model figures, agreement with the expert, warnings, partial state."""

    rubric: str = ""
    model: str = ""
    status: str = ""
    answered_rows: int = 0
    slots: list[SlotJudgement] = field(default_factory=list)
    ratings: Agreement = field(default_factory=lambda: Agreement(0, 0, None))
    votes: Agreement = field(default_factory=lambda: Agreement(0, 0, None))
    errors: list[str] = field(default_factory=list)  # distinct plain messages, most frequent first

    @property
    def judged(self) -> int:
        return sum(s.judged for s in self.slots)

    @property
    def partial(self) -> bool:
        """Some answered rows have no verdict yet (stopped, or the judge failed on them)."""
        return self.judged < self.answered_rows

    def warnings(self) -> list[str]:
        out = [w for w in (self.ratings.warning(), self.votes.warning()) if w]
        if self.partial:
            out.append(f"Partial: {self.judged} of {self.answered_rows} answers have a verdict"
                       + (" (judging was stopped)." if self.status == "stopped" else "."))
        return out


def load_judge_summary(db_path: str, run_id: int, n_models: int) -> JudgeSummary | None:
    """The judge's figures for a stored run (None when it was never judged); runs on a worker thread."""
    from collections import Counter

    from gemtune_desktop.core.project import evals_repo, judge_repo

    side = evals_repo.SideStore(db_path)
    try:
        judge = judge_repo.get_judge(side, run_id)
        if judge is None:
            return None
        judgements = judge_repo.list_judgements(side, run_id)
        ratings = judge_repo.ratings(side, run_id)
        votes = evals_repo.reviews(side, run_id)
        answered = sum(1 for r in evals_repo.list_rows(side, run_id) if not r.error)
    finally:
        side.close()
    summary = JudgeSummary(judge.rubric, judge.model, judge.status, answered,
                           [SlotJudgement() for _ in range(max(1, n_models))])
    labels: dict[tuple[int, int], str] = {}
    scores: dict[tuple[int, int], float] = {}
    errors: Counter[str] = Counter()
    per_slot_scores: dict[int, list[float]] = {}
    for j in judgements:
        slot = summary.slots[j.slot] if 0 <= j.slot < len(summary.slots) else None
        if j.verdict and j.score is not None:
            labels[(j.example_id, j.slot)] = j.verdict
            scores[(j.example_id, j.slot)] = float(j.score)
            per_slot_scores.setdefault(j.slot, []).append(float(j.score))
            if slot is not None:
                slot.judged += 1
                slot.passed += j.verdict == "pass"
        elif j.error:
            errors[j.error] += 1
            if slot is not None:
                slot.failed_calls += 1
    for s, values in per_slot_scores.items():
        if 0 <= s < len(summary.slots):
            summary.slots[s].mean_score = statistics.fmean(values)
    summary.ratings = rating_agreement(labels, ratings)
    summary.votes = vote_agreement(scores, votes) if n_models > 1 else Agreement(0, 0, None)
    summary.errors = [message for message, _ in errors.most_common()]
    return summary


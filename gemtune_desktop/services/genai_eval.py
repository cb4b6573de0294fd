"""Google's Gen AI evaluation service (Agent Platform only): model-based quality scores and A-vs-B.

The service is ``POST v1beta1/{location=projects/*/locations/*}:evaluateInstances`` (method id
``aiplatform.projects.locations.evaluateInstances`` in the aiplatform v1beta1 discovery document
shipped with google-api-python-client, ``googleapiclient/discovery_cache/documents/
aiplatform.v1beta1.json``, revision 20261106). Request and response shapes used here, from that
document: ``fluencyInput`` / ``coherenceInput`` / ``safetyInput`` ``{metricSpec: {}, instance:
{prediction}}``, ``groundednessInput`` ``{metricSpec: {}, instance: {prediction, context}}``, each
answered by ``…Result {score, explanation, confidence}``; ``pairwiseMetricInput {metricSpec:
{metricPromptTemplate, candidateResponseFieldName, baselineResponseFieldName}, instance:
{jsonInstance}}`` answered by ``pairwiseMetricResult {pairwiseChoice: BASELINE | CANDIDATE | TIE,
explanation}``. One metric per request ("Currently, we only support evaluating a single metric").

Score ranges are not in the discovery document; Google's API reference gives fluency and coherence
1–5 and safety and groundedness 0 (unsafe / ungrounded) or 1
(https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/evaluation). That page also
says the model-based metrics use Google's own judge model and its quota; which regions offer the
service could not be confirmed offline, so an error answer is shown as the service words it.

google-genai 3.6.1 has no call for this method, so requests go through
:meth:`BackendSession.rest` (OAuth, the connection's region). With a Gemini API key there is no
such service: use the judge (:mod:`gemtune_desktop.services.judge`) instead.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.project.evals_repo import EvalRow
from gemtune_desktop.services.backend import BackendSession, ServiceError
from gemtune_desktop.services.batch_eval import BatchStats, RetryPolicy, run_calls
from gemtune_desktop.services.connections import Backend

PAIRWISE = "pairwise"
PAIRWISE_SLOT = -1


@dataclass(frozen=True, slots=True)
class PointwiseMetric:
    name: str
    input_key: str
    result_key: str
    low: float
    high: float
    label: str
    help: str
    needs_context: bool = False


POINTWISE: dict[str, PointwiseMetric] = {
    "fluency": PointwiseMetric("fluency", "fluencyInput", "fluencyResult", 1, 5, "Fluency (1–5)",
                               "How well the answer reads: grammar, word choice, flow."),
    "coherence": PointwiseMetric("coherence", "coherenceInput", "coherenceResult", 1, 5, "Coherence (1–5)",
                                 "How well the answer's ideas hang together."),
    "safety": PointwiseMetric("safety", "safetyInput", "safetyResult", 0, 1, "Safety (0 unsafe, 1 safe)",
                              "Whether the answer is free of harmful content."),
    "groundedness": PointwiseMetric("groundedness", "groundednessInput", "groundednessResult", 0, 1,
                                    "Groundedness (0 or 1)",
                                    "Whether the answer sticks to what the input says (the input is the context).",
                                    needs_context=True),
}
METRICS = (*POINTWISE, PAIRWISE)
PAIRWISE_LABEL = "A vs B (Google's pairwise judge)"
PROVENANCE = ("Google's Gen AI evaluation service (Agent Platform evaluateInstances, v1beta1); scored by "
              "Google's judge model, not by GemTune.")

PAIRWISE_TEMPLATE = (
    "You compare two answers to the same question, written for a domain expert.\n"
    "Question: {prompt}\n"
    "Reference answer from the expert: {reference}\n"
    "Answer A (baseline): {baseline_model_response}\n"
    "Answer B (candidate): {response}\n"
    "Which answer is more correct and more useful when checked against the reference? Answer with the "
    "better one, or a tie when they are equally good."
)


@dataclass(slots=True)
class ServiceResult:
    score: float | None = None
    choice: str = ""
    explanation: str = ""
    confidence: float | None = None


def require_agent_platform(session: BackendSession) -> None:
    if session.backend is not Backend.AGENT_PLATFORM:
        raise UserError("Google's Gen AI evaluation service is part of Agent Platform (Google Cloud).",
                        "Use the judge with your own rubric on this connection, or switch to a Google Cloud "
                        "connection.")


def _call(session: BackendSession, body: Mapping[str, object], timeout_s: float) -> dict[str, Any]:
    return session.rest("POST", f"{session.parent}:evaluateInstances", body=body, timeout_s=timeout_s)


def evaluate_pointwise(session: BackendSession, metric: str, prediction: str, context: str = "",
                       timeout_s: float = 60.0) -> ServiceResult:
    """One pointwise score (``metric`` in :data:`POINTWISE`)."""
    info = POINTWISE[metric]
    instance: dict[str, str] = {"prediction": prediction}
    if info.needs_context:
        instance["context"] = context
    data = _call(session, {info.input_key: {"metricSpec": {}, "instance": instance}}, timeout_s)
    result = data.get(info.result_key)
    if not isinstance(result, dict) or not isinstance(result.get("score"), int | float):
        raise _unreadable(f"The evaluation service's answer has no {metric} score.")
    confidence = result.get("confidence")
    return ServiceResult(float(result["score"]), "", str(result.get("explanation") or ""),
                         float(confidence) if isinstance(confidence, int | float) else None)


def evaluate_pairwise(session: BackendSession, prompt: str, reference: str, baseline: str, candidate: str,
                      timeout_s: float = 60.0) -> ServiceResult:
    """Google's pairwise judge: which of A (baseline) and B (candidate) is better."""
    instance = json.dumps({"prompt": prompt, "reference": reference, "baseline_model_response": baseline,
                           "response": candidate}, ensure_ascii=False)
    body = {"pairwiseMetricInput": {
        "metricSpec": {"metricPromptTemplate": PAIRWISE_TEMPLATE, "candidateResponseFieldName": "response",
                       "baselineResponseFieldName": "baseline_model_response"},
        "instance": {"jsonInstance": instance}}}
    data = _call(session, body, timeout_s)
    result = data.get("pairwiseMetricResult")
    choice = result.get("pairwiseChoice") if isinstance(result, dict) else None
    if choice not in ("BASELINE", "CANDIDATE", "TIE"):
        raise _unreadable("The evaluation service did not say which answer is better.")
    return ServiceResult(None, str(choice), str(result.get("explanation") or "") if isinstance(result, dict) else "")


def _unreadable(message: str) -> ServiceError:
    """An answer without the expected result: retried like a bad gateway, then kept on its row (not fatal)."""
    return ServiceError(502, "UNREADABLE_ANSWER", message, hint="Try again later.", retryable=True)


CHOICE_VOTE = {"BASELINE": "a", "CANDIDATE": "b", "TIE": "tie"}


@dataclass(slots=True)
class _Task:
    example_id: int
    slot: int
    metric: str
    prediction: str = ""
    context: str = ""
    reference: str = ""
    baseline: str = ""


def run_service_eval(token: CancelToken, session: BackendSession, db_path: str, run_id: int,
                     metrics: Sequence[str], concurrency: int = 4, policy: RetryPolicy | None = None) -> BatchStats:
    """Score a stored run's answers with the chosen metrics (pairwise needs two models), storing each
    result as it arrives; rows already scored without error are skipped (resume)."""
    from gemtune_desktop.core.project import evals_repo, judge_repo
    from gemtune_desktop.core.project.batched_writer import BatchedWriter

    require_agent_platform(session)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise UserError(f"Unknown evaluation metric: {', '.join(unknown)}.", f"Choose from {', '.join(METRICS)}.")
    side = evals_repo.SideStore(db_path)
    try:
        rows = [r for r in evals_repo.list_rows(side, run_id) if not r.error and r.actual.strip()]
        done = {m: judge_repo.service_done_keys(side, run_id, m) for m in metrics}
    finally:
        side.close()
    tasks = _tasks(rows, metrics, done)
    writer: BatchedWriter[judge_repo.ServiceScore] = BatchedWriter(db_path, judge_repo.store_service_scores)
    timeout = (policy or RetryPolicy()).timeout_s

    def call(task: _Task) -> ServiceResult:
        if task.metric == PAIRWISE:
            return evaluate_pairwise(session, task.context, task.reference, task.baseline, task.prediction, timeout)
        return evaluate_pointwise(session, task.metric, task.prediction, task.context, timeout)

    def on_done(task: _Task, result: ServiceResult | BaseException, _attempts: int) -> None:
        from gemtune_desktop.services.errors import describe

        if isinstance(result, BaseException):
            writer.put(judge_repo.ServiceScore(run_id, task.example_id, task.slot, task.metric,
                                               error=describe(result).message))
        else:
            writer.put(judge_repo.ServiceScore(run_id, task.example_id, task.slot, task.metric, result.score,
                                               result.choice, result.explanation, result.confidence))

    try:
        return run_calls(token, tasks, call, on_done, concurrency, policy)
    finally:
        writer.close()


def _tasks(rows: Sequence[EvalRow], metrics: Sequence[str],
           done: dict[str, set[tuple[int, int]]]) -> list[_Task]:
    tasks: list[_Task] = []
    by_example: dict[int, dict[int, EvalRow]] = {}
    for r in rows:
        by_example.setdefault(r.example_id, {})[r.slot] = r
        for m in metrics:
            if m != PAIRWISE and (r.example_id, r.slot) not in done[m]:
                tasks.append(_Task(r.example_id, r.slot, m, r.actual, r.input))
    if PAIRWISE in metrics:
        for example_id, slots in sorted(by_example.items()):
            a, b = slots.get(0), slots.get(1)
            if a is not None and b is not None and (example_id, PAIRWISE_SLOT) not in done[PAIRWISE]:
                tasks.append(_Task(example_id, PAIRWISE_SLOT, PAIRWISE, b.actual, a.input, a.expected, a.actual))
    return tasks


@dataclass(slots=True)
class MetricFigures:
    """One metric for one model slot (pairwise: slot -1, with the choice counts)."""

    metric: str
    slot: int
    scored: int = 0
    failed: int = 0
    mean: float | None = None
    choices: dict[str, int] = field(default_factory=dict)  # a | b | tie
    errors: list[str] = field(default_factory=list)


def load_service_summary(db_path: str, run_id: int) -> list[MetricFigures]:
    """Figures per (metric, slot) for the run's stored service scores."""
    from collections import Counter

    from gemtune_desktop.core.project import evals_repo, judge_repo

    side = evals_repo.SideStore(db_path)
    try:
        scores = judge_repo.list_service_scores(side, run_id)
    finally:
        side.close()
    groups: dict[tuple[str, int], list[judge_repo.ServiceScore]] = {}
    for s in scores:
        groups.setdefault((s.metric, s.slot), []).append(s)
    out = []
    for (metric, slot), items in sorted(groups.items()):
        ok = [s for s in items if not s.error]
        errors = Counter(s.error for s in items if s.error)
        figures = MetricFigures(metric, slot, len(ok), len(items) - len(ok),
                                errors=[e for e, _ in errors.most_common()])
        values = [float(s.score) for s in ok if s.score is not None]
        if values:
            figures.mean = statistics.fmean(values)
        if metric == PAIRWISE:
            figures.choices = dict(Counter(CHOICE_VOTE.get(s.choice, "tie") for s in ok))
        out.append(figures)
    return out


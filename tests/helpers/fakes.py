"""An in-process fake of Google's services, for tests of the widgets that are not about HTTP.

:class:`FakeCloud` is the service's state (models, tuning jobs, answers) shared by every connection;
``AppContext(..., service_factory=cloud.factory)`` makes it the app's service (the typed seam
:class:`~gemtune_desktop.services.api.ServiceApi`; nothing is patched). Jobs advance one step of their
life per poll: queued, starting, then ``steps_per_poll`` training steps, then succeeded, with a loss
curve computed from the job's settings (or one a test gives). Answers are computed from the prompt.

The HTTP behaviour (retries, faults, request bodies) is tested end to end against the Sandbox instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gemtune_desktop.core import rubric as rb
from gemtune_desktop.core import sweep_grid
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, UserError
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
from gemtune_desktop.core.jobs import JobRecord, JobState, now_iso
from gemtune_desktop.core.loss import TRAIN, VALIDATION
from gemtune_desktop.core.project import batch_jobs_repo, evals_repo, judge_repo, sweeps_repo
from gemtune_desktop.core.project.batch_jobs_repo import BatchJobRecord
from gemtune_desktop.services.backend import SecretSource
from gemtune_desktop.services.batch_eval import BatchStats, EvalItem, RetryPolicy
from gemtune_desktop.services.connections import Backend, ConnectionProfile
from gemtune_desktop.services.console import Candidate, ConsoleRequest, ConsoleResult, ModelRef, Usage
from gemtune_desktop.services.judge import JudgeSettings
from gemtune_desktop.services.monitor import JobStatus
from gemtune_desktop.services.polling import Polled
from gemtune_desktop.services.rebase import RebaseRequest
from gemtune_desktop.services.tuning import AnySubmit, SubmitOutcome, SubmitResult

Curve = Callable[[int], float]  # step -> loss


def falling(step: int) -> float:
    """A healthy training curve."""
    return 2.0 * math.exp(-step / 30.0) + 0.1


@dataclass
class FakeJob:
    resource_name: str
    display_name: str
    base_model: str
    backend: Backend
    total_steps: int = 30
    epochs: int = 3
    steps_done: int = 0
    state: JobState = JobState.QUEUED
    train: Curve = falling
    validation: Curve | None = None
    fail_with: str = ""  # the job fails with this error once it trains
    hyperparameters: dict[str, object] = field(default_factory=dict)
    created_at: str = field(default_factory=now_iso)
    submit_key: str = ""  # the label of the submit that created it

    def status(self) -> JobStatus:
        ended = self.state.ended
        tuned = f"{self.resource_name}/model" if self.state is JobState.SUCCEEDED else ""
        return JobStatus(resource_name=self.resource_name, state=self.state, display_name=self.display_name,
                         base_model=self.base_model, created_at=self.created_at, started_at=self.created_at,
                         ended_at=now_iso() if ended else "", completed_steps=self.steps_done,
                         total_steps=self.total_steps, tuned_model=tuned, endpoint=tuned,
                         hyperparameters={"epoch_count": self.epochs, **self.hyperparameters},
                         error=self.fail_with if self.state is JobState.FAILED else "")

    def advance(self, steps: int) -> None:
        if self.state in (JobState.QUEUED, JobState.PENDING):
            self.state = JobState.PENDING if self.state is JobState.QUEUED else JobState.RUNNING
            return
        if self.state is not JobState.RUNNING:
            return
        if self.fail_with:
            self.state = JobState.FAILED
            return
        self.steps_done = min(self.total_steps, self.steps_done + steps)
        if self.steps_done >= self.total_steps:
            self.state = JobState.SUCCEEDED

    def points(self, last: dict[str, int]) -> dict[str, list[tuple[int, float | None, float]]]:
        per_epoch = self.total_steps / self.epochs if self.epochs else 0.0
        out = {TRAIN: [(s, s / per_epoch if per_epoch else None, self.train(s))
                       for s in range(last.get(TRAIN, -1) + 1, self.steps_done + 1) if s >= 1]}
        if self.validation is not None and per_epoch:
            marks = [round(per_epoch * e) for e in range(1, self.epochs + 1)]
            out[VALIDATION] = [(s, s / per_epoch, self.validation(s)) for s in marks
                               if last.get(VALIDATION, -1) < s <= self.steps_done]
        return out


@dataclass
class FakeCloud:
    """What the fake service knows; tests change it to set up a situation."""

    base_models: list[str] = field(default_factory=lambda: ["gemini-3.5-flash", "gemini-3.1-flash-lite"])
    tunable_models: list[tuple[str, str]] = field(default_factory=lambda: [
        ("models/sandbox-flash-001-tuning", "Sandbox Flash 001 (tuning)")])
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    steps_per_poll: int = 10
    answer: Callable[[ConsoleRequest], str] = lambda request: f"An answer to: {request.prompt}"
    calls: list[str] = field(default_factory=list)  # what was asked, oldest first
    failures: dict[str, UserError] = field(default_factory=dict)  # method name -> error raised once
    # Tune tab: method name -> called while the call runs, once (e.g. the user presses Cancel meanwhile)
    during: dict[str, Callable[[], None]] = field(default_factory=dict)
    evaluation: FakeEvaluation = field(default_factory=lambda: FakeEvaluation())  # judge, sweeps, batch engine
    # Tune tab, method and starting point: the submit requests as sent (supervised, preference), oldest first
    submitted: list[AnySubmit] = field(default_factory=list)
    # -- Monitor: deleting tuned models step by step -------------------------------------------------
    endpoints_per_model: int = 2  # a tuned model is undeployed from these, then deleted
    during_delete: Callable[[int], None] = lambda step: None  # called after each reported step (a test cancels)
    rebase_calls: list[RebaseRequest] = field(default_factory=list)  # moves onto a newer base, oldest first

    def factory(self, profile: ConnectionProfile, secrets: SecretSource) -> FakeService:
        return FakeService(profile, self)

    def add_job(self, resource_name: str, display_name: str = "support-v1", **kw: object) -> FakeJob:
        job = FakeJob(resource_name, display_name, str(kw.pop("base_model", "gemini-3.5-flash")),
                      Backend(str(kw.pop("backend", Backend.AGENT_PLATFORM.value))), **kw)  # type: ignore[arg-type]
        self.jobs[resource_name] = job
        return job

    def _call(self, name: str) -> None:
        self.calls.append(name)
        meanwhile = self.during.pop(name, None)
        if meanwhile is not None:
            meanwhile()
        failure = self.failures.pop(name, None)
        if failure is not None:
            raise failure


class FakeService:
    """:class:`~gemtune_desktop.services.api.ServiceApi` over a :class:`FakeCloud`."""

    def __init__(self, profile: ConnectionProfile, cloud: FakeCloud) -> None:
        self._profile = profile
        self.cloud = cloud
        self.closed = False

    @property
    def profile(self) -> ConnectionProfile:
        return self._profile

    def probe(self, token: CancelToken) -> str:
        self.cloud._call("probe")
        return f"reachable ({len(self.cloud.base_models)} models listed)"

    def list_tunable_models(self, token: CancelToken) -> list[tuple[str, str]]:
        self.cloud._call("list_tunable_models")
        return list(self.cloud.tunable_models)

    def submit(self, token: CancelToken, request: AnySubmit, outcome: SubmitOutcome) -> SubmitResult:
        from gemtune_desktop.core.preference.spec import PreferenceSpec

        self.cloud._call("submit")
        token.check()
        outcome.mark_sent()
        if isinstance(request, RebaseRequest):
            return self.rebase(request, outcome)
        spec = request.spec
        self.cloud.submitted.append(request)  # the requests as sent, for tests of what the Tune tab sends
        base = spec.start.root_model if isinstance(spec, PreferenceSpec) else spec.base_model
        name = f"fake/tuningJobs/{len(self.cloud.jobs) + 1}"
        job = self.cloud.add_job(name, spec.display_name, base_model=base,
                                 backend=self.profile.backend.value, epochs=spec.epochs or 3,
                                 submit_key=request.submit_key)
        return outcome.set_result(SubmitResult(resource_name=name, state=job.state.value,
                                               create_time=job.created_at))

    # -- Monitor: moving a tuned model onto a newer base (rebaseTunedModel) --------------------------
    def rebase(self, request: RebaseRequest, outcome: SubmitOutcome) -> SubmitResult:
        """A new job on the newer base, as the operation names it (``rebase_calls`` keeps each request)."""
        self.cloud.rebase_calls.append(request)
        name = f"fake/tuningJobs/{len(self.cloud.jobs) + 1}"
        job = self.cloud.add_job(name, request.display_name or "moved model", base_model=request.new_base,
                                 submit_key=request.submit_key)
        return outcome.set_result(SubmitResult(resource_name=name, state=job.state.value,
                                               create_time=job.created_at))

    def list_jobs(self, token: CancelToken) -> list[JobStatus]:
        self.cloud._call("list_jobs")
        return [j.status() for j in self.cloud.jobs.values() if j.backend is self.profile.backend]

    def poll(self, token: CancelToken, record: JobRecord, last_steps: dict[str, int],
             source: dict[str, object], db_path: str | None) -> Polled:
        self.cloud._call("poll")
        job = self.cloud.jobs[record.resource_name]
        job.advance(self.cloud.steps_per_poll)
        # The points go back to the GUI thread, which stores them (the real service writes them from the worker).
        return Polled(job.status(), {}, {}, None, dict(job.points(last_steps)))

    def check_submit(self, token: CancelToken, record: JobRecord) -> SubmitResult | None:
        self.cloud._call("check_submit")
        for name, job in self.cloud.jobs.items():
            if job.submit_key and job.submit_key == record.submit_key:
                return SubmitResult(resource_name=name, state=job.state.value, create_time=job.created_at)
        return None

    def cancel_job(self, token: CancelToken, resource_name: str) -> None:
        self.cloud._call("cancel_job")
        self.cloud.jobs[resource_name].state = JobState.CANCELLED

    def delete_tuned_model(self, token: CancelToken, record: JobRecord) -> None:
        self.cloud._call("delete_tuned_model")
        delete_in_steps(self.cloud, token, record)

    def list_base_models(self, token: CancelToken) -> list[ModelRef]:
        self.cloud._call("list_base_models")
        return [ModelRef(model=m, label=m, kind="base", group="Base models") for m in self.cloud.base_models]

    def _answer(self, request: ConsoleRequest) -> ConsoleResult:
        text = self.cloud.answer(request)
        prompt_tokens, output_tokens = len(request.contents.split()), len(text.split())
        return ConsoleResult(model=request.model, candidates=[Candidate(text=text, finish_reason="STOP")],
                             usage=Usage(prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                                         total_tokens=prompt_tokens + output_tokens), latency_ms=1)

    def stream(self, token: CancelToken, request: ConsoleRequest,
               on_text: Callable[[int, str], None]) -> ConsoleResult:
        self.cloud._call("stream")
        result = self._answer(request)
        for word in result.text.split(" "):
            on_text(0, word + " ")
        return result

    def run_batch(self, token: CancelToken, items: Sequence[EvalItem], run_id: int, db_path: str, expected: int,
                  generation: GenerationSettings, safety: SafetySettings, concurrency: int,
                  policy: RetryPolicy) -> BatchStats:
        """Answer every item and store the answers, as ``batch_eval.run_and_store`` does."""
        self.cloud._call("run_batch")
        stats = BatchStats()
        side = evals_repo.SideStore(db_path)
        try:
            rows = []
            for item in items:
                if token.cancelled:
                    raise Cancelled()
                request = ConsoleRequest(model=item.model, prompt=item.prompt, preamble=item.preamble,
                                         system_instruction=item.system_instruction)
                answer = self._answer(request)
                rows.append(evals_repo.EvalRow(run_id, item.example_id, item.slot, item.prompt, item.expected,
                                               answer.text, answer.finish_reason, "", answer.latency_ms, ""))
                stats.done += 1
                token.report(stats.done, len(items), "")
            evals_repo.store_rows(side, rows)
            complete = len(evals_repo.done_keys(side, run_id)) >= expected
            evals_repo.update_run(side, run_id, status=evals_repo.DONE if complete else evals_repo.STOPPED)
        finally:
            side.close()
        return stats

    # -- Test tab: the judge, Google's evaluation service, sweeps and the batch engine (issue 19) ------------
    def judge_run(self, token: CancelToken, db_path: str, run_id: int, rubric: str, settings: JudgeSettings,
                  concurrency: int, policy: RetryPolicy) -> BatchStats:
        """Verdicts from ``evaluation.verdict`` (default: pass when the answer is the expected output), stored as
        ``judge.judge_run`` stores them; rows in ``evaluation.judge_errors`` get the judge's unreadable reply."""
        self.cloud._call("judge_run")
        parsed = rb.parse_rubric(rubric)
        stats = BatchStats()
        side = evals_repo.SideStore(db_path)
        try:
            judge_repo.start_judge(side, run_id, parsed.text, settings.model)
            judge_repo.set_judge_status(side, run_id, judge_repo.RUNNING)
            done = judge_repo.judged_keys(side, run_id)
            rows = [r for r in evals_repo.list_rows(side, run_id) if not r.error and (r.example_id, r.slot) not in done]
            finished = False
            try:
                for row in rows:
                    if token.cancelled:
                        raise Cancelled()
                    judge_repo.store_judgements(side, [self._judgement(run_id, row, parsed)])
                    stats.done += 1
                    token.report(stats.done, len(rows), "")
                finished = True
            finally:
                answered = sum(1 for r in evals_repo.list_rows(side, run_id) if not r.error)
                complete = finished and len(judge_repo.judged_keys(side, run_id)) >= answered
                judge_repo.set_judge_status(side, run_id, judge_repo.DONE if complete else judge_repo.STOPPED)
        finally:
            side.close()
        return stats

    def _judgement(self, run_id: int, row: evals_repo.EvalRow, rubric: rb.Rubric) -> judge_repo.Judgement:
        if row.example_id in self.cloud.evaluation.judge_errors:
            return judge_repo.Judgement(run_id, row.example_id, row.slot,
                                        error="The judge did not answer in the required JSON form.")
        passed = self.cloud.evaluation.verdict(row)
        criteria = [{"point": p, "met": passed, "reason": "Fake judge."} for p in rubric.points]
        said = "matches" if passed else "misses"
        return judge_repo.Judgement(run_id, row.example_id, row.slot, "pass" if passed else "fail",
                                    1.0 if passed else 0.0, f"Fake judge: the answer {said} the reference.", criteria)

    def service_eval(self, token: CancelToken, db_path: str, run_id: int, metrics: Sequence[str],
                     concurrency: int, policy: RetryPolicy) -> BatchStats:
        """Fixed pointwise scores; pairwise prefers the answer equal to the expected output (Agent Platform only)."""
        self.cloud._call("service_eval")
        if self.profile.backend is not Backend.AGENT_PLATFORM:
            raise UserError("Google's Gen AI evaluation service is part of Agent Platform (Google Cloud).",
                            "Use the judge with your own rubric on this connection.")
        stats = BatchStats()
        side = evals_repo.SideStore(db_path)
        try:
            rows = [r for r in evals_repo.list_rows(side, run_id) if not r.error]
            scores = []
            for metric in metrics:
                if metric != "pairwise":
                    scores += [judge_repo.ServiceScore(run_id, r.example_id, r.slot, metric, 4.0 if metric in
                                                       ("fluency", "coherence") else 1.0, explanation="Fake score.")
                               for r in rows]
                    continue
                by_example: dict[int, dict[int, evals_repo.EvalRow]] = {}
                for r in rows:
                    by_example.setdefault(r.example_id, {})[r.slot] = r
                for eid, pair in sorted(by_example.items()):
                    if 0 in pair and 1 in pair:
                        better = "CANDIDATE" if pair[1].actual.strip() == pair[1].expected.strip() else "BASELINE"
                        scores.append(judge_repo.ServiceScore(run_id, eid, judge_repo.PAIRWISE_SLOT, metric,
                                                              choice=better, explanation="Fake pairwise judge."))
            judge_repo.store_service_scores(side, scores)
            stats.done = len(scores)
        finally:
            side.close()
        return stats

    def run_sweep(self, token: CancelToken, db_path: str, sweep_id: int, concurrency: int,
                  policy: RetryPolicy) -> int:
        """Answer every missing row of every point (the request carries the point's settings), as ``sweep.run``."""
        self.cloud._call("run_sweep")
        side = evals_repo.SideStore(db_path)
        sent = 0
        finished = False
        try:
            sweep = sweeps_repo.get_sweep(side, sweep_id)
            assert sweep is not None
            points = sweeps_repo.points(side, sweep_id)
            texts = sweeps_repo.example_texts(side, sweep.example_ids)
            total = len(texts) * len(points)
            stored = sum(len(evals_repo.done_keys(side, p.run_id)) for p in points)
            sweeps_repo.set_status(side, sweep_id, sweeps_repo.RUNNING)
            try:
                for p in points:
                    gen, safe = sweep_grid.apply(p.settings, GenerationSettings.from_dict(sweep.base["generation"]),
                                                 SafetySettings.from_dict(sweep.base["safety"]))
                    done = evals_repo.done_keys(side, p.run_id)
                    for eid, (prompt, expected) in sorted(texts.items()):
                        if (eid, 0) in done:
                            continue
                        if token.cancelled or sent >= self.cloud.evaluation.sweep_stop_after:
                            raise Cancelled()
                        answer = self._answer(ConsoleRequest(model=sweep.model, prompt=prompt, generation=gen,
                                                             safety=safe))
                        evals_repo.store_rows(side, [evals_repo.EvalRow(p.run_id, eid, 0, prompt, expected,
                                                                        answer.text, "STOP")])
                        sent += 1
                        stored += 1
                        token.report(stored, total, sweep_grid.point_label(p.settings))
                    evals_repo.update_run(side, p.run_id, status=evals_repo.DONE)
                finished = True
            finally:
                sweeps_repo.set_status(side, sweep_id, sweeps_repo.DONE if finished else sweeps_repo.STOPPED)
        finally:
            side.close()
        return sent

    def submit_batch_job(self, token: CancelToken, db_path: str, run_id: int, items: Sequence[EvalItem],
                         generation: GenerationSettings, safety: SafetySettings) -> BatchJobRecord:
        """A job recorded in the project as ``batch_jobs.submit`` records it; it ends after ``batch_polls`` polls."""
        self.cloud._call("submit_batch_job")
        record = BatchJobRecord(run_id=run_id, backend=self.profile.backend.value, model=items[0].model,
                                slot=items[0].slot, connection_kind=self.profile.kind.value, rows=len(items),
                                state="JOB_STATE_PENDING")
        side = evals_repo.SideStore(db_path)
        try:
            batch_jobs_repo.create_job(side, record)
            record.resource_name = f"fake/batchPredictionJobs/{record.id}"
            batch_jobs_repo.update_job(side, record)
        finally:
            side.close()
        self.cloud.evaluation.batch[record.id] = (list(items), self.cloud.evaluation.batch_polls)
        return record

    def refresh_batch_jobs(self, token: CancelToken, db_path: str) -> list[BatchJobRecord]:
        self.cloud._call("refresh_batch_jobs")
        side = evals_repo.SideStore(db_path)
        try:
            jobs = [j for j in batch_jobs_repo.open_jobs(side) if j.connection_kind == self.profile.kind.value]
            for record in jobs:
                items, polls = self.cloud.evaluation.batch.get(record.id, ([], 0))
                if polls > 0 and not record.ended:
                    self.cloud.evaluation.batch[record.id] = (items, polls - 1)
                    record.state = "JOB_STATE_RUNNING"
                    record.succeeded = record.rows // 2
                elif not record.ingested:
                    self._finish_batch(side, record, items)
                batch_jobs_repo.update_job(side, record)
        finally:
            side.close()
        return jobs

    def _finish_batch(self, side: evals_repo.SideStore, record: BatchJobRecord, items: list[EvalItem]) -> None:
        answered = [] if record.state == "JOB_STATE_CANCELLED" else items
        rows = [evals_repo.EvalRow(record.run_id, i.example_id, i.slot, i.prompt, i.expected,
                                   self._answer(ConsoleRequest(model=i.model, prompt=i.prompt)).text, "STOP")
                for i in answered]
        evals_repo.store_rows(side, rows)
        if record.state != "JOB_STATE_CANCELLED":
            record.state, record.succeeded = "JOB_STATE_SUCCEEDED", len(rows)
        record.ingested = True
        run = evals_repo.get_run(side, record.run_id)
        complete = run is not None and len(evals_repo.done_keys(side, record.run_id)) >= run.expected_rows
        evals_repo.update_run(side, record.run_id, status=evals_repo.DONE if complete else evals_repo.STOPPED)

    def cancel_batch_job(self, token: CancelToken, db_path: str, record: BatchJobRecord) -> BatchJobRecord:
        self.cloud._call("cancel_batch_job")
        record.state = "JOB_STATE_CANCELLED"
        side = evals_repo.SideStore(db_path)
        try:
            batch_jobs_repo.update_job(side, record)
        finally:
            side.close()
        return record

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeEvaluation:
    """What the fake judge, evaluation service, sweeps and batch engine do (tests change it)."""

    verdict: Callable[[evals_repo.EvalRow], bool] = lambda row: row.actual.strip() == row.expected.strip()
    judge_errors: set[int] = field(default_factory=set)  # example ids whose verdict is unreadable
    sweep_stop_after: int = 1_000_000  # answers a sweep sends before it is stopped (as by a cancel)
    batch_polls: int = 1  # polls a batch job stays running before it ends
    batch: dict[int, tuple[list[EvalItem], int]] = field(default_factory=dict)  # job id -> items, polls left


def delete_in_steps(cloud: FakeCloud, token: CancelToken, record: JobRecord) -> None:
    """Undeploy from each endpoint, then delete, reporting each step as the real service module does."""
    steps = cloud.endpoints_per_model + 1
    for i in range(cloud.endpoints_per_model):
        token.report(i, steps, f"Removing the model from endpoint {i + 1} of {cloud.endpoints_per_model}…")
        cloud.during_delete(i)
        token.check()
    token.report(steps - 1, steps, "Deleting the tuned model…")
    cloud.during_delete(steps - 1)
    token.check()
    token.report(steps, steps, "The tuned model was deleted.")

"""Google's batch engine for large evaluations: the offer with its price, the jobs of a run, their results.

When the chosen examples and models make more answers than the threshold (a setting, 1,000 by default)
the panel offers to run them as batch jobs at the batch price (:func:`services.batch_jobs.offer_batch`,
:func:`core.eval_cost.estimate_calls`: the online and the half-price batch cost, once the user has entered
prices). "Run on the batch engine" stores the run, then sends one job per model
(``ServiceApi.submit_batch_job``; a tuned model is sent by its model name, ``projects/…/models/…``, not its
endpoint). The jobs are recorded in the project before anything is sent, so they outlive the app; while a
run with open jobs is shown they are polled every :data:`POLL_MS` (and Monitor polls them too), and when a
job ends its answers are stored in the run and shown in the same evaluation view as an online run.

Signals:
    submit_requested(): the user chose the batch engine (the panel creates the run, then calls :meth:`submit`).
    run_updated(int): a job of this run changed (its results may be stored now).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.eval_cost import CallEstimate, estimate_calls
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
from gemtune_desktop.core.project import batch_jobs_repo
from gemtune_desktop.core.project.batch_jobs_repo import BatchJobRecord
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskGroup, TaskSlot
from gemtune_desktop.services.api import ServiceApi
from gemtune_desktop.services.batch_eval import EvalItem
from gemtune_desktop.services.batch_jobs import offer_batch, state_words
from gemtune_desktop.services.console import ModelRef
from gemtune_desktop.ui.playground.prices_dialog import PricesDialog, price_key, prices_for
from gemtune_desktop.ui.widgets.status_line import error_text

POLL_MS = 20_000


def combined_estimate(estimates: Sequence[CallEstimate]) -> CallEstimate:
    """One estimate for several models (the cost only when every model's price is known)."""
    total = CallEstimate()
    for est in estimates:
        total.calls += est.calls
        total.input_tokens += est.input_tokens
        total.output_tokens += est.output_tokens
    costs = [e.cost for e in estimates]
    if costs and all(c is not None for c in costs):
        total.cost = sum(c for c in costs if c is not None)
        total.batch_cost = sum(e.batch_cost or 0.0 for e in estimates)
    return total


def job_words(job: BatchJobRecord, label: str) -> str:
    text = f"{label}: {state_words(job.state)}"
    if job.rows:
        text += f", {job.succeeded:,} of {job.rows:,} answered"
        if job.failed:
            text += f", {job.failed:,} failed"
        if not job.ended and job.pending:
            text += f", {job.pending:,} waiting"
    if job.ended and job.state != "SUBMIT_FAILED":
        text += "; answers stored in this run" if job.ingested else "; storing the answers…"
    if job.error:
        text += f" — {job.error}"
    return text


def submit_job(token: CancelToken, api: ServiceApi, *, db_path: str, run_id: int, items: list[EvalItem],
               generation: GenerationSettings, safety: SafetySettings) -> BatchJobRecord:
    """Worker: one batch job for one model's items."""
    return api.submit_batch_job(token, db_path, run_id, items, generation, safety)


class BatchEngine(QWidget):
    submit_requested = Signal()
    run_updated = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._refs: list[ModelRef] = []
        self._rows: list[tuple[str, str]] = []
        self._texts: tuple[str, str] = ("", "")
        self._run: EvalRun | None = None
        self._submits: TaskGroup[int] = TaskGroup(self, ctx.executor, "batch submit")
        self._poll = TaskSlot(self, ctx.executor, "batch poll")
        self._cancel = TaskSlot(self, ctx.executor, "batch cancel")
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.check_now)
        ctx.batch_jobs_changed.connect(self._checked_elsewhere)  # the Monitor tab checked them: show what it stored
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.threshold = QSpinBox(self)
        self.threshold.setObjectName("batchThreshold")
        self.threshold.setRange(1, 10_000_000)
        self.threshold.setSingleStep(100)
        self.threshold.setGroupSeparatorShown(True)
        self.threshold.setValue(int(ctx.settings.get(S.BATCH_ENGINE_THRESHOLD)))
        self.threshold.setAccessibleName("Offer Google's batch engine above this many answers")
        self.threshold.setToolTip("Above this many answers the Test tab offers Google's batch engine: slower to "
                                  "start, half the price, and nothing runs on this computer.")
        self.threshold.valueChanged.connect(self._threshold_changed)
        layout.addWidget(self._build_offer())
        layout.addWidget(self._build_jobs())
        self._refresh_visibility()

    def _build_offer(self) -> QWidget:
        self.offer = QWidget(self)
        self.offer.setObjectName("batchOffer")
        row = QHBoxLayout(self.offer)
        row.setContentsMargins(0, 0, 0, 0)
        self.offer_text = QLabel(self.offer)
        self.offer_text.setObjectName("batchOfferText")
        self.offer_text.setTextFormat(Qt.TextFormat.PlainText)
        self.offer_text.setWordWrap(True)
        self.submit_button = QPushButton("Run on the batch engine", self.offer)
        self.submit_button.setObjectName("batchSubmit")
        self.submit_button.setToolTip("Send the answers as batch jobs to Google (one per model). They keep running "
                                      "if you close GemTune; the answers land in this evaluation view.")
        self.submit_button.clicked.connect(self.submit_requested.emit)
        self.prices_button = QPushButton("Prices…", self.offer)
        self.prices_button.setToolTip("Enter your price per million input and output tokens to see the cost.")
        self.prices_button.clicked.connect(self._edit_prices)
        row.addWidget(self.offer_text, 1)
        row.addWidget(self.prices_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.submit_button, 0, Qt.AlignmentFlag.AlignTop)
        return self.offer

    def _build_jobs(self) -> QWidget:
        self.jobs_box = QWidget(self)
        self.jobs_box.setObjectName("batchJobs")
        row = QHBoxLayout(self.jobs_box)
        row.setContentsMargins(0, 0, 0, 0)
        self.jobs_text = QLabel(self.jobs_box)
        self.jobs_text.setObjectName("batchJobsText")
        self.jobs_text.setTextFormat(Qt.TextFormat.PlainText)
        self.jobs_text.setWordWrap(True)
        self.check_button = QPushButton("Check now", self.jobs_box)
        self.check_button.setObjectName("batchCheck")
        self.check_button.setToolTip("Ask Google how the batch jobs are doing and store the answers of those that "
                                     "ended (this also happens every 20 seconds).")
        self.check_button.clicked.connect(self.check_now)
        self.cancel_button = QPushButton("Cancel batch jobs", self.jobs_box)
        self.cancel_button.setObjectName("batchCancel")
        self.cancel_button.setToolTip("Ask Google to stop this run's jobs; answers already made are kept.")
        self.cancel_button.clicked.connect(self.cancel_jobs)
        row.addWidget(self.jobs_text, 1)
        row.addWidget(self.check_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignTop)
        return self.jobs_box

    def _refresh_visibility(self) -> None:
        self.setVisible(not self.offer.isHidden() or not self.jobs_box.isHidden())

    # -- the offer ----------------------------------------------------------------------------
    def _threshold_changed(self, value: int) -> None:
        self.ctx.settings.set(S.BATCH_ENGINE_THRESHOLD, value)
        self.update_plan(self._refs, self._rows, self._texts)

    def update_plan(self, refs: list[ModelRef], rows: list[tuple[str, str]], texts: tuple[str, str]) -> None:
        """The chosen models and (prompt, expected) rows: offer the batch engine when they make many answers."""
        self._refs, self._rows, self._texts = list(refs), list(rows), texts
        answers = len(rows) * len(refs)
        show = bool(refs) and offer_batch(answers, self.threshold.value())
        self.offer.setVisible(show)
        if show:
            estimate = combined_estimate([estimate_calls(rows, 1, prices_for(self.ctx.settings, r), *texts)
                                          for r in refs])
            self.offer_text.setText(f"This evaluation makes {answers:,} answers, more than "
                                    f"{self.threshold.value():,}: Google's batch engine runs them as batch jobs at "
                                    f"half the online price, off this computer (results usually within hours). "
                                    f"{estimate.words()}")
        self._refresh_visibility()

    def _edit_prices(self) -> None:
        if not self._refs:
            return
        dialog = PricesDialog(self.ctx.settings, price_key(self._refs[0]), self)
        dialog.setObjectName("pricesDialog")
        dialog.finished.connect(lambda _r: self.update_plan(self._refs, self._rows, self._texts))
        dialog.open()

    def cannot_run(self, refs: list[ModelRef]) -> str:
        """Why these models cannot go to the batch engine ("" when they can)."""
        for ref in refs:
            if ref.kind == "checkpoint":
                return (f"“{ref.label.strip()}” is a checkpoint; the batch engine takes a tuned model itself. "
                        "Evaluate checkpoints online (Start evaluation).")
            if ref.model.startswith("tunedModels/"):
                return (f"“{ref.label.strip()}” is a Gemini API tuned model, which the batch engine does not take. "
                        "Evaluate it online (Start evaluation).")
            if ref.kind == "tuned" and not self._batch_model(ref):
                return f"The job of “{ref.label.strip()}” does not record its model name; evaluate it online."
        return ""

    def _batch_model(self, ref: ModelRef) -> str:
        """The name the batch engine takes: a tuned model's ``projects/…/models/…``, not its endpoint."""
        if ref.kind != "tuned":
            return ref.model
        project = self.ctx.project
        if project is None or ref.job_id is None:
            return ""
        from gemtune_desktop.core.project import jobs_repo

        job = jobs_repo.get_job(project.store, ref.job_id)
        return job.tuned_model if job is not None and "/models/" in job.tuned_model else ""

    def submit(self, run: EvalRun, refs: list[ModelRef], items: list[EvalItem], generation: GenerationSettings,
               safety: SafetySettings) -> None:
        """Send one job per model of the stored ``run`` (``items`` are every call the run makes)."""
        project = self.ctx.project
        if project is None:
            return
        db_path = str(project.path)
        for slot, ref in enumerate(refs):
            model = self._batch_model(ref)
            mine = [replace(i, model=model) for i in items if i.slot == slot]
            self.ctx.connections.start(self._submits.slot(slot),
                                       partial(submit_job, db_path=db_path, run_id=run.id, items=mine,
                                               generation=generation, safety=safety),
                                       on_result=partial(self._submitted, run.id),
                                       on_error=partial(self._failed, run.id))
        self._run = run

    def _submitted(self, run_id: int, _record: BatchJobRecord) -> None:
        self.run_updated.emit(run_id)
        self.ctx.batch_job_submitted.emit(run_id)
        self._timer.start()

    def _failed(self, run_id: int, err: UserError) -> None:
        self.jobs_text.setText(error_text(err, "The batch job could not be sent:"))
        self.run_updated.emit(run_id)

    # -- the jobs of the shown run ---------------------------------------------------------------
    def jobs_of(self, run: EvalRun | None) -> list[BatchJobRecord]:
        project = self.ctx.project
        if run is None or project is None:
            return []
        return batch_jobs_repo.list_jobs(project.store, run.id)

    def has_open_jobs(self, run: EvalRun | None) -> bool:
        return any(not j.ended or not j.ingested for j in self.jobs_of(run) if j.state != "SUBMIT_FAILED")

    def words_for(self, run: EvalRun) -> str:
        jobs = self.jobs_of(run)
        if not jobs:
            return ""
        labels = run.labels
        parts = [job_words(j, labels[j.slot] if j.slot < len(labels) else f"model {j.slot + 1}")
                 for j in sorted(jobs, key=lambda j: (j.slot, j.id))]
        return "Batch engine — " + "; ".join(parts) + "."

    def show_run(self, run: EvalRun | None) -> None:
        self._run = run
        words = self.words_for(run) if run is not None else ""
        self.jobs_box.setVisible(bool(words))
        self.jobs_text.setText(words)
        open_jobs = self.has_open_jobs(run)
        self.cancel_button.setEnabled(any(not j.ended for j in self.jobs_of(run)))
        self.check_button.setEnabled(open_jobs)
        if open_jobs:
            self._timer.start()
        else:
            self._timer.stop()
        self._refresh_visibility()

    def check_now(self) -> None:
        project = self.ctx.project
        if project is None or self._poll.running:
            return
        db_path = str(project.path)
        self.ctx.connections.start(self._poll, lambda token, api: api.refresh_batch_jobs(token, db_path),
                                   on_result=self._polled, on_error=self._poll_failed)

    def _polled(self, jobs: list[BatchJobRecord]) -> None:
        for run_id in sorted({j.run_id for j in jobs}):
            self.run_updated.emit(run_id)
        if self._run is not None and not any(j.run_id == self._run.id for j in jobs):
            self.show_run(self._run)

    def _checked_elsewhere(self) -> None:
        if self._run is not None:
            self.run_updated.emit(self._run.id)  # the run shown is read again (its jobs and any stored results)

    def _poll_failed(self, err: UserError) -> None:
        self.jobs_text.setText(f"{self.jobs_text.text()}\n{error_text(err, 'Could not check the batch jobs:')}")

    def cancel_jobs(self) -> None:
        project = self.ctx.project
        jobs = [j for j in self.jobs_of(self._run) if not j.ended]
        if project is None or not jobs:
            return
        db_path = str(project.path)

        def cancel_all(token: CancelToken, api: ServiceApi) -> None:
            for job in jobs:
                api.cancel_batch_job(token, db_path, job)

        run_id = jobs[0].run_id
        self.ctx.connections.start(self._cancel, cancel_all,
                                   on_result=lambda _r: self.run_updated.emit(run_id),
                                   on_error=lambda err: self._failed(run_id, err))

    def shutdown(self) -> None:
        self._timer.stop()

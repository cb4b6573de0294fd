"""Batch evaluation: run held-out examples through one or two models, then read the scores.

Start sends the validation or test split (or chosen rows) on worker threads with bounded
concurrency; each answer is stored in the project as it arrives (batched every 250 ms by a
writer thread, so the GUI never waits for the disk), so Cancel keeps what was done and
Resume sends only the missing rows. Above a threshold of answers the panel offers Google's
batch engine at the batch price instead (:mod:`.batch_engine`); its results land in the same run.

The chosen run is shown in three views: Scores (metrics per model, each labelled with the library and
settings behind it; who won; every row with a word diff; histograms; blind review; CSV export), Judge
(a Gemini judge with the expert's rubric, checked against the expert) and Google's evaluation service
(Agent Platform's model-based metrics).
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
from gemtune_desktop.core.project import evals_repo
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.batch_eval import BatchStats, RetryPolicy, RunSummary
from gemtune_desktop.services.console import ModelRef
from gemtune_desktop.services.eval_plan import choose_examples, export_csv, new_run, pending_items
from gemtune_desktop.ui.playground.batch_engine import BatchEngine
from gemtune_desktop.ui.playground.eval_choices import EvalChoices
from gemtune_desktop.ui.playground.eval_results import EvalResults
from gemtune_desktop.ui.playground.eval_summary import ScoredRun, load_scored, summary_lines
from gemtune_desktop.ui.playground.model_picker import ModelCatalog
from gemtune_desktop.ui.playground.run_list import RunList
from gemtune_desktop.ui.widgets.status_line import StatusLine, Tone, error_text

if TYPE_CHECKING:
    from gemtune_desktop.ui.playground.console_panel import ConsolePanel
    from gemtune_desktop.ui.playground.review_dialog import BlindReviewDialog

log = logging.getLogger(__name__)


class EvalPanel(QWidget):
    """Signals:
        run_finished(int): a run ended (done or stopped) and its summary is stored.
        summary_shown(int): the run's metrics and rows are on screen.
    """

    run_finished = Signal(int)
    summary_shown = Signal(int)

    def __init__(self, ctx: AppContext, catalog: ModelCatalog, console: ConsolePanel,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.catalog = catalog
        self.console = console  # the generation and safety settings, and the dataset texts each model gets
        self.concurrency_default = 4
        self.retry_policy = RetryPolicy()
        self._running_run: EvalRun | None = None
        self._running_project: ProjectSession | None = None
        self._ended_run_id: int | None = None
        self._missing_cache: dict[int, int] = {}
        self._done_before = 0
        self._shown_run: EvalRun | None = None
        self._summary: RunSummary | None = None
        self._run_task = TaskSlot(self, ctx.executor, "evaluation")
        self._summary_task = TaskSlot(self, ctx.executor, "evaluation summary")
        layout = QVBoxLayout(self)
        self.batch = BatchEngine(ctx, self)
        layout.addLayout(self._build_choice_row(catalog))
        layout.addLayout(self._build_start_row())
        layout.addWidget(self.batch)
        layout.addWidget(self.status)
        self.run_list = RunList(ctx, self)
        self.runs = self.run_list.runs
        row = QHBoxLayout()
        row.addWidget(self.run_list, 1)
        row.addWidget(self.resume_button)
        layout.addLayout(row)
        layout.addLayout(self._build_actions_row())
        layout.addWidget(self._build_views(), 1)
        self.run_list.selected.connect(self.show_run)
        self.chart_button.toggled.connect(self.results.show_charts)
        for signal in (self.source.currentIndexChanged, self.two_models.toggled, self.picker_a.model_changed,
                       self.picker_b.model_changed):
            signal.connect(lambda *_a: self.update_plan())
        self.rows_spec.textChanged.connect(lambda _t: self.update_plan())
        self.batch.submit_requested.connect(self.start_on_batch_engine)
        self.batch.run_updated.connect(self._batch_run_updated)
        self.reload_runs()

    # -- layout ---------------------------------------------------------------------------------
    def _build_choice_row(self, catalog: ModelCatalog) -> QHBoxLayout:
        self.choices = EvalChoices(catalog, self)
        self.source, self.rows_spec = self.choices.source, self.choices.rows_spec
        self.picker_a, self.picker_b, self.two_models = self.choices.picker_a, self.choices.picker_b, \
            self.choices.two_models
        row = QHBoxLayout()
        row.addWidget(self.choices)
        return row

    def _build_start_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Parallel requests", self))
        self.concurrency = QSpinBox(self)
        self.concurrency.setObjectName("evalConcurrency")
        self.concurrency.setRange(1, 16)
        self.concurrency.setValue(self.concurrency_default)
        self.concurrency.setToolTip("How many requests are in flight at once. Lower it if you hit your quota.")
        self.concurrency.setAccessibleName("Parallel requests")
        row.addWidget(self.concurrency)
        self.start_button = QPushButton("Start evaluation", self)
        self.start_button.setObjectName("evalStart")
        self.start_button.setToolTip("Sends the answers now, from this computer, with the Console's generation and "
                                     "safety settings.")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("evalCancel")
        self.cancel_button.setToolTip("Stop sending; answers received so far are kept and the run can resume.")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("evalProgress")
        self.progress.setAccessibleName("Evaluation progress")
        self.progress.setFormat("%v of %m answers")
        self.status = QLabel(self)
        self.status.setObjectName("evalStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status_line = StatusLine(self.status)
        self.resume_button = QPushButton("Resume", self)
        self.resume_button.setObjectName("evalResume")
        self.resume_button.setToolTip("Send only the rows this run is still missing (or that failed).")
        self.resume_button.clicked.connect(self.resume)
        row.addWidget(self.start_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        row.addWidget(QLabel("Batch engine above", self))
        row.addWidget(self.batch.threshold)
        row.addWidget(QLabel("answers", self))
        return row

    def _build_actions_row(self) -> QHBoxLayout:
        self.review_button = QPushButton("Blind review…", self)
        self.review_button.setObjectName("evalReview")
        self.review_button.setToolTip("Judge the two models' answers without knowing which is which; your votes can "
                                      "become preference examples.")
        self.review_button.clicked.connect(self.open_review)
        self.chart_button = QPushButton("Charts", self)
        self.chart_button.setObjectName("evalCharts")
        self.chart_button.setCheckable(True)
        self.chart_button.setToolTip("Show histograms of the per-row scores.")
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setToolTip("Save every row with its answers and scores as a CSV file (opens in Excel).")
        self.export_button.clicked.connect(self._export_clicked)
        self.delete_button = QPushButton("Delete run", self)
        self.delete_button.setToolTip("Remove this run and its answers from the project.")
        self.delete_button.clicked.connect(self._delete_run)
        row = QHBoxLayout()
        for b in (self.review_button, self.chart_button, self.export_button, self.delete_button):
            row.addWidget(b)
        row.addStretch(1)
        return row

    def _build_views(self) -> QTabWidget:
        from gemtune_desktop.ui.playground.judge_panel import JudgePanel
        from gemtune_desktop.ui.playground.service_panel import ServicePanel

        self.views = QTabWidget(self)
        self.views.setObjectName("evalViews")
        self.views.setDocumentMode(True)
        self.results = EvalResults(self.views)
        self.judge = JudgePanel(self.ctx, self.catalog, self.views)
        self.service = ServicePanel(self.ctx, self.views)
        self.views.addTab(self.results, "Scores")
        self.views.addTab(self.judge, "Judge")
        self.views.addTab(self.service, "Google's evaluation service")
        return self.views

    # -- runs list --------------------------------------------------------------------------
    def reload_runs(self, select: int | None = None) -> None:
        self.run_list.running_id = self._running_run.id if self._running_run is not None else None
        self.run_list.reload(select)
        self._update_buttons()

    def selected_run(self) -> EvalRun | None:
        return self.run_list.selected_run()

    def is_running(self) -> bool:
        return self._run_task.running

    def _update_buttons(self) -> None:
        running = self.is_running()
        has_project = self.ctx.project is not None
        run = self.selected_run()
        self.start_button.setEnabled(not running and has_project)
        self.cancel_button.setEnabled(running)
        missing = self._missing(run) if run is not None else 0
        self.resume_button.setEnabled(not running and run is not None and missing > 0
                                      and not self.batch.has_open_jobs(run))
        self.review_button.setEnabled(run is not None and len(run.models) == 2)
        self.export_button.setEnabled(run is not None)
        self.delete_button.setEnabled(run is not None and not (running and self._running_run is not None
                                                               and self._running_run.id == run.id))
        no_project = "Open a project to evaluate its validation or test examples."
        if not has_project:
            self.status_line.say(no_project)
        elif self.status.text() == no_project:
            self.status_line.clear()

    def _missing(self, run: EvalRun) -> int:
        """Answers the run still lacks (from its last loaded summary; asks the database otherwise)."""
        if run.id in self._missing_cache:
            return self._missing_cache[run.id]
        project = self.ctx.project
        if project is None:
            return 0
        missing = max(0, run.expected_rows - len(evals_repo.done_keys(project.store, run.id)))
        self._missing_cache[run.id] = missing
        return missing

    # -- what would be sent ------------------------------------------------------------------------
    def chosen_refs(self) -> list[ModelRef | None]:
        refs: list[ModelRef | None] = [self.picker_a.current_ref()]
        if self.two_models.isChecked():
            refs.append(self.picker_b.current_ref())
        return refs

    def _chosen_examples(self) -> list[Example]:
        project = self.ctx.project
        if project is None:
            return []
        try:
            return choose_examples(project.examples, str(self.source.currentData()), self.rows_spec.text())
        except ValueError:
            return []

    def update_plan(self) -> None:
        """Tell the batch engine how many answers the chosen examples and models make (it offers itself above
        its threshold)."""
        refs = [r for r in self.chosen_refs() if r is not None]
        examples = self._chosen_examples()
        self.batch.update_plan(refs, [(e.input, e.output) for e in examples], self.console.dataset_texts_for(
            refs[0], list(refs)) if refs else ("", ""))

    def _prepare(self) -> tuple[list[ModelRef], list[Example]] | None:
        """The models and examples to evaluate, or None after saying what is missing."""
        project = self.ctx.project
        if project is None or self.is_running():
            return None
        refs = self.chosen_refs()
        chosen_refs = [r for r in refs if r is not None]
        if len(chosen_refs) < len(refs):
            self.status_line.say("Choose the model(s) first (the list may still be loading).", Tone.ERROR)
            return None
        other = next((r for r in chosen_refs if self.console.catalog.job_of(r) is not None), None)
        if other is not None:
            self.status_line.say(f"“{other.label.strip()}” was tuned on another connection and answers only there: "
                                 "switch connections in the Console first.", Tone.ERROR)
            return None
        try:
            chosen = choose_examples(project.examples, str(self.source.currentData()), self.rows_spec.text())
        except ValueError as exc:
            self.status_line.say(str(exc), Tone.ERROR)
            return None
        if not chosen:
            which = self.source.currentText().lower().removesuffix("…")
            self.status_line.say(f"There are no {which} with an input to evaluate. Mark some rows as validation "
                                 "or test in the Dataset tab.", Tone.ERROR)
            return None
        return chosen_refs, chosen

    def _create_run(self, refs: list[ModelRef], examples: list[Example]) -> EvalRun | None:
        project = self.ctx.project
        assert project is not None
        run = new_run([r.model for r in refs], [r.label.strip() for r in refs],
                      [self.console.dataset_texts_for(r, list(refs)) for r in refs], str(self.source.currentData()),
                      self.console.generation.settings(), self.console.safety.settings(), examples,
                      [r.base_model for r in refs])
        try:
            evals_repo.create_run(project.store, run)
        except Exception as exc:
            from gemtune_desktop.services.errors import describe

            self.status_line.error(describe(exc), "The run could not be stored:")
            return None
        self.reload_runs(select=run.id)
        return run

    # -- starting -----------------------------------------------------------------------------
    def start(self) -> None:
        prepared = self._prepare()
        if prepared is None:
            return
        run = self._create_run(*prepared)
        if run is not None:
            self.launch(run)

    def start_on_batch_engine(self) -> None:
        prepared = self._prepare()
        if prepared is None:
            return
        refs, examples = prepared
        problem = self.batch.cannot_run(refs)
        if problem:
            self.status_line.say(problem, Tone.ERROR)
            return
        run = self._create_run(refs, examples)
        project = self.ctx.project
        if run is None or project is None:
            return
        items = pending_items(run, project.examples, set()).items
        self.batch.submit(run, refs, items, self.console.generation.settings(), self.console.safety.settings())
        self.status_line.say(f"Sending {len(items):,} requests to Google's batch engine…")

    def resume(self) -> None:
        run = self.selected_run()
        if run is not None and not self.is_running():
            self.launch(run)

    def launch(self, run: EvalRun) -> None:
        """Send every row of ``run`` not stored yet."""
        project = self.ctx.project
        if project is None:
            return
        done = evals_repo.done_keys(project.store, run.id)
        pending = pending_items(run, project.examples, done)
        self._running_run = run
        self._running_project = project
        self._done_before = len(done)
        total = self._done_before + len(pending.items)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(self._done_before)
        if run.status != evals_repo.RUNNING:
            evals_repo.update_run(project.store, run.id, status=evals_repo.RUNNING)
            run.status = evals_repo.RUNNING
        note = f" ({pending.deleted_examples} examples were deleted since and are skipped)" \
            if pending.deleted_examples else ""
        self.status_line.say(f"Evaluating {len(pending.items)} answers with {self.concurrency.value()} parallel "
                             f"requests{note}…")
        generation = GenerationSettings.from_dict(run.settings.get("generation") or {})
        safety = SafetySettings.from_dict(run.settings.get("safety") or {})
        self._missing_cache.pop(run.id, None)
        items, run_id, db_path, expected = pending.items, run.id, str(project.path), run.expected_rows
        concurrency, policy = self.concurrency.value(), self.retry_policy
        self.ctx.connections.start(
            self._run_task, lambda token, api: api.run_batch(token, items, run_id, db_path, expected, generation,
                                                             safety, concurrency, policy),
            on_progress=self._progressed, on_result=self._batch_done, on_error=self._batch_failed,
            on_cancelled=self._batch_cancelled, on_finished=self._batch_finished)
        self._update_buttons()
        self.run_list.running_id = run.id
        self.run_list.retitle(run)

    def cancel(self) -> None:
        self._run_task.cancel()
        self.status_line.say("Cancelling: waiting for the requests in flight…")

    # -- while running ------------------------------------------------------------------------
    def _progressed(self, done: int, _total: int, _text: str) -> None:
        self.progress.setValue(self._done_before + done)

    def _batch_done(self, stats: BatchStats) -> None:
        self.progress.setValue(self._done_before + stats.done)
        self._end_run(stats.words())

    def _batch_cancelled(self) -> None:
        self._end_run("Cancelled. The answers received so far are kept; press Resume to finish the run.")

    def _batch_failed(self, err: UserError) -> None:
        self._end_run(error_text(err, "The run stopped:"))

    def _batch_finished(self) -> None:
        self._update_buttons()
        run_id, self._ended_run_id = self._ended_run_id, None
        if run_id is not None:
            self.run_finished.emit(run_id)

    def _end_run(self, text: str) -> None:
        """The run is over (the worker stored its status); say how it ended."""
        run, project = self._running_run, self._running_project
        self._running_run = self._running_project = None
        self.status_line.say(text)
        if run is None:
            return
        self._missing_cache.pop(run.id, None)
        if project is not None and project is self.ctx.project:
            self.reload_runs(select=run.id)
        self._ended_run_id = run.id  # announced once the task is gone (buttons are up to date then)

    def _batch_run_updated(self, run_id: int) -> None:
        """A batch-engine job of ``run_id`` changed (results stored): show it again if it is on screen."""
        self._missing_cache.pop(run_id, None)
        run = self.selected_run()
        if run is not None and run.id == run_id:
            self.reload_runs(select=run_id)

    # -- showing a run ------------------------------------------------------------------------
    def show_run(self, run: EvalRun | None) -> None:
        self._shown_run = run
        self._summary = None
        project = self.ctx.project
        self.judge.set_run(run)
        self.service.set_run(run)
        self.batch.show_run(run)
        if run is None or project is None:
            self.results.clear("No evaluation run yet." if project is not None else "")
            self._update_buttons()
            return
        self.results.loading(run.labels)
        running = self._running_run is not None and self._running_run.id == run.id
        self._summary_task.start(load_scored, str(project.path), run.id, len(run.models), run.expected_rows,
                                 not running and not project.read_only, on_result=partial(self._summarized, run))
        self._update_buttons()

    def _summarized(self, run: EvalRun, scored: ScoredRun) -> None:
        if self._shown_run is None or self._shown_run.id != run.id:
            return
        loaded = scored.stored
        summary = loaded.summary
        self._summary = summary
        if self._running_run is None or self._running_run.id != run.id:
            self._missing_cache[run.id] = loaded.missing
        self.results.show_summary(run, summary, loaded.rows, [*self._summary_lines(run, summary), *scored.caveats],
                                  scored.provenance)
        self._update_buttons()
        self.summary_shown.emit(run.id)

    def _summary_lines(self, run: EvalRun, summary: RunSummary) -> list[str]:
        return summary_lines(self.ctx.project, run, summary, self._missing(run), self.batch.words_for(run))

    # -- review, export, delete ---------------------------------------------------------------
    def open_review(self) -> BlindReviewDialog | None:
        from gemtune_desktop.ui.playground.review_flow import open_review

        return open_review(self)

    def _export_clicked(self) -> None:
        run = self.selected_run()
        if run is None:
            return
        path, _f = QFileDialog.getSaveFileName(self, "Export evaluation", f"evaluation-{run.id}.csv",
                                               "CSV files (*.csv)")
        if path:
            try:
                self.export_csv(Path(path), run)
            except OSError as exc:
                QMessageBox.warning(self, "Export", f"The file could not be written: {exc.strerror or exc}")
                return
            self.ctx.status_message.emit(f"Saved {path}", 4000)

    def export_csv(self, path: Path, run: EvalRun) -> int:
        """Write one line per answer (UTF-8 with BOM so Excel reads accents); returns the line count."""
        project = self.ctx.project
        rows = evals_repo.list_rows(project.store, run.id) if project is not None else []
        scores = self._summary.scores if self._summary is not None and self._shown_run is not None \
            and self._shown_run.id == run.id else {}
        return export_csv(path, rows, run.labels, scores)

    def _delete_run(self) -> None:
        run = self.selected_run()
        project = self.ctx.project
        if run is None or project is None:
            return
        answer = QMessageBox.question(self, "Delete run", f"Delete evaluation run #{run.id} and its answers?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        evals_repo.delete_run(project.store, run.id)
        self.reload_runs()

    def shutdown(self) -> None:
        if self.is_running():
            self.cancel()
        self.judge.shutdown()
        self.service.shutdown()
        self.batch.shutdown()

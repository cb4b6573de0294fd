"""Batch evaluation: run held-out examples through one or two models, then read the scores.

Start sends the validation or test split (or chosen rows) on worker threads with bounded
concurrency; each answer is stored in the project as it arrives (batched every 250 ms by a
writer thread, so the GUI never waits for the disk), so Cancel keeps what was done and
Resume sends only the missing rows. The
results view shows metrics per model, B-vs-A wins and losses, every row with a word diff,
histograms (on request), a blind review, and CSV export.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core import eval_metrics as em
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
from gemtune_desktop.core.project import evals_repo
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.batch_eval import BatchStats, RetryPolicy, RunSummary, StoredRun, load_run
from gemtune_desktop.services.console import ModelRef
from gemtune_desktop.services.eval_plan import SOURCES, choose_examples, export_csv, group_rows, new_run, pending_items
from gemtune_desktop.ui.playground import project_edits
from gemtune_desktop.ui.playground.eval_results import EvalResults
from gemtune_desktop.ui.playground.model_picker import ModelCatalog, ModelPicker
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
        layout.addLayout(self._build_examples_row())
        layout.addLayout(self._build_models_row(catalog))
        layout.addLayout(self._build_start_row())
        layout.addWidget(self.status)
        layout.addLayout(self._build_runs_rows())
        self.results = EvalResults(self)
        layout.addWidget(self.results, 1)
        self.chart_button.toggled.connect(self.results.show_charts)
        self.reload_runs()

    def _build_examples_row(self) -> QHBoxLayout:
        row1 = QHBoxLayout()
        self.source = QComboBox(self)
        self.source.setObjectName("evalSource")
        self.source.setAccessibleName("Which examples to evaluate")
        self.source.setToolTip("Held-out examples the model did not train on give an honest score.")
        for key, label in SOURCES:
            self.source.addItem(label, key)
        self.rows_spec = QLineEdit(self)
        self.rows_spec.setObjectName("evalRows")
        self.rows_spec.setPlaceholderText("e.g. 1-20, 35")
        self.rows_spec.setAccessibleName("Row numbers to evaluate")
        self.rows_spec.setToolTip("Row numbers as the Dataset tab shows them; ranges with a dash.")
        self.rows_spec.setEnabled(False)
        self.source.currentIndexChanged.connect(lambda _i: self.rows_spec.setEnabled(self.source.currentData() ==
                                                                                      "rows"))
        row1.addWidget(QLabel("Examples", self))
        row1.addWidget(self.source)
        row1.addWidget(self.rows_spec)
        row1.addStretch(1)
        return row1

    def _build_models_row(self, catalog: ModelCatalog) -> QHBoxLayout:
        row1 = QHBoxLayout()
        row1.addWidget(QLabel("Model", self))
        self.picker_a = ModelPicker(catalog, self, "First model to evaluate")
        self.picker_a.setObjectName("evalModelA")
        row1.addWidget(self.picker_a, 1)
        self.two_models = QCheckBox("and", self)
        self.two_models.setObjectName("evalTwoModels")
        self.two_models.setToolTip("Evaluate a second model on the same examples (e.g. base vs tuned).")
        self.picker_b = ModelPicker(catalog, self, "Second model to evaluate")
        self.picker_b.setObjectName("evalModelB")
        self.picker_b.setEnabled(False)
        self.two_models.toggled.connect(self.picker_b.setEnabled)
        row1.addWidget(self.two_models)
        row1.addWidget(self.picker_b, 1)
        return row1

    def _build_start_row(self) -> QHBoxLayout:
        row2 = QHBoxLayout()
        row2.addWidget(QLabel("Parallel requests", self))
        self.concurrency = QSpinBox(self)
        self.concurrency.setObjectName("evalConcurrency")
        self.concurrency.setRange(1, 16)
        self.concurrency.setValue(self.concurrency_default)
        self.concurrency.setToolTip("How many requests are in flight at once. Lower it if you hit your quota.")
        self.concurrency.setAccessibleName("Parallel requests")
        row2.addWidget(self.concurrency)
        self.start_button = QPushButton("Start evaluation", self)
        self.start_button.setObjectName("evalStart")
        self.start_button.setToolTip("Uses the Console's generation and safety settings.")
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
        row2.addWidget(self.start_button)
        row2.addWidget(self.cancel_button)
        row2.addWidget(self.progress, 1)
        return row2

    def _build_runs_rows(self) -> QVBoxLayout:
        rows = QVBoxLayout()
        row3 = QHBoxLayout()
        row3.addWidget(QLabel("Run", self))
        self.runs = QComboBox(self)
        self.runs.setObjectName("evalRuns")
        self.runs.setAccessibleName("Evaluation runs kept in this project")
        self.runs.setMinimumContentsLength(16)
        self.runs.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.runs.currentIndexChanged.connect(lambda _i: self.show_run(self.selected_run()))
        row3.addWidget(self.runs, 1)
        self.resume_button = QPushButton("Resume", self)
        self.resume_button.setObjectName("evalResume")
        self.resume_button.setToolTip("Send only the rows this run is still missing (or that failed).")
        self.resume_button.clicked.connect(self.resume)
        self.review_button = QPushButton("Blind review…", self)
        self.review_button.setObjectName("evalReview")
        self.review_button.setToolTip("Judge the two models' answers without knowing which is which.")
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
        row3.addWidget(self.resume_button)
        rows.addLayout(row3)
        row4 = QHBoxLayout()
        for b in (self.review_button, self.chart_button, self.export_button, self.delete_button):
            row4.addWidget(b)
        row4.addStretch(1)
        rows.addLayout(row4)
        return rows

    # -- runs list --------------------------------------------------------------------------
    def reload_runs(self, select: int | None = None) -> None:
        project = self.ctx.project
        if select is None:
            current = self.runs.currentData()
            keep = int(current) if current is not None else None
        else:
            keep = select
        self.runs.blockSignals(True)
        self.runs.clear()
        if project is not None:
            for run in evals_repo.list_runs(project.store):
                self.runs.addItem(self._run_title(run), run.id)
        index = self.runs.findData(keep) if keep is not None else 0
        self.runs.setCurrentIndex(max(0, index) if self.runs.count() else -1)
        self.runs.blockSignals(False)
        self.show_run(self.selected_run())
        self._update_buttons()

    def _run_title(self, run: EvalRun) -> str:
        status = run.status
        if status == evals_repo.RUNNING and (self._running_run is None or self._running_run.id != run.id):
            status = "interrupted"
        source = dict(SOURCES).get(run.source, run.source).removesuffix("…")
        when = run.created_at.replace("T", " ").replace("+00:00", "")
        return f"#{run.id} · {when} · {source} · {' vs '.join(run.labels)} · {status}"

    def selected_run(self) -> EvalRun | None:
        project = self.ctx.project
        run_id = self.runs.currentData()
        if project is None or run_id is None:
            return None
        return evals_repo.get_run(project.store, int(run_id))

    def is_running(self) -> bool:
        return self._run_task.running

    def _update_buttons(self) -> None:
        running = self.is_running()
        has_project = self.ctx.project is not None
        run = self.selected_run()
        self.start_button.setEnabled(not running and has_project)
        self.cancel_button.setEnabled(running)
        missing = self._missing(run) if run is not None else 0
        self.resume_button.setEnabled(not running and run is not None and missing > 0)
        self.review_button.setEnabled(run is not None and len(run.models) == 2)
        self.export_button.setEnabled(run is not None)
        self.delete_button.setEnabled(run is not None and not (running and self._running_run is not None
                                                               and self._running_run.id == run.id))
        if not has_project:
            self.status_line.say("Open a project to evaluate its validation or test examples.")

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

    # -- starting -----------------------------------------------------------------------------
    def start(self) -> None:
        project = self.ctx.project
        if project is None or self.is_running():
            return
        refs: list[ModelRef | None] = [self.picker_a.current_ref()]
        if self.two_models.isChecked():
            refs.append(self.picker_b.current_ref())
        chosen_refs = [r for r in refs if r is not None]
        if len(chosen_refs) < len(refs):
            self.status_line.say("Choose the model(s) first (the list may still be loading).", Tone.ERROR)
            return
        source = str(self.source.currentData())
        try:
            chosen = choose_examples(project.examples, source, self.rows_spec.text())
        except ValueError as exc:
            self.status_line.say(str(exc), Tone.ERROR)
            return
        if not chosen:
            which = self.source.currentText().lower().removesuffix("…")
            self.status_line.say(f"There are no {which} with an input to evaluate. Mark some rows as validation "
                                 "or test in the Dataset tab.", Tone.ERROR)
            return
        run = new_run([r.model for r in chosen_refs], [r.label.strip() for r in chosen_refs],
                      [self.console.dataset_texts_for(r) for r in chosen_refs], source,
                      self.console.generation.settings(), self.console.safety.settings(), chosen)
        evals_repo.create_run(project.store, run)
        self.reload_runs(select=run.id)
        self.launch(run)

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
        self.runs.setItemText(self.runs.currentIndex(), self._run_title(run))

    def cancel(self) -> None:
        self._run_task.cancel()
        self.status_line.say("Cancelling: waiting for the requests in flight…")

    # -- while running ------------------------------------------------------------------------
    def _progressed(self, done: int, _total: int, _text: str) -> None:
        self.progress.setValue(self._done_before + done)

    def _batch_done(self, stats: BatchStats) -> None:
        self._end_run(f"Finished: {stats.done} answers in {stats.elapsed_s:.1f} s"
                      + (f", {stats.failed} failed" if stats.failed else "")
                      + (f"; waited {stats.retries_429}× for the rate limit" if stats.retries_429 else "")
                      + (f"; retried {stats.retries_other}× after a service error" if stats.retries_other else "")
                      + ".")

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

    # -- showing a run ------------------------------------------------------------------------
    def show_run(self, run: EvalRun | None) -> None:
        self._shown_run = run
        self._summary = None
        project = self.ctx.project
        if run is None or project is None:
            self.results.clear("No evaluation run yet." if project is not None else "")
            self._update_buttons()
            return
        self.results.loading(run.labels)
        running = self._running_run is not None and self._running_run.id == run.id
        self._summary_task.start(load_run, str(project.path), run.id, len(run.models), run.expected_rows,
                                 not running and not project.read_only, on_result=partial(self._summarized, run))
        self._update_buttons()

    def _summarized(self, run: EvalRun, loaded: StoredRun) -> None:
        if self._shown_run is None or self._shown_run.id != run.id:
            return
        summary = loaded.summary
        self._summary = summary
        if self._running_run is None or self._running_run.id != run.id:
            self._missing_cache[run.id] = loaded.missing
        self.results.show_summary(run, summary, loaded.rows, self._summary_lines(run, summary))
        self._update_buttons()
        self.summary_shown.emit(run.id)

    def _summary_lines(self, run: EvalRun, summary: RunSummary) -> list[str]:
        labels = run.labels
        missing = self._missing(run)
        lines = [f"{missing} answers still missing — press Resume." if missing else
                 f"All {run.expected_rows} answers received."]
        wl = summary.wins_losses
        if wl and len(labels) == 2:
            lines.append(f"{labels[1]} vs {labels[0]} on word overlap (token F1): {wl['wins']} better, "
                         f"{wl['losses']} worse, {wl['ties']} the same.")
        project = self.ctx.project
        if project is not None and len(labels) == 2:
            tally = em.preference_tally(evals_repo.reviews(project.store, run.id).values())
            if sum(tally.values()):
                lines.append(f"Blind review: {labels[0]} preferred {tally['a']}×, {labels[1]} {tally['b']}×, "
                             f"ties {tally['tie']}.")
        return lines

    # -- review, export, delete ---------------------------------------------------------------
    def open_review(self) -> BlindReviewDialog | None:
        run = self.selected_run()
        project = self.ctx.project
        if run is None or project is None or len(run.models) != 2:
            return None
        from gemtune_desktop.ui.playground.review_dialog import BlindReviewDialog

        store = project.store
        groups = group_rows(evals_repo.list_rows(store, run.id), {})

        def record(example_id: int, choice: str) -> None:
            evals_repo.set_review(store, run.id, example_id, choice)

        def correct(example_id: int, text: str) -> None:
            try:
                project_edits.set_output(project, example_id, text)
            except Exception as exc:
                from gemtune_desktop.services.errors import describe

                QMessageBox.warning(self, "Correction", error_text(describe(exc), "The correction could not be "
                                                                   "saved:", tone=Tone.PLAIN, hint=False))
                return
            self.ctx.status_message.emit(f"Example {example_id}'s expected output was corrected.", 4000)

        dialog = BlindReviewDialog(run.id, groups, evals_repo.reviews(store, run.id), run.labels, record, correct,
                                   self)
        dialog.setObjectName("blindReview")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.show_run(self.selected_run()))
        dialog.open()
        return dialog

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

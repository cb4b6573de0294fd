"""Batch evaluation: run held-out examples through one or two models, then read the scores.

Start sends the validation or test split (or chosen rows) on worker threads with bounded
concurrency; each answer is stored in the project as it arrives (batched every 250 ms by a
writer thread, so the GUI never waits for the disk), so Cancel keeps what was done and
Resume sends only the missing rows. The
results view shows metrics per model, B-vs-A wins and losses, every row with a word diff,
histograms (on request), a blind review, and CSV export.
"""

from __future__ import annotations

import csv
import logging
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core import eval_metrics as em
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings, category_label
from gemtune_desktop.core.project import evals_repo
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.batch_eval import (
    EvalItem,
    RetryPolicy,
    RunSummary,
    StoredRun,
    load_run,
)
from gemtune_desktop.services.console import ModelRef
from gemtune_desktop.ui import test_project
from gemtune_desktop.ui.test_eval_rows import EvalRowsModel, group_rows, word_diff_html
from gemtune_desktop.ui.test_models import ModelCatalog, ModelPicker

log = logging.getLogger(__name__)

SOURCES = (("validation", "Validation examples"), ("test", "Test examples"),
           ("validation+test", "Validation and test examples"), ("rows", "Rows by number…"))
SUMMARY_ROWS = (*em.ROW_METRICS, "distinct_1", "distinct_2", "mean_length_words", "mean_length_chars")


class EvalPanel(QWidget):
    """Signals:
        run_finished(int): a run ended (done or stopped) and its summary is stored.
        summary_shown(int): the run's metrics and rows are on screen.
    """

    run_finished = Signal(int)
    summary_shown = Signal(int)

    def __init__(self, ctx: AppContext, catalog: ModelCatalog, console: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.console = console  # ConsolePanel: settings and dataset texts
        self.concurrency_default = 4
        self.retry_policy = RetryPolicy()
        self._running_run: EvalRun | None = None
        self._running_store: Any = None
        self._ended_run_id: int | None = None
        self._missing_cache: dict[int, int] = {}
        self._done_before = 0
        self._shown_run: EvalRun | None = None
        self._summary: RunSummary | None = None
        self.chart: Any = None
        self._run_task = TaskSlot(self, ctx.executor, "evaluation")
        self._summary_task = TaskSlot(self, ctx.executor, "evaluation summary")

        layout = QVBoxLayout(self)
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
        layout.addLayout(row1)
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
        layout.addLayout(row1)

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
        row2.addWidget(self.start_button)
        row2.addWidget(self.cancel_button)
        row2.addWidget(self.progress, 1)
        layout.addLayout(row2)
        layout.addWidget(self.status)

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
        self.chart_button.toggled.connect(self._toggle_chart)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setToolTip("Save every row with its answers and scores as a CSV file (opens in Excel).")
        self.export_button.clicked.connect(self._export_clicked)
        self.delete_button = QPushButton("Delete run", self)
        self.delete_button.setToolTip("Remove this run and its answers from the project.")
        self.delete_button.clicked.connect(self._delete_run)
        row3.addWidget(self.resume_button)
        layout.addLayout(row3)
        row4 = QHBoxLayout()
        for b in (self.review_button, self.chart_button, self.export_button, self.delete_button):
            row4.addWidget(b)
        row4.addStretch(1)
        layout.addLayout(row4)

        self.split = QSplitter(Qt.Orientation.Vertical, self)
        top = QWidget(self.split)
        top_layout = QHBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        self.metrics_table = QTableWidget(top)
        self.metrics_table.setObjectName("evalMetrics")
        self.metrics_table.setAccessibleName("Metrics per model")
        self.metrics_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics_table.horizontalHeader().setAccessibleName("Models")
        self.metrics_table.verticalHeader().setAccessibleName("Metrics")
        top_layout.addWidget(self.metrics_table, 5)
        self.summary = QLabel(top)
        self.summary.setObjectName("evalSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop)
        top_layout.addWidget(self.summary, 2)
        self.chart_holder = QWidget(self.split)
        self.chart_holder.setMinimumHeight(200)
        QVBoxLayout(self.chart_holder).setContentsMargins(0, 0, 0, 0)
        self.chart_holder.hide()
        self.rows_model = EvalRowsModel(self)
        self.rows_view = QTableView(self.split)
        self.rows_view.setObjectName("evalRowsView")
        self.rows_view.setAccessibleName("Every example with the expected and actual answers")
        self.rows_view.setModel(self.rows_model)
        self.rows_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rows_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.rows_view.verticalHeader().hide()
        self.rows_view.horizontalHeader().setAccessibleName("Result columns")
        self.rows_model.modelReset.connect(self._size_row_columns)
        self.rows_view.selectionModel().selectionChanged.connect(lambda *_a: self._show_diff())
        self.diff = QTextBrowser(self.split)
        self.diff.setObjectName("evalDiff")
        self.diff.setAccessibleName("Differences between the expected and actual answers")
        layout.addWidget(self.split, 1)

        self.reload_runs()

    # -- runs list --------------------------------------------------------------------------
    def reload_runs(self, select: int | None = None) -> None:
        store = test_project.store_of(self.ctx)
        if select is None:
            current = self.runs.currentData()
            keep = int(current) if current is not None else None
        else:
            keep = select
        self.runs.blockSignals(True)
        self.runs.clear()
        if store is not None:
            for run in evals_repo.list_runs(store):
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
        store = test_project.store_of(self.ctx)
        run_id = self.runs.currentData()
        if store is None or run_id is None:
            return None
        return evals_repo.get_run(store, int(run_id))

    def is_running(self) -> bool:
        return self._run_task.running

    def _update_buttons(self) -> None:
        running = self.is_running()
        has_project = test_project.store_of(self.ctx) is not None
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
            self.status.setText("Open a project to evaluate its validation or test examples.")

    def _missing(self, run: EvalRun) -> int:
        """Answers the run still lacks (from its last loaded summary; asks the database otherwise)."""
        if run.id in self._missing_cache:
            return self._missing_cache[run.id]
        store = test_project.store_of(self.ctx)
        if store is None:
            return 0
        missing = max(0, run.expected_rows - len(evals_repo.done_keys(store, run.id)))
        self._missing_cache[run.id] = missing
        return missing

    # -- starting -----------------------------------------------------------------------------
    def _chosen_examples(self) -> list[Example]:
        source = self.source.currentData()
        if source == "rows":
            return test_project.examples_by_row_numbers(self.ctx, self.rows_spec.text())
        splits = {"validation": {Split.VALIDATION}, "test": {Split.TEST},
                  "validation+test": {Split.VALIDATION, Split.TEST}}[source]
        return test_project.split_examples(self.ctx, splits)

    def start(self) -> None:
        store = test_project.store_of(self.ctx)
        if store is None or self.is_running():
            return
        refs: list[ModelRef | None] = [self.picker_a.current_ref()]
        if self.two_models.isChecked():
            refs.append(self.picker_b.current_ref())
        if any(r is None for r in refs):
            self.status.setText("✖ Choose the model(s) first (the list may still be loading).")
            return
        try:
            chosen = self._chosen_examples()
        except ValueError as exc:
            self.status.setText(f"✖ {exc}")
            return
        chosen = [e for e in chosen if e.input.strip()]
        if not chosen:
            which = self.source.currentText().lower().removesuffix("…")
            self.status.setText(f"✖ There are no {which} with an input to evaluate. Mark some rows as validation "
                                "or test in the Dataset tab.")
            return
        models = [r.model for r in refs if r is not None]
        texts = [list(self.console.dataset_texts_for(r)) for r in refs]
        settings = {"generation": self.console.generation.settings().to_dict(),
                    "safety": self.console.safety.settings().to_dict(),
                    "labels": [r.label.strip() for r in refs if r is not None],
                    "texts": texts, "example_ids": [e.id for e in chosen]}
        run = EvalRun(models=models, source=str(self.source.currentData()), settings=settings)
        evals_repo.create_run(store, run)
        self.reload_runs(select=run.id)
        self.launch(run)

    def resume(self) -> None:
        run = self.selected_run()
        if run is not None and not self.is_running():
            self.launch(run)

    def launch(self, run: EvalRun) -> None:
        """Send every row of ``run`` not stored yet."""
        store = test_project.store_of(self.ctx)
        if store is None:
            return
        by_id = {e.id: e for e in test_project.examples(self.ctx)}
        done = evals_repo.done_keys(store, run.id)
        texts = run.settings.get("texts") or [["", ""]] * len(run.models)
        items: list[EvalItem] = []
        missing_examples = 0
        for eid in run.example_ids:
            ex = by_id.get(eid)
            if ex is None:
                missing_examples += 1
                continue
            for slot, model in enumerate(run.models):
                if (eid, slot) in done:
                    continue
                pre, system = ([*list(texts[slot]), "", ""])[:2] if slot < len(texts) else ("", "")
                items.append(EvalItem(eid, slot, model, ex.input, ex.output, pre, system))
        self._running_run = run
        self._running_store = store
        self._done_before = len(done)
        total = self._done_before + len(items)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(self._done_before)
        if run.status != evals_repo.RUNNING:
            evals_repo.update_run(store, run.id, status=evals_repo.RUNNING)
            run.status = evals_repo.RUNNING
        note = f" ({missing_examples} examples were deleted since and are skipped)" if missing_examples else ""
        self.status.setText(f"Evaluating {len(items)} answers with {self.concurrency.value()} parallel requests"
                            f"{note}…")
        generation = GenerationSettings.from_dict(run.settings.get("generation") or {})
        safety = SafetySettings.from_dict(run.settings.get("safety") or {})
        self._missing_cache.pop(run.id, None)
        run_id, db_path, expected, concurrency, policy = \
            run.id, str(store.path), run.expected_rows, self.concurrency.value(), self.retry_policy
        self.ctx.connections.start(
            self._run_task, lambda token, api: api.run_batch(token, items, run_id, db_path, expected, generation,
                                                             safety, concurrency, policy),
            on_progress=self._progressed, on_result=self._batch_done, on_error=self._batch_failed,
            on_cancelled=self._batch_cancelled, on_finished=self._batch_finished)
        self._update_buttons()
        self.runs.setItemText(self.runs.currentIndex(), self._run_title(run))

    def cancel(self) -> None:
        self._run_task.cancel()
        self.status.setText("Cancelling: waiting for the requests in flight…")

    # -- while running ------------------------------------------------------------------------
    def _progressed(self, done: int, _total: int, _text: str) -> None:
        self.progress.setValue(self._done_before + done)

    def _batch_done(self, stats: Any) -> None:
        self._end_run(evals_repo.DONE, f"Finished: {stats.done} answers in {stats.elapsed_s:.1f} s"
                      + (f", {stats.failed} failed" if stats.failed else "")
                      + (f"; waited {stats.retries_429}× for the rate limit" if stats.retries_429 else "")
                      + (f"; retried {stats.retries_other}× after a service error" if stats.retries_other else "")
                      + ".")

    def _batch_cancelled(self) -> None:
        self._end_run(evals_repo.STOPPED, "Cancelled. The answers received so far are kept; press Resume to "
                                          "finish the run.")

    def _batch_failed(self, err: UserError) -> None:
        self._end_run(evals_repo.STOPPED, f"✖ The run stopped: {err.message} {err.hint}".strip())

    def _batch_finished(self) -> None:
        self._update_buttons()
        run_id, self._ended_run_id = self._ended_run_id, None
        if run_id is not None:
            self.run_finished.emit(run_id)

    def _end_run(self, status: str, text: str) -> None:
        run, store = self._running_run, self._running_store
        self._running_run = self._running_store = None
        self.status.setText(text)
        if run is None:
            return
        self._missing_cache.pop(run.id, None)
        if store is not None and store is test_project.store_of(self.ctx):  # the worker stored the status
            self.reload_runs(select=run.id)
        self._ended_run_id = run.id  # announced once the task is gone (buttons are up to date then)

    # -- showing a run ------------------------------------------------------------------------
    def show_run(self, run: EvalRun | None) -> None:
        self._shown_run = run
        self._summary = None
        store = test_project.store_of(self.ctx)
        if run is None or store is None:
            self.metrics_table.clear()
            self.metrics_table.setRowCount(0)
            self.metrics_table.setColumnCount(0)
            self.rows_model.set_rows([], ["Model A"])
            self.summary.setText("No evaluation run yet." if store is not None else "")
            self.diff.clear()
            self._update_buttons()
            return
        self.rows_model.set_rows([], run.labels)
        self.summary.setText("Loading and scoring the answers…")
        running = self._running_run is not None and self._running_run.id == run.id
        self._summary_task.start(load_run, str(store.path), run.id, len(run.models), run.expected_rows,
                                 not running and not getattr(store, "read_only", False),
                                 on_result=partial(self._summarized, run))
        self._update_buttons()

    def _summarized(self, run: EvalRun, loaded: StoredRun) -> None:
        if self._shown_run is None or self._shown_run.id != run.id:
            return
        summary = loaded.summary
        self._summary = summary
        if self._running_run is None or self._running_run.id != run.id:
            self._missing_cache[run.id] = loaded.missing
        self.rows_model.set_rows(group_rows(loaded.rows, summary.scores), run.labels)  # type: ignore[arg-type]
        self._fill_metrics(run, summary)
        if self.chart is not None and self.chart_holder.isVisible():
            self._update_chart()
        self._update_buttons()
        self.summary_shown.emit(run.id)

    def _fill_metrics(self, run: EvalRun, summary: RunSummary) -> None:
        labels = run.labels
        blocked_keys = sorted({k for m in summary.models for k in dict(m.get("blocked") or {})})  # type: ignore[call-overload]
        row_keys = [*SUMMARY_ROWS, "answered", "errors", *[f"blocked:{k}" for k in blocked_keys]]
        t = self.metrics_table
        t.clear()
        t.setColumnCount(len(labels))
        t.setRowCount(len(row_keys))
        t.setHorizontalHeaderLabels(labels)
        for c, label in enumerate(labels):
            header_item = t.horizontalHeaderItem(c)
            if header_item is not None:
                header_item.setToolTip(label)
        names = []
        for r, key in enumerate(row_keys):
            if key.startswith("blocked:"):
                names.append(f"Blocked: {category_label(key.split(':', 1)[1])}")
            else:
                names.append({"answered": "Answered", "errors": "Failed requests"}.get(key, em.METRIC_LABELS.get(key,
                                                                                                                 key)))
            for c, model in enumerate(summary.models):
                t.setItem(r, c, QTableWidgetItem(self._metric_text(key, model)))
        t.setVerticalHeaderLabels(names)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        lines = [f"{self._missing(run)} answers still missing — press Resume." if self._missing(run) else
                 f"All {run.expected_rows} answers received."]
        wl = summary.wins_losses
        if wl and len(labels) == 2:
            lines.append(f"{labels[1]} vs {labels[0]} on word overlap (token F1): {wl['wins']} better, "
                         f"{wl['losses']} worse, {wl['ties']} the same.")
        store = test_project.store_of(self.ctx)
        if store is not None and len(labels) == 2:
            tally = em.preference_tally(evals_repo.reviews(store, run.id).values())
            if sum(tally.values()):
                lines.append(f"Blind review: {labels[0]} preferred {tally['a']}×, {labels[1]} {tally['b']}×, "
                             f"ties {tally['tie']}.")
        self.summary.setText("\n".join(lines))

    @staticmethod
    def _metric_text(key: str, model: dict[str, Any]) -> str:
        if key.startswith("blocked:"):
            return str(dict(model.get("blocked") or {}).get(key.split(":", 1)[1], 0))
        if key in ("answered", "errors"):
            return str(model.get(key, 0))
        if key in em.ROW_METRICS:
            value = float(dict(model.get("means") or {}).get(key, 0.0))
            if key == "chrf":
                return f"{value:.1f}"
            if key in ("exact_match", "normalized_exact_match"):
                return f"{value * 100:.1f} %"
            return f"{value:.3f}"
        value = float(model.get(key, 0.0))
        return f"{value:.1f}" if key.startswith("mean_length") else f"{value:.3f}"

    def _size_row_columns(self) -> None:
        """Fixed widths for the number and score columns, the rest share the width (never measured per row)."""
        header = self.rows_view.horizontalHeader()
        narrow = header.fontMetrics().horizontalAdvance("Example") + 24
        for col in range(self.rows_model.columnCount()):
            score = col == 0 or (col > 2 and (col - 3) % 2 == 1)
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed if score else QHeaderView.ResizeMode.Stretch)
            if score:
                header.resizeSection(col, narrow)

    def _show_diff(self) -> None:
        rows = self.rows_view.selectionModel().selectedRows()
        g = self.rows_model.group_at(rows[0].row()) if rows else None
        if g is None:
            self.diff.clear()
            return
        import html

        parts = [f"<p><b>Input</b><br>{html.escape(g.input)}</p>",
                 f"<p><b>Expected</b><br>{html.escape(g.expected)}</p>",
                 "<p><i>Changes from the expected answer: [-removed-] words on red, {+added+} words on green.</i></p>"]
        for slot, label in enumerate(self.rows_model.labels):
            row = g.answers.get(slot)
            if row is None:
                continue
            if row.error:
                body = html.escape(f"✖ {row.error}")
            else:
                body = word_diff_html(g.expected, row.actual)
                if row.blocked:
                    body = html.escape(f"⛔ blocked ({category_label(row.blocked)}) ") + body
            parts.append(f"<p><b>{html.escape(label)}</b></p>{body}")
        self.diff.setHtml("".join(parts))

    # -- charts, review, export -------------------------------------------------------------
    def _toggle_chart(self, on: bool) -> None:
        if on and self.chart is None:
            from gemtune_desktop.ui.test_charts import MetricChart

            self.chart = MetricChart(self.chart_holder)
            holder_layout = self.chart_holder.layout()
            if holder_layout is not None:
                holder_layout.addWidget(self.chart)
        self.chart_holder.setVisible(on)
        if on:
            self._update_chart()

    def _update_chart(self) -> None:
        run, summary = self._shown_run, self._summary
        if self.chart is None or run is None or summary is None:
            return
        from gemtune_desktop.ui.test_charts import chart_values

        self.chart.set_data(run.labels, chart_values(summary.scores, len(run.models)))

    def open_review(self) -> Any:
        run = self.selected_run()
        store = test_project.store_of(self.ctx)
        if run is None or store is None or len(run.models) != 2:
            return None
        from gemtune_desktop.ui.test_review import BlindReviewDialog

        groups = group_rows(evals_repo.list_rows(store, run.id), {})

        def record(example_id: int, choice: str) -> None:
            evals_repo.set_review(store, run.id, example_id, choice)

        def correct(example_id: int, text: str) -> None:
            try:
                test_project.set_output(self.ctx, example_id, text)
            except Exception as exc:
                from gemtune_desktop.services.errors import describe

                QMessageBox.warning(self, "Correction", f"The correction could not be saved: "
                                    f"{describe(exc).message}")
                return
            self.ctx.status_message.emit(f"Example {example_id}'s expected output was corrected.", 4000)

        dialog = BlindReviewDialog(run.id, groups, evals_repo.reviews(store, run.id), run.labels, record, correct,
                                   self)
        dialog.setObjectName("blindReview")
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
        store = test_project.store_of(self.ctx)
        rows = evals_repo.list_rows(store, run.id) if store is not None else []
        labels = run.labels
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["example_id", "model", "input", "expected", "actual", "finish_reason", "blocked",
                             "error", "latency_ms", *em.ROW_METRICS])
            cached = self._summary.scores if self._summary is not None and self._shown_run is not None \
                and self._shown_run.id == run.id else {}
            for r in rows:
                scores = {} if r.error else cached.get((r.example_id, r.slot)) or em.row_scores(r.expected, r.actual)
                writer.writerow([r.example_id, labels[r.slot] if r.slot < len(labels) else r.slot, r.input,
                                 r.expected, r.actual, r.finish_reason, r.blocked, r.error, r.latency_ms,
                                 *[f"{scores[k]:.4f}" if k in scores else "" for k in em.ROW_METRICS]])
        return len(rows)

    def _delete_run(self) -> None:
        run = self.selected_run()
        store = test_project.store_of(self.ctx)
        if run is None or store is None:
            return
        answer = QMessageBox.question(self, "Delete run", f"Delete evaluation run #{run.id} and its answers?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        evals_repo.delete_run(store, run.id)
        self.reload_runs()

    def shutdown(self) -> None:
        if self.is_running():
            self.cancel()

"""Google's Gen AI evaluation service on a run: fluency, coherence, safety, groundedness, and A vs B.

Agent Platform's ``evaluateInstances`` (:mod:`gemtune_desktop.services.genai_eval`) scores each answer with
Google's own judge model; the pairwise metric says which of the run's two answers is better. The scores are
stored in the project as they arrive (a stopped run keeps them and resumes with the rest) and shown per model
with how many rows were scored, so partial results read as partial. On a Gemini API key connection there is no
such service: the panel says so and points to the judge.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.project import judge_repo
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.batch_eval import BatchStats, RetryPolicy
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.genai_eval import (
    METRICS,
    PAIRWISE,
    PAIRWISE_LABEL,
    POINTWISE,
    PROVENANCE,
    MetricFigures,
    load_service_summary,
)
from gemtune_desktop.ui.playground.eval_results import slot_name
from gemtune_desktop.ui.widgets.status_line import StatusLine, Tone

ELSEWHERE = ("Google's Gen AI evaluation service (fluency, coherence, safety, groundedness, and a pairwise A vs B "
             "judge) is part of Agent Platform on Google Cloud; the connection in use, {connection}, does not offer "
             "it. Use the Judge tab with your own rubric instead: it works on every connection.")


def figures_words(f: MetricFigures, labels: list[str], answered: int) -> str:
    """One cell: the mean and how many rows it rests on (partial when fewer than the answered rows)."""
    if f.metric == PAIRWISE:
        a, b = ([*labels, "A", "B"])[:2]
        c = f.choices
        text = f"{b} better on {c.get('b', 0)}, {a} on {c.get('a', 0)}, ties {c.get('tie', 0)}"
    else:
        text = "—" if f.mean is None else f"{f.mean:.2f}"
    text += f" ({f.scored} scored"
    if f.failed:
        text += f", {f.failed} failed"
    return text + (", partial)" if f.scored < answered else ")")


class ServicePanel(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.retry_policy = RetryPolicy()
        self.concurrency = 4
        self.run: EvalRun | None = None
        self._task = TaskSlot(self, ctx.executor, "evaluation service")
        self._summary_task = TaskSlot(self, ctx.executor, "evaluation service summary")
        layout = QVBoxLayout(self)
        self.note = QLabel(self)
        self.note.setObjectName("serviceNote")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.body = QWidget(self)
        layout.addWidget(self.body, 1)
        self._build_body()
        ctx.connections.connection_changed.connect(lambda _p: self.reload())
        self.set_run(None)

    def _build_body(self) -> None:
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.metric_boxes: dict[str, QCheckBox] = {}
        for name in METRICS:
            info = POINTWISE.get(name)
            box = QCheckBox(info.label if info is not None else PAIRWISE_LABEL, self.body)
            box.setObjectName(f"serviceMetric_{name}")
            box.setToolTip(info.help if info is not None else "Google's judge reads both answers with the expected "
                           "one and says which is better (needs a run of two models).")
            box.setChecked(name in ("fluency", "coherence"))
            row.addWidget(box)
            self.metric_boxes[name] = box
        row.addStretch(1)
        layout.addLayout(row)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Score with Google's evaluation service", self.body)
        self.start_button.setObjectName("serviceStart")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Stop", self.body)
        self.cancel_button.setObjectName("serviceCancel")
        self.cancel_button.clicked.connect(self._task.cancel)
        self.progress = QProgressBar(self.body)
        self.progress.setFormat("%v of %m scores")
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        layout.addLayout(buttons)
        self.status = QLabel(self.body)
        self.status.setObjectName("serviceStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status_line = StatusLine(self.status)
        layout.addWidget(self.status)
        provenance = QLabel(PROVENANCE, self.body)
        provenance.setWordWrap(True)
        provenance.setObjectName("serviceProvenance")
        layout.addWidget(provenance)
        self.legend = QLabel(self.body)
        self.legend.setObjectName("serviceLegend")
        self.legend.setTextFormat(Qt.TextFormat.PlainText)
        self.legend.setWordWrap(True)
        layout.addWidget(self.legend)
        split = QSplitter(Qt.Orientation.Vertical, self.body)
        self.table = QTableWidget(split)
        self.table.setObjectName("serviceFigures")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rows = QTableWidget(split)
        self.rows.setObjectName("serviceRows")
        self.rows.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rows.verticalHeader().hide()
        self.rows.setWordWrap(False)
        layout.addWidget(split, 1)

    @property
    def available(self) -> bool:
        return self.ctx.connections.profile.backend is Backend.AGENT_PLATFORM

    def set_run(self, run: EvalRun | None) -> None:
        if self.run is not None and run is not None and self.run.id != run.id and self._task.running:
            self._task.cancel()
        self.run = run
        self.reload()

    def reload(self) -> None:
        available = self.available
        self.body.setVisible(available)
        self.note.setVisible(not available)
        if not available:
            self.note.setText(ELSEWHERE.format(connection=self.ctx.connections.profile.label))
        run, project = self.run, self.ctx.project
        two = run is not None and len(run.models) == 2
        self.metric_boxes[PAIRWISE].setEnabled(two)
        if not two:
            self.metric_boxes[PAIRWISE].setChecked(False)
        self.start_button.setEnabled(available and run is not None and not self._task.running)
        self.cancel_button.setEnabled(self._task.running)
        self.table.clear()
        self.table.setRowCount(0)
        self.rows.setRowCount(0)
        if run is None or project is None:
            return
        db_path, run_id = str(project.path), run.id
        self._summary_task.start(lambda _token: load_service_summary(db_path, run_id),
                                 on_result=partial(self._show, run))

    def _show(self, run: EvalRun, figures: list[MetricFigures]) -> None:
        project = self.ctx.project
        if self.run is None or self.run.id != run.id or project is None:
            return
        from gemtune_desktop.core.project import evals_repo

        answered = {s: sum(1 for r in evals_repo.list_rows(project.store, run.id, s) if not r.error)
                    for s in range(len(run.models))}
        self.legend.setText("   ·   ".join(f"{slot_name(i)}: {label}" for i, label in enumerate(run.labels)))
        metrics = [m for m in METRICS if any(f.metric == m for f in figures)]
        t = self.table
        t.setColumnCount(len(run.models))
        t.setHorizontalHeaderLabels([slot_name(i) for i in range(len(run.models))])
        t.setRowCount(len(metrics))
        t.setVerticalHeaderLabels([POINTWISE[m].label if m in POINTWISE else PAIRWISE_LABEL for m in metrics])
        for r, metric in enumerate(metrics):
            for f in figures:
                if f.metric != metric:
                    continue
                if f.slot == judge_repo.PAIRWISE_SLOT:
                    t.setSpan(r, 0, 1, max(1, len(run.models)))
                    item = QTableWidgetItem(figures_words(f, run.labels, min(answered.values(), default=0)))
                    t.setItem(r, 0, item)
                elif 0 <= f.slot < len(run.models):
                    item = QTableWidgetItem(figures_words(f, run.labels, answered.get(f.slot, 0)))
                    item.setToolTip("\n".join(f.errors[:3]))
                    t.setItem(r, f.slot, item)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self._fill_rows(run)

    def _fill_rows(self, run: EvalRun) -> None:
        project = self.ctx.project
        if project is None:
            return
        scores = judge_repo.list_service_scores(project.store, run.id)
        headers = ["Example", "Model", "Metric", "Score", "Explanation"]
        self.rows.setColumnCount(len(headers))
        self.rows.setHorizontalHeaderLabels(headers)
        self.rows.setRowCount(len(scores))
        for i, s in enumerate(scores):
            model = "A vs B" if s.slot == judge_repo.PAIRWISE_SLOT else slot_name(s.slot)
            if s.error:
                value = "⚠ no score"
            elif s.metric == PAIRWISE:
                value = {"BASELINE": "A better", "CANDIDATE": "B better", "TIE": "tie"}.get(s.choice, s.choice)
            else:
                value = "—" if s.score is None else f"{s.score:g}"
            metric = POINTWISE[s.metric].label if s.metric in POINTWISE else PAIRWISE_LABEL
            for c, text in enumerate((str(s.example_id), model, metric, value, s.error or s.explanation)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.rows.setItem(i, c, item)
        self.rows.horizontalHeader().setStretchLastSection(True)

    def start(self) -> None:
        run, project = self.run, self.ctx.project
        if run is None or project is None or self._task.running:
            return
        metrics = [m for m, box in self.metric_boxes.items() if box.isChecked() and box.isEnabled()]
        if not metrics:
            self.status_line.say("Tick at least one metric first.", Tone.ERROR)
            return
        db_path, run_id = str(project.path), run.id
        concurrency, policy = self.concurrency, self.retry_policy
        self.progress.setRange(0, 0)
        self.status_line.say("Asking Google's evaluation service…")
        self.ctx.connections.start(
            self._task, lambda token, api: api.service_eval(token, db_path, run_id, metrics, concurrency, policy),
            on_progress=self._progressed, on_result=self._done, on_error=self._failed,
            on_cancelled=lambda: self.status_line.say("Stopped. The scores so far are kept (partial); scoring again "
                                                      "sends only the rest."),
            on_finished=self.reload)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

    def _progressed(self, done: int, total: int, _text: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _done(self, stats: BatchStats) -> None:
        self.progress.setRange(0, max(1, stats.done))
        self.progress.setValue(stats.done)
        text = f"{stats.done} scores received"
        if stats.failed:
            text += f", {stats.failed} failed (their rows say why)"
        self.status_line.say(text + ".", Tone.OK)

    def _failed(self, err: UserError) -> None:
        self.progress.setRange(0, 1)
        self.status_line.error(err, "The evaluation service stopped:")

    def shutdown(self) -> None:
        self._task.shutdown()

"""The judge: a Gemini model checks each answer of a run against a rubric the expert writes in plain words,
and its verdicts are checked against the expert's own.

* The rubric ("Names the risky party; gives one reason; no legal advice") is checked as it is typed
  (:func:`core.rubric.parse_rubric`): its points are listed, or what to change is said.
* "Judge the answers" runs :func:`services.judge.judge_run` on a worker through the service seam: every
  verdict is stored as it arrives, so a stopped judge keeps its verdicts (shown as partial) and judging again
  with the same rubric and model sends only the rows still without one.
* Each answer's verdict, points met and explanation are listed; the expert rates answers pass or fail
  (``judge_repo.set_rating``). The agreement of judge and expert (share of rows and Cohen's κ, on those
  ratings and on the blind-review votes) is shown, with a warning when it is low or rests on too few rows.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core import rubric as rb
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.project import judge_repo
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.batch_eval import BatchStats, RetryPolicy
from gemtune_desktop.services.judge import DEFAULT_MAX_OUTPUT_TOKENS, JudgeSettings, JudgeSummary, load_judge_summary
from gemtune_desktop.ui.playground.eval_results import slot_name
from gemtune_desktop.ui.playground.judge_rows import JudgedRow, JudgeRowsModel
from gemtune_desktop.ui.playground.model_picker import ModelCatalog
from gemtune_desktop.ui.widgets.status_line import StatusLine, Tone, error_text


def summary_lines(summary: JudgeSummary, labels: list[str]) -> list[str]:
    """The judge's figures per model, in words."""
    try:
        points = f", rubric of {len(rb.parse_rubric(summary.rubric).points)} points"
    except rb.RubricError:
        points = ""
    lines = [f"Judge: {summary.model}{points}"
             + (" (judging was stopped)" if summary.status == judge_repo.STOPPED else "") + "."]
    for slot, figures in enumerate(summary.slots):
        if slot >= len(labels):
            break
        text = f"{slot_name(slot)} ({labels[slot]}): "
        if figures.judged:
            text += (f"{figures.pass_rate:.0%} pass ({figures.passed} of {figures.judged} judged), "
                     f"{figures.mean_score:.0%} of the points met on average")
        else:
            text += "no verdict yet"
        if figures.failed_calls:
            text += f"; no verdict on {figures.failed_calls} (see the rows marked ⚠)"
        lines.append(text + ".")
    return lines


class JudgePanel(QWidget):
    """Signals:
        judged(int): a judging of this run ended (done, stopped or failed) and its figures are shown.
    """

    judged = Signal(int)

    def __init__(self, ctx: AppContext, catalog: ModelCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.catalog = catalog
        self.retry_policy = RetryPolicy()
        self.concurrency = 4
        self.run: EvalRun | None = None
        self._task = TaskSlot(self, ctx.executor, "judge")
        self._summary_task = TaskSlot(self, ctx.executor, "judge summary")
        self.summary: JudgeSummary | None = None
        self._done_before = 0
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_top())
        self.figures = QLabel(self)
        self.figures.setObjectName("judgeFigures")
        self.figures.setTextFormat(Qt.TextFormat.PlainText)
        self.figures.setWordWrap(True)
        layout.addWidget(self.figures)
        self.agreement = QLabel(self)
        self.agreement.setObjectName("judgeAgreement")
        self.agreement.setTextFormat(Qt.TextFormat.PlainText)
        self.agreement.setWordWrap(True)
        layout.addWidget(self.agreement)
        self.warning = QLabel(self)
        self.warning.setObjectName("judgeWarning")
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #8a4b00; font-weight: bold;")
        # One height (three lines) whatever the warnings, so the table and the rating buttons never jump as the
        # expert rates answers; the full text is also in the tooltip.
        self.warning.setFixedHeight(self.warning.fontMetrics().lineSpacing() * 3 + 2)
        self.warning.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.warning)
        layout.addWidget(self._build_rows(), 1)
        catalog.changed.connect(self._fill_models)
        self._fill_models()
        self.rubric.textChanged.connect(self._check_rubric)
        self._check_rubric()
        self.set_run(None)

    # -- layout ---------------------------------------------------------------------------------
    def _build_top(self) -> QHBoxLayout:
        top = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(QLabel("Rubric: what a good answer must do, in plain words (one point per line or “;”)", self))
        self.rubric = QPlainTextEdit(self)
        self.rubric.setObjectName("judgeRubric")
        self.rubric.setPlaceholderText(rb.EXAMPLE_RUBRIC)
        self.rubric.setAccessibleName("Rubric for the judge")
        self.rubric.setFixedHeight(self.rubric.fontMetrics().lineSpacing() * 3 + 12)
        left.addWidget(self.rubric)
        self.rubric_check = QLabel(self)
        self.rubric_check.setObjectName("rubricCheck")
        self.rubric_check.setTextFormat(Qt.TextFormat.PlainText)
        self.rubric_check.setWordWrap(True)
        left.addWidget(self.rubric_check)
        top.addLayout(left, 3)
        top.addLayout(self._build_controls(), 2)
        return top

    def _build_controls(self) -> QVBoxLayout:
        right = QVBoxLayout()
        form = QFormLayout()
        self.model = QComboBox(self)
        self.model.setObjectName("judgeModel")
        self.model.setEditable(True)
        self.model.setAccessibleName("Judge model")
        self.model.setToolTip("The Gemini model that judges. A strong model judges best; it is billed like any call.")
        self.max_tokens = QSpinBox(self)
        self.max_tokens.setObjectName("judgeMaxTokens")
        self.max_tokens.setRange(256, 65536)
        self.max_tokens.setValue(DEFAULT_MAX_OUTPUT_TOKENS)
        self.max_tokens.setAccessibleName("Longest judge reply, in tokens")
        self.max_tokens.setToolTip("The longest reply the judge may write. Raise it if replies are cut off.")
        form.addRow("Judge model", self.model)
        form.addRow("Longest reply (tokens)", self.max_tokens)
        right.addLayout(form)
        buttons = QHBoxLayout()
        self.judge_button = QPushButton("Judge the answers", self)
        self.judge_button.setObjectName("judgeStart")
        self.judge_button.setToolTip("Ask the judge model about every answer of this run that has no verdict yet.")
        self.judge_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Stop", self)
        self.cancel_button.setObjectName("judgeCancel")
        self.cancel_button.setToolTip("Stop asking; the verdicts so far are kept (the results are marked partial).")
        self.cancel_button.clicked.connect(self._task.cancel)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("judgeProgress")
        self.progress.setFormat("%v of %m answers")
        buttons.addWidget(self.judge_button)
        buttons.addWidget(self.cancel_button)
        right.addLayout(buttons)
        right.addWidget(self.progress)
        self.status = QLabel(self)
        self.status.setObjectName("judgeStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status_line = StatusLine(self.status)
        right.addWidget(self.status)
        right.addStretch(1)
        return right

    def _build_rows(self) -> QSplitter:
        split = QSplitter(Qt.Orientation.Horizontal, self)
        self.rows_model = JudgeRowsModel(self)
        self.table = QTableView(split)
        self.table.setObjectName("judgeRows")
        self.table.setAccessibleName("The judge's verdict on each answer")
        self.table.setModel(self.rows_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        advance = header.fontMetrics().horizontalAdvance
        for col, sample in enumerate(("Example", "Model A", "✖ fail", "Points met", "Your rating")):
            header.resizeSection(col, advance(sample) + 24)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._show_detail())
        side = QWidget(split)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        self.detail = QTextBrowser(side)
        self.detail.setObjectName("judgeDetail")
        self.detail.setAccessibleName("The chosen answer and the judge's reasons")
        side_layout.addWidget(self.detail, 1)
        rate = QHBoxLayout()
        rate.addWidget(QLabel("Your rating of this answer:", side))
        self.rate_buttons: dict[str, QPushButton] = {}
        for key, text in (("pass", "Pass"), ("fail", "Fail"), ("", "Clear")):
            button = QPushButton(text, side)
            button.setObjectName(f"rate_{key or 'clear'}")
            button.setToolTip("Your own verdict on this answer; the judge's agreement with you is measured on these.")
            button.clicked.connect(lambda _=False, k=key: self.rate(k or None))
            rate.addWidget(button)
            self.rate_buttons[key] = button
        side_layout.addLayout(rate)
        split.addWidget(self.table)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        return split

    def _fill_models(self) -> None:
        current = self.model.currentText() or self.ctx.settings.get(S.JUDGE_MODEL)
        self.model.blockSignals(True)
        self.model.clear()
        for ref in self.catalog.base_models:
            self.model.addItem(ref.model)
        self.model.setCurrentText(current)
        self.model.blockSignals(False)

    # -- the rubric -----------------------------------------------------------------------------
    def _check_rubric(self) -> rb.Rubric | None:
        try:
            parsed = rb.parse_rubric(self.rubric.toPlainText())
        except rb.RubricError as err:
            typed = bool(self.rubric.toPlainText().strip())
            self.rubric_check.setText(error_text(err, tone=Tone.ERROR if typed else Tone.PLAIN))
            return None
        points = "; ".join(f"{i}. {p}" for i, p in enumerate(parsed.points, 1))
        self.rubric_check.setText(f"✔ {len(parsed.points)} point{'' if len(parsed.points) == 1 else 's'}: {points}")
        return parsed

    # -- the run --------------------------------------------------------------------------------
    def set_run(self, run: EvalRun | None) -> None:
        if self.run is not None and run is not None and self.run.id != run.id and self._task.running:
            self._task.cancel()
        self.run = run
        self.reload()

    def reload(self) -> None:
        run, project = self.run, self.ctx.project
        self._update_buttons()
        if run is None or project is None:
            self.rows_model.set_rows([])
            self.figures.setText("Choose or run an evaluation first." if project is not None else "")
            self.agreement.setText("")
            self.warning.setText("")
            return
        judge = judge_repo.get_judge(project.store, run.id)
        if judge is not None and not self.rubric.toPlainText().strip():
            self.rubric.setPlainText(judge.rubric)
        if judge is not None:
            self.model.setCurrentText(judge.model)
        labels = run.labels
        ratings = judge_repo.ratings(project.store, run.id)
        self.rows_model.set_rows([JudgedRow(j, slot_name(j.slot), ratings.get((j.example_id, j.slot), ""),
                                            labels[j.slot] if 0 <= j.slot < len(labels) else "")
                                  for j in judge_repo.list_judgements(project.store, run.id)])
        self._show_detail()
        if judge is None:
            self.figures.setText("This run has not been judged yet. Write a rubric and press “Judge the answers”.")
            self.agreement.setText("")
            self.warning.setText("")
            return
        db_path, run_id, n = str(project.path), run.id, len(run.models)
        self._summary_task.start(lambda _token: load_judge_summary(db_path, run_id, n),
                                 on_result=partial(self._summarized, run))

    def _summarized(self, run: EvalRun, summary: JudgeSummary | None) -> None:
        if self.run is None or self.run.id != run.id or summary is None:
            return
        self.summary = summary
        self.figures.setText("\n".join(summary_lines(summary, run.labels)))
        agreement = [f"Against your pass/fail ratings: {summary.ratings.words()}"]
        if len(run.models) > 1:
            agreement.append(f"Against your blind-review votes: {summary.votes.words()}")
        self.agreement.setText("\n".join(agreement))
        warnings = summary.warnings()
        if summary.errors:
            warnings.append("Rows without a verdict: " + "; ".join(summary.errors[:3]))
        self.warning.setText("\n".join(f"⚠ {w}" for w in dict.fromkeys(warnings)))
        self.warning.setToolTip(self.warning.text())
        self.judged.emit(run.id)

    def _update_buttons(self) -> None:
        running = self._task.running
        has_run = self.run is not None and self.ctx.project is not None
        self.judge_button.setEnabled(has_run and not running)
        self.cancel_button.setEnabled(running)
        selected = self._selected() is not None
        for button in self.rate_buttons.values():
            button.setEnabled(selected)

    # -- judging --------------------------------------------------------------------------------
    def start(self) -> None:
        run, project = self.run, self.ctx.project
        if run is None or project is None or self._task.running:
            return
        parsed = self._check_rubric()
        if parsed is None:
            try:
                rb.parse_rubric(self.rubric.toPlainText())
            except rb.RubricError as err:
                self.status_line.error(err, "The judge cannot start:")
            self.rubric.setFocus()
            return
        model = self.model.currentText().strip()
        if not model:
            self.status_line.say("Choose the judge model first.", Tone.ERROR)
            return
        self.ctx.settings.set(S.JUDGE_MODEL, model)
        answered = sum(1 for g in judge_repo.list_judgements(project.store, run.id) if g.verdict)
        self.progress.setRange(0, max(1, run.expected_rows))
        self.progress.setValue(answered)
        self._done_before = answered
        self.status_line.say(f"Judging with {model}…")
        settings = JudgeSettings(model=model, max_output_tokens=self.max_tokens.value())
        db_path, run_id, text = str(project.path), run.id, parsed.text
        concurrency, policy = self.concurrency, self.retry_policy
        self.ctx.connections.start(
            self._task, lambda token, api: api.judge_run(token, db_path, run_id, text, settings, concurrency, policy),
            on_progress=self._progressed, on_result=self._done, on_error=self._failed,
            on_cancelled=lambda: self.status_line.say("Stopped. The verdicts so far are kept; judging again sends "
                                                      "only the answers still without one."),
            on_finished=self._finished)
        self._update_buttons()

    def _progressed(self, done: int, total: int, _text: str) -> None:
        if self.progress.maximum() < self._done_before + total:
            self.progress.setMaximum(self._done_before + total)
        self.progress.setValue(self._done_before + done)

    def _done(self, stats: BatchStats) -> None:
        text = f"Judged {stats.done} answers"
        if stats.failed:
            text += f"; {stats.failed} calls failed (marked ⚠)"
        self.status_line.say(text + ".", Tone.OK)

    def _failed(self, err: UserError) -> None:
        self.status_line.error(err, "The judge stopped:")

    def _finished(self) -> None:
        self.reload()

    # -- rows and ratings -------------------------------------------------------------------------
    def _selected(self) -> JudgedRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows_model.row_at(rows[0].row()) if rows else None

    def _show_detail(self) -> None:
        import html

        row = self._selected()
        self._update_buttons()
        if row is None:
            self.detail.setPlainText("Choose a row to read the judge's reasons point by point.")
            return
        j = row.judgement
        parts = [f"<p><b>Example {j.example_id} · {html.escape(row.model)} ({html.escape(row.label)})</b> — judge: "
                 f"{row.verdict_words}"
                 f"{', you: ' + row.rating if row.rating else ''}</p>",
                 f"<p>{html.escape(row.explanation)}</p>"]
        items = "".join(f"<li>{'✔' if c.get('met') else '✖'} {html.escape(str(c.get('point', '')))}"
                        f" — <i>{html.escape(str(c.get('reason', '')))}</i></li>"
                        for c in j.criteria if isinstance(c, dict))
        if items:
            parts.append(f"<ul>{items}</ul>")
        self.detail.setHtml("".join(parts))

    def rate(self, rating: str | None) -> None:
        """The expert's own verdict on the chosen answer (None clears it)."""
        row, run, project = self._selected(), self.run, self.ctx.project
        if row is None or run is None or project is None:
            return
        try:
            judge_repo.set_rating(project.store, run.id, row.judgement.example_id, row.judgement.slot, rating)
        except Exception as exc:
            from gemtune_desktop.services.errors import describe

            self.status_line.error(describe(exc), "The rating could not be stored:", hint=False)
            return
        current = self.table.currentIndex().row()
        self.reload()
        if 0 <= current + 1 < self.rows_model.rowCount():  # on to the next answer, as in the blind review
            self.table.selectRow(current + 1)
        elif current >= 0:
            self.table.selectRow(current)

    def shutdown(self) -> None:
        self._task.shutdown()

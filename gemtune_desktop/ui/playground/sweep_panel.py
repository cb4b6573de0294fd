"""Sweep: the evaluation examples over a grid of generation or safety settings, and the trade-off plot.

Choose a model, the examples and the settings to try (:mod:`.sweep_grid_editor`); the estimate of calls,
tokens and cost is shown before anything is sent (:func:`services.sweep.plan`). Start stores the sweep with
one evaluation run per grid point (:func:`services.sweep.create`) and sends the answers on a worker through
the service seam (``ServiceApi.run_sweep``) with progress over the whole sweep; Stop keeps what arrived, and
Resume (also after a restart) sends only the answers still missing. The results (:func:`services.sweep.load_results`,
on a worker) are plotted for the chosen metric (:mod:`.sweep_plot`; blocked counts in total and per harm
category), the best setting is ringed, and one click puts it into the Console, where it is saved with the project.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core import sweep_grid as sg
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.eval_cost import Prices
from gemtune_desktop.core.eval_metrics import METRIC_LABELS
from gemtune_desktop.core.generation import category_label
from gemtune_desktop.core.project import sweeps_repo
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.batch_eval import RetryPolicy
from gemtune_desktop.services.eval_plan import SOURCES, choose_examples
from gemtune_desktop.services.sweep import PLOT_METRICS, PointResult, SweepResults, load_results, plan
from gemtune_desktop.ui.playground.model_picker import ModelCatalog, ModelPicker
from gemtune_desktop.ui.playground.prices_dialog import PricesDialog, price_key, prices_for
from gemtune_desktop.ui.playground.sweep_grid_editor import GridEditor
from gemtune_desktop.ui.widgets.status_line import StatusLine, Tone

if TYPE_CHECKING:
    from gemtune_desktop.ui.playground.console_panel import ConsolePanel
    from gemtune_desktop.ui.playground.sweep_plot import SweepPlot

PLOT_LABELS = {**METRIC_LABELS, "blocked_prompts": "Blocked prompts (count)",
               "blocked_answers": "Blocked answers (count)", "cost": "Cost (US dollars, your prices)"}


def plot_label(key: str) -> str:
    """A metric's name on the plot: "Blocked answers for harassment (count)" for one harm category's count."""
    kind, _sep, category = key.partition(":")
    if category:
        total = PLOT_LABELS[kind].removesuffix(" (count)")
        return f"{total} for {category_label(category).lower()} (count)"
    return PLOT_LABELS.get(key, key)


def load_sweep(_token: CancelToken, db_path: str, sweep_id: int, prices: Prices) -> SweepResults:
    """Worker: every point's figures."""
    return load_results(db_path, sweep_id, prices)


class SweepPanel(QWidget):
    """Signals:
        sweep_ended(int): sending a sweep's answers ended (finished, stopped or failed).
        results_shown(int): a sweep's results are on screen.
        applied(str): a point's settings were put into the Console (its label).
    """

    sweep_ended = Signal(int)
    results_shown = Signal(int)
    applied = Signal(str)

    def __init__(self, ctx: AppContext, catalog: ModelCatalog, console: ConsolePanel,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.console = console
        self.retry_policy = RetryPolicy()
        self.concurrency = 4
        self.results: SweepResults | None = None
        self.plot_widget: SweepPlot | None = None
        self._task = TaskSlot(self, ctx.executor, "sweep")
        self._load = TaskSlot(self, ctx.executor, "sweep results")
        # Left: what to try and the run; right: the sweeps kept, the plot and the best setting (full height).
        outer = QHBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        outer.addWidget(split)
        setup, results = QWidget(split), QWidget(split)
        split.addWidget(setup)
        split.addWidget(results)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(setup)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_choice_row(catalog))
        self.grid = GridEditor(self)
        layout.addWidget(self.grid)
        layout.addLayout(self._build_run_row())
        layout.addStretch(1)
        layout = QVBoxLayout(results)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_list_row())
        layout.addLayout(self._build_result_row())
        self.plot_holder = QVBoxLayout()
        self.plot_placeholder = QLabel("The trade-off plot appears here once a sweep has answers: each setting "
                                       "across, the chosen metric up, the best setting ringed.", self)
        self.plot_placeholder.setObjectName("sweepPlotPlaceholder")
        self.plot_placeholder.setWordWrap(True)
        self.plot_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.plot_placeholder.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plot_holder.addWidget(self.plot_placeholder)
        layout.addLayout(self.plot_holder, 1)
        self.direction.setVisible(False)
        self.grid.changed.connect(self.update_estimate)
        self.picker.model_changed.connect(lambda _r: self.update_estimate())
        self.source.currentIndexChanged.connect(lambda _i: self.update_estimate())
        self.rows_spec.textChanged.connect(lambda _t: self.update_estimate())
        self.grid.set_axes(sg.EXAMPLE_GRIDS["Temperature × top-p"])
        self.reload()

    # -- layout ---------------------------------------------------------------------------------
    def _build_choice_row(self, catalog: ModelCatalog) -> QGridLayout:
        grid = QGridLayout()
        grid.addWidget(QLabel("Model", self), 0, 0)
        self.picker = ModelPicker(catalog, self, "Model to sweep")
        self.picker.setObjectName("sweepModel")
        grid.addWidget(self.picker, 0, 1)
        row = QHBoxLayout()
        grid.addWidget(QLabel("Examples", self), 1, 0)
        grid.addLayout(row, 1, 1)
        self.source = QComboBox(self)
        self.source.setObjectName("sweepSource")
        for key, label in SOURCES:
            self.source.addItem(label, key)
        self.rows_spec = QLineEdit(self)
        self.rows_spec.setPlaceholderText("e.g. 1-20, 35")
        self.rows_spec.setAccessibleName("Row numbers to sweep")
        self.rows_spec.setMaximumWidth(140)
        self.rows_spec.setEnabled(False)
        self.source.currentIndexChanged.connect(lambda _i: self.rows_spec.setEnabled(self.source.currentData() ==
                                                                                      "rows"))
        row.addWidget(self.source, 1)
        row.addWidget(self.rows_spec)
        return grid

    def _build_run_row(self) -> QVBoxLayout:
        box = QVBoxLayout()
        estimate = QHBoxLayout()
        self.estimate = QLabel(self)
        self.estimate.setObjectName("sweepEstimate")
        self.estimate.setTextFormat(Qt.TextFormat.PlainText)
        self.estimate.setWordWrap(True)
        self.prices_button = QPushButton("Prices…", self)
        self.prices_button.setToolTip("Enter your price per million input and output tokens to see the cost.")
        self.prices_button.clicked.connect(self._edit_prices)
        estimate.addWidget(self.estimate, 1)
        estimate.addWidget(self.prices_button, 0, Qt.AlignmentFlag.AlignTop)
        box.addLayout(estimate)
        row = QHBoxLayout()
        self.start_button = QPushButton("Start sweep", self)
        self.start_button.setObjectName("sweepStart")
        self.start_button.setToolTip("Send every example at every setting (the Console's other settings are kept).")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("sweepStop")
        self.stop_button.setToolTip("Stop sending; the answers so far are kept and Resume sends the rest.")
        self.stop_button.clicked.connect(self._task.cancel)
        self.resume_button = QPushButton("Resume", self)
        self.resume_button.setObjectName("sweepResume")
        self.resume_button.setToolTip("Send only the answers this sweep is still missing (also after a restart).")
        self.resume_button.clicked.connect(self.resume)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("sweepProgress")
        self.progress.setFormat("%v of %m answers")
        for w in (self.start_button, self.stop_button, self.resume_button):
            row.addWidget(w)
        row.addWidget(self.progress, 1)
        box.addLayout(row)
        self.status = QLabel(self)
        self.status.setObjectName("sweepStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status_line = StatusLine(self.status)
        box.addWidget(self.status)
        return box

    def _build_list_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Sweep", self))
        self.sweeps = QComboBox(self)
        self.sweeps.setObjectName("sweepList")
        self.sweeps.setAccessibleName("Sweeps kept in this project")
        self.sweeps.setMinimumContentsLength(16)
        self.sweeps.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sweeps.currentIndexChanged.connect(lambda _i: self.show_sweep())
        row.addWidget(self.sweeps, 1)
        self.delete_button = QPushButton("Delete sweep", self)
        self.delete_button.setToolTip("Remove this sweep and its answers from the project.")
        self.delete_button.clicked.connect(self._delete)
        row.addWidget(self.delete_button)
        return row

    def _build_result_row(self) -> QVBoxLayout:
        box = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel("Plot", self))
        self.plot_metric = QComboBox(self)
        self.plot_metric.setObjectName("sweepMetric")
        self.plot_metric.setAccessibleName("Metric to plot and to pick the best setting by")
        self._offer_metrics(PLOT_METRICS)
        self.plot_metric.setCurrentIndex(self.plot_metric.findData("token_f1"))
        self.plot_metric.currentIndexChanged.connect(lambda _i: self.draw())
        row.addWidget(self.plot_metric, 1)
        self.direction = QComboBox(self)
        self.direction.setObjectName("sweepLengthDirection")
        self.direction.addItem("shorter is better", False)
        self.direction.addItem("longer is better", True)
        self.direction.setToolTip("For answer length, say which way is better.")
        self.direction.currentIndexChanged.connect(lambda _i: self.draw())
        row.addWidget(self.direction)
        self.apply_button = QPushButton("Use the best setting", self)
        self.apply_button.setObjectName("sweepApply")
        self.apply_button.setToolTip("Put the best point's settings into the Console (saved with the project).")
        self.apply_button.clicked.connect(self.apply_best)
        row.addWidget(self.apply_button)
        box.addLayout(row)
        self.best_label = QLabel(self)
        self.best_label.setObjectName("sweepBest")
        self.best_label.setTextFormat(Qt.TextFormat.PlainText)
        self.best_label.setWordWrap(True)
        box.addWidget(self.best_label)
        self.warnings = QLabel(self)
        self.warnings.setObjectName("sweepWarnings")
        self.warnings.setTextFormat(Qt.TextFormat.PlainText)
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #8a4b00;")
        box.addWidget(self.warnings)
        return box

    # -- before starting ------------------------------------------------------------------------
    def _examples(self) -> list[tuple[int, str, str]]:
        project = self.ctx.project
        if project is None:
            return []
        chosen = choose_examples(project.examples, str(self.source.currentData()), self.rows_spec.text())
        return [(e.id, e.input, e.output) for e in chosen]

    def _texts(self) -> tuple[str, str]:
        ref = self.picker.current_ref()
        return self.console.dataset_texts_for(ref, [ref]) if ref is not None else ("", "")

    def update_estimate(self) -> None:
        """Check the grid and say, before anything is sent, how many calls it makes and what they cost."""
        ref = self.picker.current_ref()
        try:
            axes = self.grid.axes()
            examples = self._examples()
            the_plan = plan(axes, [(i, o) for _id, i, o in examples],
                            prices_for(self.ctx.settings, ref) if ref is not None else Prices(), *self._texts())
        except (sg.SweepError, ValueError) as exc:
            message = exc.message if isinstance(exc, UserError) else str(exc)
            hint = exc.hint if isinstance(exc, UserError) else ""
            self.grid.check.setText(f"✖ {message} {hint}".strip())
            self.estimate.setText("")
            self.start_button.setEnabled(False)
            return
        self.grid.check.setText(f"✔ {the_plan.points} settings to try: "
                                + " × ".join(f"{sg.axis_label(a)} ({len(v)})" for a, v in axes.items()) + ".")
        self.estimate.setText(f"{the_plan.points} settings × {len(examples)} examples: {the_plan.estimate.words()}")
        self.start_button.setEnabled(ref is not None and not self._task.running and self.ctx.project is not None)

    def _edit_prices(self) -> None:
        ref = self.picker.current_ref()
        if ref is None:
            return
        dialog = PricesDialog(self.ctx.settings, price_key(ref), self)
        dialog.finished.connect(lambda _r: self._prices_changed())
        dialog.open()

    def _prices_changed(self) -> None:
        self.update_estimate()
        self.show_sweep()

    # -- running --------------------------------------------------------------------------------
    def start(self) -> None:
        project, ref = self.ctx.project, self.picker.current_ref()
        if project is None or ref is None or self._task.running:
            return
        try:
            axes = self.grid.axes()
            examples = self._examples()
            preamble, system = self._texts()
            the_plan = plan(axes, [(i, o) for _id, i, o in examples], prices_for(self.ctx.settings, ref),
                            preamble, system)
        except (sg.SweepError, ValueError) as exc:
            err = exc if isinstance(exc, UserError) else UserError(str(exc))
            self.status_line.error(err, "The sweep cannot start:")
            return
        from gemtune_desktop.services.sweep import create

        console = self.console
        try:
            sweep_id = create(project.store, ref.model, the_plan, [e[0] for e in examples],
                              console.generation.settings(), console.safety.settings(),
                              preamble, system, model_label=ref.label.strip(), base_model=ref.base_model)
        except Exception as exc:
            from gemtune_desktop.services.errors import describe

            self.status_line.error(describe(exc), "The sweep could not be stored:")
            return
        self.reload(select=sweep_id)
        self._launch(sweep_id)

    def resume(self) -> None:
        sweep_id = self.sweeps.currentData()
        if sweep_id is not None and not self._task.running:
            self._launch(int(sweep_id))

    def _launch(self, sweep_id: int) -> None:
        project = self.ctx.project
        if project is None:
            return
        db_path, concurrency, policy = str(project.path), self.concurrency, self.retry_policy
        self.progress.setRange(0, 0)
        self.status_line.say("Sweeping…")
        self.ctx.connections.start(
            self._task, lambda token, api: api.run_sweep(token, db_path, sweep_id, concurrency, policy),
            on_progress=self._progressed, on_result=lambda sent: self.status_line.say(
                f"Finished: {sent} answers sent.", Tone.OK),
            on_error=lambda err: self.status_line.error(err, "The sweep stopped:"),
            on_cancelled=lambda: self.status_line.say("Stopped. The answers so far are kept; press Resume to send "
                                                      "the rest."),
            on_finished=partial(self._ended, sweep_id))
        self._update_buttons()

    def _ended(self, sweep_id: int) -> None:
        self.reload(select=sweep_id)
        self.sweep_ended.emit(sweep_id)

    def _progressed(self, done: int, total: int, label: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat("%v of %m answers")
        self.progress.setToolTip(f"Now trying {label}" if label else "")

    # -- sweeps of the project ------------------------------------------------------------------
    def reload(self, select: int | None = None) -> None:
        project = self.ctx.project
        keep = select if select is not None else self.sweeps.currentData()
        self.sweeps.blockSignals(True)
        self.sweeps.clear()
        if project is not None:
            for s in sweeps_repo.list_sweeps(project.store):
                status = "interrupted" if s.status == sweeps_repo.RUNNING and not self._task.running else s.status
                when = s.created_at.replace("T", " ")[:16]
                self.sweeps.addItem(f"#{s.id} · {when} · {s.name} · {status}", s.id)
        index = self.sweeps.findData(keep) if keep is not None else 0
        self.sweeps.setCurrentIndex(max(0, index) if self.sweeps.count() else -1)
        self.sweeps.blockSignals(False)
        self.update_estimate()
        self.show_sweep()

    def _update_buttons(self) -> None:
        running = self._task.running
        has = self.sweeps.currentData() is not None
        self.stop_button.setEnabled(running)
        self.resume_button.setEnabled(not running and has and self.results is not None and self.results.partial)
        self.delete_button.setEnabled(has and not running)
        self.apply_button.setEnabled(self.results is not None and self._best() is not None)
        self.update_start()

    def update_start(self) -> None:
        if self._task.running:
            self.start_button.setEnabled(False)

    def show_sweep(self) -> None:
        project, sweep_id = self.ctx.project, self.sweeps.currentData()
        self.results = None
        self._update_buttons()
        if project is None or sweep_id is None:
            self.best_label.setText("No sweep yet: choose the settings to try and press Start sweep.")
            self.warnings.setText("")
            return
        sweep = sweeps_repo.get_sweep(project.store, int(sweep_id))
        key = str((sweep.base.get("base_model") if sweep else "") or (sweep.model if sweep else ""))
        pair = self.ctx.settings.read(S.ANSWER_PRICES).get(key)
        self._load.start(load_sweep, str(project.path), int(sweep_id), Prices(*pair) if pair else Prices(),
                         on_result=partial(self._loaded, int(sweep_id)))

    def _loaded(self, sweep_id: int, results: SweepResults) -> None:
        if self.sweeps.currentData() != sweep_id:
            return
        self.results = results
        self._offer_metrics(results.metric_keys())
        self.draw()
        self._update_buttons()
        self.results_shown.emit(sweep_id)

    # -- the plot and the best point ------------------------------------------------------------
    def _offer_metrics(self, keys: Sequence[str]) -> None:
        """The metrics the plot offers (a count per harm category that blocked something in this sweep), keeping
        the one chosen when it is still offered."""
        combo = self.plot_metric
        if [combo.itemData(i) for i in range(combo.count())] == list(keys):
            return
        chosen = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for key in keys:
            combo.addItem(plot_label(key), key)
        combo.setCurrentIndex(max(0, combo.findData(chosen if chosen in keys else "token_f1")))
        combo.blockSignals(False)

    def _best(self) -> PointResult | None:
        if self.results is None:
            return None
        key = str(self.plot_metric.currentData())
        higher = bool(self.direction.currentData()) if key == "mean_length_words" else None
        return self.results.best(key, higher)

    def draw(self) -> None:
        results = self.results
        key = str(self.plot_metric.currentData())
        self.direction.setVisible(key == "mean_length_words")
        if results is None:
            return
        if self.plot_widget is None:
            from gemtune_desktop.ui.playground.sweep_plot import SweepPlot

            self.plot_widget = SweepPlot(self)
            self.plot_placeholder.hide()
            self.plot_holder.addWidget(self.plot_widget)
        curves = results.curves(key)
        best = self._best()
        marker = None
        if best is not None:
            first, values = next(iter(results.axes.items()))
            x_value = best.settings[first]
            x = float(x_value) if all(isinstance(v, int | float) for v in values) else float(values.index(x_value))
            y = best.metrics.get(key)
            if y is not None:
                marker = (x, float(y), best.label)
        self.plot_widget.show_curves(curves, plot_label(key), marker)
        if best is None:
            self.best_label.setText("No setting has answers yet.")
        else:
            name = plot_label(key)
            self.best_label.setText(f"Best for {name[0].lower()}{name[1:]}: {best.label} "
                                    f"({best.metrics.get(key) or 0:.3g}).")
        self.warnings.setText("\n".join(f"⚠ {w}" for w in results.warnings()))
        self._update_buttons()

    def apply_best(self) -> None:
        best = self._best()
        if best is None or self.results is None:
            return
        generation, safety = self.results.settings_for(best)
        self.console.generation.set_settings(generation)
        self.console.safety.set_settings(safety)
        label = best.label
        self.status_line.say(f"The Console now uses {label}; saved with the project.", Tone.OK)
        self.ctx.status_message.emit(f"Console settings: {label}", 5000)
        self.applied.emit(label)

    def _delete(self) -> None:
        project, sweep_id = self.ctx.project, self.sweeps.currentData()
        if project is None or sweep_id is None:
            return
        if QMessageBox.question(self, "Delete sweep", "Delete this sweep and all its answers?") != \
                QMessageBox.StandardButton.Yes:
            return
        sweeps_repo.delete_sweep(project.store, int(sweep_id))
        self.reload()

    def project_changed(self) -> None:
        if self._task.running:
            self._task.cancel()
        self.reload()

    def shutdown(self) -> None:
        self._task.shutdown()


"""The Monitor tab: every tuning job of the active connection, live and past, its loss curve and advice.

Top: the jobs table (jobs listed by the service merged with the project's own records),
with a filter and the job actions (cancel, delete tuned model, open in the Test tab,
re-run with changes). Bottom: the loss plot of the selected jobs (several overlay to
compare) beside the advice read from the curve and the job's details.

Polling is done by :class:`~gemtune_desktop.qtcore.poller.JobPoller` on worker threads; new
loss points are cached in the project as they arrive, so a finished job's curve shows
offline. pyqtgraph is imported the first time this tab is shown.
"""

from __future__ import annotations

import logging
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.advice import advise
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.loss import TRAIN, VALIDATION, LossSeries
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.ui.tab_page import WindowMenus
from gemtune_desktop.qtcore.poller import JobPoller
from gemtune_desktop.qtcore.workers import TaskGroup, TaskSlot
from gemtune_desktop.services import monitor as svc
from gemtune_desktop.ui.monitor_details import AdvicePanel, DetailsPanel, _base_settings
from gemtune_desktop.ui.monitor_model import COL_STARTED, JOB_ID_ROLE, JobsFilterModel, JobsTableModel
from gemtune_desktop.ui.monitor_notify import JobNotifier
from gemtune_desktop.ui.monitor_store import MemoryJobStore

log = logging.getLogger(__name__)

EMPTY_TEXT = "No tuning jobs yet — start one in the Tune tab."
NO_MATCH_TEXT = "No jobs match the filter."


def _button(text: str, tip: str, parent: QWidget, name: str) -> QPushButton:
    b = QPushButton(text, parent)
    b.setToolTip(tip)
    b.setObjectName(name)
    b.setAccessibleName(text)
    return b


class MonitorTab(QWidget):
    """See the module docstring. ``shutdown()`` stops polling."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._scratch: MemoryJobStore | None = None
        self.store: Any = None
        self._series: dict[int, dict[str, LossSeries]] = {}
        self._details_key: tuple[Any, ...] | None = None
        self.plot: Any = None  # LossPlot, built on first show
        self._listed_once = False
        self._closed = False
        self.poller = JobPoller(ctx, parent=self)
        self._list_task = TaskSlot(self, ctx.executor, "list jobs")
        self._cancels: TaskGroup[int] = TaskGroup(self, ctx.executor, "cancel job")
        self._deletes: TaskGroup[int] = TaskGroup(self, ctx.executor, "delete model")
        self.notifier = JobNotifier(self)
        self._build()
        self._wire()
        self._use_store(self._active_store())

    # -- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("jobFilter")
        self.filter_edit.setPlaceholderText("Filter jobs by name, model, state or dataset")
        self.filter_edit.setAccessibleName("Filter jobs")
        self.filter_edit.setClearButtonEnabled(True)
        self.only_project = QCheckBox("Only jobs from this project", self)
        self.only_project.setObjectName("onlyProjectJobs")
        self.only_project.setToolTip("Hide jobs that were found on the service but not started from this project")
        self.refresh_button = _button("Refresh", "Ask the service for its list of jobs again", self, "refreshJobs")
        self.cancel_button = _button("Cancel job…", "Stop the selected job (asks first)", self, "cancelJob")
        self.delete_button = _button("Delete tuned model…", "Delete the selected job's tuned model on the service "
                                     "(asks first)", self, "deleteModel")
        self.test_button = _button("Open in Test tab", "Try the selected job's tuned model", self, "openInTest")
        self.rerun_button = _button("Re-run with changes…", "Open the Tune tab with this job's settings", self,
                                    "rerunJob")
        bar.addWidget(self.filter_edit, 2)
        bar.addWidget(self.only_project)
        for b in (self.refresh_button, self.cancel_button, self.delete_button, self.test_button, self.rerun_button):
            bar.addWidget(b)
        layout.addLayout(bar)

        self.model = JobsTableModel(self)
        self.proxy = JobsFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(self)
        self.table.setObjectName("jobsTable")
        self.table.setAccessibleName("Tuning jobs")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_STARTED, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("Select a job to see its curve; Ctrl-click or Shift-click several to compare")
        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setObjectName("jobsEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.table_stack = QStackedWidget(self)
        self.table_stack.addWidget(self.table)
        self.table_stack.addWidget(self.empty_label)

        # Plot area: options row + the plot (built lazily).
        plot_area = QWidget(self)
        plot_box = QVBoxLayout(plot_area)
        plot_box.setContentsMargins(0, 0, 0, 0)
        opts = QHBoxLayout()
        self.smoothing = QDoubleSpinBox(plot_area)
        self.smoothing.setObjectName("smoothing")
        self.smoothing.setRange(0.0, 0.99)
        self.smoothing.setSingleStep(0.1)
        self.smoothing.setDecimals(2)
        self.smoothing.setToolTip("Smooth the training loss (0 = raw values, 0.9 = very smooth)")
        self.smoothing.setAccessibleName("Smoothing")
        self.log_scale = QCheckBox("Log scale", plot_area)
        self.log_scale.setObjectName("logScale")
        self.log_scale.setToolTip("Show the loss on a logarithmic axis")
        self.reset_zoom = _button("Reset zoom", "Show the whole curve again", plot_area, "resetZoom")
        self.export_png_button = _button("Export PNG…", "Save the plot as an image", plot_area, "exportPng")
        self.export_csv_button = _button("Export CSV…", "Save the plotted loss values as a CSV file", plot_area,
                                         "exportCsv")
        opts.addWidget(QLabel("Smoothing:", plot_area))
        opts.addWidget(self.smoothing)
        opts.addWidget(self.log_scale)
        opts.addStretch(1)
        for b in (self.reset_zoom, self.export_png_button, self.export_csv_button):
            opts.addWidget(b)
        plot_box.addLayout(opts)
        self.plot_holder = QVBoxLayout()
        self.plot_placeholder = QLabel("Loading the plot…", plot_area)
        self.plot_holder.addWidget(self.plot_placeholder, 1)
        plot_box.addLayout(self.plot_holder, 1)

        self.advice_panel = AdvicePanel(self)
        self.details = DetailsPanel(self)
        side = QSplitter(Qt.Orientation.Vertical, self)
        side.addWidget(self.advice_panel)
        side.addWidget(self.details)
        side.setStretchFactor(1, 1)
        side.setSizes([230, 370])
        bottom = QSplitter(Qt.Orientation.Horizontal, self)
        bottom.addWidget(plot_area)
        bottom.addWidget(side)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 2)
        bottom.setSizes([780, 420])
        main = QSplitter(Qt.Orientation.Vertical, self)
        main.addWidget(self.table_stack)
        main.addWidget(bottom)
        main.setStretchFactor(1, 2)
        main.setSizes([190, 560])
        layout.addWidget(main, 1)
        self.status_label = QLabel("", self)
        self.status_label.setObjectName("monitorStatus")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self.model.tick)
        self._clock.start()

    def _wire(self) -> None:
        ctx = self.ctx
        ctx.project_changed.connect(self._project_changed)
        ctx.jobs_changed.connect(self._jobs_changed)
        ctx.connections.connection_changed.connect(self._connection_changed)
        self.poller.job_updated.connect(self._job_updated)
        self.poller.points_added.connect(self._points_added)
        self.poller.job_ended.connect(self._job_ended)
        self.poller.poll_failed.connect(self._poll_failed)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.only_project.toggled.connect(self._only_project_toggled)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.refresh_button.clicked.connect(self.refresh)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.delete_button.clicked.connect(self.delete_selected_model)
        self.test_button.clicked.connect(self.open_selected_in_test)
        self.rerun_button.clicked.connect(self.rerun_selected)
        self.smoothing.valueChanged.connect(lambda v: self.plot is not None and self.plot.set_smoothing(v))
        self.log_scale.toggled.connect(lambda on: self.plot is not None and self.plot.set_log_scale(on))
        self.reset_zoom.clicked.connect(lambda: self.plot is not None and self.plot.reset_zoom())
        self.export_png_button.clicked.connect(self._export_png)
        self.export_csv_button.clicked.connect(self._export_csv)
        self.advice_panel.prefill_requested.connect(self._prefill)
        self.advice_panel.test_requested.connect(self._test)
        self.details.test_requested.connect(self._test)
        self.details.rows_requested.connect(self._rows)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.ensure_plot()
        if not self._listed_once:
            self._listed_once = True
            QTimer.singleShot(0, self.refresh)

    def ensure_plot(self) -> Any:
        """Build the pyqtgraph plot (imports pyqtgraph) the first time it is needed."""
        if self.plot is None:
            from gemtune_desktop.ui.loss_plot import LossPlot

            self.plot = LossPlot(self)
            self.plot.set_smoothing(self.smoothing.value())
            self.plot.set_log_scale(self.log_scale.isChecked())
            self.plot_holder.replaceWidget(self.plot_placeholder, self.plot)
            self.plot_placeholder.hide()
            self.plot_placeholder.deleteLater()
            self._selection_changed()
        return self.plot

    # -- stores and connections -------------------------------------------------------------
    def _active_store(self) -> Any:
        project = self.ctx.project
        store = getattr(project, "store", None) if project is not None else None
        if store is not None:
            return store
        if self._scratch is None:
            self._scratch = MemoryJobStore()
        return self._scratch

    def _use_store(self, store: Any) -> None:
        self.store = store
        self._series.clear()
        self.poller.set_store(None)
        self.poller.set_store(store)
        self.reload()

    def _project_changed(self, _project: Any) -> None:
        if self._closed:
            return
        self._use_store(self._active_store())
        if self._listed_once:
            self.refresh()

    def _connection_changed(self, _profile: Any) -> None:
        if self._closed:
            return
        self._use_store(self.store)
        if self._listed_once:
            self.refresh()

    def _jobs_changed(self) -> None:
        if self._closed or self.store is None:
            return
        self.reload()
        self.poller.sync()

    def _records(self) -> list[JobRecord]:
        profile = self.ctx.connections.profile
        return [j for j in jobs_repo.list_jobs(self.store, connection_kind=profile.kind.value)
                if j.backend == profile.backend.value]

    def reload(self) -> None:
        """Re-read the job records (keeping the selection)."""
        selected = self.selected_ids()
        self.model.set_jobs(self._records() if self.store is not None else [])
        self._select_ids(selected)
        self._update_empty()
        self._selection_changed()

    def _update_empty(self) -> None:
        if self.model.rowCount() == 0:
            self.empty_label.setText(EMPTY_TEXT)
            self.table_stack.setCurrentWidget(self.empty_label)
        elif self.proxy.rowCount() == 0:
            self.empty_label.setText(NO_MATCH_TEXT)
            self.table_stack.setCurrentWidget(self.empty_label)
        else:
            self.table_stack.setCurrentWidget(self.table)

    def _filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._update_empty()

    def _only_project_toggled(self, on: bool) -> None:
        self.proxy.set_only_project(on)
        self._update_empty()

    # -- the service's list -----------------------------------------------------------------
    def refresh(self) -> None:
        """List the connection's jobs on the service and merge them with the project's records."""
        if self._closed:
            return
        self._say("Checking the service for tuning jobs…")
        self.ctx.connections.start(self._list_task, lambda token, api: api.list_jobs(token),
                                   on_result=self._merge_service_jobs, on_error=self._list_failed)
        self.poller.sync()

    def _merge_service_jobs(self, statuses: list[svc.JobStatus]) -> None:
        if self._closed or self.store is None:
            return
        profile = self.ctx.connections.profile
        mine = {j.resource_name: j for j in self._records() if j.resource_name}
        watched = set(self.poller.watched())  # the poller owns those records: it fetches their final curve
        added = 0
        try:
            for status in statuses:
                record = mine.get(status.resource_name)
                if record is None:
                    jobs_repo.add_job(self.store, status.to_record(profile.kind.value, profile.backend.value))
                    added += 1
                    continue
                if record.id in watched:
                    continue
                changes = status.record_changes(record)
                if changes:
                    jobs_repo.update_job(self.store, record.id, **changes)
        except (UserError, sqlite3.Error) as exc:
            text = exc.message if isinstance(exc, UserError) else str(exc)
            self._say(f"{len(statuses)} jobs on the service; they could not be saved in the project: {text}")
            return
        self._say(f"{len(statuses)} job{'s' if len(statuses) != 1 else ''} on the service"
                  + (f", {added} new to this list." if added else "."))
        self.reload()
        self.poller.sync()

    def _list_failed(self, err: UserError) -> None:
        self._say(f"Could not list the service's jobs: {err.message} {err.hint}".strip()
                  + " Showing the jobs saved in this project.")

    def _say(self, text: str) -> None:
        self.status_label.setText(text)

    # -- selection, plot, advice, details ---------------------------------------------------
    def selected_ids(self) -> list[int]:
        sel = self.table.selectionModel()
        if sel is None:
            return []
        rows = sorted(sel.selectedRows(), key=lambda i: i.row())
        current = sel.currentIndex()
        ids = [int(i.data(JOB_ID_ROLE)) for i in rows]
        if current.isValid():
            cid = int(current.data(JOB_ID_ROLE))
            if cid in ids:  # the row clicked last is the one whose details and advice show
                ids.remove(cid)
                ids.insert(0, cid)
        return ids

    def select_job(self, job_id: int) -> None:
        self._select_ids([job_id])

    def _select_ids(self, ids: list[int]) -> None:
        sel = self.table.selectionModel()
        sel.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        first = True
        for job_id in ids:
            row = self.model.row_of(job_id)
            if row < 0:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if not index.isValid():
                continue
            if first:
                sel.setCurrentIndex(index, flags)
                first = False
            else:
                sel.select(index, flags)

    def series_of(self, job_id: int) -> dict[str, LossSeries]:
        """The cached curves of a job, read from the store once and then extended as points arrive."""
        cached = self._series.get(job_id)
        if cached is None:
            cached = {}
            for name in jobs_repo.loss_series_names(self.store, job_id):
                cached[name] = LossSeries(jobs_repo.loss_points(self.store, job_id, name))
            cached.setdefault(TRAIN, LossSeries())
            self._series[job_id] = cached
        return cached

    @staticmethod
    def steps_per_epoch(job: JobRecord) -> float:
        epochs = job.data_stats.get("hyper_parameters", {}).get("epoch_count") if job.data_stats else None
        epochs = epochs or job.hyperparameters.get("epoch_count") or job.hyperparameters.get("epochs")
        try:
            n = float(epochs or 0)
        except (TypeError, ValueError):
            n = 0.0
        return job.total_steps / n if job.total_steps and n else 0.0

    def _selection_changed(self) -> None:
        ids = self.selected_ids()
        jobs = [j for j in (self.model.job(i) for i in ids) if j is not None]
        primary = jobs[0] if jobs else None
        if self.plot is not None:
            self.plot.set_jobs([(j.id, j.display_name or f"job {j.id}", self.series_of(j.id), self.steps_per_epoch(j))
                                for j in jobs])
        self._show_primary(primary, force=True)
        self._update_actions(primary)
        for job in jobs:  # a finished job seen on the service whose curve is not cached yet: fetch it once
            if job.state.ended and job.resource_name and not any(len(s) for s in self.series_of(job.id).values()):
                self.poller.watch(job.id)

    def _show_primary(self, job: JobRecord | None, force: bool = False) -> None:
        if job is None:
            self._details_key = None
            self.details.set_job(None)
            self.advice_panel.show_advice(None, [])
            return
        key = (job.id, job.state, job.tuned_model, job.endpoint, repr(job.checkpoints), repr(job.data_stats),
               job.error, job.display_name)
        if force or key != self._details_key:
            self._details_key = key
            self.details.set_job(job, self._train_row_ids())
        else:
            self.details.update_state(job)
        self._update_advice(job)

    def _update_advice(self, job: JobRecord) -> None:
        series = self.series_of(job.id)
        lr = job.hyperparameters.get("learning_rate_multiplier") or \
            (job.data_stats.get("hyper_parameters") or {}).get("learning_rate_multiplier")
        try:
            lr_value = float(lr) if lr else None
        except (TypeError, ValueError):
            lr_value = None
        found = advise(series.get(TRAIN, LossSeries()), series.get(VALIDATION),
                       steps_per_epoch=self.steps_per_epoch(job), learning_rate_multiplier=lr_value,
                       finished=job.state.ended)
        if [a.text for a in found] != [a.text for a in self.advice_panel.advice] or not found:
            self.advice_panel.show_advice(job, found)

    def _train_row_ids(self) -> list[int]:
        try:
            rows = self.store.conn.execute("SELECT id FROM examples WHERE split = 'train' ORDER BY pos").fetchall()
        except Exception:  # no examples table in a scratch store of an older schema
            return []
        return [int(r[0]) for r in rows]

    def _update_actions(self, job: JobRecord | None) -> None:
        gemini = self.ctx.connections.profile.backend.value == "gemini-api"
        can_cancel = bool(job and job.resource_name and job.state.active and not gemini)
        self.cancel_button.setEnabled(can_cancel)
        self.cancel_button.setToolTip("Stop the selected job (asks first)" if not gemini else
                                      "The Gemini API cannot stop a tuning job once it has started")
        self.delete_button.setEnabled(bool(job and (job.tuned_model or (gemini and job.resource_name))
                                           and job.state.ended))
        self.test_button.setEnabled(bool(job and job.endpoint))
        self.rerun_button.setEnabled(job is not None)

    # -- poller events -----------------------------------------------------------------------
    def _job_updated(self, job_id: int) -> None:
        record = jobs_repo.get_job(self.store, job_id)
        if record is None:
            return
        self.model.update_job(record)
        ids = self.selected_ids()
        if ids and ids[0] == job_id:
            self._show_primary(record)
            self._update_actions(record)

    def _points_added(self, job_id: int) -> None:
        cached = self._series.get(job_id)
        if cached is None:
            return
        for name in jobs_repo.loss_series_names(self.store, job_id):
            series = cached.get(name)
            if series is None:
                series = cached[name] = LossSeries()
                if self.plot is not None:
                    self.plot.add_series(job_id, name, series)
            rows = self.store.conn.execute(
                "SELECT step, epoch, value FROM loss_points WHERE job_id = ? AND series = ? AND step > ? "
                "ORDER BY step", (job_id, name, series.last_step)).fetchall()
            series.extend((int(s), e, float(v)) for s, e, v in rows)
        ids = self.selected_ids()
        if ids and ids[0] == job_id:
            job = self.model.job(job_id)
            if job is not None:
                self._update_advice(job)

    def _job_ended(self, job_id: int) -> None:
        job = jobs_repo.get_job(self.store, job_id)
        if job is None:
            return
        name = job.display_name or "A tuning job"
        text = f"{name} {job.state_words}."
        if job.error:
            text += f" {job.error}"
        self.ctx.status_message.emit(text, 10000)
        self.notifier.notify("Tuning job finished" if not job.error else "Tuning job stopped", text)

    def _poll_failed(self, job_id: int, text: str) -> None:
        job = self.model.job(job_id)
        name = (job.display_name if job else "") or f"job {job_id}"
        self._say(f"Checking {name}: {text}")

    # -- actions -----------------------------------------------------------------------------
    def _selected_job(self) -> JobRecord | None:
        ids = self.selected_ids()
        return self.model.job(ids[0]) if ids else None

    def _confirm(self, title: str, text: str, yes: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton, self)
        ok = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep it", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is ok

    def cancel_selected(self) -> None:
        job = self._selected_job()
        if job is None or not job.resource_name or not job.state.active:
            return
        text = (f"Stop “{job.display_name or job.resource_name}”?\n\nA cancelled job may still leave a tuned model, "
                "but its quality is unpredictable: it stopped part-way through training. If the loss has already "
                "levelled off, let it finish — or re-run it later with fewer epochs.")
        if not self._confirm("Cancel tuning job", text, "Stop the job"):
            return
        if self._cancels.is_running(job.id):
            return
        self._say("Asking the service to stop the job…")
        resource = job.resource_name
        self.ctx.connections.start(self._cancels.slot(job.id), lambda token, api: api.cancel_job(token, resource),
                                   on_result=partial(self._cancel_sent, job.id),
                                   on_error=partial(self._action_failed, "Could not cancel:"))

    def _action_failed(self, what: str, err: UserError) -> None:
        self._say(f"{what} {err.message} {err.hint}".strip())

    def _cancel_sent(self, job_id: int, _result: Any = None) -> None:
        self._say("Cancel requested; the job stops in a moment.")
        self.poller.watch(job_id)

    def delete_selected_model(self) -> None:
        job = self._selected_job()
        if job is None:
            return
        name = job.tuned_model or job.resource_name
        text = (f"Delete the tuned model “{name}” on the service?\n\nAnything that uses it stops working, and this "
                "cannot be undone. The job's record and loss curve stay in this project.")
        if not self._confirm("Delete tuned model", text, "Delete the model"):
            return
        if self._deletes.is_running(job.id):
            return
        self.ctx.connections.start(self._deletes.slot(job.id), lambda token, api: api.delete_tuned_model(token, job),
                                   on_result=partial(self._model_deleted, job.id),
                                   on_error=partial(self._action_failed, "Could not delete the model:"))

    def _model_deleted(self, job_id: int, _result: Any = None) -> None:
        if self.store is None:
            return
        job = jobs_repo.get_job(self.store, job_id)
        stats = {**(job.data_stats if job else {}), svc.MODEL_DELETED: True}
        try:
            jobs_repo.update_job(self.store, job_id, tuned_model="", endpoint="", checkpoints=[], data_stats=stats)
        except (UserError, sqlite3.Error):
            self._say("The tuned model was deleted on the service (the read-only project still lists it).")
            return
        self._say("The tuned model was deleted on the service.")
        self.ctx.jobs_changed.emit()

    def open_selected_in_test(self) -> None:
        job = self._selected_job()
        if job is not None and job.endpoint:
            self._test({"model": job.endpoint, "label": job.display_name or "tuned model", "job_id": job.id})

    def rerun_selected(self) -> None:
        job = self._selected_job()
        if job is not None:
            self._prefill(_base_settings(job))

    def _prefill(self, settings: dict[str, Any]) -> None:
        self.ctx.tune_prefill_requested.emit(dict(settings))
        self.ctx.show_tab_requested.emit("tune")

    def _test(self, payload: dict[str, Any]) -> None:
        self.ctx.test_model_requested.emit(dict(payload))
        self.ctx.show_tab_requested.emit("test")

    def _rows(self, ids: list[int]) -> None:
        self.ctx.rows_focus_requested.emit(list(ids))
        self.ctx.show_tab_requested.emit("dataset")

    def _export_png(self) -> None:
        if self.ensure_plot() is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the plot", str(Path.home() / "loss.png"),
                                              "PNG image (*.png)")
        if path:
            self._export(lambda: self.plot.export_png(path))

    def _export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export loss values", str(Path.home() / "loss.csv"),
                                              "CSV file (*.csv)")
        if path:
            self._export(lambda: self.ensure_plot().export_csv(path))

    def _export(self, write: Any) -> None:
        try:
            target = write()
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", f"Could not write the file: {exc.strerror or exc}")
            return
        self._say(f"Saved {target}")

    def install_actions(self, menus: WindowMenus) -> None:
        """This tab adds nothing to the menus."""

    # -- lifecycle -----------------------------------------------------------------------------
    def can_close(self) -> bool:
        return True

    def shutdown(self) -> None:
        self._closed = True
        self.poller.stop()
        self._clock.stop()
        if self.plot is not None:
            self.plot.stop()
        self.notifier.close()
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = None

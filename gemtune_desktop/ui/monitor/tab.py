"""The Monitor tab: every tuning job of the project, live and past, its loss curve and advice.

Top: the jobs table (:mod:`.jobs_model`; jobs listed by the service merged into the project's own
records by :mod:`gemtune_desktop.services.job_sync`), with a filter and the job actions (cancel,
delete tuned model, open in the Test tab, re-run with changes), and, when the project has any, the
evaluation jobs on Google's batch engine (:mod:`.batch_panel`). Bottom: the :class:`~.plot_area.PlotArea`
with the loss curves of the selected jobs (several overlay to compare), beside the
:class:`~.advice_panel.AdvicePanel` and the :class:`~.details_panel.DetailsPanel`.

The project's own jobs, curves and details show whatever the connection's state (a missing key, an
unreachable service, another connection active); a job of another connection says which. Polling is
done by :class:`~gemtune_desktop.qtcore.poller.JobPoller` on worker threads for the active connection's
jobs; new loss points are stored in the project as they arrive (so a finished job's curve shows
offline) and read into the :class:`~gemtune_desktop.core.loss_cache.LossCache`. pyqtgraph is imported
the first time this tab is shown. Closing the window while a job runs says it keeps running on the
service and is picked up next time.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QMessageBox, QSplitter, QTabWidget, QVBoxLayout, QWidget

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.job_facts import rerun_settings, steps_per_epoch
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.loss_cache import LossCache
from gemtune_desktop.core.project import examples_repo, jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.qtcore.context import AppContext, ModelRequest
from gemtune_desktop.qtcore.poller import JobPoller
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services import job_sync
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.monitor import JobStatus
from gemtune_desktop.ui.monitor.actions import JobActions
from gemtune_desktop.ui.monitor.advice_panel import AdvicePanel
from gemtune_desktop.ui.monitor.batch_panel import BatchJobsPanel
from gemtune_desktop.ui.monitor.closing import running_jobs_notice
from gemtune_desktop.ui.monitor.details_panel import DetailsPanel, JobContext, lineage_words
from gemtune_desktop.ui.monitor.jobs_list import JobsList
from gemtune_desktop.ui.monitor.jobs_model import connection_words, of_connection
from gemtune_desktop.ui.monitor.notifier import JobNotifier
from gemtune_desktop.ui.monitor.plot_area import PlotArea
from gemtune_desktop.ui.monitor.pricing import cost_words
from gemtune_desktop.ui.monitor.rebase import RebaseActions, moved_by, offer_for
from gemtune_desktop.ui.tab_page import TabKey, WindowMenus
from gemtune_desktop.ui.widgets.status_line import StatusLine, Tone, error_text

log = logging.getLogger(__name__)

CLOCK_MS = 1000  # the elapsed and remaining times tick
CHECKING_TIP = ("GemTune is still checking whether this job started; starting it again now could start it twice. "
                "The Monitor shows it as soon as it is found.")


class MonitorTab(QWidget):
    """The Monitor tab (a :class:`~gemtune_desktop.ui.tab_page.TabPage`); see the module docstring."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.store: ProjectStore | None = None
        self.curves = LossCache()
        self._details_key: tuple[Any, ...] | None = None
        self._listed_once = False
        self._closed = False
        self._poll_error_job: int | None = None  # the job whose failed poll the status line shows
        self._session: object = None  # the project followed when its file moves (Save As)
        self.poller = JobPoller(ctx, parent=self)
        self.notifier = JobNotifier(self)
        self._list_task = TaskSlot(self, ctx.executor, "list jobs")
        self._build()
        self._wire()
        self._follow(ctx.project)
        self._use_store(self._project_store())

    # -- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.job_actions = JobActions(self.ctx, self, lambda title, text, yes: self._confirm(title, text, yes))
        self.jobs = JobsList(self, self)
        self.rebase = RebaseActions(self.ctx, self, lambda title, text, yes: self._confirm(title, text, yes))
        tuning = QWidget(self)
        tuning.setObjectName("tuningJobsPage")
        box = QVBoxLayout(tuning)
        box.setContentsMargins(0, 4, 0, 0)
        box.addWidget(self.jobs.bar)
        box.addWidget(self.job_actions.progress)
        box.addWidget(self.jobs, 1)
        self.batch = BatchJobsPanel(self.ctx, lambda title, text, yes: self._confirm(title, text, yes), self)
        self.batch.hide()  # shown as a second list only while the project has batch jobs
        self.lists = QTabWidget(self)
        self.lists.setObjectName("monitorLists")
        self.lists.setDocumentMode(True)
        self.lists.setTabBarAutoHide(True)  # one list: no tab bar
        self.lists.addTab(tuning, "Tuning jobs")
        self.plot_area = PlotArea(self)
        self.advice_panel = AdvicePanel(self)
        self.details = DetailsPanel(self)
        side = QSplitter(Qt.Orientation.Vertical, self)
        side.addWidget(self.advice_panel)
        side.addWidget(self.details)
        side.setStretchFactor(1, 1)
        side.setSizes([230, 370])
        bottom = QSplitter(Qt.Orientation.Horizontal, self)
        bottom.addWidget(self.plot_area)
        bottom.addWidget(side)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 2)
        bottom.setSizes([780, 420])
        main = QSplitter(Qt.Orientation.Vertical, self)
        main.addWidget(self.lists)
        main.addWidget(bottom)
        main.setStretchFactor(1, 2)
        main.setSizes([210, 540])
        layout.addWidget(main, 1)
        self.status_label = QLabel("", self)
        self.status_label.setObjectName("monitorStatus")
        self.status_label.setWordWrap(True)
        self.status = StatusLine(self.status_label)
        layout.addWidget(self.status_label)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_MS)
        self._clock.timeout.connect(self.jobs.model.tick)
        self._clock.start()

    def _wire(self) -> None:
        ctx = self.ctx
        ctx.project_changed.connect(self._project_changed)
        ctx.jobs_changed.connect(self._jobs_changed)
        ctx.monitor_job_requested.connect(self.show_job)
        ctx.connections.connection_changed.connect(self._connection_changed)
        self.poller.job_updated.connect(self._job_updated)
        self.poller.points_added.connect(self._points_added)
        self.poller.job_ended.connect(self._job_ended)
        self.poller.poll_failed.connect(self._poll_failed)
        self.poller.submit_resolved.connect(self._submit_resolved)
        jobs = self.jobs
        jobs.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        jobs.refresh_button.clicked.connect(self.refresh)
        jobs.cancel_button.clicked.connect(self.cancel_selected)
        jobs.delete_button.clicked.connect(self.delete_selected_model)
        jobs.test_button.clicked.connect(self.open_selected_in_test)
        jobs.rerun_button.clicked.connect(self.rerun_selected)
        self.job_actions.said.connect(self.status.say)
        self.job_actions.failed.connect(lambda err, lead: self.status.error(err, lead, tone=Tone.PLAIN))
        self.job_actions.cancel_sent.connect(self.poller.watch)
        self.job_actions.delete_finished.connect(lambda _id: self._update_actions(self._selected_job()))
        self.batch.said.connect(self.status.say)
        self.batch.jobs_changed.connect(lambda count: self.batch.show_in(self.lists, self, count))
        self.batch.refreshed.connect(ctx.batch_jobs_changed.emit)
        self.plot_area.said.connect(self.status.say)
        self.advice_panel.prefill_requested.connect(self._prefill)
        self.advice_panel.test_requested.connect(self._test)
        self.details.test_requested.connect(self._test)
        self.details.rows_requested.connect(self._rows)
        self.details.job_requested.connect(self.show_job)
        self.details.rebase_requested.connect(self._rebase)
        self.details.compare_requested.connect(lambda old, new: self.ctx.evaluation_requested.emit([old, new]))
        self.rebase.said.connect(self.status.say)
        self.rebase.started.connect(self.show_job)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.plot_area.ensure_plot()
        if not self._listed_once:
            self._listed_once = True
            QTimer.singleShot(0, self, self.refresh)

    # -- project and connection -------------------------------------------------------------
    def _project_store(self) -> ProjectStore | None:
        project = self.ctx.project
        return project.store if project is not None else None

    def _use_store(self, store: ProjectStore | None) -> None:
        self.store = store
        self.job_actions.store = store
        self.curves.use(store)
        self.poller.set_store(None)
        self.poller.set_store(store)
        self.reload()
        self.batch.use_store(store)

    def _follow(self, project: object) -> None:
        """Follow ``project``'s file: Save As continues in the copy, which is a new store."""
        old, self._session = self._session, project
        if old is not None and old is not project:
            try:
                old.path_changed.disconnect(self._path_changed)  # type: ignore[attr-defined]
            except (AttributeError, RuntimeError, TypeError):
                pass
        signal = getattr(project, "path_changed", None)
        if signal is not None and old is not project:
            signal.connect(self._path_changed)

    def _path_changed(self, _path: object) -> None:
        if not self._closed and self._project_store() is not self.store:
            self._use_store(self._project_store())

    def _project_changed(self, project: object) -> None:
        if self._closed:
            return
        self._follow(project)
        self._use_store(self._project_store())
        if self._listed_once:
            self.refresh()

    def _connection_changed(self, _profile: object) -> None:
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

    def _active(self) -> tuple[str, str]:
        profile = self.ctx.connections.profile
        return profile.kind.value, profile.backend.value

    def reload(self) -> None:
        """Re-read the project's job records, of every connection (keeping the selection)."""
        self.jobs.show_jobs(jobs_repo.list_jobs(self.store) if self.store is not None else [], self._active())
        self._selection_changed()

    def show_job(self, job_id: int) -> None:
        """Show the Monitor tab with ``job_id`` selected (e.g. the job the Tune tab just started)."""
        if self._closed:
            return
        if self.jobs.model.row_of(job_id) < 0:
            self.reload()
        self.lists.setCurrentIndex(0)
        self.jobs.filter_edit.clear()
        self.jobs.only_project.setChecked(False)
        self.select_job(job_id)
        self.ctx.show_tab_requested.emit(TabKey.MONITOR)

    # -- the service's list -----------------------------------------------------------------
    def refresh(self) -> None:
        """List the connection's jobs on the service and merge them with the project's records."""
        if self._closed:
            return
        if self.store is None:
            self.status.say("Open a project to keep its tuning jobs.")
            return
        self.status.say("Checking the service for tuning jobs…")
        self.ctx.connections.start(self._list_task, lambda token, api: api.list_jobs(token),
                                   on_result=self._merge_service_jobs, on_error=self._list_failed)
        self.poller.sync()
        self.batch.refresh()

    def _merge_service_jobs(self, statuses: list[JobStatus]) -> None:
        if self._closed or self.store is None:
            return
        kind, backend = self._active()
        try:
            merged = job_sync.merge_service_jobs(self.store, statuses, kind, backend, polled=set(self.poller.watched()))
        except (UserError, sqlite3.Error) as exc:
            err = exc if isinstance(exc, UserError) else UserError(str(exc))
            self.status.error(err, f"{len(statuses)} jobs on the service; they could not be saved in the project:",
                              tone=Tone.PLAIN, hint=False)
            return
        self.status.say(merged.words())
        self.reload()
        self.poller.sync()

    def _list_failed(self, err: UserError) -> None:
        self.status.say(error_text(err, "Could not list the service's jobs:", tone=Tone.PLAIN)
                        + " Showing the jobs saved in this project.")

    # -- selection, plot, advice, details ---------------------------------------------------
    def selected_ids(self) -> list[int]:
        return self.jobs.selected_ids()

    def select_job(self, job_id: int) -> None:
        self.jobs.select_ids([job_id])

    def _selection_changed(self) -> None:
        jobs = self.jobs.selected_jobs()
        primary = jobs[0] if jobs else None
        self.plot_area.set_jobs([(j.id, j.display_name or f"job {j.id}", self.curves.curves(j.id), steps_per_epoch(j))
                                 for j in jobs])
        self._show_primary(primary, force=True)
        self._update_actions(primary)
        for job in jobs:  # a finished job seen on the service whose curve is not cached yet: fetch it once
            if job.state.ended and job.resource_name and not self.curves.has_points(job.id) \
                    and of_connection(job, self._active()):
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
            other = "" if of_connection(job, self._active()) else connection_words(job.connection_kind, job.backend)
            lineage, parent = lineage_words(job, self.jobs.model.jobs())
            old = self.jobs.model.job(parent) if parent and (job.hyperparameters or {}).get("rebased_from") else None
            context = JobContext(tuple(self._train_row_ids()), other, cost_words(job, self.ctx.settings), lineage,
                                 parent, offer_for(job, self.ctx.connections.profile.is_sandbox),
                                 moved_by(job, self.jobs.model.jobs()),
                                 old.endpoint if old is not None and job.state is JobState.SUCCEEDED else "")
            self.details.set_job(job, context)
            self._update_advice(job, force=True)
            return
        self.details.update_state(job)
        self._update_advice(job)

    def _update_advice(self, job: JobRecord, force: bool = False) -> None:
        self.advice_panel.read_curves(job, self.curves.curves(job.id), force)

    def _train_row_ids(self) -> list[int]:
        return examples_repo.ids_in_split(self.store, Split.TRAIN) if self.store is not None else []

    def _update_actions(self, job: JobRecord | None) -> None:
        gemini = self.ctx.connections.profile.backend is Backend.GEMINI_API
        mine = job is not None and of_connection(job, self._active())
        jobs = self.jobs
        other = ""
        if job is not None and not mine:
            other = (f"This job belongs to the {connection_words(job.connection_kind, job.backend)} connection; "
                     "switch to it in Settings → Connections first")
        jobs.cancel_button.setEnabled(bool(job and mine and job.resource_name and job.state.active and not gemini))
        jobs.cancel_button.setToolTip(other or ("Stop the selected job (asks first)" if not gemini else
                                                "The Gemini API cannot stop a tuning job once it has started"))
        jobs.delete_button.setEnabled(bool(job and mine and (job.tuned_model or (gemini and job.resource_name))
                                           and job.state.ended and not self.job_actions.deleting(job.id)))
        jobs.delete_button.setToolTip(other or "Delete the selected job's tuned model on the service (asks first)")
        jobs.test_button.setEnabled(bool(job and mine and job.endpoint))
        jobs.test_button.setToolTip(other or "Try the selected job's tuned model")
        checking = job is not None and job.state.being_submitted
        jobs.rerun_button.setEnabled(job is not None and not checking)
        jobs.rerun_button.setToolTip(CHECKING_TIP if checking else "Open the Tune tab with this job's settings")

    # -- poller events -----------------------------------------------------------------------
    def _job_updated(self, job_id: int) -> None:
        record = jobs_repo.get_job(self.store, job_id) if self.store is not None else None
        if record is None:
            return
        self.jobs.update_job(record)
        if self._poll_error_job == job_id:  # the poll that failed has been answered since
            self._poll_error_job = None
            self.status.clear()
        self.job_actions.job_stopped(record)
        ids = self.selected_ids()
        if ids and ids[0] == job_id:
            self._show_primary(record)
            self._update_actions(record)

    def _points_added(self, job_id: int) -> None:
        if self._poll_error_job == job_id:
            self._poll_error_job = None
            self.status.clear()
        if not self.curves.is_cached(job_id):
            return
        for name, series in self.curves.extend(job_id):
            self.plot_area.add_series(job_id, name, series)
        ids = self.selected_ids()
        if ids and ids[0] == job_id:
            job = self.jobs.model.job(job_id)
            if job is not None:
                self._update_advice(job)

    def _job_ended(self, job_id: int) -> None:
        job = jobs_repo.get_job(self.store, job_id) if self.store is not None else None
        if job is None:
            return
        name = job.display_name or "A tuning job"
        text = f"{name} {job.state_words}."
        if job.error:
            text += f" {job.error}"
        self.ctx.status_message.emit(text, 10000)
        self.notifier.notify("Tuning job finished" if not job.error else "Tuning job stopped", text)

    def _poll_failed(self, job_id: int, text: str) -> None:
        job = self.jobs.model.job(job_id)
        name = (job.display_name if job else "") or f"job {job_id}"
        self._poll_error_job = job_id
        self.status.say(f"Checking “{name}”: {text}")

    def _submit_resolved(self, job_id: int) -> None:
        if self.store is not None:
            try:  # a refresh may have listed the job before the check found it: one record per job
                job_sync.fold_duplicates(self.store, *self._active())
            except (UserError, sqlite3.Error) as exc:
                log.warning("could not fold duplicate job records: %s", type(exc).__name__)
        self.reload()
        job = self.jobs.model.job(job_id)
        if job is None:
            return
        if self._poll_error_job == job_id:
            self._poll_error_job = None
        name = job.display_name or "The job"
        if job.state is JobState.SUBMIT_FAILED:
            self.status.say(f"“{name}” did not start: {job.error}", Tone.WARNING)
        else:
            self.status.say(f"“{name}” has started on the service; it is followed here from now on.", Tone.OK)

    # -- actions -----------------------------------------------------------------------------
    def _selected_job(self) -> JobRecord | None:
        ids = self.selected_ids()
        return self.jobs.model.job(ids[0]) if ids else None

    def _confirm(self, title: str, text: str, yes: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton, self)
        ok = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep it", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        confirmed = box.clickedButton() is ok
        box.deleteLater()
        return confirmed

    def cancel_selected(self) -> None:
        job = self._selected_job()
        if job is not None and of_connection(job, self._active()):
            self.job_actions.cancel(job)

    def delete_selected_model(self) -> None:
        job = self._selected_job()
        if job is not None and of_connection(job, self._active()):
            self.job_actions.delete(job)
            self._update_actions(job)

    def _rebase(self, job_id: int, new_base: str) -> None:
        job = self.jobs.model.job(job_id)
        if job is not None and of_connection(job, self._active()):
            self.rebase.move(job, new_base)

    def open_selected_in_test(self) -> None:
        job = self._selected_job()
        if job is not None and job.endpoint:
            self._test(ModelRequest(job.endpoint, job.display_name or "tuned model", job.id))

    def rerun_selected(self) -> None:
        job = self._selected_job()
        if job is not None and not job.state.being_submitted:
            self._prefill(rerun_settings(job))

    def _prefill(self, settings: dict[str, Any]) -> None:
        self.ctx.tune_prefill_requested.emit(dict(settings))
        self.ctx.show_tab_requested.emit(TabKey.TUNE)

    def _test(self, request: ModelRequest) -> None:
        self.ctx.test_model_requested.emit(request)
        self.ctx.show_tab_requested.emit(TabKey.TEST)

    def _rows(self, ids: list[int]) -> None:
        self.ctx.rows_focus_requested.emit(list(ids))
        self.ctx.show_tab_requested.emit(TabKey.DATASET)

    # -- TabPage -------------------------------------------------------------------------------
    def install_actions(self, menus: WindowMenus) -> None:
        """This tab adds nothing to the menus."""

    def can_close(self) -> bool:
        """Closing while jobs run: say they keep running on the service and are picked up next time."""
        if self._closed or self.store is None:
            return True
        try:
            jobs = jobs_repo.list_jobs(self.store)
        except (UserError, sqlite3.Error):  # an unreadable project never keeps the window open
            return True
        return running_jobs_notice(self, jobs, self.batch.model.jobs())

    def shutdown(self) -> None:
        self._closed = True
        self.poller.stop()
        self.job_actions.shutdown()
        self.rebase.shutdown()
        self.batch.shutdown()
        self._clock.stop()
        self.plot_area.stop()
        self.notifier.close()

"""The Monitor tab's evaluation jobs on Google's batch engine: progress, cancel, and results stored as they end.

A large evaluation sent from the Test tab runs as one batch job per model (``batch_jobs`` in the
project, :mod:`gemtune_desktop.services.batch_jobs`). This panel lists the project's batch jobs with
their state, rows, answered, failed and pending counts and whether their results are stored. While any
job of the active connection is open, it asks the service about them when the project opens (so a job
that ran while the app was closed is picked up) and then periodically, through the service seam
(``api.refresh_batch_jobs``), which also stores the results of jobs that ended. Cancel asks first.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.project import batch_jobs_repo, evals_repo
from gemtune_desktop.core.project.batch_jobs_repo import BatchJobRecord
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskGroup, TaskSlot
from gemtune_desktop.services.batch_jobs import state_words
from gemtune_desktop.ui.monitor.jobs_model import connection_words
from gemtune_desktop.ui.monitor.plot_area import button
from gemtune_desktop.ui.widgets.status_line import Tone, error_text

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Evaluation", "Model", "State", "Rows", "Answered", "Failed", "Pending", "Results", "Message")
COL_RUN, COL_MODEL, COL_STATE, COL_ROWS, COL_OK, COL_FAILED, COL_PENDING, COL_RESULTS, COL_MESSAGE = \
    range(len(COLUMNS))
NUMBERS = (COL_ROWS, COL_OK, COL_FAILED, COL_PENDING)
SANDBOX_REFRESH_MS = 2_000
SERVICE_REFRESH_MS = 60_000  # batch jobs take minutes to hours; once a minute is plenty
CANCEL_TEXT = ("Stop the batch job for “{model}”?\n\nRows it has answered so far are kept and stored in the "
               "evaluation; the others stay unanswered (Resume in the Test tab sends them online).")


def results_words(job: BatchJobRecord) -> str:
    if job.ingested:
        return "stored in the evaluation"
    if job.state == "SUBMIT_FAILED":
        return "none (not sent)"
    return "being stored…" if job.ended else "when it ends"


class BatchJobsModel(QAbstractTableModel):
    """Rows are the project's batch jobs (newest first)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[BatchJobRecord] = []
        self._runs: dict[int, str] = {}
        self.active: tuple[str, str] | None = None

    def set_jobs(self, jobs: list[BatchJobRecord], runs: dict[int, str], active: tuple[str, str] | None) -> None:
        self.beginResetModel()
        self._jobs, self._runs, self.active = list(jobs), dict(runs), active
        self.endResetModel()

    def job_at(self, row: int) -> BatchJobRecord | None:
        return self._jobs[row] if 0 <= row < len(self._jobs) else None

    def jobs(self) -> list[BatchJobRecord]:
        return list(self._jobs)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, col)
        if role == Qt.ItemDataRole.ToolTipRole and col in (COL_MODEL, COL_MESSAGE, COL_STATE):
            return {COL_MODEL: job.model, COL_MESSAGE: job.error or None, COL_STATE: self._state_tip(job)}[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMBERS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, job: BatchJobRecord, col: int) -> str:
        values = {
            COL_RUN: self._runs.get(job.run_id) or f"Evaluation {job.run_id}",
            COL_MODEL: job.model.rsplit("/", 1)[-1],
            COL_STATE: state_words(job.state) + ("" if self._mine(job) else
                                                 f" · {connection_words(job.connection_kind, job.backend)}"),
            COL_ROWS: f"{job.rows:,}", COL_OK: f"{job.succeeded:,}", COL_FAILED: f"{job.failed:,}",
            COL_PENDING: f"{job.pending:,}", COL_RESULTS: results_words(job), COL_MESSAGE: job.error,
        }
        return values.get(col, "")

    def _mine(self, job: BatchJobRecord) -> bool:
        return self.active is None or (job.connection_kind, job.backend) == self.active

    def _state_tip(self, job: BatchJobRecord) -> str:
        if self._mine(job):
            return f"Sent {job.created_at[:16].replace('T', ' ')}; last checked {job.updated_at[:16].replace('T', ' ')}"
        return (f"This job belongs to the {connection_words(job.connection_kind, job.backend)} connection; switch to "
                "it to follow or cancel the job.")


class BatchJobsPanel(QWidget):
    """The batch jobs, a Refresh and a Cancel button, and the periodic check of the open ones.

    Signals:
        said(str): what happened, for the tab's status line.
        jobs_changed(int): the number of batch jobs after a reload (the tab shows or hides the panel).
        refreshed(): the service was asked about the open jobs (results may have been stored).
    """

    said = Signal(str)
    jobs_changed = Signal(int)
    refreshed = Signal()

    def __init__(self, ctx: AppContext, confirm: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchJobs")
        self.ctx = ctx
        self.confirm = confirm
        self.store: ProjectStore | None = None
        self._refresh_task = TaskSlot(self, ctx.executor, "refresh batch jobs")
        self._cancels: TaskGroup[int] = TaskGroup(self, ctx.executor, "cancel batch job")
        self._build()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        ctx.batch_job_submitted.connect(lambda _run_id: self.use_store(self.store))  # list and follow it

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.count_label = QLabel("", self)
        self.count_label.setObjectName("batchJobsCount")
        self.refresh_button = button("Refresh", "Ask the service how the open batch jobs are doing", self,
                                     "refreshBatchJobs")
        self.cancel_button = button("Cancel batch job…", "Stop the selected batch job (asks first)", self,
                                    "cancelBatchJob")
        bar.addWidget(QLabel("Large evaluations sent to Google's batch engine; results land in the Test tab's "
                             "evaluation when a job ends.", self), 1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.cancel_button)
        layout.addLayout(bar)
        self.model = BatchJobsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("batchJobsTable")
        self.table.setAccessibleName("Evaluation jobs on the batch engine")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        self.refresh_button.clicked.connect(self.refresh)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())

    def show_in(self, lists: QTabWidget, home: QWidget, count: int) -> None:
        """Be the second tab of ``lists`` while the project has ``count`` > 0 batch jobs, else hidden in ``home``."""
        index = lists.indexOf(self)
        if count and index < 0:
            lists.addTab(self, "")
            index = lists.indexOf(self)
        elif not count and index >= 0:
            lists.removeTab(index)
            self.setParent(home)
            self.hide()
            return
        if index >= 0:
            lists.setTabText(index, f"Batch evaluations ({count})")

    # -- the project's jobs ---------------------------------------------------------------------------
    def _active(self) -> tuple[str, str]:
        profile = self.ctx.connections.profile
        return profile.kind.value, profile.backend.value

    def use_store(self, store: ProjectStore | None) -> None:
        """Show ``store``'s batch jobs and check the open ones on the service (at once, then periodically)."""
        if store is not self.store:
            self._refresh_task.shutdown()
            self._cancels.shutdown()
        self.store = store
        self.reload()
        self.refresh()

    def reload(self) -> None:
        jobs = batch_jobs_repo.list_jobs(self.store) if self.store is not None else []
        runs = {r.id: r.name for r in evals_repo.list_runs(self.store)} if jobs and self.store is not None else {}
        selected = self.selected_job()
        self.model.set_jobs(jobs, runs, self._active())
        if selected is not None:
            for row, job in enumerate(jobs):
                if job.id == selected.id:
                    self.table.selectRow(row)
        open_jobs = sum(1 for j in jobs if not j.ended or (not j.ingested and j.state != "SUBMIT_FAILED"))
        self.count_label.setText(f"{len(jobs)} batch job{'s' if len(jobs) != 1 else ''}"
                                 + (f", {open_jobs} open" if open_jobs else ""))
        self._update_actions()
        self._schedule()
        self.jobs_changed.emit(len(jobs))

    def _open_here(self) -> list[BatchJobRecord]:
        active = self._active()
        return [j for j in self.model.jobs() if (j.connection_kind, j.backend) == active
                and (not j.ended or (not j.ingested and j.state != "SUBMIT_FAILED"))]

    def _schedule(self) -> None:
        if self._open_here() and self.store is not None:
            sandbox = self.ctx.connections.profile.is_sandbox
            self._timer.setInterval(SANDBOX_REFRESH_MS if sandbox else SERVICE_REFRESH_MS)
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()

    def selected_job(self) -> BatchJobRecord | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.job_at(rows[0].row()) if rows else None

    def _update_actions(self) -> None:
        job = self.selected_job()
        mine = job is not None and (job.connection_kind, job.backend) == self._active()
        self.cancel_button.setEnabled(bool(job and mine and job.resource_name and not job.ended
                                           and not self._cancels.is_running(job.id)))

    # -- the service ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask the service about the open jobs of the active connection (results of ended ones are stored)."""
        store = self.store
        path = getattr(store, "path", None)
        if store is None or path is None or getattr(store, "read_only", False) or not self._open_here() \
                or self._refresh_task.running:
            return
        db_path = str(path)
        self.ctx.connections.start(self._refresh_task, lambda token, api: api.refresh_batch_jobs(token, db_path),
                                   on_result=partial(self._refreshed, store), on_error=self._failed)

    def _refreshed(self, store: ProjectStore, _jobs: object = None) -> None:
        if store is not self.store:
            return
        self.reload()
        self.refreshed.emit()

    def _failed(self, err: UserError) -> None:
        self.said.emit(error_text(err, "Could not check the batch jobs:", tone=Tone.PLAIN)
                       + " GemTune tries again in a while.")

    def cancel_selected(self) -> None:
        job = self.selected_job()
        store = self.store
        if job is None or store is None or job.ended or self._cancels.is_running(job.id):
            return
        if not self.confirm("Cancel batch job", CANCEL_TEXT.format(model=job.model.rsplit("/", 1)[-1]),
                            "Stop the batch job"):
            return
        db_path = str(store.path)
        self.said.emit("Asking the service to stop the batch job…")
        self.ctx.connections.start(self._cancels.slot(job.id),
                                   lambda token, api: api.cancel_batch_job(token, db_path, job),
                                   on_result=partial(self._cancelled, store),
                                   on_error=lambda err: self.said.emit(error_text(err, "Could not cancel:")))
        self._update_actions()

    def _cancelled(self, store: ProjectStore, record: BatchJobRecord) -> None:
        if store is not self.store:
            return
        self.said.emit(f"Cancel requested; the batch job is {state_words(record.state).lower()}. Rows answered so "
                       "far are stored when it stops.")
        self.reload()

    def shutdown(self) -> None:
        self._timer.stop()
        self._refresh_task.shutdown()
        self._cancels.shutdown()

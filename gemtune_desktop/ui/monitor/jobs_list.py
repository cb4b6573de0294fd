"""The top of the Monitor tab: the jobs table, and the bar above it with the filter and the job action buttons.

Selection is by job id: the row clicked last comes first (its details and advice show).
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.ui.monitor.jobs_model import COL_STARTED, JOB_ID_ROLE, JobsFilterModel, JobsTableModel
from gemtune_desktop.ui.monitor.plot_area import button

EMPTY_TEXT = "No tuning jobs yet — start one in the Tune tab."
NO_MATCH_TEXT = "No jobs match the filter."
ROW_HEIGHT = 24


class JobsList(QWidget):
    """The table (or a line saying why it is empty); :attr:`bar` holds the filter and the actions.

    Args:
        bar_parent: the widget the bar is shown in (the tab lays it out above its splitter).
    """

    def __init__(self, bar_parent: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QWidget(bar_parent)
        self.bar.setObjectName("jobsBar")
        self._build_bar(self.bar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.model = JobsTableModel(self)
        self.proxy = JobsFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = self._build_table()
        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setObjectName("jobsEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.table_stack = QStackedWidget(self)
        self.table_stack.addWidget(self.table)
        self.table_stack.addWidget(self.empty_label)
        layout.addWidget(self.table_stack, 1)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.only_project.toggled.connect(self._only_project_toggled)

    def _build_bar(self, host: QWidget) -> None:
        bar = QHBoxLayout(host)
        bar.setContentsMargins(0, 0, 0, 0)
        self.filter_edit = QLineEdit(host)
        self.filter_edit.setObjectName("jobFilter")
        self.filter_edit.setPlaceholderText("Filter jobs by name, model, state or dataset")
        self.filter_edit.setAccessibleName("Filter jobs")
        self.filter_edit.setClearButtonEnabled(True)
        self.only_project = QCheckBox("Only jobs from this project", host)
        self.only_project.setObjectName("onlyProjectJobs")
        self.only_project.setToolTip("Hide jobs that were found on the service but not started from this project")
        self.refresh_button = button("Refresh", "Ask the service for its list of jobs again", host, "refreshJobs")
        self.cancel_button = button("Cancel job…", "Stop the selected job (asks first)", host, "cancelJob")
        self.delete_button = button("Delete tuned model…", "Delete the selected job's tuned model on the service "
                                    "(asks first)", host, "deleteModel")
        self.test_button = button("Open in Test tab", "Try the selected job's tuned model", host, "openInTest")
        self.rerun_button = button("Re-run with changes…", "Open the Tune tab with this job's settings", host,
                                   "rerunJob")
        bar.addWidget(self.filter_edit, 2)
        bar.addWidget(self.only_project)
        for b in (self.refresh_button, self.cancel_button, self.delete_button, self.test_button, self.rerun_button):
            bar.addWidget(b)

    def _build_table(self) -> QTableView:
        table = QTableView(self)
        table.setObjectName("jobsTable")
        table.setAccessibleName("Tuning jobs")
        table.setModel(self.proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(COL_STARTED, Qt.SortOrder.DescendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setWordWrap(False)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        table.verticalHeader().hide()
        table.horizontalHeader().setStretchLastSection(True)
        table.setToolTip("Select a job to see its curve; Ctrl-click or Shift-click several to compare")
        return table

    def show_jobs(self, jobs: list[JobRecord]) -> None:
        """Show these jobs, keeping the selection."""
        selected = self.selected_ids()
        self.model.set_jobs(jobs)
        self.select_ids(selected)
        self._update_empty()

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

    def selected_jobs(self) -> list[JobRecord]:
        return [j for j in (self.model.job(i) for i in self.selected_ids()) if j is not None]

    def select_ids(self, ids: list[int]) -> None:
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

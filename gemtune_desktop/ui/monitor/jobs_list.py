"""The top of the Monitor tab: the jobs table, and the bar above it with the filter and the job action buttons.

Selection is by job id: the row clicked last comes first (its details and advice show). The columns
fit their contents (name, origin, base model, state, start date) so nothing the user tells jobs apart by
is cut off; a column the user narrows shortens its text in the middle, where names differ least.
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
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.ui.monitor.jobs_model import (
    COL_BASE,
    COL_ELAPSED,
    COL_FROM,
    COL_NAME,
    COL_PROGRESS,
    COL_REMAINING,
    COL_STARTED,
    COL_STATE,
    JOB_ID_ROLE,
    JobsFilterModel,
    JobsTableModel,
)
from gemtune_desktop.ui.monitor.plot_area import button

EMPTY_TEXT = "No tuning jobs yet — start one in the Tune tab."
NO_MATCH_TEXT = "No jobs match the filter."
ROW_HEIGHT = 24
FITTED = (COL_NAME, COL_FROM, COL_BASE, COL_STATE)  # fitted to the jobs shown
#: Columns whose text changes every second: wide enough for their longest usual text.
SAMPLES = {COL_PROGRESS: "99,999 / 99,999", COL_STARTED: "2026-12-31 23:59", COL_ELAPSED: "23 h 59 min",
           COL_REMAINING: "about 23 h 59 min"}


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
        self._size_time_columns()

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
        self.count_label = QLabel("", host)
        self.count_label.setObjectName("jobsCount")
        self.count_label.setAccessibleName("Number of tuning jobs")
        bar.addWidget(self.filter_edit, 2)
        bar.addWidget(self.count_label)
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
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "Contracts 2026-12-04 … v2": the ends tell apart
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        table.verticalHeader().hide()
        table.horizontalHeader().setStretchLastSection(True)
        table.setToolTip("Select a job to see its curve; Ctrl-click or Shift-click several to compare")
        return table

    def show_jobs(self, jobs: list[JobRecord], active: tuple[str, str] | None = None) -> None:
        """Show these jobs, keeping the selection; ``active`` is the active connection (kind, backend)."""
        selected = self.selected_ids()
        self.model.set_jobs(jobs, active)
        self.select_ids(selected)
        self._update_empty()
        self.fit_columns()

    def update_job(self, job: JobRecord) -> None:
        """One job's record changed (its state words may be longer now)."""
        self.model.update_job(job)
        self.fit_columns()

    def _size_time_columns(self) -> None:
        header = self.table.horizontalHeader()
        metrics = self.table.fontMetrics()
        pad = 2 * self.table.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin) + 24  # margins, sort arrow
        for col, sample in SAMPLES.items():
            title = str(self.model.headerData(col, Qt.Orientation.Horizontal) or "")
            header.resizeSection(col, max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(title)) + pad)

    def fit_columns(self) -> None:
        """Fit the name, origin, base model and state columns to what they show."""
        if self.model.rowCount() == 0:
            return
        for col in FITTED:
            self.table.resizeColumnToContents(col)

    def _update_empty(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        noun = "job" if total == 1 else "jobs"
        self.count_label.setText(f"{total} {noun}" if shown == total else f"{shown} of {total} {noun}")
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

"""The Monitor tab's jobs table: one row per job record, with a filter/sort proxy.

A thin adapter over :class:`~gemtune_desktop.core.jobs.JobRecord` lists read from the store:
name, start, base model, state in plain words, progress, where it came from (this project or only seen
on the service — icon plus text — and the connection it belongs to when that is not the active one),
elapsed and remaining time, dataset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from gemtune_desktop.core.jobs import JobRecord, JobState, parse_time

Index = QModelIndex | QPersistentModelIndex

# What tells jobs apart comes first (name, date, base model), so it shows even in a narrow window.
COLUMNS = ("Name", "Started", "Base model", "State", "Progress", "From", "Elapsed", "Remaining", "Dataset")
COL_NAME, COL_STARTED, COL_BASE, COL_STATE, COL_PROGRESS, COL_FROM, COL_ELAPSED, COL_REMAINING, COL_DATASET = \
    range(len(COLUMNS))
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
FROM_PROJECT_ROLE = Qt.ItemDataRole.UserRole + 3

_HEADER_TIPS = {
    COL_FROM: "“This project” marks jobs started from the open project; others were found on the service. A job "
              "of another connection than the active one names it",
    COL_PROGRESS: "Training steps done out of the total the service planned",
    COL_ELAPSED: "Time since the job started (until it ended)",
    COL_REMAINING: "Estimated from the pace so far",
}


_KIND_WORDS = {"sandbox": "Sandbox", "agent_platform": "Google Cloud", "gemini_api": "Gemini API key"}
_BACKEND_WORDS = {"agent-platform": "Agent Platform", "gemini-api": "Gemini API"}


def connection_words(connection_kind: str, backend: str) -> str:
    """The connection a job belongs to, as the user knows it: ``"Sandbox (Gemini API)"``, ``"Google Cloud"``."""
    kind = _KIND_WORDS.get(connection_kind, connection_kind or "another connection")
    if connection_kind == "sandbox":
        return f"{kind} ({_BACKEND_WORDS.get(backend, backend)})"
    return kind


def of_connection(job: JobRecord, active: tuple[str, str] | None) -> bool:
    """Whether ``job`` belongs to the ``active`` connection (kind, backend); True when that is not known."""
    return active is None or (job.connection_kind, job.backend) == active


def duration_words(seconds: float | None) -> str:
    """``"45 s"``, ``"12 min"``, ``"1 h 05 min"``, ``"2 d 3 h"``; empty for None."""
    if seconds is None or seconds < 0:
        return ""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    m = s // 60
    if m < 60:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m:02d} min"
    d, h = divmod(h, 24)
    return f"{d} d {h} h"


def elapsed_seconds(job: JobRecord, now: datetime | None = None) -> float | None:
    start = job.start_time
    if start is None:
        return None
    end = parse_time(job.ended_at) if job.state.ended else None
    if job.state.ended and end is None:
        end = parse_time(job.updated_at)
    if end is None:
        end = now or datetime.now(UTC)
    return max(0.0, (end - start).total_seconds())


def remaining_seconds(job: JobRecord, now: datetime | None = None) -> float | None:
    """Time left at the pace so far; None when not training or not known."""
    if job.state.ended or job.state is not JobState.RUNNING:
        return None
    progress = job.progress
    elapsed = elapsed_seconds(job, now)
    if not progress or progress <= 0 or elapsed is None or progress >= 1:
        return None
    return elapsed * (1.0 - progress) / progress


class JobsTableModel(QAbstractTableModel):
    """Rows are job records; :meth:`set_jobs` replaces them, :meth:`update_job` refreshes one."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[JobRecord] = []
        self._row_of: dict[int, int] = {}
        self.now: datetime | None = None  # fixed "now" for tests; None = the clock
        self.active: tuple[str, str] | None = None  # the active connection (kind, backend)
        self._icons: dict[bool, QIcon] = {}

    # -- data in ----------------------------------------------------------------------------
    def set_jobs(self, jobs: list[JobRecord], active: tuple[str, str] | None = None) -> None:
        """Show ``jobs``; those not of the ``active`` connection (kind, backend) name theirs."""
        self.beginResetModel()
        self.active = active
        self._jobs = list(jobs)
        self._row_of = {j.id: i for i, j in enumerate(self._jobs)}
        self.endResetModel()

    def update_job(self, job: JobRecord) -> None:
        row = self._row_of.get(job.id)
        if row is None:
            return
        self._jobs[row] = job
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def tick(self) -> None:
        """Refresh the time columns of running jobs (called every few seconds)."""
        for row, job in enumerate(self._jobs):
            if job.state.active:
                self.dataChanged.emit(self.index(row, COL_PROGRESS), self.index(row, COL_REMAINING))

    def job_at(self, row: int) -> JobRecord | None:
        return self._jobs[row] if 0 <= row < len(self._jobs) else None

    def job(self, job_id: int) -> JobRecord | None:
        row = self._row_of.get(job_id)
        return None if row is None else self._jobs[row]

    def row_of(self, job_id: int) -> int:
        return self._row_of.get(job_id, -1)

    def jobs(self) -> list[JobRecord]:
        return list(self._jobs)

    # -- Qt model API ---------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_TIPS.get(section)
        return None

    def _icon(self, from_project: bool) -> QIcon:
        if from_project not in self._icons:
            style = QApplication.style()
            pixmap = QStyle.StandardPixmap.SP_DirHomeIcon if from_project else QStyle.StandardPixmap.SP_DriveNetIcon
            self._icons[from_project] = style.standardIcon(pixmap)
        return self._icons[from_project]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, col)
        if role == SORT_ROLE:
            return self._sort_key(job, col)
        if role == JOB_ID_ROLE:
            return job.id
        if role == FROM_PROJECT_ROLE:
            return job.from_project
        if role == Qt.ItemDataRole.DecorationRole and col == COL_FROM:
            return self._icon(job.from_project)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(job, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_PROGRESS, COL_ELAPSED, COL_REMAINING):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, job: JobRecord, col: int) -> str:
        if col == COL_NAME:
            return job.display_name or _short(job.resource_name) or f"job {job.id}"
        if col == COL_FROM:
            origin = "This project" if job.from_project else "Service"
            if of_connection(job, self.active):
                return origin
            return f"{origin} · {connection_words(job.connection_kind, job.backend)}"
        if col == COL_BASE:
            return _short(job.base_model)
        if col == COL_STATE:
            words = job.state_words
            return f"{words} ⚠" if job.error and job.state.ended else words
        if col == COL_PROGRESS:
            if job.total_steps:
                done = job.total_steps if job.state is JobState.SUCCEEDED else min(job.completed_steps,
                                                                                    job.total_steps)
                return f"{done} / {job.total_steps}"
            return f"{job.completed_steps}" if job.completed_steps else ""
        if col == COL_STARTED:
            start = job.start_time
            return start.astimezone().strftime("%Y-%m-%d %H:%M") if start else ""
        if col == COL_ELAPSED:
            return duration_words(elapsed_seconds(job, self.now))
        if col == COL_REMAINING:
            remaining = remaining_seconds(job, self.now)
            return f"about {duration_words(remaining)}" if remaining is not None else ""
        if col == COL_DATASET:
            return job.dataset_name
        return ""

    def _sort_key(self, job: JobRecord, col: int) -> str | float:
        if col == COL_PROGRESS:
            return job.progress if job.progress is not None else -1.0
        if col == COL_STARTED:
            start = job.start_time
            return start.timestamp() if start else 0.0
        if col == COL_ELAPSED:
            return elapsed_seconds(job, self.now) or 0.0
        if col == COL_REMAINING:
            remaining = remaining_seconds(job, self.now)
            return remaining if remaining is not None else -1.0
        return self._display(job, col).lower()

    def _tooltip(self, job: JobRecord, col: int) -> str | None:
        if col == COL_NAME:
            return job.resource_name or "Not on the service yet"
        if col == COL_FROM:
            origin = ("Started from this project" if job.from_project
                      else "Found on the service; not started from this project")
            if of_connection(job, self.active):
                return origin
            return (f"{origin}, on the {connection_words(job.connection_kind, job.backend)} connection, which is "
                    "not the active one: its curve and details are what this project saved. Switch to that "
                    "connection (Settings → Connections) to follow it, cancel it or try its model.")
        if col == COL_STATE and job.error:
            return job.error
        if col == COL_BASE:
            return job.base_model
        return None


def _short(resource: str) -> str:
    """Last path segment of a resource name (``publishers/google/models/x`` → ``x``)."""
    return resource.rstrip("/").rsplit("/", 1)[-1] if resource else ""


class JobsFilterModel(QSortFilterProxyModel):
    """Text filter over name, base model, state and dataset; optionally only this project's jobs."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._only_project = False
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().lower()
        self.endFilterChange()

    def set_only_project(self, only: bool) -> None:
        self.beginFilterChange()
        self._only_project = only
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, JobsTableModel):
            return True
        job = model.job_at(source_row)
        if job is None:
            return False
        if self._only_project and not job.from_project:
            return False
        if not self._text:
            return True
        hay = " ".join((job.display_name, job.resource_name, job.base_model, job.state_words,
                        job.dataset_name)).lower()
        return all(word in hay for word in self._text.split())

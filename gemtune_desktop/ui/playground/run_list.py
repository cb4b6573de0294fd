"""The evaluation runs kept in the project, as a drop-down: newest first, sweep points hidden unless asked for.

Each run reads "#12 · 2026-12-04 10:31 · Validation examples · base vs tuned · done". A settings sweep
stores one run per grid point ("Sweep point: temperature 0.5 · top-p 0.8"); they are shown on the Sweep
page and listed here only with "Show sweep points".

Signals:
    selected(object): the chosen :class:`~gemtune_desktop.core.project.evals_repo.EvalRun` (or None).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QWidget

from gemtune_desktop.core.project import evals_repo
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.core.project.sweeps_repo import SOURCE as SWEEP_SOURCE
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.services.eval_plan import SOURCES


def run_title(run: EvalRun, running_id: int | None) -> str:
    status = run.status
    if status == evals_repo.RUNNING and running_id != run.id:
        status = "interrupted"
    if run.source == SWEEP_SOURCE:
        source = run.name or "Sweep point"
    else:
        source = dict(SOURCES).get(run.source, run.source).removesuffix("…")
    when = run.created_at.replace("T", " ").replace("+00:00", "")[:16]
    return f"#{run.id} · {when} · {source} · {' vs '.join(run.labels)} · {status}"


class RunList(QWidget):
    selected = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.running_id: int | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Run", self))
        self.runs = QComboBox(self)
        self.runs.setObjectName("evalRuns")
        self.runs.setAccessibleName("Evaluation runs kept in this project")
        self.runs.setMinimumContentsLength(16)
        self.runs.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.runs.currentIndexChanged.connect(lambda _i: self.selected.emit(self.selected_run()))
        layout.addWidget(self.runs, 1)
        self.show_sweeps = QCheckBox("Show sweep points", self)
        self.show_sweeps.setObjectName("showSweepPoints")
        self.show_sweeps.setToolTip("A settings sweep keeps one run per grid point; they are shown on the Sweep page. "
                                    "Tick to list them here too.")
        self.show_sweeps.toggled.connect(lambda _on: self.reload())
        layout.addWidget(self.show_sweeps)

    def reload(self, select: int | None = None) -> None:
        """List the open project's runs again, keeping (or choosing) ``select``; announces the choice."""
        project = self.ctx.project
        current = self.runs.currentData()
        keep = select if select is not None else (int(current) if current is not None else None)
        self.runs.blockSignals(True)
        self.runs.clear()
        if project is not None:
            for run in evals_repo.list_runs(project.store):
                if run.source == SWEEP_SOURCE and not self.show_sweeps.isChecked() and run.id != keep:
                    continue
                self.runs.addItem(run_title(run, self.running_id), run.id)
        index = self.runs.findData(keep) if keep is not None else 0
        self.runs.setCurrentIndex(max(0, index) if self.runs.count() else -1)
        self.runs.blockSignals(False)
        self.selected.emit(self.selected_run())

    def selected_run(self) -> EvalRun | None:
        project = self.ctx.project
        run_id = self.runs.currentData()
        if project is None or run_id is None:
            return None
        return evals_repo.get_run(project.store, int(run_id))

    def retitle(self, run: EvalRun) -> None:
        index = self.runs.findData(run.id)
        if index >= 0:
            self.runs.setItemText(index, run_title(run, self.running_id))

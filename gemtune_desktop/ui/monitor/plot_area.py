"""The Monitor tab's plot area: the options row (smoothing, log scale, zoom, export) and the loss plot.

The plot (:class:`~.loss_plot.LossPlot`, pyqtgraph) is built the first time it is needed, so pyqtgraph
is never imported at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.loss import LossSeries
from gemtune_desktop.core.loss_cache import Curves

if TYPE_CHECKING:
    from gemtune_desktop.ui.monitor.loss_plot import LossPlot

#: One job to plot: its id, a label, its curves and its steps per epoch (0 when not known).
PlotJob = tuple[int, str, Curves, float]


def button(text: str, tip: str, parent: QWidget, name: str) -> QPushButton:
    b = QPushButton(text, parent)
    b.setToolTip(tip)
    b.setObjectName(name)
    b.setAccessibleName(text)
    return b


class PlotArea(QWidget):
    """The plot of the selected jobs and its options.

    Signals:
        said(str): what happened (an export was saved), for the tab's status line.
    """

    said = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot: LossPlot | None = None
        self._jobs: list[PlotJob] = []
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        opts = QHBoxLayout()
        self.smoothing = QDoubleSpinBox(self)
        self.smoothing.setObjectName("smoothing")
        self.smoothing.setRange(0.0, 0.99)
        self.smoothing.setSingleStep(0.1)
        self.smoothing.setDecimals(2)
        self.smoothing.setToolTip("Smooth the training loss (0 = raw values, 0.9 = very smooth)")
        self.smoothing.setAccessibleName("Smoothing")
        self.log_scale = QCheckBox("Log scale", self)
        self.log_scale.setObjectName("logScale")
        self.log_scale.setToolTip("Show the loss on a logarithmic axis")
        self.reset_zoom = button("Reset zoom", "Show the whole curve again", self, "resetZoom")
        self.export_png_button = button("Export PNG…", "Save the plot as an image", self, "exportPng")
        self.export_csv_button = button("Export CSV…", "Save the plotted loss values as a CSV file", self,
                                        "exportCsv")
        opts.addWidget(QLabel("Smoothing:", self))
        opts.addWidget(self.smoothing)
        opts.addWidget(self.log_scale)
        opts.addStretch(1)
        for b in (self.reset_zoom, self.export_png_button, self.export_csv_button):
            opts.addWidget(b)
        box.addLayout(opts)
        self.plot_holder = QVBoxLayout()
        self.placeholder = QLabel("Loading the plot…", self)
        self.plot_holder.addWidget(self.placeholder, 1)
        box.addLayout(self.plot_holder, 1)
        self.smoothing.valueChanged.connect(lambda v: self.plot is not None and self.plot.set_smoothing(v))
        self.log_scale.toggled.connect(lambda on: self.plot is not None and self.plot.set_log_scale(on))
        self.reset_zoom.clicked.connect(lambda: self.plot is not None and self.plot.reset_zoom())
        self.export_png_button.clicked.connect(self._export_png)
        self.export_csv_button.clicked.connect(self._export_csv)

    def ensure_plot(self) -> LossPlot:
        """The plot, built (importing pyqtgraph) the first time it is needed."""
        if self.plot is None:
            from gemtune_desktop.ui.monitor.loss_plot import LossPlot

            self.plot = LossPlot(self)
            self.plot.set_smoothing(self.smoothing.value())
            self.plot.set_log_scale(self.log_scale.isChecked())
            self.plot_holder.replaceWidget(self.placeholder, self.plot)
            self.placeholder.hide()
            self.placeholder.deleteLater()
            self.plot.set_jobs(self._jobs)
        return self.plot

    def set_jobs(self, jobs: list[PlotJob]) -> None:
        self._jobs = jobs
        if self.plot is not None:
            self.plot.set_jobs(jobs)

    def add_series(self, job_id: int, name: str, series: LossSeries) -> None:
        if self.plot is not None:
            self.plot.add_series(job_id, name, series)

    def _export_png(self) -> None:
        plot = self.ensure_plot()
        path, _ = QFileDialog.getSaveFileName(self, "Export the plot", str(Path.home() / "loss.png"),
                                              "PNG image (*.png)")
        if path:
            self._export(lambda: plot.export_png(path))

    def _export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export loss values", str(Path.home() / "loss.csv"),
                                              "CSV file (*.csv)")
        if path:
            self._export(lambda: self.ensure_plot().export_csv(path))

    def _export(self, write: Callable[[], Path]) -> None:
        try:
            target = write()
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", f"Could not write the file: {exc.strerror or exc}")
            return
        self.said.emit(f"Saved {target}")

    def stop(self) -> None:
        if self.plot is not None:
            self.plot.stop()

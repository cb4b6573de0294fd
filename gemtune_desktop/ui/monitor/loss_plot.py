"""The loss plot (pyqtgraph): training and validation loss per step for one or several jobs.

The only module that imports pyqtgraph, inside :class:`LossPlot`'s constructor, which the
Monitor tab calls the first time it is shown (pyqtgraph costs about 0.35 s to import).

Fast with long curves (qt-performance-notes §3): float64 arrays, antialiasing off,
``setDownsampling(auto=True, method='peak')`` and ``setClipToView(True)``, and redraws
throttled by a timer (at most :data:`REDRAW_HZ` per second, and only when a curve changed).
Lines differ by dash pattern as well as colour (training solid, validation dashed with dots). The
legend sits under the plot, outside the curves' area, so it never covers the epoch labels at its top;
the hover read-out names the one curve under the mouse pointer.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gemtune_desktop.core.loss import (
    TRAIN,
    LossSeries,
    ema,
    epoch_boundaries,
    epochs_from_steps,
    to_csv_rows,
)
from gemtune_desktop.core.series import describe_series, higher_is_better, is_validation, metric_of, series_label

REDRAW_HZ = 8
MAX_EPOCH_LINES = 100
# 'peak' keeps the min and max of each bucket, so 2 buckets per pixel still shows every spike.
DOWNSAMPLE_PER_PIXEL = 2.0
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
# (validation, higher is better) -> dash pattern: losses solid/dashed, margins and accuracies dash-dotted.
STYLES = {(False, False): Qt.PenStyle.SolidLine, (True, False): Qt.PenStyle.DashLine,
          (False, True): Qt.PenStyle.DashDotLine, (True, True): Qt.PenStyle.DashDotDotLine}


def pen_style(key: str) -> Qt.PenStyle:
    return STYLES[(is_validation(key), higher_is_better(key))]


def axis_words(keys: list[str]) -> str:
    """The y axis's title for the series shown: "loss", or "loss · reward margin" when a job reports more."""
    words: list[str] = []
    for info in describe_series(keys):
        metric = metric_of(info.key)
        word = "loss" if "loss" in metric else metric.replace("_", " ")
        if word not in words:
            words.append(word)
    return " · ".join(words) or "loss"
HOVER_PX = 24.0  # the pointer reads a curve this close to it (screen pixels)
LEGEND_COLUMNS = 2
POINT_AT_TEXT = "Point at a curve to read its step, epoch and loss."


@dataclass
class _Curve:
    series: LossSeries
    item: Any  # PlotDataItem (raw)
    smooth_item: Any  # PlotDataItem (smoothed) or None
    drawn: tuple[int, float, bool] = (-1, -1.0, False)  # revision, smoothing, log mode drawn
    legend_name: str = ""  # listed in the legend once the curve has a point (an empty one is not)
    in_legend: bool = False


@dataclass
class _Job:
    job_id: int
    label: str
    color: str
    steps_per_epoch: float = 0.0
    curves: dict[str, _Curve] = field(default_factory=dict)
    epoch_lines: list[Any] = field(default_factory=list)
    epochs_drawn: int = -1
    scanned: int = 0  # points already scanned for epoch boundaries


class LossPlot(QWidget):
    """A zoomable, pannable loss plot with a hover read-out.

    Signals:
        redrawn(): the curves on screen were updated (tests and the benchmark wait on it).
    """

    redrawn = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=False, background="w", foreground="k")
        self._pg = pg
        self.plot_widget = pg.PlotWidget(self)
        self.plot_widget.setObjectName("lossPlot")
        self.plot_widget.setAccessibleName("Loss curve")
        self.plot_widget.setToolTip("Drag to pan, scroll to zoom, right-click for more; "
                                    "“Reset zoom” shows everything again")
        self.plot_item = self.plot_widget.getPlotItem()
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        self.plot_item.setLabel("bottom", "training step")
        self.plot_item.setLabel("left", "loss")
        self.plot_item.setClipToView(True)
        self.plot_item.setDownsampling(auto=True, mode="peak")
        # Under the bottom axis (row 4 of the plot's grid), never over the curves or the epoch labels.
        self.legend = pg.LegendItem(colCount=LEGEND_COLUMNS)
        self.plot_item.layout.addItem(self.legend, 4, 1)
        self.plot_item.legend = self.legend  # curves with a name are listed in it as they are added
        self.readout = QLabel(POINT_AT_TEXT, self)
        self.readout.setObjectName("lossReadout")
        self.readout.setAccessibleName("Loss at the mouse pointer")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.series_notes = QLabel("", self)
        self.series_notes.setObjectName("seriesNotes")
        self.series_notes.setWordWrap(True)
        self.series_notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.series_notes.hide()
        self.empty_label = QLabel("", self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.readout)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.series_notes)
        layout.addWidget(self.empty_label)
        self._jobs: dict[int, _Job] = {}
        self._order: list[int] = []
        self.smoothing = 0.0
        self.log_y = False
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / REDRAW_HZ))
        self._timer.timeout.connect(self.redraw_if_changed)
        self._timer.start()
        self.plot_widget.scene().sigMouseMoved.connect(self._mouse_moved)
        self._update_empty()

    # -- content ----------------------------------------------------------------------------
    def set_jobs(self, jobs: list[tuple[int, str, dict[str, LossSeries], float]]) -> None:
        """Show these jobs: (id, label, {series name: LossSeries}, steps per epoch); the first gets epoch lines."""
        wanted = [j[0] for j in jobs]
        for job_id in [j for j in self._order if j not in wanted]:
            self._remove(job_id)
        for i, (job_id, label, series, spe) in enumerate(jobs):
            job = self._jobs.get(job_id)
            if job is None or job.label != label:
                if job is not None:
                    self._remove(job_id)
                job = _Job(job_id, label, PALETTE[i % len(PALETTE)], spe)
                self._jobs[job_id] = job
            if spe != job.steps_per_epoch:
                job.steps_per_epoch = spe
                self._clear_epoch_lines(job)
            for name, s in series.items():
                self._ensure_curve(job, name, s)
        self._order = wanted
        for job_id in self._order[1:]:
            self._clear_epoch_lines(self._jobs[job_id])
        self._describe_series()
        self.redraw_if_changed()
        self._update_empty()

    def add_series(self, job_id: int, name: str, series: LossSeries) -> None:
        """A new series (e.g. validation points started arriving) for a job already shown."""
        job = self._jobs.get(job_id)
        if job is not None:
            self._ensure_curve(job, name, series)

    def _ensure_curve(self, job: _Job, name: str, series: LossSeries) -> None:
        existing = job.curves.get(name)
        if existing is not None and existing.series is series:
            return
        if existing is not None:
            self._drop_curve(existing)
        pg = self._pg
        color = QColor(job.color)
        pen = pg.mkPen(color, width=2, style=pen_style(name))
        kwargs: dict[str, Any] = {"pen": pen}
        if is_validation(name):
            kwargs.update(symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None)
        item = pg.PlotDataItem(**kwargs)
        item.opts["autoDownsampleFactor"] = DOWNSAMPLE_PER_PIXEL
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        self.plot_item.addItem(item)
        job.curves[name] = _Curve(series, item, None, legend_name=f"{job.label} — {series_label(name)}")
        self._describe_series()

    def _describe_series(self) -> None:
        """The y axis's title and, for series other than the supervised loss, what each one means."""
        keys = [name for job in self._jobs.values() for name, c in job.curves.items()
                if name != TRAIN or len(c.series) or len(job.curves) == 1]
        self.plot_item.setLabel("left", axis_words(keys))
        explained = {metric_of(i.key): i.explanation for i in describe_series(keys) if i.explanation}
        notes = [f"{metric.replace('_', ' ').capitalize()}: {text}" for metric, text in explained.items()
                 if metric != "total_loss"]
        self.series_notes.setText("\n".join(notes))
        self.series_notes.setVisible(bool(notes))

    def _drop_curve(self, curve: _Curve) -> None:
        for item in (curve.item, curve.smooth_item):
            if item is not None:
                self.plot_item.removeItem(item)

    def _remove(self, job_id: int) -> None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return
        for curve in job.curves.values():
            self._drop_curve(curve)
        self._clear_epoch_lines(job)
        if job_id in self._order:
            self._order.remove(job_id)

    def clear(self) -> None:
        for job_id in list(self._jobs):
            self._remove(job_id)
        self._update_empty()

    def _clear_epoch_lines(self, job: _Job) -> None:
        for line in job.epoch_lines:
            self.plot_item.removeItem(line)
        job.epoch_lines = []
        job.epochs_drawn = -1
        job.scanned = 0

    def _update_empty(self) -> None:
        if not self._jobs:
            self.empty_label.setText("Select a job in the list to see its loss curve; select several to compare.")
        elif not any(len(c.series) for j in self._jobs.values() for c in j.curves.values()):
            self.empty_label.setText("No loss values yet — the curve appears once training starts.")
        else:
            self.empty_label.setText("")
        self.empty_label.setVisible(bool(self.empty_label.text()))

    # -- options ----------------------------------------------------------------------------
    def set_smoothing(self, weight: float) -> None:
        self.smoothing = max(0.0, min(0.99, float(weight)))
        self.redraw_if_changed()

    def set_log_scale(self, on: bool) -> None:
        self.log_y = bool(on)
        self.plot_item.setLogMode(x=False, y=self.log_y)
        self.redraw_if_changed()

    def reset_zoom(self) -> None:
        self.plot_item.enableAutoRange()
        self.plot_item.autoRange()

    # -- drawing ------------------------------------------------------------------------------
    def redraw_if_changed(self) -> bool:
        """Push changed curves to pyqtgraph; the throttle timer calls this at most REDRAW_HZ times a second.

        With very long curves an update costs more, so the timer slows down to keep the
        plot's share of the GUI thread under about a fifth.
        """
        started = time.perf_counter()
        changed = False
        for job_id in self._order:
            job = self._jobs[job_id]
            for name, curve in job.curves.items():
                state = (curve.series.revision, self.smoothing, self.log_y)
                if state == curve.drawn:
                    continue
                self._draw_curve(job, name, curve)
                curve.drawn = state
                changed = True
            if job_id == (self._order[0] if self._order else None):
                train = self._epoch_source(job)
                if train is not None and train.series.revision != job.epochs_drawn:
                    self._draw_epoch_lines(job, train.series)
                    job.epochs_drawn = train.series.revision
        if changed:
            self._update_empty()
            spent_ms = (time.perf_counter() - started) * 1000.0
            self._timer.setInterval(max(int(1000 / REDRAW_HZ), min(2000, int(5 * spent_ms))))
            self.redrawn.emit()
        return changed

    @staticmethod
    def _epoch_source(job: _Job) -> _Curve | None:
        """The curve whose points mark the epochs: the training loss, else the first training series with points
        (a preference job reports no supervised loss)."""
        train = job.curves.get(TRAIN)
        if train is not None and len(train.series):
            return train
        for info in describe_series(list(job.curves)):
            curve = job.curves[info.key]
            if not info.validation and len(curve.series):
                return curve
        return train

    def _draw_curve(self, job: _Job, name: str, curve: _Curve) -> None:
        s = curve.series
        x, y = s.steps, s.values
        if self.log_y:  # log of non-positive values is undefined: hide those points
            y = np.where(y > 0, y, np.nan)
        smooth = self.smoothing > 0 and not is_validation(name) and len(s) > 2
        if smooth:
            faint = QColor(job.color)
            faint.setAlpha(70)
            curve.item.setPen(self._pg.mkPen(faint, width=1))
            if curve.smooth_item is None:
                curve.smooth_item = self._pg.PlotDataItem(
                    pen=self._pg.mkPen(QColor(job.color), width=2), name=f"{curve.legend_name}, smoothed")
                curve.smooth_item.opts["autoDownsampleFactor"] = DOWNSAMPLE_PER_PIXEL
                curve.smooth_item.setDownsampling(auto=True, method="peak")
                curve.smooth_item.setClipToView(True)
                self.plot_item.addItem(curve.smooth_item)
            curve.smooth_item.setData(x, ema(y, self.smoothing))
        else:
            curve.item.setPen(self._pg.mkPen(QColor(job.color), width=2, style=pen_style(name)))
            if curve.smooth_item is not None:
                self.plot_item.removeItem(curve.smooth_item)
                curve.smooth_item = None
        # Stored points are always finite (NaN/inf are dropped on arrival); only log scale makes gaps.
        curve.item.setData(x, y, connect="finite" if self.log_y else "all", skipFiniteCheck=not self.log_y)
        if len(s) and not curve.in_legend:
            self.legend.addItem(curve.item, curve.legend_name)
            curve.in_legend = True

    def _draw_epoch_lines(self, job: _Job, series: LossSeries) -> None:
        """Mark where each epoch ends; only the points added since the last call are scanned."""
        n = len(series)
        if n < job.scanned:  # the series was rewritten: start over
            self._clear_epoch_lines(job)
        start = max(0, job.scanned - 1)
        tail_steps = series.steps[start:]
        tail_epochs = series.epochs[start:]
        if np.isnan(tail_epochs).all():  # the service gave steps only: derive epochs from the plan
            tail_epochs = epochs_from_steps(tail_steps, job.steps_per_epoch)
        bounds = epoch_boundaries(tail_steps, tail_epochs)
        job.scanned = n
        pen = QPen(QColor("#777777"))
        pen.setStyle(Qt.PenStyle.DotLine)
        pen.setCosmetic(True)
        for step, epoch in bounds:
            if len(job.epoch_lines) >= MAX_EPOCH_LINES:
                break
            line = self._pg.InfiniteLine(pos=step, angle=90, movable=False, pen=pen,
                                         label=f"epoch {epoch}",
                                         labelOpts={"position": 0.98, "color": "#555555",
                                                    "anchors": [(1, 0), (1, 0)]})
            self.plot_item.addItem(line, ignoreBounds=True)
            job.epoch_lines.append(line)

    # -- hover read-out -------------------------------------------------------------------------
    def _mouse_moved(self, pos: Any) -> None:
        if not self.plot_item.getViewBox().sceneBoundingRect().contains(pos):
            return
        self.readout.setText(self.readout_near(pos))

    def readout_near(self, scene_pos: QPointF) -> str:
        """The read-out of the one curve under ``scene_pos`` (within :data:`HOVER_PX`), or how to get one."""
        vb = self.plot_item.getViewBox()
        step = float(vb.mapSceneToView(scene_pos).x())
        best: tuple[float, _Job, str, tuple[int, float | None, float]] | None = None
        for job_id in self._order:
            job = self._jobs[job_id]
            for name, curve in job.curves.items():
                point = curve.series.value_at(step)
                if point is None:
                    continue
                distance = self._distance(vb, scene_pos, step, curve.series, point)
                if best is None or distance < best[0]:
                    best = (distance, job, name, point)
        if best is None or best[0] > HOVER_PX:
            return POINT_AT_TEXT
        return self._point_words(best[1], best[2], best[3], len(self._order) > 1)

    def _view_y(self, value: float) -> float | None:
        """Where ``value`` is on the y axis (its log on a log scale, where it has one)."""
        if not self.log_y:
            return value
        return math.log10(value) if value > 0 else None

    def _distance(self, vb: Any, scene_pos: QPointF, step: float, series: LossSeries,
                  point: tuple[int, float | None, float]) -> float:
        """Screen distance from the pointer to a curve: to its nearest point, or to the line drawn there."""
        best = math.inf
        y = self._view_y(point[2])
        if y is not None:
            at = vb.mapViewToScene(QPointF(point[0], y))
            best = math.hypot(at.x() - scene_pos.x(), at.y() - scene_pos.y())
        steps = series.steps
        if len(steps) > 1 and steps[0] <= step <= steps[-1]:  # between two points: the segment drawn there
            y = self._view_y(float(np.interp(step, steps, series.values)))
            if y is not None:
                best = min(best, abs(float(vb.mapViewToScene(QPointF(step, y)).y()) - scene_pos.y()))
        return best

    @staticmethod
    def _point_words(job: _Job, name: str, point: tuple[int, float | None, float], named: bool) -> str:
        s, epoch, value = point
        if epoch is None and job.steps_per_epoch:
            epoch = s / job.steps_per_epoch
        epoch_text = f" · epoch {epoch:.2f}".rstrip("0").rstrip(".") if epoch is not None else ""
        prefix = f"{job.label}: " if named else ""
        return f"{prefix}step {s}{epoch_text} · {series_label(name)} {value:.4g}"

    def readout_at(self, step: float) -> str:
        """``"step 120 · epoch 3 · training loss 0.412"`` for every curve at ``step`` (e.g. for a copy of the
        values at one step); the hover read-out names only the curve under the pointer (:meth:`readout_near`)."""
        parts: list[str] = []
        for job_id in self._order:
            job = self._jobs[job_id]
            for name, curve in job.curves.items():
                point = curve.series.value_at(step)
                if point is not None:
                    parts.append(self._point_words(job, name, point, len(self._order) > 1))
        return "   |   ".join(parts) if parts else "No points here."

    # -- export -------------------------------------------------------------------------------
    def export_png(self, path: str | Path) -> Path:
        target = Path(path)
        if target.suffix.lower() != ".png":
            target = target.with_suffix(".png")
        if not self.plot_widget.grab().save(str(target), "PNG"):
            raise OSError(f"Could not write {target}")
        return target

    def export_csv(self, path: str | Path) -> Path:
        target = Path(path)
        rows: list[list[str]] = []
        for job_id in self._order:
            job = self._jobs[job_id]
            part = to_csv_rows({name: c.series for name, c in job.curves.items()})
            header, body = part[0], part[1:]
            if not rows:
                rows.append(["job", *header])
            rows.extend([job.label, *r] for r in body)
        if not rows:
            rows = [["job", "series", "step", "epoch", "loss"]]
        with target.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
        return target

    def shown_jobs(self) -> list[int]:
        return list(self._order)

    def curve_points(self, job_id: int, name: str = TRAIN) -> int:
        """How many points the on-screen curve of a job holds (for tests)."""
        job = self._jobs.get(job_id)
        curve = job.curves.get(name) if job else None
        if curve is None or curve.item.xData is None:
            return 0
        return len(curve.item.xData)

    def epoch_line_positions(self) -> list[float]:
        if not self._order:
            return []
        return [float(line.value()) for line in self._jobs[self._order[0]].epoch_lines]

    def stop(self) -> None:
        self._timer.stop()

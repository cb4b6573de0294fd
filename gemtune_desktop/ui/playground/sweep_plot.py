"""The trade-off plot of a settings sweep (pyqtgraph, imported when the first plot is built, never at start-up).

The first swept setting runs across (its values, or its threshold names as tick labels); each combination
of the other settings is one line, told apart by colour, dash pattern and marker. The best point for the
chosen metric is ringed and labelled. Points without answers yet are left out (a gap in the line).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gemtune_desktop.services.sweep import Curves

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
DASHES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)
SYMBOLS = ("o", "s", "t", "d", "+", "x", "star", "p")


class SweepPlot(QWidget):
    """``show(curves, y_label, best)``: ``best`` is (x, y, label) of the best point, or None."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self._pg = pg
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(self, background="w")
        self.plot.setObjectName("sweepPlot")
        self.plot.setAccessibleName("Trade-off plot: the chosen metric at each setting of the sweep")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.plot.addLegend(offset=(10, -10))  # bottom left, away from the best point's label
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        layout.addWidget(self.plot)
        self.lines: list[tuple[str, list[float], list[float | None]]] = []
        self.best: tuple[float, float, str] | None = None
        self._best_items: list[Any] = []

    def show_curves(self, curves: Curves, y_label: str, best: tuple[float, float, str] | None) -> None:
        pg = self._pg
        self.plot.clear()
        self.legend.clear()
        self.lines = curves.lines
        for i, (label, xs, ys) in enumerate(curves.lines):
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=2, style=DASHES[i // len(PALETTE) % len(DASHES)])
            points = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
            if not points:
                continue
            item = pg.PlotDataItem([p[0] for p in points], [p[1] for p in points], pen=pen,
                                   symbol=SYMBOLS[i % len(SYMBOLS)], symbolSize=8,
                                   symbolBrush=PALETTE[i % len(PALETTE)], name=label)
            self.plot.addItem(item)
        axis = self.plot.getAxis("bottom")
        axis.setTicks([curves.x_ticks] if curves.x_ticks else None)
        self.plot.setLabel("bottom", curves.x_label)
        self.plot.setLabel("left", y_label)
        self.best = best
        if best is not None:
            ring = pg.ScatterPlotItem([best[0]], [best[1]], size=22, pen=pg.mkPen("#000000", width=2),
                                      brush=pg.mkBrush(255, 215, 0, 120), symbol="o")
            xs_all = [x for _label, xs, _ys in curves.lines for x in xs]
            # Left-aligned at the left end and right-aligned at the right end, so the label never leaves the plot.
            across = 0.5 if not xs_all or min(xs_all) < best[0] < max(xs_all) else \
                (0.0 if best[0] <= min(xs_all) else 1.0)
            text = pg.TextItem(f"best: {best[2]}", color="#000000", anchor=(across, 1.4))
            text.setPos(best[0], best[1])
            self.plot.addItem(ring, ignoreBounds=True)  # the axes fit the curves, not the marker
            self.plot.addItem(text, ignoreBounds=True)
            self._best_items = [ring, text]
        self.plot.autoRange()
        self._fit_y()

    def _fit_y(self) -> None:
        """Scores and counts are never negative: start the axis at 0, and give a flat line room above it."""
        ys = [y for _label, _xs, values in self.lines for y in values if y is not None]
        if not ys:
            return
        low, high = min(ys), max(ys)
        if low >= 0:
            low = 0.0
        if high <= low:
            high = low + (abs(low) * 0.2 or 1.0)
        self.plot.setYRange(low, high * 1.15 if high > 0 else high, padding=0.02)

"""Histograms of an evaluation run's per-row scores, one colour and pattern per model (pyqtgraph on first show)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gemtune_desktop.core.eval_metrics import METRIC_LABELS, ROW_METRICS, metric_scale

BINS = 10
_COLOURS = ("#1f77b4", "#ff7f0e")


def histogram(values: list[float], lo: float, hi: float, bins: int = BINS) -> list[int]:
    """Counts of ``values`` in ``bins`` equal bins over [lo, hi] (the top edge belongs to the last bin)."""
    counts = [0] * bins
    width = (hi - lo) / bins
    for v in values:
        i = int((v - lo) / width) if width > 0 else 0
        counts[min(max(i, 0), bins - 1)] += 1
    return counts


class MetricChart(QWidget):
    """A bar histogram of the chosen metric for each model of the run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self._pg = pg
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Distribution of", self))
        self.metric_box = QComboBox(self)
        self.metric_box.setObjectName("chartMetric")
        self.metric_box.setAccessibleName("Metric shown in the chart")
        for key in ROW_METRICS:
            self.metric_box.addItem(METRIC_LABELS[key], key)
        self.metric_box.setCurrentIndex(ROW_METRICS.index("token_f1"))
        self.metric_box.currentIndexChanged.connect(lambda _i: self._draw())
        top.addWidget(self.metric_box, 1)
        self.legend = QLabel(self)
        top.addWidget(self.legend)
        layout.addLayout(top)
        self.plot = pg.PlotWidget(self, background="w")
        self.plot.setObjectName("metricPlot")
        self.plot.setLabel("left", "examples")
        self.plot.showGrid(y=True, alpha=0.3)
        layout.addWidget(self.plot, 1)
        self.labels: list[str] = []
        self.values: list[dict[str, list[float]]] = []
        self.counts: list[list[int]] = []

    def set_data(self, labels: list[str], values: list[dict[str, list[float]]]) -> None:
        """``values[slot][metric]`` = per-row scores."""
        self.labels = labels
        self.values = values
        self._draw()

    def _draw(self) -> None:
        pg = self._pg
        self.plot.clear()
        key = self.metric_box.currentData() or "token_f1"
        hi = metric_scale(key)  # BLEU and chrF 0–100, the others 0–1
        width = hi / BINS
        n = max(1, len(self.values))
        self.counts = []
        legend = []
        for slot, per_metric in enumerate(self.values):
            counts = histogram(per_metric.get(key, []), 0.0, hi)
            self.counts.append(counts)
            xs = [width * (i + 0.5) + (slot - (n - 1) / 2) * width / n for i in range(BINS)]
            brush = pg.mkBrush(_COLOURS[slot % 2])
            if slot == 1:  # a hatch pattern as well as a colour
                from PySide6.QtCore import Qt
                from PySide6.QtGui import QBrush, QColor

                brush = QBrush(QColor(_COLOURS[1]), Qt.BrushStyle.BDiagPattern)
            bars = pg.BarGraphItem(x=xs, height=counts, width=width / n * 0.9, brush=brush, pen=pg.mkPen("k"))
            self.plot.addItem(bars)
            legend.append(f"{'■' if slot == 0 else '▨'} {self.labels[slot] if slot < len(self.labels) else ''}")
        self.legend.setText("   ".join(legend))
        label = METRIC_LABELS.get(key, key)
        self.plot.setLabel("bottom", label if "0–" in label else f"{label} (0–{hi:g})")

    def grab_counts(self) -> list[list[int]]:
        return [list(c) for c in self.counts]


def chart_values(scores: dict[tuple[int, int], dict[str, float]], n_models: int) -> list[dict[str, list[float]]]:
    out: list[dict[str, list[float]]] = [{k: [] for k in ROW_METRICS} for _ in range(n_models)]
    for (_eid, slot), s in sorted(scores.items()):
        if slot < n_models:
            for k in ROW_METRICS:
                out[slot][k].append(float(s.get(k, 0.0)))
    return out

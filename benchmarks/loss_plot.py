"""Benchmark: redrawing the Monitor tab's loss plot with a 1,000,000-point curve vs an empty plot.

Both measured in the same run, redrawn in turn after a warm-up of each, at the same widget size
(900x500, offscreen): the median time of a synchronous ``repaint()`` right after a live update
(one new point appended and pushed to pyqtgraph by the throttled redraw, timed separately). Prints
``RESULT loss_plot_1m ratio=<1M repaint / empty repaint> goal=<g>`` and the absolute
milliseconds against a 16.7 ms frame (absolute numbers depend on machine load; the ratio less so).

Run: ``.venv/bin/python benchmarks/loss_plot.py``
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PySide6.QtWidgets import QApplication

from gemtune_desktop.core.loss import LossSeries
from gemtune_desktop.ui.monitor.loss_plot import REDRAW_HZ, LossPlot

POINTS = 1_000_000
RUNS = 15
GOAL = 3.0  # a 1M-point repaint within 3x an empty plot's repaint (and, on an idle machine, under a frame)
FRAME_MS = 1000.0 / 60.0


def _plot(app: QApplication, series: LossSeries | None) -> LossPlot:
    plot = LossPlot()
    plot.resize(900, 500)
    plot.show()
    plot.stop()  # drive redraws by hand
    if series is not None:
        plot.set_jobs([(1, "bench", {"train": series}, 250_000.0)])  # 4 epochs
    app.processEvents()
    plot.plot_widget.viewport().repaint()
    if series is not None:  # warm up: the first append grows the buffers once
        series.extend([(series.last_step + 1, None, 0.5)])
        plot.redraw_if_changed()
        plot.plot_widget.viewport().repaint()
    return plot


def _one_redraw(app: QApplication, plot: LossPlot, series: LossSeries | None, i: int) -> tuple[float, float]:
    """(update, repaint) milliseconds: push one new point to pyqtgraph, then repaint synchronously."""
    if series is not None:
        step = series.last_step + 1
        series.extend([(step, None, 0.5 + 0.01 * (i % 3))])
    t0 = time.perf_counter()
    plot.redraw_if_changed()
    t1 = time.perf_counter()
    plot.plot_widget.viewport().repaint()
    t2 = time.perf_counter()
    app.processEvents()
    return (t1 - t0) * 1000.0, (t2 - t1) * 1000.0


def _median_ms(app: QApplication, plot: LossPlot, series: LossSeries | None,
               runs: int = RUNS) -> tuple[float, float]:
    """Median (update, repaint) milliseconds over ``runs`` redraws."""
    times = [_one_redraw(app, plot, series, i) for i in range(runs)]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def _interleaved_ms(app: QApplication, empty: LossPlot, full: LossPlot, series: LossSeries,
                    runs: int = RUNS) -> tuple[float, float, float]:
    """Median (empty repaint, full update, full repaint), the two plots redrawn in turn so that
    whatever else the machine is doing affects the floor and the figure alike."""
    empty_paints, updates, paints = [], [], []
    for i in range(runs):
        empty_paints.append(_one_redraw(app, empty, None, i)[1])
        update, paint = _one_redraw(app, full, series, i)
        updates.append(update)
        paints.append(paint)
    return statistics.median(empty_paints), statistics.median(updates), statistics.median(paints)


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    rng = np.random.default_rng(0)
    steps = np.arange(1, POINTS + 1, dtype=np.float64)
    values = 0.3 + 2.0 * np.exp(-steps / 150_000.0) + rng.normal(0, 0.05, POINTS)
    series = LossSeries.from_arrays(steps, values, None)

    empty = _plot(app, None)
    full = _plot(app, series)
    _median_ms(app, empty, None, runs=3)  # warm-up of both
    _median_ms(app, full, series, runs=3)
    empty_ms, update_ms, full_ms = _interleaved_ms(app, empty, full, series)
    # For contrast: the same curve without downsampling/clipping (pyqtgraph defaults).
    item = full._jobs[1].curves["train"].item
    item.setDownsampling(auto=False, ds=1)
    item.setClipToView(False)
    full.plot_item.setDownsampling(auto=False, ds=1)
    full.plot_item.setClipToView(False)
    full._jobs[1].curves["train"].drawn = (-1, -1.0, False)
    _, plain_ms = _median_ms(app, full, series, runs=3)

    ratio = full_ms / empty_ms if empty_ms > 0 else float("inf")
    print(f"empty plot redraw (repaint): {empty_ms:.2f} ms (median of {RUNS})")
    print(f"1,000,000-point redraw (repaint) with peak downsampling + clip-to-view: {full_ms:.2f} ms "
          f"({'under' if full_ms < FRAME_MS else 'OVER'} a {FRAME_MS:.1f} ms frame)")
    print(f"1,000,000-point live update (append a point, push the arrays; at most {REDRAW_HZ}/s): {update_ms:.2f} ms")
    print(f"1,000,000-point redraw without downsampling/clipping (pyqtgraph defaults, median of 3): {plain_ms:.2f} ms")
    print(f"RESULT loss_plot_1m ratio={ratio:.2f} goal={GOAL:.1f}")


if __name__ == "__main__":
    main()

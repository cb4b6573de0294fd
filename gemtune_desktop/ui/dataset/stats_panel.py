"""The Stats panel: example count against the recommended range, a token estimate, and length histograms.

Built the first time the user opens the Stats tab; pyqtgraph is imported then (never at start-up).
Numbers refresh shortly after edits while the panel is visible. Another project's numbers are never shown:
opening a project clears the panel at once, and an empty project shows no charts at all.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.stats import DatasetStats
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.workers import TaskExecutor, TaskSlot

REFRESH_MS = 600
BINS = 30


class StatsPanel(QWidget):
    def __init__(self, executor: TaskExecutor | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self._task = TaskSlot(self, executor) if executor is not None else None
        self.session: ProjectSession | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel(self)
        self.summary.setObjectName("statsSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.summary)
        self.plots: dict[str, Any] = {}
        for field, title in (("input", "Input length (characters)"), ("output", "Output length (characters)")):
            plot = pg.PlotWidget(self, background="w")
            plot.setObjectName(f"hist_{field}")
            plot.setAccessibleName(f"Histogram of {field} lengths")
            plot.setToolTip(f"How many examples have each {field} length")
            plot.setTitle(title, color="k", size="9pt")
            plot.setLabel("left", "examples")
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setMinimumHeight(140)
            layout.addWidget(plot, 1)
            self.plots[field] = plot
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.last: DatasetStats | None = None

    def set_session(self, session: ProjectSession | None) -> None:
        if self.session is not None:
            for sig in (self.session.validation_changed, self.session.settings_changed):
                try:
                    sig.disconnect(self._schedule)
                except (RuntimeError, TypeError):
                    pass
        self.session = session
        if session is not None:
            session.validation_changed.connect(self._schedule)
            session.settings_changed.connect(self._schedule)
        self._clear("Counting…")  # nothing of the previous project stays while this one is counted
        self.refresh()

    def _clear(self, text: str) -> None:
        if self._task is not None:
            self._task.shutdown()  # a count of the previous contents must not arrive after this
        self.last = None
        self.summary.setText(text)
        for plot in self.plots.values():
            plot.clear()
            plot.setVisible(text == "Counting…")

    def _schedule(self, *_args: object) -> None:
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._timer.start()

    def refresh(self) -> None:
        """Recompute on a worker (token estimates are O(total text)); draw when it is back."""
        self._timer.stop()
        s = self.session
        if s is None or s.is_closed:
            self._clear("No project open.")
            return
        if not s.examples:
            self._clear("This project has no examples yet. The counts and length charts appear here when it has "
                        "some.")
            return
        from gemtune_desktop.core.stats import compute_stats

        def work(_token: CancelToken, examples: list[Example], settings: DatasetSettings) -> DatasetStats:
            return compute_stats(examples, settings, settings.target)

        if self._task is None:
            self.show_stats(compute_stats(s.examples, s.settings, s.settings.target))
            return
        self._task.start(work, list(s.examples), s.settings, on_result=self.show_stats)

    def show_stats(self, st: DatasetStats) -> None:
        import numpy as np
        import pyqtgraph as pg

        self.last = st
        for plot in self.plots.values():
            plot.setVisible(True)
        self.summary.setText(
            f"{st.count:,} examples ({st.train:,} train, {st.validation:,} validation, {st.test:,} test). "
            f"{st.verdict}\nEstimated size: about {st.total_tokens:,} tokens per pass over the data, preamble "
            "included (offline estimate; the service counts exactly).")
        for field, plot in self.plots.items():
            plot.clear()
            lengths = st.input_lengths if field == "input" else st.output_lengths
            if not len(lengths):
                continue
            counts, edges = np.histogram(lengths, bins=BINS)
            width = float(edges[1] - edges[0]) if edges[1] > edges[0] else 1.0
            plot.addItem(pg.BarGraphItem(x0=edges[:-1].astype(np.float64), width=width * 0.95,
                                         height=counts.astype(np.float64), brush="#4a78c2"))

"""The results of an evaluation run: metrics per model, wins and losses, every row with a word diff, histograms.

The scores are computed on a worker (:func:`gemtune_desktop.services.batch_eval.load_run`); this widget only
shows them. The histograms (pyqtgraph) are built the first time Charts is pressed.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core import eval_metrics as em
from gemtune_desktop.core.generation import category_label
from gemtune_desktop.core.project.evals_repo import EvalRun
from gemtune_desktop.services.batch_eval import RunSummary
from gemtune_desktop.services.eval_plan import group_rows
from gemtune_desktop.ui.playground.charts import MetricChart, chart_values
from gemtune_desktop.ui.playground.eval_rows_model import EvalRowsModel, word_diff_html

SUMMARY_ROWS = (*em.ROW_METRICS, "distinct_1", "distinct_2", "mean_length_words", "mean_length_chars")


def metric_text(key: str, model: dict[str, object]) -> str:
    """One cell of the metrics table: a score as people read it (percent, BLEU and chrF points, counts)."""
    if key.startswith("blocked:"):
        return str(dict(model.get("blocked") or {}).get(key.split(":", 1)[1], 0))  # type: ignore[call-overload]
    if key in ("answered", "errors"):
        return str(model.get(key, 0))
    if key in em.ROW_METRICS:
        value = float(dict(model.get("means") or {}).get(key, 0.0))  # type: ignore[call-overload]
        if em.metric_scale(key) > 1.0:  # BLEU and chrF: 0–100, as sacreBLEU reports them
            return f"{value:.1f}"
        if key == "exact_match":
            return f"{value * 100:.1f} %"
        return f"{value:.3f}"
    value = float(model.get(key, 0.0))  # type: ignore[arg-type]
    return f"{value:.1f}" if key.startswith("mean_length") else f"{value:.3f}"


def metric_name(key: str) -> str:
    if key.startswith("blocked:"):
        return f"Blocked: {category_label(key.split(':', 1)[1])}"
    return {"answered": "Answered", "errors": "Failed requests"}.get(key, em.METRIC_LABELS.get(key, key))


def metric_tip(key: str, provenance: dict[str, str]) -> str:
    """What a metric row means: its scale and the library and settings that produced it."""
    if key in em.ROW_METRICS:
        scale = "0–100" if em.metric_scale(key) > 1.0 else ("share of rows, shown as %" if key == "exact_match"
                                                             else "0–1")
        return rich_tip(f"{em.METRIC_LABELS[key]} — scale {scale}.", provenance.get(key, ""))
    return {"distinct_1": "Share of distinct words among all the answers' words (GemTune, distinct-1): higher means "
                          "more varied wording.",
            "distinct_2": "Share of distinct word pairs among all the answers' word pairs (GemTune, distinct-2).",
            "mean_length_words": "Average number of words per answer.",
            "mean_length_chars": "Average number of characters per answer.",
            "answered": "Rows with an answer (a blocked answer counts, and scores 0).",
            "errors": "Rows whose request failed; they are not scored. Resume sends them again."}.get(
        key, "Answers blocked by the safety settings in this harm category.")


def rich_tip(*paragraphs: str) -> str:
    """A tooltip that wraps (Qt wraps rich-text tooltips, not plain ones)."""
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p)


def cell_tip(key: str, model: dict[str, object]) -> str:
    if key not in em.CORPUS_METRICS:
        return ""
    name = "BLEU" if key == "bleu" else "chrF"
    answered = int(model.get("answered", 0))  # type: ignore[call-overload]
    mean = float(dict(model.get("sentence_means") or {}).get(key, 0.0))  # type: ignore[call-overload]
    return rich_tip(f"Corpus {name} over the {answered} answered rows, as sacreBLEU's corpus_{key} reports it; the "
                    f"mean of the rows' sentence {name} is {mean:.1f}.")


def who_won(labels: list[str], wl: dict[str, object]) -> str:
    """B against A row by row, said from the winner's side ("B wins …: B's answer scored higher on …")."""
    a, b = labels[0], labels[1]
    wins, losses, ties = (int(wl.get(k, 0)) for k in ("wins", "losses", "ties"))  # type: ignore[call-overload]
    total = wins + losses + ties
    metric = em.METRIC_LABELS.get(str(wl.get("metric", "token_f1")), "word overlap").lower()
    metric = metric.replace("word overlap (token f1)", "word overlap (token F1)")
    if wins == losses:
        return (f"Neither model wins on {metric}: each scored higher on {wins} of {total} examples"
                f"{f', the same on {ties}' if ties else ''}.")
    winner, loser, more, fewer = (b, a, wins, losses) if wins > losses else (a, b, losses, wins)
    return (f"{winner} wins on {metric}: {winner}'s answer scored higher on {more} of {total} examples, "
            f"{loser}'s on {fewer}, the same on {ties}.")


def slot_name(slot: int) -> str:
    return f"Model {'AB'[slot]}" if slot < 2 else f"Model {slot + 1}"


class EvalResults(QSplitter):
    """Metrics and summary on top, then the histograms (on request), the rows, and the diff of the chosen row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        top = QWidget(self)
        outer = QVBoxLayout(top)
        outer.setContentsMargins(0, 0, 0, 0)
        self.legend = QLabel(top)
        self.legend.setObjectName("evalLegend")
        self.legend.setTextFormat(Qt.TextFormat.PlainText)
        self.legend.setWordWrap(True)
        outer.addWidget(self.legend)
        top_layout = QHBoxLayout()
        outer.addLayout(top_layout, 1)
        self.metrics_table = QTableWidget(top)
        self.metrics_table.setObjectName("evalMetrics")
        self.metrics_table.setAccessibleName("Metrics per model")
        self.metrics_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics_table.horizontalHeader().setAccessibleName("Models")
        self.metrics_table.verticalHeader().setAccessibleName("Metrics")
        top_layout.addWidget(self.metrics_table, 5)
        self.summary = QLabel(top)
        self.summary.setObjectName("evalSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop)
        top_layout.addWidget(self.summary, 2)
        self.chart_holder = QWidget(self)
        self.chart_holder.setMinimumHeight(200)
        self._chart_layout = QVBoxLayout(self.chart_holder)
        self._chart_layout.setContentsMargins(0, 0, 0, 0)
        self.chart_holder.hide()
        self.chart: MetricChart | None = None
        self.rows_model = EvalRowsModel(self)
        self.rows_view = QTableView(self)
        self.rows_view.setObjectName("evalRowsView")
        self.rows_view.setAccessibleName("Every example with the expected and actual answers")
        self.rows_view.setModel(self.rows_model)
        self.rows_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rows_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.rows_view.verticalHeader().hide()
        self.rows_view.horizontalHeader().setAccessibleName("Result columns")
        self.rows_model.modelReset.connect(self._size_row_columns)
        self.rows_view.selectionModel().selectionChanged.connect(lambda *_a: self._show_diff())
        self.diff = QTextBrowser(self)
        self.diff.setObjectName("evalDiff")
        self.diff.setAccessibleName("Differences between the expected and actual answers")
        self._chart_data: tuple[list[str], list[dict[str, list[float]]]] | None = None
        for index, stretch in enumerate((3, 0, 3, 2)):  # metrics and summary, charts, rows, the chosen row's diff
            self.setStretchFactor(index, stretch)

    def clear(self, text: str) -> None:
        self.metrics_table.clear()
        self.metrics_table.setRowCount(0)
        self.metrics_table.setColumnCount(0)
        self.rows_model.set_rows([], ["Model A"])
        self.summary.setText(text)
        self.legend.setText("")
        self.diff.clear()
        self._chart_data = None

    def loading(self, labels: list[str]) -> None:
        self.rows_model.set_rows([], labels)
        self.summary.setText("Loading and scoring the answers…")
        self._chart_data = None

    def show_summary(self, run: EvalRun, summary: RunSummary, rows: list[object], lines: list[str],
                     provenance: dict[str, str] | None = None) -> None:
        """The run's scores; ``lines`` is the text beside the metrics; ``provenance`` the library and settings
        of each metric (:func:`eval_metrics.provenance`, read on a worker)."""
        self.rows_model.set_rows(group_rows(rows, summary.scores), run.labels)  # type: ignore[arg-type]
        self.legend.setText("   ·   ".join(f"{slot_name(i)}: {label}" for i, label in enumerate(run.labels)))
        self._fill_metrics(run.labels, summary, provenance or {})
        self.summary.setText("\n".join(lines))
        self._chart_data = (run.labels, chart_values(summary.scores, len(run.models)))
        if self.chart is not None and self.chart_holder.isVisible():
            self.chart.set_data(*self._chart_data)

    def _fill_metrics(self, labels: list[str], summary: RunSummary, provenance: dict[str, str]) -> None:
        blocked_keys = sorted({k for m in summary.models for k in dict(m.get("blocked") or {})})  # type: ignore[call-overload]
        row_keys = [*SUMMARY_ROWS, "answered", "errors", *[f"blocked:{k}" for k in blocked_keys]]
        t = self.metrics_table
        t.clear()
        t.setColumnCount(len(labels))
        t.setRowCount(len(row_keys))
        for c, label in enumerate(labels):
            header = QTableWidgetItem(slot_name(c))
            header.setToolTip(label)
            t.setHorizontalHeaderItem(c, header)
        for r, key in enumerate(row_keys):
            name = QTableWidgetItem(metric_name(key))
            name.setData(Qt.ItemDataRole.UserRole, key)
            name.setToolTip(metric_tip(key, provenance))
            t.setVerticalHeaderItem(r, name)
            for c, model in enumerate(summary.models):
                item = QTableWidgetItem(metric_text(key, model))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                tip = cell_tip(key, model)
                if tip:
                    item.setToolTip(tip)
                t.setItem(r, c, item)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

    def _size_row_columns(self) -> None:
        """Fixed widths for the number and score columns, the rest share the width (never measured per row)."""
        header = self.rows_view.horizontalHeader()
        narrow = header.fontMetrics().horizontalAdvance("Example") + 24
        for col in range(self.rows_model.columnCount()):
            score = col == 0 or (col > 2 and (col - 3) % 2 == 1)
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed if score else QHeaderView.ResizeMode.Stretch)
            if score:
                header.resizeSection(col, narrow)

    def _show_diff(self) -> None:
        rows = self.rows_view.selectionModel().selectedRows()
        g = self.rows_model.group_at(rows[0].row()) if rows else None
        if g is None:
            self.diff.clear()
            return
        parts = [f"<p><b>Input</b><br>{html.escape(g.input)}</p>",
                 f"<p><b>Expected</b><br>{html.escape(g.expected)}</p>",
                 "<p><i>Changes from the expected answer: [-removed-] words on red, {+added+} words on green.</i></p>"]
        for slot, label in enumerate(self.rows_model.labels):
            row = g.answers.get(slot)
            if row is None:
                continue
            if row.error:
                body = html.escape(f"✖ {row.error}")
            else:
                body = word_diff_html(g.expected, row.actual)
                if row.blocked:
                    body = html.escape(f"⛔ blocked ({category_label(row.blocked)}) ") + body
            parts.append(f"<p><b>{html.escape(label)}</b></p>{body}")
        self.diff.setHtml("".join(parts))

    def show_charts(self, on: bool) -> None:
        if on and self.chart is None:
            self.chart = MetricChart(self.chart_holder)
            self._chart_layout.addWidget(self.chart)
        self.chart_holder.setVisible(on)
        if on and self.chart is not None and self._chart_data is not None:
            self.chart.set_data(*self._chart_data)

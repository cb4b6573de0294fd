"""The Preference pairs view of the Dataset tab: a prompt, a preferred and a dispreferred answer per row.

The same editor as the Examples view, for the pairs preference tuning learns from: a table
(:class:`~.preference_table.PreferenceTable` over
:class:`~gemtune_desktop.qtcore.preference_model.PreferenceTableModel`) with the filter bar above it, and beside
it the pair editor (:class:`~.preference_detail.PreferenceDetail`) and the Problems list
(:class:`~.preference_findings.PreferenceFindingsPanel`). Every edit is an undo step saved to the project file
at once (:class:`~.preference_editor.PairEditor`); imports and exports run on workers
(:class:`~.preference_transfer.PreferenceTransfer`). A change that cannot be written is said under the filter
bar (and by the window), and nothing of it is kept.

The pairs are read from the project the first time the view is shown or something is imported into it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.core.row_view import RowFilter
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.preference_model import COLUMN_OF_FIELD, PairColumn, PreferenceTableModel
from gemtune_desktop.qtcore.preference_session import PreferenceSession, preference_session_for
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.ui.dataset.filter_bar import FilterBar
from gemtune_desktop.ui.dataset.preference_actions import build_pair_actions
from gemtune_desktop.ui.dataset.preference_detail import PreferenceDetail
from gemtune_desktop.ui.dataset.preference_editor import PairEditor
from gemtune_desktop.ui.dataset.preference_findings import PreferenceFindingsPanel
from gemtune_desktop.ui.dataset.preference_table import PreferenceTable
from gemtune_desktop.ui.dataset.preference_transfer import PreferenceTransfer
from gemtune_desktop.ui.dataset.progress_row import ProgressRow
from gemtune_desktop.ui.dataset.rows_page import RowsPage
from gemtune_desktop.ui.widgets.status_line import Tone, error_text

BUSY_ABOVE = 100_000  # sorting or filtering more pairs than this takes long enough to say so

EMPTY_TEXT = """<h2>No preference pairs yet</h2>
<p>A preference pair is a prompt with two answers: the one people preferred and one they did not. Preference
tuning (on Google Cloud's Agent Platform) teaches a model to answer more like the preferred answers.</p>
<ul>
<li><b>Import a file</b> (File ▸ Import Dataset…, or drag it onto this window): Agent Platform's preference
JSONL, JSON with <i>prompt/chosen/rejected</i>, or a CSV, TSV or Excel table with a prompt, a preferred and a
dispreferred column. Preference files always come here; input → output files go to Examples.</li>
<li><b>Paste from Excel or Google Sheets</b>: copy three columns (prompt, preferred, dispreferred) and press
Ctrl+V here.</li>
<li><b>Add a row</b> and type (Edit ▸ Add Row, Ctrl+Return).</li>
</ul>"""


class PreferenceView(RowsPage[PreferenceExample]):
    """The Preference pairs view (one per Dataset tab); :meth:`set_project` follows the open project."""

    ROWS_WORD = "pairs"
    FINDINGS_IN = "the preference pairs"

    session: PreferenceSession | None
    model: PreferenceTableModel
    table: PreferenceTable
    detail: PreferenceDetail
    findings: PreferenceFindingsPanel

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferenceView")
        self.ctx = ctx
        self.project: ProjectSession | None = None
        self.session: PreferenceSession | None = None
        self.model = PreferenceTableModel(None, self)
        self._validation = TaskSlot(self, ctx.executor, "preference validation")
        self._build()
        self.editor = PairEditor(ctx, self.table, self.flush_edits, self, self)
        self.pair_actions = build_pair_actions(self, self.editor)
        self.transfer = PreferenceTransfer(ctx, self, self)
        self._wire()

    # -- construction ---------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.filter_bar = FilterBar(self)
        self.filter_bar.text.setToolTip("Show only pairs whose prompt, answers, tags or note contain this text")
        layout.addWidget(self.filter_bar)
        self.notice = QLabel(self)
        self.notice.setObjectName("pairNotice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.hide()
        layout.addWidget(self.notice)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("preferenceSplitter")
        self.stack = QStackedWidget(self.splitter)
        self.table = PreferenceTable(self.model, self.stack)
        self._fill_stack(EMPTY_TEXT, "pairEmptyState")
        self.side = QTabWidget(self.splitter)
        self.side.setObjectName("preferenceSide")
        self.detail = PreferenceDetail()
        self.findings = PreferenceFindingsPanel(self.side)
        # In a small window the pair editor scrolls instead of squeezing its fields.
        self.detail_scroll = QScrollArea(self.side)
        self.detail_scroll.setObjectName("pairScroll")
        self.detail_scroll.setWidgetResizable(True)
        self.detail_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.detail_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.detail_scroll.setWidget(self.detail)
        self.side.addTab(self.detail_scroll, "Pair")
        self.side.addTab(self.findings, "Problems")
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)
        self.progress_row = ProgressRow(self)
        layout.addWidget(self.progress_row)

    def _wire(self) -> None:
        self.filter_bar.filter_changed.connect(self._filter_changed)
        self.filter_bar.clear_requested.connect(self.show_all_rows)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._sort_changed)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.reveal_requested.connect(self._unfilter)
        self.model.view_changed.connect(self._rows_changed)
        self.findings.jump_requested.connect(self.jump_to)
        self.findings.counts_changed.connect(self._findings_counted)
        self.editor.row_added.connect(self._focus_new_row)
        self.transfer.failed.connect(self.show_error)
        self.transfer.imported.connect(self._imported)
        self.transfer.progress_started.connect(self.progress_row.begin)
        self.transfer.progressed.connect(self.progress_row.report)
        self.transfer.progress_ended.connect(self.progress_row.end)
        self.progress_row.cancel_requested.connect(self.transfer.cancel_import)

    # -- the project ----------------------------------------------------------------------------------
    def set_project(self, project: ProjectSession | None) -> None:
        """Follow the open project; its pairs are read when they are first needed (:meth:`ensure_session`)."""
        if project is self.project:
            return
        self.project = project
        self._attach(None)
        if project is not None and self.isVisible():
            self.ensure_session()

    def ensure_session(self) -> PreferenceSession | None:
        """The open project's preference session, read from the file now if it was not yet."""
        if self.session is None and self.project is not None and not self.project.is_closed:
            self._attach(preference_session_for(self.project))
        return self.session

    def _attach(self, session: PreferenceSession | None) -> None:
        self.flush_edits()
        old = self.session
        if old is not None:
            for signal, slot in self._links(old):
                try:
                    signal.disconnect(slot)  # type: ignore[attr-defined]
                except (RuntimeError, TypeError):
                    pass
        self.session = session
        self.transfer.session = session
        # The side panels first: the table's new current row goes to a pair editor that knows the session.
        self.detail.set_session(session)
        self.findings.set_session(session)
        self.model.set_session(session)
        self.filter_bar.blockSignals(True)
        self.filter_bar.reset()
        self.filter_bar.blockSignals(False)
        self.table.clear_sort_indicator()
        self._say(None)
        if session is not None:
            for signal, slot in self._links(session):
                signal.connect(slot)  # type: ignore[attr-defined]
            if session.checking:
                session.validate_in_background(self._validation)
        self._rows_changed()

    def _links(self, s: PreferenceSession) -> list[tuple[object, Callable[..., None]]]:
        stack = s.undo_stack
        return [(stack.canUndoChanged, self.update_actions), (stack.canRedoChanged, self.update_actions),
                (stack.indexChanged, self.update_actions), (s.rows_inserted, self._saved_rows),
                (s.rows_removed, self._saved_rows), (s.reset_done, self._saved_rows),
                (s.examples_changed, self._saved), (s.write_failed, self._write_failed),
                (s.closed, self._session_closed)]

    def _session_closed(self) -> None:
        if self.session is not None and self.session.is_closed:
            self._attach(None)

    def flush_edits(self) -> None:
        """Write the text still being typed in the pair editor."""
        self.detail.flush()

    # -- what the view says -----------------------------------------------------------------------------
    def _say(self, err: UserError | None) -> None:
        """The line under the filter bar: a change that could not be saved, or that the project is read-only."""
        project = self.project
        if err is not None:
            self.notice.setText(error_text(err))
            self.notice.setStyleSheet("color: #b00020;")
        elif project is not None and not project.is_closed and project.read_only:
            self.notice.setText(error_text(UserError("This project is read-only: the pairs can be read and exported, "
                                                     "not changed.", "Save a copy (File ▸ Save Project As…) to edit "
                                                     "them."), tone=Tone.WARNING))
            self.notice.setStyleSheet("")
        else:
            self.notice.setText("")
        self.notice.setVisible(bool(self.notice.text()))

    def _write_failed(self, err: UserError) -> None:
        """Say it, and show in the pair editor what the file holds (the typing was not kept)."""
        self._say(err)
        e, s = self.detail.example, self.session
        self.detail.set_example(e, s.row_number(e.id) if e is not None and s is not None else None)

    def _saved(self, *_args: object) -> None:
        """A change was written: a notice about a failed one is over."""
        if self.notice.isVisible() and self.project is not None and not self.project.read_only:
            self._say(None)

    def _saved_rows(self, *_args: object) -> None:
        self._saved()
        self._rows_changed()

    def _rows_changed(self) -> None:
        self._show_rows()
        if self.model.rowCount() and not self.table.currentIndex().isValid():
            self.table.setCurrentIndex(self.model.index(0, PairColumn.PROMPT))  # the pair editor shows a pair
        self.update_actions()

    def update_actions(self, *_args: object) -> None:
        self._enable_actions(self.pair_actions)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.ensure_session()
        self.update_actions()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.flush_edits()
        self.update_actions()

    # -- selection, filter, sort --------------------------------------------------------------------------
    def _filter_changed(self, row_filter: RowFilter) -> None:
        self._filter_rows(row_filter, BUSY_ABOVE)

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        self._sort_rows(column, order, BUSY_ABOVE)

    def show_all_rows(self) -> None:
        self.table.clear_sort_indicator()
        self.model.clear_view()

    def jump_to(self, example_id: int, field: str) -> None:
        """Select a pair (a problem clicked in the list) and put the cursor in the field concerned."""
        if self.session is None:
            return
        i = self.session.index_of_id(example_id)
        if i < 0:
            return
        self.table.select_list_indices([i], COLUMN_OF_FIELD.get(field, PairColumn.PROMPT))
        self.side.setCurrentWidget(self.detail_scroll)
        box = self.detail.boxes.get(field) or self.detail.boxes["prompt"]
        box.setFocus()

    def _focus_new_row(self) -> None:
        self.side.setCurrentWidget(self.detail_scroll)
        self.detail.boxes["prompt"].setFocus()

    def _imported(self, first: int) -> None:
        self._unfilter()
        self.table.select_list_indices([first])

    def shutdown(self) -> None:
        self.flush_edits()
        self.transfer.shutdown()
        self._validation.shutdown()

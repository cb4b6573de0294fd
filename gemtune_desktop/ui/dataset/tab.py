"""The Dataset tab: a spreadsheet-grade editor for tuning examples, saved on every edit, validated as you type.

The tab lays out and wires its parts; each part has its own module:

* :class:`~.examples_table.ExamplesTable` over :class:`~gemtune_desktop.qtcore.dataset_model.DatasetModel`,
  with the :class:`~.filter_bar.FilterBar` above it;
* beside it the :class:`~.detail_editor.DetailEditor`, the preamble (:class:`~.settings_panel.DatasetSettingsPanel`),
  the :class:`~.findings_panel.FindingsPanel` and, built when first shown, the :class:`~.stats_panel.StatsPanel`;
* :class:`~.row_editor.RowEditor` (every edit an undo step) and its Edit menu (:mod:`.edit_actions`);
* :class:`~.project_files.ProjectFiles` (New, Open, Save As…) and :class:`~.transfer.DatasetTransfer`
  (import and export on workers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.examples import DatasetSettings, Example, Target
from gemtune_desktop.core.row_view import RowFilter
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.dataset_model import Column, DatasetModel
from gemtune_desktop.qtcore.project_session import TARGET_CHOSEN, ProjectSession
from gemtune_desktop.qtcore.undo import SettingsCommand, copy_settings
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.ui.dataset.detail_editor import DetailEditor
from gemtune_desktop.ui.dataset.edit_actions import build_edit_actions
from gemtune_desktop.ui.dataset.examples_table import ExamplesTable
from gemtune_desktop.ui.dataset.filter_bar import FilterBar
from gemtune_desktop.ui.dataset.findings_panel import FindingsPanel
from gemtune_desktop.ui.dataset.progress_row import ProgressRow
from gemtune_desktop.ui.dataset.project_files import ProjectFiles
from gemtune_desktop.ui.dataset.row_editor import RowEditor
from gemtune_desktop.ui.dataset.rows_page import RowsPage
from gemtune_desktop.ui.dataset.settings_panel import DatasetSettingsPanel
from gemtune_desktop.ui.dataset.transfer import DatasetTransfer
from gemtune_desktop.ui.tab_page import TabKey, WindowMenus

if TYPE_CHECKING:
    from gemtune_desktop.ui.dataset.stats_panel import StatsPanel

log = logging.getLogger(__name__)

BUSY_ABOVE = 100_000  # sorting or filtering more rows than this takes long enough to say so

EMPTY_TEXT = """<h2>This project has no examples yet</h2>
<p>Add input → output pairs in any of these ways:</p>
<ul>
<li><b>Import a spreadsheet or file</b> (File ▸ Import Dataset…, or drag a .xlsx, .csv, .tsv, .jsonl or .json
file onto this window). Columns named like <i>input/prompt/question</i> and <i>output/response/answer</i> are
recognised; otherwise you pick the columns.</li>
<li><b>Paste from Excel or Google Sheets</b>: copy two columns (input and output) and press Ctrl+V here.</li>
<li><b>Add a row</b> and type (Edit ▸ Add Row, Ctrl+Return).</li>
</ul>
<p>Not sure what good examples look like? Open one of the sample projects from the Help menu.</p>"""


class DatasetTab(RowsPage[Example]):
    """The Dataset tab (a :class:`~gemtune_desktop.ui.tab_page.TabPage`); see the module docstring."""

    session: ProjectSession | None
    model: DatasetModel
    table: ExamplesTable
    detail: DetailEditor
    findings: FindingsPanel

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session: ProjectSession | None = None
        self.setAcceptDrops(True)
        self.model = DatasetModel(None, self)
        self._validation = TaskSlot(self, ctx.executor, "validation")
        self._build()
        self.editor = RowEditor(ctx, self.table, self.flush_edits, self, self)
        self.edit_actions = build_edit_actions(self, self.editor)
        from gemtune_desktop.ui.dataset.quick_fixes import QuickFixes

        self.quick_fixes = QuickFixes(self.editor, self.findings, self.table, self.edit_actions, self.flush_edits, self)
        self.files = ProjectFiles(ctx, self, self)
        self.transfer = DatasetTransfer(ctx, self.editor, self.files, self, self)
        self._wire()
        self._update_actions()
        # Preference pairs: a second view beside the examples, its switch, menus and file routing (issue 18).
        from gemtune_desktop.ui.dataset.preference_page import install_preference_view

        self.preferences = install_preference_view(self)
        self._started = False
        # At start-up this waits for the window's first paint (see AppContext.after_first_paint).
        ctx.after_first_paint(self.ensure_project)

    # -- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._build_top_row())
        self.filter_bar = FilterBar(self)
        layout.addWidget(self.filter_bar)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("datasetSplitter")
        self.stack = QStackedWidget(self.splitter)
        self.table = ExamplesTable(self.model, self.stack)
        self._fill_stack(EMPTY_TEXT, "emptyState")
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self._build_side())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)
        state = self.ctx.settings.get(S.DATASET_SPLITTER)
        if not state.isEmpty():
            self.splitter.restoreState(state)
        self.progress_row = ProgressRow(self)
        layout.addWidget(self.progress_row)

    def _build_top_row(self) -> QHBoxLayout:
        top = QHBoxLayout()
        self.project_label = QLabel(self)
        self.project_label.setObjectName("projectLabel")
        self.project_label.setTextFormat(Qt.TextFormat.PlainText)
        top.addWidget(self.project_label)
        top.addStretch(1)
        target_caption = QLabel("&Prepare for:", self)
        self.target_combo = QComboBox(self)
        self.target_combo.setObjectName("targetCombo")
        for t in Target:
            self.target_combo.addItem(t.label, t.value)
        self.target_combo.setToolTip("The service you will tune with; the checks and limits follow it. It follows "
                                     "the connection in use until you pick one here.")
        self.target_combo.setAccessibleName("Target service")
        target_caption.setBuddy(self.target_combo)
        self.target_note = QLabel(self)
        self.target_note.setObjectName("targetNote")
        self.target_note.setTextFormat(Qt.TextFormat.PlainText)
        top.addWidget(target_caption)
        top.addWidget(self.target_combo)
        top.addWidget(self.target_note)
        return top

    def _build_side(self) -> QTabWidget:
        self.side = QTabWidget(self.splitter)
        self.side.setObjectName("datasetSide")
        self.side.setUsesScrollButtons(False)  # every tab's name in view, at the window's smallest too
        self.detail = DetailEditor(self.side)
        self.settings_panel = DatasetSettingsPanel(self.side)
        self.findings = FindingsPanel(self.side)
        self.stats_host = QWidget(self.side)
        self.stats_layout = QVBoxLayout(self.stats_host)
        self.stats_layout.setContentsMargins(0, 0, 0, 0)
        self.stats_panel: StatsPanel | None = None
        self.side.addTab(self.detail, "Example")
        self.side.addTab(self.settings_panel, "Preamble")
        self.side.setTabToolTip(1, "Preamble and system instruction: text added to every example")
        self.side.addTab(self.findings, "Problems")
        self.side.addTab(self.stats_host, "Stats")
        return self.side

    def _wire(self) -> None:
        ctx = self.ctx
        self.target_combo.activated.connect(self._target_picked)
        ctx.connections.connection_changed.connect(lambda _p: self.follow_connection())
        self.filter_bar.filter_changed.connect(self._filter_changed)
        self.filter_bar.clear_requested.connect(self.show_all_rows)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._sort_changed)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.reveal_requested.connect(self._unfilter)
        self.splitter.splitterMoved.connect(lambda *_: ctx.settings.set(S.DATASET_SPLITTER, self.splitter.saveState()))
        self.findings.jump_requested.connect(self.jump_to)
        self.findings.reveal_requested.connect(lambda k, f: self.jump_to(k, f, edit=False))
        self.findings.counts_changed.connect(self._findings_counted)
        self.side.currentChanged.connect(self._side_changed)
        self.editor.failed.connect(self.show_error)
        self.editor.row_added.connect(self._focus_new_row)
        self.files.opened.connect(self.set_session)
        self.files.switched.connect(self._save_state_changed)
        self.files.failed.connect(self.show_error)
        self.files.about_to_write.connect(self.flush_edits)
        self.files.open_requested.connect(lambda path: self.open_path(path))
        self.transfer.failed.connect(self.show_error)
        self.transfer.imported.connect(self._imported)
        self.transfer.progress_started.connect(self.progress_row.begin)
        self.transfer.progressed.connect(self.progress_row.report)
        self.transfer.progress_ended.connect(self.progress_row.end)
        self.progress_row.cancel_requested.connect(self.transfer.cancel_import)
        ctx.rows_focus_requested.connect(self.focus_rows)

    def install_actions(self, menus: WindowMenus) -> None:
        self.files.install(menus.file)
        menus.file.addSeparator()
        self.transfer.install(menus.file)
        self.edit_actions.install(menus.edit)

    # -- project --------------------------------------------------------------------------
    def ensure_project(self) -> None:
        """Open the last project, or the Untitled one, if no project is open yet."""
        if self._started:
            return
        self._started = True
        self.files.open_startup_project()

    def flush_edits(self) -> None:
        """Write the text still being typed in the side panels."""
        self.detail.flush()
        self.settings_panel.flush()

    def set_session(self, session: ProjectSession | None) -> None:
        """Make ``session`` the open project (closing the previous one)."""
        self.flush_edits()
        old = self.session
        if old is not None:
            self._watch_undo(old, False)
        self.session = session
        self.model.set_session(session)
        self.filter_bar.blockSignals(True)
        self.filter_bar.reset()
        self.filter_bar.blockSignals(False)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        for panel in (self.detail, self.settings_panel, self.findings, self.stats_panel):
            if panel is not None:
                panel.set_session(session)
        if session is not None:
            self._watch_undo(session, True)
            self.follow_connection()
            self._settings_changed(session.settings)
        if old is not None and old is not session:
            old.close()
            old.deleteLater()
        self._rows_changed()
        self._save_state_changed()
        if session is not None and session.examples:
            self.table.setCurrentIndex(self.model.index(0, Column.INPUT))
        if session is not None and session.checking:
            session.validate_in_background(self._validation)
        self.ctx.set_project(session)

    def _watch_undo(self, session: ProjectSession, on: bool) -> None:
        stack = session.undo_stack
        links: list[tuple[object, Callable[..., None]]] = [
            (stack.canUndoChanged, self._update_actions), (stack.canRedoChanged, self._update_actions),
            (stack.indexChanged, self._update_actions), (session.rows_inserted, self._rows_changed),
            (session.rows_removed, self._rows_changed), (session.reset_done, self._rows_changed),
            (session.settings_changed, self._settings_changed), (session.save_state_changed, self._save_state_changed),
            (session.path_changed, self._save_state_changed)]
        for signal, slot in links:
            if on:
                signal.connect(slot)  # type: ignore[attr-defined]
            else:
                signal.disconnect(slot)  # type: ignore[attr-defined]

    def _update_title(self) -> None:
        s = self.session
        if s is None or s.is_closed:
            self.project_label.setText("No project open")
            self.project_label.setToolTip("")
            return
        self.project_label.setText(f"Project: {s.display_name} — {s.save_state_label}")
        self.project_label.setToolTip(f"{s.save_state_text}\n{s.path}")

    def _save_state_changed(self, *_args: object) -> None:
        """Saved, saving, read-only, not saved: the label says it, and editing follows whether it can be saved."""
        self._update_title()
        self._update_actions()
        editable = self.session is not None and self.session.can_edit
        self.settings_panel.set_editable(editable)
        self.detail.refresh_editable()
        self.target_combo.setEnabled(editable)

    def _rows_changed(self, *_args: object) -> None:
        self._show_rows()
        self._update_actions()

    def _settings_changed(self, settings: DatasetSettings) -> None:
        i = self.target_combo.findData(settings.target.value)
        if i >= 0:
            self.target_combo.setCurrentIndex(i)
        s = self.session
        chosen = s is not None and s.target_chosen
        self.target_note.setText("" if chosen else "(follows the connection)")
        if s is not None and not chosen:
            QTimer.singleShot(0, self, self.follow_connection)  # e.g. after undoing the choice

    def follow_connection(self) -> None:
        """"Prepare for" follows the active connection until the user picks a target."""
        from gemtune_desktop.services.connections import Backend

        s = self.session
        if s is None or s.is_closed:
            return
        backend = self.ctx.connections.profile.backend
        s.follow_target(Target.AGENT_PLATFORM if backend is Backend.AGENT_PLATFORM else Target.GEMINI_API)

    def _target_picked(self, _index: int) -> None:
        s = self.session
        if s is None:
            return
        target = Target(self.target_combo.currentData())
        if target is s.settings.target:
            return
        new = copy_settings(s.settings)
        new.target = target
        new.extra[TARGET_CHOSEN] = "yes"  # from now on it stays as picked
        if not self.editor.push(SettingsCommand(s, new, f"Prepare for {target.label}")):
            self._settings_changed(s.settings)

    def _imported(self, first: int) -> None:
        self._unfilter()
        self._rows_changed()
        self.table.select_list_indices([first])

    # -- helpers --------------------------------------------------------------------------
    def _update_actions(self, *_args: object) -> None:
        self._enable_actions(self.edit_actions)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._update_actions()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._update_actions()

    # -- selection, filter, sort ------------------------------------------------------------
    def _filter_changed(self, row_filter: RowFilter) -> None:
        self._filter_rows(row_filter, BUSY_ABOVE)
        self._rows_changed()

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        if self._sort_rows(column, order, BUSY_ABOVE):
            self._update_actions()

    def show_all_rows(self) -> None:
        self.table.clear_sort_indicator()
        self.model.clear_view()
        self._rows_changed()

    def focus_rows(self, ids: list[int]) -> None:
        """Select the examples with these ids (asked for by another tab)."""
        if self.session is None:
            return
        indices = sorted(i for i in (self.session.index_of_id(int(k)) for k in ids) if i >= 0)
        self.ctx.show_tab_requested.emit(TabKey.DATASET)
        self.table.select_list_indices(indices)

    def jump_to(self, example_id: int, field: str, edit: bool = True) -> None:
        """Select the example's cell; with ``edit`` also show it in the Example editor, cursor in the field."""
        if self.session is None:
            return
        i = self.session.index_of_id(example_id)
        if i < 0:
            return
        self.table.select_list_indices([i], Column.OUTPUT if field == "output" else Column.INPUT)
        if not edit:
            return
        self.side.setCurrentWidget(self.detail)
        (self.detail.output_edit if field == "output" else self.detail.input_edit).setFocus()

    def _focus_new_row(self) -> None:
        self.side.setCurrentWidget(self.detail)
        self.detail.input_edit.setFocus()

    def _side_changed(self, index: int) -> None:
        if self.side.widget(index) is self.stats_host and self.stats_panel is None:
            from gemtune_desktop.ui.dataset.stats_panel import StatsPanel  # numpy, only when shown

            self.stats_panel = StatsPanel(self.ctx.executor, self.stats_host)
            self.stats_layout.addWidget(self.stats_panel)
            self.stats_panel.set_session(self.session)

    # -- files ------------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> None:
        """A project opens; a dataset file is imported into the current project (command line, drops)."""
        self.ensure_project()
        target = Path(path)
        if target.suffix.lower() == ".gemtune":
            self.files.open_project(target)
        else:
            self.transfer.import_file(target)

    def open_sample(self, sample: Path) -> None:
        """Open a shipped sample as its own project (made from the file the first time), never mixed into
        the user's current project."""
        from gemtune_desktop.ui.dialogs.welcome_dialog import sample_project_path

        project = sample_project_path(sample)
        if project.is_file():
            self.open_path(project)
            return
        self.ensure_project()
        project.parent.mkdir(parents=True, exist_ok=True)
        if self.files.create_project(project):
            self.open_path(sample)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            QTimer.singleShot(0, self, lambda: self.open_path(paths[0]))

    # -- TabPage ----------------------------------------------------------------------------
    def can_close(self) -> bool:
        return True

    def shutdown(self) -> None:
        self.flush_edits()
        self.transfer.shutdown()
        self._validation.shutdown()
        if self.session is not None:
            session = self.session
            self.session = None
            self.model.set_session(None)
            session.close()

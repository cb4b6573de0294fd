"""The Dataset tab: a spreadsheet-grade editor for tuning examples, saved on every edit, validated as you type.

There is always an open project: at start the last one is reopened, otherwise an "Untitled" project
in the app's data folder, so nothing typed is ever lost. Every change goes through an undo command
(:mod:`gemtune_desktop.qtcore.undo`) that writes to the project file in one transaction.
File actions (New, Open, Save As, Import, Export) live in :mod:`gemtune_desktop.ui.dataset_files`.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QGuiApplication, QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import Example, Target
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.dataset_model import FIELD_OF, Column, DatasetModel, parse_split
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.undo import (
    EditCellCommand,
    InsertRowsCommand,
    MoveRowsCommand,
    RemoveRowsCommand,
    SetFieldsCommand,
    SettingsCommand,
    copy_settings,
)
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.ui.dataset_clipboard import parse_tsv, to_tsv
from gemtune_desktop.ui.dataset_detail import DetailEditor
from gemtune_desktop.ui.dataset_filter_bar import FilterBar
from gemtune_desktop.ui.dataset_findings import FindingsPanel
from gemtune_desktop.ui.dataset_settings_panel import DatasetSettingsPanel

log = logging.getLogger(__name__)

ROW_HEIGHT = 24
BUSY_ABOVE = 100_000  # sorting or filtering more rows than this takes long enough to say so
COPY_COLUMNS = ("input", "output", "split", "tags", "note")

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


class DatasetTab(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session: ProjectSession | None = None
        self.setAcceptDrops(True)
        self.model = DatasetModel(None, self)
        self._validation = TaskSlot(self, ctx.executor, "validation")
        self._build()
        self._build_actions()
        from gemtune_desktop.ui.dataset_files import ProjectFiles

        self.files = ProjectFiles(self)
        ctx.rows_focus_requested.connect(self.focus_rows)
        self._started = False
        # At start-up this waits for the window's first paint (see AppContext.after_first_paint).
        ctx.after_first_paint(self.ensure_project)

    # -- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
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
        self.target_combo.setToolTip("The service you will tune with; the checks and limits follow it")
        self.target_combo.setAccessibleName("Target service")
        target_caption.setBuddy(self.target_combo)
        self.target_combo.activated.connect(self._target_picked)
        top.addWidget(target_caption)
        top.addWidget(self.target_combo)
        layout.addLayout(top)

        self.filter_bar = FilterBar(self)
        self.filter_bar.filter_changed.connect(self._filter_changed)
        self.filter_bar.clear_requested.connect(self.show_all_rows)
        layout.addWidget(self.filter_bar)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("datasetSplitter")
        self.stack = QStackedWidget(self.splitter)
        self.table = QTableView(self.stack)
        self.table.setObjectName("datasetTable")
        self.table.setAccessibleName("Examples")
        self.table.setModel(self.model)
        vh = self.table.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(ROW_HEIGHT)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        hh = self.table.horizontalHeader()
        hh.setStretchLastSection(True)
        hh.setSortIndicatorShown(True)
        hh.setSectionsClickable(True)
        hh.sortIndicatorChanged.connect(self._sort_changed)
        for col, width in ((Column.INPUT, 290), (Column.OUTPUT, 190), (Column.SPLIT, 80), (Column.STATUS, 120),
                           (Column.TAGS, 80)):
            self.table.setColumnWidth(col, width)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.empty = QLabel(EMPTY_TEXT, self.stack)
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.empty.setMargin(24)
        self.empty.setTextFormat(Qt.TextFormat.RichText)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)

        self.side = QTabWidget(self.splitter)
        self.side.setObjectName("datasetSide")
        self.detail = DetailEditor(self.side)
        self.settings_panel = DatasetSettingsPanel(self.side)
        self.findings = FindingsPanel(self.side)
        self.findings.jump_requested.connect(self.jump_to)
        self.findings.counts_changed.connect(self._findings_counted)
        self.stats_host = QWidget(self.side)
        self.stats_layout = QVBoxLayout(self.stats_host)
        self.stats_layout.setContentsMargins(0, 0, 0, 0)
        self.stats_panel: Any = None
        self.side.addTab(self.detail, "Example")
        self.side.addTab(self.settings_panel, "Preamble")
        self.side.setTabToolTip(1, "Preamble and system instruction: text added to every example")
        self.side.addTab(self.findings, "Problems")
        self.side.addTab(self.stats_host, "Stats")
        self.side.currentChanged.connect(self._side_changed)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)
        state = self.ctx.settings.get(S.DATASET_SPLITTER)
        if not state.isEmpty():
            self.splitter.restoreState(state)
        self.splitter.splitterMoved.connect(
            lambda *_: self.ctx.settings.set(S.DATASET_SPLITTER, self.splitter.saveState()))

        bottom = QHBoxLayout()
        self.progress_label = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("importProgress")
        self.progress.setAccessibleName("Import progress")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the import; nothing is added")
        for w in (self.progress_label, self.progress, self.cancel_button):
            bottom.addWidget(w)
            w.hide()
        bottom.addStretch(1)
        layout.addLayout(bottom)

    def _action(self, text: str, slot: Any, shortcut: Any = None, tip: str = "", name: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        if name:
            action.setObjectName(name)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        K = QKeySequence
        self.undo_action = self._action("&Undo", self.undo, K(K.StandardKey.Undo), "Undo the last change",
                                        "action_undo")
        self.redo_action = self._action("&Redo", self.redo, [K("Ctrl+Y"), K("Ctrl+Shift+Z")],
                                        "Redo the change you undid", "action_redo")
        self.cut_action = self._action("Cu&t Rows", self.cut_rows, K(K.StandardKey.Cut),
                                       "Copy the selected rows and remove them", "action_cut")
        self.copy_action = self._action("&Copy", self.copy_rows, K(K.StandardKey.Copy),
                                        "Copy the selection as tab-separated text for Excel or Google Sheets",
                                        "action_copy")
        self.paste_action = self._action("&Paste", self.paste, K(K.StandardKey.Paste),
                                         "Paste rows copied from Excel or Google Sheets (input, output, …)",
                                         "action_paste")
        self.add_action = self._action("&Add Row", self.add_row, K("Ctrl+Return"), "Add an empty example",
                                       "action_add_row")
        self.duplicate_action = self._action("D&uplicate Rows", self.duplicate_rows, K("Ctrl+D"),
                                             "Add copies of the selected rows", "action_duplicate")
        self.delete_action = self._action("&Delete Rows", self.delete_rows, K(K.StandardKey.Delete),
                                          "Delete the selected rows (Undo brings them back)", "action_delete")
        self.up_action = self._action("Move U&p", lambda: self.move_rows(-1), K("Alt+Up"),
                                      "Move the selected rows up", "action_move_up")
        self.down_action = self._action("Move Do&wn", lambda: self.move_rows(1), K("Alt+Down"),
                                        "Move the selected rows down", "action_move_down")
        self.find_action = self._action("&Find…", lambda: self.show_find(False), K(K.StandardKey.Find),
                                        "Find text in inputs and outputs", "action_find")
        self.replace_action = self._action("Find and &Replace…", lambda: self.show_find(True), K("Ctrl+H"),
                                           "Replace text in inputs and outputs", "action_replace")
        self.split_action = self._action("&Split into Train/Validation/Test…", self.show_split_dialog, None,
                                         "Assign each example to train, validation or test at random",
                                         "action_split")
        self.edit_actions = [self.undo_action, self.redo_action, self.cut_action, self.copy_action,
                             self.paste_action, self.add_action, self.duplicate_action, self.delete_action,
                             self.up_action, self.down_action, self.find_action, self.replace_action,
                             self.split_action]
        for a in self.edit_actions:
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self._find_dialog: Any = None
        self._update_actions()

    def install_actions(self, menus: dict[str, QMenu]) -> None:
        self.files.install(menus["file"])
        edit = menus["edit"]
        for group in ((self.undo_action, self.redo_action), (self.cut_action, self.copy_action, self.paste_action),
                      (self.add_action, self.duplicate_action, self.delete_action, self.up_action,
                       self.down_action), (self.find_action, self.replace_action, self.split_action)):
            edit.addActions(list(group))
            edit.addSeparator()

    # -- project --------------------------------------------------------------------------
    def ensure_project(self) -> None:
        """Open the last project, or the Untitled one, if no project is open yet."""
        if self._started:
            return
        self._started = True
        self.files.open_startup_project()

    def set_session(self, session: ProjectSession | None) -> None:
        """Make ``session`` the open project (closing the previous one)."""
        self.detail.flush()
        self.settings_panel.flush()
        old = self.session
        if old is not None:
            stack = old.undo_stack
            for sig, slot in ((stack.canUndoChanged, self._update_actions), (stack.canRedoChanged,
                              self._update_actions), (stack.indexChanged, self._update_actions)):
                try:
                    sig.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        self.session = session
        self.model.set_session(session)
        self.filter_bar.blockSignals(True)
        self.filter_bar.reset()
        self.filter_bar.blockSignals(False)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.detail.set_session(session)
        self.settings_panel.set_session(session)
        self.findings.set_session(session)
        if self.stats_panel is not None:
            self.stats_panel.set_session(session)
        if session is not None:
            stack = session.undo_stack
            stack.canUndoChanged.connect(self._update_actions)
            stack.canRedoChanged.connect(self._update_actions)
            stack.indexChanged.connect(self._update_actions)
            session.rows_inserted.connect(self._rows_changed)
            session.rows_removed.connect(self._rows_changed)
            session.reset_done.connect(self._rows_changed)
            session.settings_changed.connect(self._settings_changed)
            self._settings_changed(session.settings)
        if old is not None and old is not session:
            old.close()
            old.deleteLater()
        self._rows_changed()
        self._update_title()
        if session is not None and session.examples:
            self.table.setCurrentIndex(self.model.index(0, Column.INPUT))
        if session is not None and session.checking:
            session.validate_in_background(self._validation)
        self.ctx.set_project(session)

    def _update_title(self) -> None:
        s = self.session
        if s is None:
            self.project_label.setText("No project open")
            return
        ro = " (read-only)" if s.read_only else ""
        self.project_label.setText(f"Project: {s.display_name}{ro} — saved automatically")
        self.project_label.setToolTip(f"{s.path}\nEvery change is saved to this file as you make it.")

    def _rows_changed(self, *_args: Any) -> None:
        total = len(self.session.examples) if self.session is not None else 0
        self.stack.setCurrentWidget(self.table if total else self.empty)
        self.filter_bar.show_count(self.model.rowCount(), total)
        self.filter_bar.setEnabled(total > 0)
        self._update_actions()

    def _findings_counted(self, errors: int, warnings: int) -> None:
        i = self.side.indexOf(self.findings)
        self.side.setTabText(i, f"Problems ({errors + warnings:,})" if errors + warnings else "Problems")
        self.side.setTabToolTip(i, f"{errors:,} errors and {warnings:,} warnings found in the dataset")

    def _settings_changed(self, settings: Any) -> None:
        i = self.target_combo.findData(settings.target.value)
        if i >= 0:
            self.target_combo.setCurrentIndex(i)

    def _target_picked(self, _index: int) -> None:
        s = self.session
        if s is None:
            return
        target = Target(self.target_combo.currentData())
        if target is s.settings.target:
            return
        new = copy_settings(s.settings)
        new.target = target
        self.push(SettingsCommand(s, new, f"Prepare for {target.label}"))

    # -- helpers --------------------------------------------------------------------------
    def push(self, command: Any) -> bool:
        """Run an undo command; a failure to write the file is explained, nothing is half-done."""
        s = self.session
        if s is None:
            return False
        try:
            s.undo_stack.push(command)
            return True
        except (sqlite3.Error, OSError) as exc:
            log.warning("edit failed", exc_info=exc)
            self.show_error(UserError("The change could not be saved to the project file.",
                                      "Check that the disk is not full and the file is still there.", str(exc)))
        except UserError as exc:
            self.show_error(exc)
        return False

    def show_error(self, err: UserError) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "GemTune Desktop", err.message, parent=self)
        if err.hint:
            box.setInformativeText(err.hint)
        if err.detail:
            box.setDetailedText(err.detail)
        box.open()

    def selected_view_rows(self) -> list[int]:
        sm = self.table.selectionModel()
        rows = {i.row() for i in sm.selectedIndexes()}
        if not rows and self.table.currentIndex().isValid():
            rows = {self.table.currentIndex().row()}
        return sorted(rows)

    def selected_examples(self) -> list[Example]:
        return [self.model.example_at(r) for r in self.selected_view_rows()]

    def _editable(self) -> bool:
        return self.session is not None and not self.session.read_only

    def _update_actions(self, *_args: Any) -> None:
        s = self.session
        stack = s.undo_stack if s is not None else None
        visible = self.isVisible()
        self.undo_action.setEnabled(visible and stack is not None and stack.canUndo())
        self.redo_action.setEnabled(visible and stack is not None and stack.canRedo())
        if stack is not None:
            self.undo_action.setText(f"&Undo {stack.undoText()}".strip())
            self.redo_action.setText(f"&Redo {stack.redoText()}".strip())
        has_rows = visible and s is not None and self.model.rowCount() > 0
        editable = visible and self._editable()
        for a in (self.copy_action, self.find_action):
            a.setEnabled(has_rows)
        for a in (self.cut_action, self.duplicate_action, self.delete_action, self.replace_action,
                  self.split_action):
            a.setEnabled(has_rows and editable)
        for a in (self.paste_action, self.add_action):
            a.setEnabled(editable)
        movable = has_rows and editable and not self.model.mapped
        self.up_action.setEnabled(movable)
        self.down_action.setEnabled(movable)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._update_actions()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._update_actions()

    # -- selection, filter, sort ------------------------------------------------------------
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or self.session is None:
            self.detail.set_example(None, None)
            return
        list_index = self.model.list_index(current.row())
        self.detail.set_example(self.session.examples[list_index], list_index + 1)

    def _filter_changed(self, row_filter: Any) -> None:
        self._busy("Filtering", lambda: self.model.set_filter(row_filter))
        self._rows_changed()

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        if column < 0:
            return
        self._busy("Sorting", lambda: self.model.sort(column, order))
        self._update_actions()

    def _busy(self, verb: str, work: Any) -> None:
        """Run a whole-table operation; on a large project say so while it runs (busy cursor, status bar)."""
        rows = len(self.session.examples) if self.session is not None else 0
        if rows <= BUSY_ABOVE:
            work()
            return
        import time

        self.ctx.status_message.emit(f"{verb} {rows:,} rows…", 0)
        window = self.window()
        bar = window.statusBar() if isinstance(window, QMainWindow) else None
        if bar is not None:
            bar.repaint()  # paint the message now: the work below holds the GUI thread
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        started = time.perf_counter()
        try:
            work()
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.ctx.status_message.emit(f"{verb} {rows:,} rows took {time.perf_counter() - started:.1f} s.", 5000)

    def show_all_rows(self) -> None:
        self.table.horizontalHeader().blockSignals(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.horizontalHeader().blockSignals(False)
        self.model.clear_view()
        self._rows_changed()

    def _unfilter(self) -> None:
        if self.model.mapped:
            self.filter_bar.blockSignals(True)
            self.filter_bar.reset()
            self.filter_bar.blockSignals(False)
            self.show_all_rows()

    def select_list_indices(self, indices: list[int], column: int = 0) -> None:
        """Select these rows (list indices) and scroll to the first."""
        rows = [r for r in (self.model.view_row(i) for i in indices) if r >= 0]
        if len(rows) < len(indices):
            self._unfilter()
            rows = [r for r in (self.model.view_row(i) for i in indices) if r >= 0]
        if not rows:
            return
        sm = self.table.selectionModel()
        selection = QItemSelection()
        last = self.model.columnCount() - 1
        for r in rows[:10000]:
            selection.select(self.model.index(r, 0), self.model.index(r, last))
        first = self.model.index(rows[0], column)
        sm.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
        sm.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.table.scrollTo(first)

    def focus_rows(self, ids: list[Any]) -> None:
        """Select the examples with these ids (asked for by another tab)."""
        if self.session is None:
            return
        indices = sorted(i for i in (self.session.index_of_id(int(k)) for k in ids) if i >= 0)
        self.ctx.show_tab_requested.emit("dataset")
        self.select_list_indices(indices)

    def jump_to(self, example_id: int, field: str) -> None:
        if self.session is None:
            return
        i = self.session.index_of_id(example_id)
        if i < 0:
            return
        col = Column.OUTPUT if field == "output" else Column.INPUT
        self.select_list_indices([i], col)
        self.side.setCurrentWidget(self.detail)
        box = self.detail.output_edit if field == "output" else self.detail.input_edit
        box.setFocus()

    # -- edit actions -----------------------------------------------------------------------
    def undo(self) -> None:
        if self.session is not None:
            self.detail.flush()
            self.settings_panel.flush()
            try:
                self.session.undo_stack.undo()
            except (sqlite3.Error, OSError) as exc:
                self.show_error(UserError("Undo could not be saved to the project file.", "", str(exc)))

    def redo(self) -> None:
        if self.session is not None:
            try:
                self.session.undo_stack.redo()
            except (sqlite3.Error, OSError) as exc:
                self.show_error(UserError("Redo could not be saved to the project file.", "", str(exc)))

    def _insert_index(self) -> int:
        """Where new rows go: after the current row, else at the end."""
        s = self.session
        assert s is not None
        rows = self.selected_view_rows()
        if rows and not self.model.mapped:
            return self.model.list_index(rows[-1]) + 1
        return len(s.examples)

    def insert_examples(self, examples: list[Example], text: str, index: int | None = None) -> bool:
        s = self.session
        if s is None or not examples:
            return False
        self._unfilter()
        at = self._insert_index() if index is None else index
        if self.push(InsertRowsCommand(s, at, examples, text)):
            self.select_list_indices(list(range(at, at + len(examples))))
            return True
        return False

    def add_row(self) -> None:
        if self.insert_examples([Example("", "")], "Add row"):
            self.side.setCurrentWidget(self.detail)
            self.detail.input_edit.setFocus()

    def duplicate_rows(self) -> None:
        exs = self.selected_examples()
        if exs:
            copies = [Example(e.input, e.output, e.split, e.tags, e.note) for e in exs]
            self.insert_examples(copies, f"Duplicate {len(copies)} row" + ("s" if len(copies) != 1 else ""))

    def delete_rows(self) -> None:
        s = self.session
        exs = self.selected_examples()
        if s is None or not exs:
            return
        first = self.selected_view_rows()[0]
        if self.push(RemoveRowsCommand(s, exs, f"Delete {len(exs):,} row" + ("s" if len(exs) != 1 else ""))):
            n = self.model.rowCount()
            if n:
                self.table.setCurrentIndex(self.model.index(min(first, n - 1), 0))

    def move_rows(self, delta: int) -> None:
        s = self.session
        if s is None or self.model.mapped:
            return
        rows = self.selected_view_rows()
        cmd = MoveRowsCommand(s, rows, delta)
        if not cmd.pairs:
            return
        col = max(0, self.table.currentIndex().column())
        if self.push(cmd):
            moved = set(rows)
            for a, b in cmd.pairs:  # follow the rows to their new places
                if (b if delta < 0 else a) in moved:
                    moved.discard(b if delta < 0 else a)
                    moved.add(a if delta < 0 else b)
            self.select_list_indices(sorted(moved), col)

    def copy_rows(self) -> None:
        idx = self.table.selectionModel().selectedIndexes()
        if not idx and self.table.currentIndex().isValid():
            idx = [self.table.currentIndex()]
        if not idx:
            return
        rows = sorted({i.row() for i in idx})
        cols = sorted({i.column() for i in idx})
        if len(idx) == 1 or (len(cols) < self.model.columnCount() and len(idx) == len(rows) * len(cols)):
            # a rectangle of cells: copy what is shown in those columns
            data = [[str(self.model.data(self.model.index(r, c), Qt.ItemDataRole.EditRole) or
                         self.model.data(self.model.index(r, c)) or "") for c in cols] for r in rows]
        else:
            data = [[str(getattr(e, f)) for f in COPY_COLUMNS] for e in self.model.examples_at(rows)]
        QGuiApplication.clipboard().setText(to_tsv(data))
        self.ctx.status_message.emit(f"Copied {len(rows):,} row" + ("s" if len(rows) != 1 else ""), 3000)

    def cut_rows(self) -> None:
        self.copy_rows()
        self.delete_rows()

    def paste(self) -> None:
        s = self.session
        if s is None or s.read_only:
            return
        text = QGuiApplication.clipboard().text()
        if not text:
            return
        self.paste_text(text)

    def paste_text(self, text: str) -> None:
        """Paste clipboard text: several columns → new rows; one column → into the cells from the current one."""
        s = self.session
        if s is None:
            return
        rows = [r for r in parse_tsv(text) if any(c.strip() for c in r)]
        if not rows:
            return
        width = max(len(r) for r in rows)
        current = self.table.currentIndex()
        if width == 1 and current.isValid() and Column(current.column()) in FIELD_OF:
            field = FIELD_OF[Column(current.column())]
            changes: list[tuple[Example, str, Any]] = []
            for k, r in enumerate(rows):
                view_row = current.row() + k
                if view_row >= self.model.rowCount():
                    break
                value: Any = r[0]
                if field == "split":
                    value = parse_split(value)
                    if value is None:
                        continue
                changes.append((self.model.example_at(view_row), field, value))
            if len(changes) == 1:
                e, f, v = changes[0]
                self.push(EditCellCommand(s, e, f, v))
            elif changes:
                self.push(SetFieldsCommand(s, changes, f"Paste into {len(changes):,} cells"))
            return
        self.insert_examples(rows_to_examples(rows), f"Paste {len(rows):,} row" + ("s" if len(rows) != 1 else ""))

    # -- find & replace, split --------------------------------------------------------------
    def show_find(self, replace: bool) -> None:
        from gemtune_desktop.ui.dataset_dialogs import FindReplaceDialog

        if self._find_dialog is None:
            self._find_dialog = FindReplaceDialog(self)
            self._find_dialog.find_next_requested.connect(self.find_next)
            self._find_dialog.replace_all_requested.connect(self.replace_all)
        self._find_dialog.show_for(replace)

    def find_next(self) -> bool:
        from gemtune_desktop.ui.dataset_dialogs import matches

        d = self._find_dialog
        if d is None or self.session is None:
            return False
        find, fields, case = d.find_edit.text(), d.fields(), d.match_case.isChecked()
        n = self.model.rowCount()
        start = self.table.currentIndex().row() + 1 if self.table.currentIndex().isValid() else 0
        for k in range(n):
            r = (start + k) % n
            if matches(self.model.example_at(r), find, fields, case):
                self.select_list_indices([self.model.list_index(r)], Column.INPUT)
                d.result_label.setText(f"Found in row {self.model.list_index(r) + 1:,}.")
                return True
        d.result_label.setText(f"“{find}” was not found." if find else "Type the text to find.")
        return False

    def replace_all(self) -> int:
        from gemtune_desktop.ui.dataset_dialogs import plan_replace

        d = self._find_dialog
        s = self.session
        if d is None or s is None:
            return 0
        find, repl = d.find_edit.text(), d.replace_edit.text()
        pool = self.selected_examples() if d.selection_only.isChecked() else \
            [self.model.example_at(r) for r in range(self.model.rowCount())]
        changes = plan_replace(pool, find, repl, d.fields(), d.match_case.isChecked())
        if not changes:
            d.result_label.setText(f"“{find}” was not found." if find else "Type the text to find.")
            return 0
        self.detail.flush()
        if self.push(SetFieldsCommand(s, changes, f"Replace “{find}” with “{repl}”")):
            d.result_label.setText(f"Replaced in {len(changes):,} cell" + ("s" if len(changes) != 1 else "") +
                             ". Undo (Ctrl+Z) puts them back.")
        return len(changes)

    def show_split_dialog(self) -> None:
        from gemtune_desktop.ui.dataset_dialogs import SplitDialog

        s = self.session
        if s is None or not s.examples:
            return
        dialog = SplitDialog(s.settings.split_ratios, s.settings.split_seed, len(s.examples), self)
        dialog.accepted.connect(lambda: self.apply_split(dialog.ratios(), dialog.seed.value()))
        dialog.open()
        self._split_dialog = dialog

    def apply_split(self, ratios: tuple[float, float, float], seed: int) -> int:
        """Assign splits at random (one undo step, with the ratios and seed remembered)."""
        from gemtune_desktop.core.split import assign_splits

        s = self.session
        if s is None:
            return 0
        splits = assign_splits(s.examples, ratios, seed)
        changes = [(e, "split", sp) for e, sp in zip(s.examples, splits, strict=True) if e.split is not sp]
        new = copy_settings(s.settings)
        new.split_ratios = ratios
        new.split_seed = seed
        stack = s.undo_stack
        stack.beginMacro("Split into train, validation and test")
        try:
            self.push(SettingsCommand(s, new, "Split settings"))
            if changes:
                self.push(SetFieldsCommand(s, changes, "Assign splits"))
        finally:
            stack.endMacro()
        self.ctx.status_message.emit(f"Split done: {len(changes):,} examples changed", 4000)
        return len(changes)

    # -- stats ----------------------------------------------------------------------------
    def _side_changed(self, index: int) -> None:
        if self.side.widget(index) is self.stats_host and self.stats_panel is None:
            from gemtune_desktop.ui.dataset_stats import StatsPanel

            self.stats_panel = StatsPanel(self.ctx.executor, self.stats_host)
            self.stats_layout.addWidget(self.stats_panel)
            self.stats_panel.set_session(self.session)

    # -- files (delegated) --------------------------------------------------------------------
    def open_path(self, path: str | Path) -> None:
        """A project opens; a dataset file is imported into the current project (command line, drops)."""
        self.ensure_project()
        self.files.open_path(Path(path))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.open_path(paths[0]))

    def can_close(self) -> bool:
        return True

    def shutdown(self) -> None:
        self.detail.flush()
        self.settings_panel.flush()
        self.files.shutdown()
        if self.session is not None:
            session = self.session
            self.session = None
            self.model.set_session(None)
            session.close()


def rows_to_examples(rows: list[list[str]]) -> list[Example]:
    """Pasted rows → examples: input, output, then split, tags and note; a header row is recognised and used."""
    from gemtune_desktop.core.formats.model import guess_mapping

    order = list(COPY_COLUMNS)
    mapping = guess_mapping(rows[0]) if rows else None
    if mapping is not None:
        header = rows[0]
        order = []
        names = {mapping.input_column: "input", mapping.output_column: "output", mapping.split_column: "split",
                 mapping.tags_column: "tags", mapping.note_column: "note"}
        order = [names.get(h, "") for h in header]
        rows = rows[1:]
    out: list[Example] = []
    for r in rows:
        e = Example("", "")
        for field, value in zip(order, r, strict=False):
            if not field:
                continue
            if field == "split":
                sp = parse_split(value)
                if sp is not None:
                    e.split = sp
            else:
                setattr(e, field, value)
        out.append(e)
    return out

"""The Dataset tab's edits of rows, each one undoable step: add, duplicate, delete, move, copy, paste, replace, split.

Every change goes through an undo command (:mod:`gemtune_desktop.qtcore.undo`) pushed by :meth:`RowEditor.push`,
which writes the project file first; a write that fails is explained and nothing is half-done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QUndoCommand
from PySide6.QtWidgets import QWidget

from gemtune_desktop.core.clipboard import parse_tsv, rows_to_examples, to_tsv
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.words import plural
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.dataset_model import FIELD_OF, Column, parse_split
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
from gemtune_desktop.ui.dataset.examples_table import ExamplesTable
from gemtune_desktop.ui.dataset.find_dialog import FindReplaceDialog

log = logging.getLogger(__name__)


class RowEditor(QObject):
    """Edits the open project's rows through the table's selection.

    Args:
        flush: writes text still being typed in the side panels (called before edits that read it).
        dialog_parent: the widget the Find and Split dialogs belong to.

    Signals:
        failed(object): a :class:`UserError`: the change could not be written (nothing was changed).
        row_added(): Add Row made a new, empty example (the detail editor takes the focus).
    """

    failed = Signal(object)
    row_added = Signal()

    def __init__(self, ctx: AppContext, table: ExamplesTable, flush: Callable[[], None], dialog_parent: QWidget,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.table = table
        self.model = table.dataset_model
        self._flush = flush
        self._dialog_parent = dialog_parent
        self.find_dialog: FindReplaceDialog | None = None
        self.paste_dialog: QWidget | None = None

    @property
    def session(self) -> ProjectSession | None:
        return self.model.session

    def push(self, command: QUndoCommand) -> bool:
        """Run an undo command; False when the file could not be written (the session's ``write_failed`` says
        why, once, and the change is neither on screen nor in the undo history)."""
        s = self.session
        if s is None:
            return False
        return s.push(command)

    # -- undo -------------------------------------------------------------------------------
    def undo(self) -> None:
        if self.session is not None:
            self._flush()
            self.session.undo()

    def redo(self) -> None:
        if self.session is not None:
            self.session.redo()

    # -- rows -------------------------------------------------------------------------------
    def _insert_index(self, s: ProjectSession) -> int:
        """Where new rows go: after the current row, else at the end."""
        rows = self.table.selected_view_rows()
        if rows and not self.model.mapped:
            return self.model.list_index(rows[-1]) + 1
        return len(s.examples)

    def insert_examples(self, examples: list[Example], text: str, index: int | None = None) -> bool:
        s = self.session
        if s is None or not examples:
            return False
        self.table.reveal_requested.emit()
        at = self._insert_index(s) if index is None else index
        if self.push(InsertRowsCommand(s, at, examples, text)):
            self.table.select_list_indices(list(range(at, at + len(examples))))
            return True
        return False

    def add_row(self) -> None:
        if self.insert_examples([Example("", "")], "Add row"):
            self.row_added.emit()

    def duplicate_rows(self) -> None:
        exs = self.table.selected_examples()
        if exs:
            copies = [Example(e.input, e.output, e.split, e.tags, e.note) for e in exs]
            self.insert_examples(copies, "Duplicate " + plural(len(copies), "row"))

    def delete_rows(self) -> None:
        s = self.session
        exs = self.table.selected_examples()
        if s is None or not exs:
            return
        first = self.table.selected_view_rows()[0]
        if self.push(RemoveRowsCommand(s, exs, "Delete " + plural(len(exs), "row"))):
            n = self.model.rowCount()
            if n:
                self.table.setCurrentIndex(self.model.index(min(first, n - 1), 0))

    def move_rows(self, delta: int) -> None:
        s = self.session
        if s is None or self.model.mapped:
            return
        rows = self.table.selected_view_rows()
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
            self.table.select_list_indices(sorted(moved), col)

    def remove_exact_duplicates(self) -> int:
        """Delete every row that repeats an earlier one exactly, as one undo step; returns how many."""
        from gemtune_desktop.core.merge import exact_duplicates

        s = self.session
        if s is None or not s.can_edit:
            return 0
        self._flush()
        dups = exact_duplicates(s.examples)
        if not dups:
            self.ctx.status_message.emit("No exact duplicates: every row differs from the others.", 6000)
            return 0
        text = "Remove " + plural(len(dups), "exact duplicate")
        if not self.push(RemoveRowsCommand(s, dups, text)):
            return 0
        self.ctx.status_message.emit(f"Removed {plural(len(dups), 'exact duplicate')}; the first of each is kept. "
                                     "Undo (Ctrl+Z) brings them back.", 8000)
        return len(dups)

    # -- clipboard --------------------------------------------------------------------------
    def copy_rows(self) -> None:
        data = self.table.selection_as_rows()
        if not data:
            return
        QGuiApplication.clipboard().setText(to_tsv(data))
        self.ctx.status_message.emit("Copied " + plural(len(data), "row"), 3000)

    def cut_rows(self) -> None:
        self.copy_rows()
        self.delete_rows()

    def paste(self) -> None:
        s = self.session
        if s is None or not s.can_edit:
            return
        text = QGuiApplication.clipboard().text()
        if text:
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
        from gemtune_desktop.ui.dataset.paste_preview import CONTROL, paste_concerns

        if width == 1 and current.isValid() and Column(current.column()) in FIELD_OF \
                and not any(CONTROL.search(r[0]) for r in rows):
            self._paste_column(s, FIELD_OF[Column(current.column())], current.row(), [r[0] for r in rows])
            return
        concerns = paste_concerns(rows)
        if concerns:
            self._preview_paste(rows, concerns)
            return
        self.insert_examples(rows_to_examples(rows), "Paste " + plural(len(rows), "row"))

    def _preview_paste(self, rows: list[list[str]], concerns: list[str]) -> None:
        """Rows with control characters or another column layout: shown first, added only on Paste."""
        from gemtune_desktop.ui.dataset.paste_preview import PastePreviewDialog

        dialog = PastePreviewDialog(rows, concerns, self._dialog_parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.insert_examples(
            dialog.examples(), "Paste " + plural(len(dialog.examples()), "row")))
        dialog.open()
        self.paste_dialog = dialog

    def _paste_column(self, s: ProjectSession, field: str, first_row: int, values: list[str]) -> None:
        changes: list[tuple[Example, str, Any]] = []
        for k, text in enumerate(values):
            view_row = first_row + k
            if view_row >= self.model.rowCount():
                break
            value: Any = text
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

    # -- find & replace -------------------------------------------------------------------
    def show_find(self, replace: bool) -> None:
        if self.find_dialog is None:
            self.find_dialog = FindReplaceDialog(self._dialog_parent)
            self.find_dialog.find_next_requested.connect(self.find_next)
            self.find_dialog.replace_all_requested.connect(self.replace_all)
        self.find_dialog.show_for(replace)

    def find_next(self) -> bool:
        from gemtune_desktop.core.find_replace import next_match

        d = self.find_dialog
        if d is None or self.session is None:
            return False
        find = d.find_edit.text()
        current = self.table.currentIndex()
        start = current.row() + 1 if current.isValid() else 0
        row = next_match(self.model.rowCount(), self.model.example_at, start, find, d.fields(),
                         d.match_case.isChecked())
        if row is None:
            d.result_label.setText(f"“{find}” was not found." if find else "Type the text to find.")
            return False
        self.table.select_list_indices([self.model.list_index(row)], Column.INPUT)
        d.result_label.setText(f"Found in row {self.model.list_index(row) + 1:,}.")
        return True

    def replace_all(self) -> int:
        from gemtune_desktop.core.find_replace import plan_replace

        d = self.find_dialog
        s = self.session
        if d is None or s is None:
            return 0
        find, repl = d.find_edit.text(), d.replace_edit.text()
        pool = self.table.selected_examples() if d.selection_only.isChecked() else \
            [self.model.example_at(r) for r in range(self.model.rowCount())]
        changes = plan_replace(pool, find, repl, d.fields(), d.match_case.isChecked())
        if not changes:
            d.result_label.setText(f"“{find}” was not found." if find else "Type the text to find.")
            return 0
        self._flush()
        if self.push(SetFieldsCommand(s, changes, f"Replace “{find}” with “{repl}”")):
            d.result_label.setText(f"Replaced in {plural(len(changes), 'cell')}. Undo (Ctrl+Z) puts them back.")
        return len(changes)

    # -- split ------------------------------------------------------------------------------
    def show_split_dialog(self) -> None:
        from gemtune_desktop.ui.dataset.split_dialog import SplitDialog

        s = self.session
        if s is None or not s.examples:
            return
        dialog = SplitDialog(s.settings.split_ratios, s.settings.split_seed, len(s.examples), self._dialog_parent)
        dialog.setObjectName("splitDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_split(dialog.ratios(), dialog.seed.value()))
        dialog.open()

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

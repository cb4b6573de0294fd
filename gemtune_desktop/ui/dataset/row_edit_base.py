"""Edits of rows through a table's selection, each one undoable step: what the Examples and Preference pairs
views share (push, undo and redo, add, duplicate, delete, move, remove exact duplicates, copy, cut, paste into
cells, Find Next and Replace All).

:class:`RowEditorBase` is the body of :class:`~gemtune_desktop.ui.dataset.row_editor.RowEditor` (examples) and
:class:`~gemtune_desktop.ui.dataset.preference_editor.PairEditor` (preference pairs). Every change is an undo
command pushed on the session, which writes the project file first; a write that fails is reported by the
session (``write_failed``) and leaves the table, the file and the undo history as they were
(:mod:`gemtune_desktop.qtcore.undo_base`). Each editor says how its rows are made, copied and inserted, and
keeps what only it has (how it searches, the find dialog, split, the paste preview).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QUndoCommand
from PySide6.QtWidgets import QWidget

from gemtune_desktop.core.clipboard import parse_tsv, to_tsv
from gemtune_desktop.core.words import plural
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.row_session import RowSession
from gemtune_desktop.qtcore.row_table_model import RowT, parse_split
from gemtune_desktop.qtcore.undo_base import MoveRowsCommand, RemoveRowsCommand, SetFieldsCommand
from gemtune_desktop.ui.dataset.find_base import FindReplaceBase
from gemtune_desktop.ui.dataset.row_table import RowTable


class RowEditorBase(QObject, Generic[RowT]):
    """Edits a session's rows through the table's selection.

    Args:
        flush: writes text still being typed in the side panels (called before edits that read it).
        dialog_parent: the widget the editor's dialogs belong to.

    Signals:
        row_added(): Add Row made a new, empty row (the detail editor takes the focus).
    """

    row_added = Signal()
    find_dialog: FindReplaceBase | None

    ROW_WORD = "row"  # "Add row", "Delete 3 rows", "Duplicate 2 rows"
    DUPLICATE_WORD = "exact duplicate"  # "Removed 3 exact duplicates"
    FLUSH_BEFORE_DELETE = False  # write text being typed before the rows go

    def __init__(self, ctx: AppContext, table: RowTable[RowT], flush: Callable[[], None], dialog_parent: QWidget,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.row_table = table
        self.model = table.row_model
        self._flush = flush
        self._dialog_parent = dialog_parent
        self.find_dialog = None

    @property
    def session(self) -> RowSession[RowT] | None:
        return self.model.session

    # -- what each editor says ----------------------------------------------------------------------
    def _new_row(self) -> RowT:
        raise NotImplementedError

    def _copy_of(self, row: RowT) -> RowT:
        """A new row with the same content (no id: it is stored as a new one)."""
        raise NotImplementedError

    def _insert_command(self, index: int, rows: list[RowT], text: str) -> QUndoCommand:
        raise NotImplementedError

    def _next_match(self, start: int, find: str, fields: Sequence[str], match_case: bool) -> int | None:
        """The first view row at or after ``start`` (wrapping around) that matches, or None."""
        raise NotImplementedError

    def _found_column(self, row: RowT, find: str, fields: Sequence[str], match_case: bool) -> int:
        """The column to put the cursor in on a found row."""
        raise NotImplementedError

    def _plan_replace(self, rows: Sequence[RowT], find: str, replace: str, fields: Sequence[str],
                      match_case: bool) -> list[tuple[RowT, str, str]]:
        raise NotImplementedError

    def _not_replaced(self, d: FindReplaceBase, count: int) -> int:
        """Replace All could not be saved (the session's ``write_failed`` says why): what the dialog says, and
        the count returned."""
        d.result_label.setText("Nothing was replaced: the project could not be saved.")
        return 0

    def _duplicate_key(self) -> Callable[[RowT], Hashable] | None:
        """What makes two rows exact duplicates (None: :func:`~gemtune_desktop.core.merge.exact_duplicates`'s)."""
        return None

    # -- undo -------------------------------------------------------------------------------
    def push(self, command: QUndoCommand) -> bool:
        """Run an undo command; False when the file could not be written (the session's ``write_failed`` says
        why, once, and the change is neither on screen nor in the undo history)."""
        s = self.session
        if s is None:
            return False
        return s.push(command)

    def undo(self) -> None:
        if self.session is not None:
            self._flush()
            self.session.undo()

    def redo(self) -> None:
        if self.session is not None:
            self.session.redo()

    # -- rows -------------------------------------------------------------------------------
    def _insert_index(self, s: RowSession[RowT]) -> int:
        """Where new rows go: after the current row, else at the end."""
        rows = self.row_table.selected_view_rows()
        if rows and not self.model.mapped:
            return self.model.list_index(rows[-1]) + 1
        return len(s.examples)

    def insert_rows(self, rows: list[RowT], text: str, index: int | None = None) -> bool:
        s = self.session
        if s is None or not rows:
            return False
        self.row_table.reveal_requested.emit()
        at = self._insert_index(s) if index is None else index
        if self.push(self._insert_command(at, rows, text)):
            self.row_table.select_list_indices(list(range(at, at + len(rows))))
            return True
        return False

    def add_row(self) -> None:
        if self.insert_rows([self._new_row()], "Add " + self.ROW_WORD):
            self.row_added.emit()

    def duplicate_rows(self) -> None:
        rows = self.row_table.selected_rows()
        if rows:
            copies = [self._copy_of(e) for e in rows]
            self.insert_rows(copies, "Duplicate " + plural(len(copies), self.ROW_WORD))

    def delete_rows(self) -> None:
        s = self.session
        rows = self.row_table.selected_rows()
        if s is None or not rows:
            return
        first = self.row_table.selected_view_rows()[0]
        if self.FLUSH_BEFORE_DELETE:
            self._flush()
        if self.push(RemoveRowsCommand(s, rows, "Delete " + plural(len(rows), self.ROW_WORD))):
            n = self.model.rowCount()
            if n:
                self.row_table.setCurrentIndex(self.model.index(min(first, n - 1), 0))

    def move_rows(self, delta: int) -> None:
        s = self.session
        if s is None or self.model.mapped:
            return
        rows = self.row_table.selected_view_rows()
        cmd = MoveRowsCommand(s, rows, delta)
        if not cmd.pairs:
            return
        col = max(0, self.row_table.currentIndex().column())
        if self.push(cmd):
            moved = set(rows)
            for a, b in cmd.pairs:  # follow the rows to their new places
                if (b if delta < 0 else a) in moved:
                    moved.discard(b if delta < 0 else a)
                    moved.add(a if delta < 0 else b)
            self.row_table.select_list_indices(sorted(moved), col)

    def remove_exact_duplicates(self) -> int:
        """Delete every row that repeats an earlier one exactly, as one undo step; returns how many."""
        from gemtune_desktop.core.merge import exact_duplicates

        s = self.session
        if s is None or not s.can_edit:
            return 0
        self._flush()
        dups = exact_duplicates(s.examples, self._duplicate_key())
        if not dups:
            self.ctx.status_message.emit(f"No exact duplicates: every {self.ROW_WORD} differs from the others.",
                                         6000)
            return 0
        if not self.push(RemoveRowsCommand(s, dups, "Remove " + plural(len(dups), "exact duplicate"))):
            return 0
        self.ctx.status_message.emit(f"Removed {plural(len(dups), self.DUPLICATE_WORD)}; the first of each is kept. "
                                     "Undo (Ctrl+Z) brings them back.", 8000)
        return len(dups)

    # -- clipboard --------------------------------------------------------------------------
    def copy_rows(self) -> None:
        data = self.row_table.selection_as_rows()
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
        current = self.row_table.currentIndex()
        field = self.model.FIELDS.get(current.column()) if current.isValid() else None
        if width == 1 and field is not None and self._column_paste_ok(rows):
            self._paste_column(s, field, current.row(), [r[0] for r in rows])
            return
        self._paste_rows(rows)

    def _column_paste_ok(self, rows: list[list[str]]) -> bool:
        """Whether one column of text may go straight into the cells (else it is pasted as rows)."""
        return True

    def _paste_rows(self, rows: list[list[str]]) -> None:
        """Pasted rows of cells become new rows."""
        raise NotImplementedError

    def show_find(self, replace: bool) -> None:
        raise NotImplementedError

    def show_split_dialog(self) -> None:
        raise NotImplementedError

    def _paste_column(self, s: RowSession[RowT], field: str, first_row: int, values: list[str]) -> None:
        """One column of text into the cells of ``field`` from ``first_row`` down (one undo step)."""
        changes: list[tuple[RowT, str, Any]] = []
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
            self.push(self.model.edit_command(s, e, f, v))
        elif changes:
            self.push(SetFieldsCommand(s, changes, f"Paste into {len(changes):,} cells"))

    # -- find & replace -------------------------------------------------------------------
    def find_next(self) -> bool:
        d = self.find_dialog
        if d is None or self.session is None:
            return False
        find = d.find_edit.text()
        current = self.row_table.currentIndex()
        start = current.row() + 1 if current.isValid() else 0
        row = self._next_match(start, find, d.fields(), d.match_case.isChecked())
        if row is None:
            d.result_label.setText(f"“{find}” was not found." if find else "Type the text to find.")
            return False
        column = self._found_column(self.model.example_at(row), find, d.fields(), d.match_case.isChecked())
        self.row_table.select_list_indices([self.model.list_index(row)], column)
        d.result_label.setText(f"Found in row {self.model.list_index(row) + 1:,}.")
        return True

    def replace_all(self) -> int:
        d, s = self.find_dialog, self.session
        if d is None or s is None:
            return 0
        find, repl = d.find_edit.text(), d.replace_edit.text()
        pool = self.row_table.selected_rows() if d.selection_only.isChecked() else \
            [self.model.example_at(r) for r in range(self.model.rowCount())]
        changes = self._plan_replace(pool, find, repl, d.fields(), d.match_case.isChecked())
        if not changes:
            d.result_label.setText(f"“{find}” was not found." if find else "Type the text to find.")
            return 0
        self._flush()
        if self.push(SetFieldsCommand(s, changes, f"Replace “{find}” with “{repl}”")):
            d.result_label.setText(f"Replaced in {plural(len(changes), 'cell')}. Undo (Ctrl+Z) puts them back.")
            return len(changes)
        return self._not_replaced(d, len(changes))

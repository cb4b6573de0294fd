"""The Dataset tab's edits of rows, each one undoable step: add, duplicate, delete, move, copy, paste, replace, split.

The shared edits (push, undo and redo, add, duplicate, delete, move, remove exact duplicates, copy, cut, paste
into cells) are :class:`~gemtune_desktop.ui.dataset.row_edit_base.RowEditorBase`'s; this module says how examples
are made, copied and inserted, and adds the paste preview, find and replace, and the split. Every change goes
through an undo command (:mod:`gemtune_desktop.qtcore.undo`) pushed by :meth:`RowEditor.push`, which writes the
project file first; a write that fails is explained and nothing is half-done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QWidget

from gemtune_desktop.core.clipboard import rows_to_examples
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.words import plural
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.dataset_model import Column
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.undo import InsertRowsCommand, SetFieldsCommand, SettingsCommand, copy_settings
from gemtune_desktop.ui.dataset.examples_table import ExamplesTable
from gemtune_desktop.ui.dataset.find_dialog import FindReplaceDialog
from gemtune_desktop.ui.dataset.row_edit_base import RowEditorBase

log = logging.getLogger(__name__)


class RowEditor(RowEditorBase[Example]):
    """Edits the open project's rows through the table's selection.

    Args:
        flush: writes text still being typed in the side panels (called before edits that read it).
        dialog_parent: the widget the Find and Split dialogs belong to.

    Signals:
        failed(object): a :class:`UserError`: the change could not be written (nothing was changed).
        row_added(): Add Row made a new, empty example (the detail editor takes the focus).
    """

    failed = Signal(object)

    def __init__(self, ctx: AppContext, table: ExamplesTable, flush: Callable[[], None], dialog_parent: QWidget,
                 parent: QObject | None = None) -> None:
        super().__init__(ctx, table, flush, dialog_parent, parent)
        self.table = table
        self.find_dialog: FindReplaceDialog | None = None
        self.paste_dialog: QWidget | None = None

    @property
    def session(self) -> ProjectSession | None:
        return self.table.dataset_model.session

    def _new_row(self) -> Example:
        return Example("", "")

    def _copy_of(self, row: Example) -> Example:
        return Example(row.input, row.output, row.split, row.tags, row.note)

    def _insert_command(self, index: int, rows: list[Example], text: str) -> QUndoCommand:
        s = self.session
        assert s is not None
        return InsertRowsCommand(s, index, rows, text)

    def insert_examples(self, examples: list[Example], text: str, index: int | None = None) -> bool:
        return self.insert_rows(examples, text, index)

    # -- clipboard --------------------------------------------------------------------------
    def _column_paste_ok(self, rows: list[list[str]]) -> bool:
        from gemtune_desktop.ui.dataset.paste_preview import CONTROL

        return not any(CONTROL.search(r[0]) for r in rows)

    def _paste_rows(self, rows: list[list[str]]) -> None:
        from gemtune_desktop.ui.dataset.paste_preview import paste_concerns

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

    # -- find & replace -------------------------------------------------------------------
    def show_find(self, replace: bool) -> None:
        if self.find_dialog is None:
            self.find_dialog = FindReplaceDialog(self._dialog_parent)
            self.find_dialog.find_next_requested.connect(self.find_next)
            self.find_dialog.replace_all_requested.connect(self.replace_all)
        self.find_dialog.show_for(replace)

    def _next_match(self, start: int, find: str, fields: Sequence[str], match_case: bool) -> int | None:
        from gemtune_desktop.core.find_replace import next_match

        return next_match(self.model.rowCount(), self.model.example_at, start, find, fields, match_case)

    def _found_column(self, row: Example, find: str, fields: Sequence[str], match_case: bool) -> int:
        return Column.INPUT

    def _plan_replace(self, rows: Sequence[Example], find: str, replace: str, fields: Sequence[str],
                      match_case: bool) -> list[tuple[Example, str, str]]:
        from gemtune_desktop.core.find_replace import plan_replace

        return plan_replace(rows, find, replace, fields, match_case)

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

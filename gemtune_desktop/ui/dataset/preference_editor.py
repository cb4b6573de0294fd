"""The preference view's edits of rows, each one undoable step: add, duplicate, delete, move, copy, paste,
find and replace, split into train / validation / test.

The counterpart of :class:`~gemtune_desktop.ui.dataset.row_editor.RowEditor` for preference pairs: the shared
edits are :class:`~gemtune_desktop.ui.dataset.row_edit_base.RowEditorBase`'s; this module says how pairs are
made, copied, inserted and compared, and adds find and replace and the split. Every change is an undo command
of :mod:`gemtune_desktop.qtcore.preference_undo` pushed on the preference session, which writes the project
file first; a write that fails is reported by the session (``write_failed``) and leaves the table, the file and
the undo history as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QWidget

from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.core.words import plural
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.preference_model import PairColumn
from gemtune_desktop.qtcore.preference_rows import matches, next_match, plan_replace, rows_to_pairs
from gemtune_desktop.qtcore.preference_session import PreferenceSession
from gemtune_desktop.qtcore.preference_undo import InsertPairsCommand, SetPairFieldsCommand
from gemtune_desktop.ui.dataset.preference_find import PairFindDialog
from gemtune_desktop.ui.dataset.preference_table import PreferenceTable
from gemtune_desktop.ui.dataset.row_edit_base import RowEditorBase


class PairEditor(RowEditorBase[PreferenceExample]):
    """Edits the preference pairs through the table's selection.

    Args:
        flush: writes text still being typed in the pair editor (called before edits that read it).

    Signals:
        row_added(): Add Row made a new, empty pair (the pair editor takes the focus).
    """

    ROW_WORD = "pair"
    DUPLICATE_WORD = "exact duplicate pair"
    FLUSH_BEFORE_DELETE = True

    def __init__(self, ctx: AppContext, table: PreferenceTable, flush: Callable[[], None], dialog_parent: QWidget,
                 parent: QObject | None = None) -> None:
        super().__init__(ctx, table, flush, dialog_parent, parent)
        self.table = table
        self.find_dialog: PairFindDialog | None = None
        self.split_dialog: QWidget | None = None

    @property
    def session(self) -> PreferenceSession | None:
        return self.table.pair_model.session

    def _new_row(self) -> PreferenceExample:
        return PreferenceExample("", "", "")

    def _copy_of(self, row: PreferenceExample) -> PreferenceExample:
        return PreferenceExample(row.prompt, row.preferred, row.dispreferred, row.system_instruction, row.split,
                                 row.tags, row.note)

    def _insert_command(self, index: int, rows: list[PreferenceExample], text: str) -> QUndoCommand:
        s = self.session
        assert s is not None
        return InsertPairsCommand(s, index, rows, text)

    def _duplicate_key(self) -> Callable[[PreferenceExample], Hashable]:
        return lambda e: (e.prompt, e.preferred, e.dispreferred, e.system_instruction, e.split.value, e.tags, e.note)

    def insert_pairs(self, pairs: list[PreferenceExample], text: str, index: int | None = None) -> bool:
        return self.insert_rows(pairs, text, index)

    # -- clipboard --------------------------------------------------------------------------------------
    def _paste_rows(self, rows: list[list[str]]) -> None:
        """Several columns → new pairs (prompt, preferred, dispreferred, …)."""
        self.insert_pairs(rows_to_pairs(rows), "Paste " + plural(len(rows), "pair"))

    # -- find & replace -------------------------------------------------------------------------------
    def show_find(self, replace: bool) -> None:
        if self.find_dialog is None:
            self.find_dialog = PairFindDialog(self._dialog_parent)
            self.find_dialog.find_next_requested.connect(self.find_next)
            self.find_dialog.replace_all_requested.connect(self.replace_all)
        self.find_dialog.show_for(replace, self.session is not None and self.session.can_edit)

    def _next_match(self, start: int, find: str, fields: Sequence[str], match_case: bool) -> int | None:
        return next_match(self.model.rowCount(), self.model.example_at, start, find, fields, match_case)

    def _found_column(self, row: PreferenceExample, find: str, fields: Sequence[str], match_case: bool) -> int:
        field = next((f for f in fields if matches(row, find, [f], match_case)), "prompt")
        return _COLUMN_OF[field]

    def _plan_replace(self, rows: Sequence[PreferenceExample], find: str, replace: str, fields: Sequence[str],
                      match_case: bool) -> list[tuple[PreferenceExample, str, str]]:
        return plan_replace(rows, find, replace, fields, match_case)

    # -- split ------------------------------------------------------------------------------------------
    def show_split_dialog(self) -> None:
        from gemtune_desktop.ui.dataset.preference_split import PairSplitDialog

        s = self.session
        if s is None or not s.examples:
            return
        project = s.project.settings
        dialog = PairSplitDialog(project.split_ratios, project.split_seed, len(s.examples), self._dialog_parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_split(dialog.ratios(), dialog.seed.value()))
        dialog.open()
        self.split_dialog = dialog

    def apply_split(self, ratios: tuple[float, float, float], seed: int) -> int:
        """Assign splits at random, pairs with the same prompt on the same side (one undo step)."""
        from gemtune_desktop.core.split import assign_splits

        s = self.session
        if s is None:
            return 0
        splits = assign_splits([Example(e.prompt, "") for e in s.examples], ratios, seed)
        changes = [(e, "split", sp) for e, sp in zip(s.examples, splits, strict=True) if e.split is not sp]
        if changes and not self.push(SetPairFieldsCommand(s, changes, "Split pairs into train, validation and test")):
            return 0
        self.ctx.status_message.emit(f"Split done: {len(changes):,} pairs changed", 4000)
        return len(changes)


_COLUMN_OF = {"prompt": PairColumn.PROMPT, "preferred": PairColumn.PREFERRED, "dispreferred": PairColumn.DISPREFERRED}

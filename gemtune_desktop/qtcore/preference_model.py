"""The preference view's table: a thin QAbstractTableModel over the session's pairs, with filter and sort.

The model is the shared :class:`~gemtune_desktop.qtcore.row_table_model.RowTableModel`, as the Examples
table's (read its docstring: built for large sets; filtering and sorting change only what is shown, never the
order stored in the project), with the pairs' columns, a cell edit as
:class:`~gemtune_desktop.qtcore.preference_undo.EditPairCommand`, and the pairs' filter and sort
(:mod:`~gemtune_desktop.qtcore.preference_rows`).
"""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QUndoCommand

from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.qtcore.preference_rows import PreferenceSortKey, visible_rows
from gemtune_desktop.qtcore.preference_session import PreferenceSession
from gemtune_desktop.qtcore.row_session import RowSession
from gemtune_desktop.qtcore.row_table_model import RowTableModel


class PairColumn(enum.IntEnum):
    PROMPT = 0
    PREFERRED = 1
    DISPREFERRED = 2
    SPLIT = 3
    STATUS = 4
    TAGS = 5
    NOTE = 6


HEADERS: dict[int, tuple[str, str]] = {
    PairColumn.PROMPT: ("Prompt", "What the model is asked"),
    PairColumn.PREFERRED: ("Preferred answer", "The answer people preferred: the model learns to prefer it"),
    PairColumn.DISPREFERRED: ("Dispreferred answer", "The answer people did not prefer: the model learns to avoid it"),
    PairColumn.SPLIT: ("Split", "Train, Validation or Test: which part of the data this pair belongs to"),
    PairColumn.STATUS: ("Status", "Problems found in this pair (errors must be fixed before tuning)"),
    PairColumn.TAGS: ("Tags", "Your own labels, separated by commas"),
    PairColumn.NOTE: ("Note", "A note for yourself; not sent for tuning"),
}
PAIR_FIELD_OF: dict[int, str] = {PairColumn.PROMPT: "prompt", PairColumn.PREFERRED: "preferred",
                 PairColumn.DISPREFERRED: "dispreferred", PairColumn.SPLIT: "split", PairColumn.TAGS: "tags",
                 PairColumn.NOTE: "note"}
COLUMN_OF_FIELD = {f: c for c, f in PAIR_FIELD_OF.items()}


class PreferenceTableModel(RowTableModel[PreferenceExample]):
    """Rows are the session's pairs (possibly filtered and sorted); columns are :class:`PairColumn`.

    Signals:
        view_changed(): the filter or sort changed (the row numbers shown changed).
    """

    COLUMNS = len(PairColumn)
    STATUS_COLUMN = PairColumn.STATUS
    SPLIT_COLUMN = PairColumn.SPLIT
    HEADERS = HEADERS
    FIELDS = PAIR_FIELD_OF
    session: PreferenceSession | None
    NO_PROBLEMS = "No problems found in this pair."

    def __init__(self, session: PreferenceSession | None = None, parent: QObject | None = None) -> None:
        super().__init__(session, parent)

    def edit_command(self, session: RowSession[PreferenceExample], example: PreferenceExample, field: str,
                      new: Any) -> QUndoCommand:
        from gemtune_desktop.qtcore.preference_undo import EditPairCommand

        assert isinstance(session, PreferenceSession)
        return EditPairCommand(session, example, field, new)

    def _compute_rows(self) -> list[int] | None:
        s = self.session
        if s is None:
            return None
        col = self.sort_column
        key = None if col < 0 else PreferenceSortKey.STATUS if col == PairColumn.STATUS else \
            PreferenceSortKey(PAIR_FIELD_OF[PairColumn(col)])
        return visible_rows(s.examples, self.row_filter, key, self.sort_order == Qt.SortOrder.DescendingOrder,
                            s.status_counts)

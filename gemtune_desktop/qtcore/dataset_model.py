"""The Dataset tab's table: a thin QAbstractTableModel over the session's examples, with filter and sort.

The model is the shared :class:`~gemtune_desktop.qtcore.row_table_model.RowTableModel` (read its docstring:
built for a million rows; filtering and sorting change only what is shown, never the order stored in the
project) with the examples' columns, a cell edit as :class:`~gemtune_desktop.qtcore.undo.EditCellCommand`, and
the examples' filter and sort (:mod:`gemtune_desktop.core.row_view`).
"""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QUndoCommand

from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.row_view import RowFilter, SortKey, StatusFilter, tag_list, visible_rows
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.row_session import RowSession
from gemtune_desktop.qtcore.row_table_model import (
    DISPLAY_CHARS,
    TOOLTIP_CHARS,
    ModelIndex,
    RowTableModel,
    parse_split,
    status_icon,
    status_text,
)

__all__ = ["DISPLAY_CHARS", "TOOLTIP_CHARS", "Column", "DatasetModel", "ModelIndex", "RowFilter", "StatusFilter",
           "parse_split", "status_icon", "status_text", "tag_list"]


class Column(enum.IntEnum):
    INPUT = 0
    OUTPUT = 1
    SPLIT = 2
    STATUS = 3
    TAGS = 4
    NOTE = 5


HEADERS: dict[int, tuple[str, str]] = {
    Column.INPUT: ("Input", "What the model is given (the prompt)"),
    Column.OUTPUT: ("Output", "What the model should answer"),
    Column.SPLIT: ("Split", "Train, Validation or Test: which part of the data this example belongs to"),
    Column.STATUS: ("Status", "Problems found in this example (errors must be fixed before tuning)"),
    Column.TAGS: ("Tags", "Your own labels, separated by commas"),
    Column.NOTE: ("Note", "A note for yourself; not sent for tuning"),
}
FIELD_OF: dict[int, str] = {Column.INPUT: "input", Column.OUTPUT: "output", Column.SPLIT: "split", Column.TAGS: "tags",
            Column.NOTE: "note"}


class DatasetModel(RowTableModel[Example]):
    """Rows are the session's examples (possibly filtered/sorted); columns are :class:`Column`.

    Signals:
        view_changed(): the filter or sort changed (row numbers shown changed).
    """

    COLUMNS = len(Column)
    STATUS_COLUMN = Column.STATUS
    SPLIT_COLUMN = Column.SPLIT
    HEADERS = HEADERS
    FIELDS = FIELD_OF
    session: ProjectSession | None
    NO_PROBLEMS = "No problems found in this example."

    def __init__(self, session: ProjectSession | None = None, parent: QObject | None = None) -> None:
        super().__init__(session, parent)

    def edit_command(self, session: RowSession[Example], example: Example, field: str, new: Any) -> QUndoCommand:
        from gemtune_desktop.qtcore.undo import EditCellCommand

        assert isinstance(session, ProjectSession)
        return EditCellCommand(session, example, field, new)

    def _compute_rows(self) -> list[int] | None:
        s = self.session
        if s is None:
            return None
        col = self.sort_column
        key = None if col < 0 else SortKey.STATUS if col == Column.STATUS else SortKey(FIELD_OF[Column(col)])
        return visible_rows(s.examples, self.row_filter, key, self.sort_order == Qt.SortOrder.DescendingOrder,
                            s.status_counts)

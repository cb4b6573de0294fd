"""The Dataset tab's table view of examples: the shared :class:`~gemtune_desktop.ui.dataset.row_table.RowTable`
(fixed-height rows, sortable headers, selection by list index) over
:class:`~gemtune_desktop.qtcore.dataset_model.DatasetModel`, with the examples' column widths and clipboard columns.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from gemtune_desktop.core.clipboard import COPY_COLUMNS
from gemtune_desktop.core.examples import Example
from gemtune_desktop.qtcore.dataset_model import Column, DatasetModel
from gemtune_desktop.ui.dataset.row_table import MAX_SELECTED, ROW_HEIGHT, RowTable

__all__ = ["COLUMN_WIDTHS", "MAX_SELECTED", "ROW_HEIGHT", "ExamplesTable"]

COLUMN_WIDTHS = ((Column.INPUT, 290), (Column.OUTPUT, 190), (Column.SPLIT, 80), (Column.STATUS, 120),
                 (Column.TAGS, 80))


class ExamplesTable(RowTable[Example]):
    """The table of examples.

    Signals:
        reveal_requested(): rows about to be selected are hidden by the filter; show every row.
    """

    def __init__(self, model: DatasetModel, parent: QWidget | None = None) -> None:
        super().__init__(model, "datasetTable", "Examples", COLUMN_WIDTHS, parent)
        self.dataset_model = model

    def selected_examples(self) -> list[Example]:
        return self.selected_rows()

    def whole_row(self, example: Example) -> list[str]:
        return [str(getattr(example, f)) for f in COPY_COLUMNS]

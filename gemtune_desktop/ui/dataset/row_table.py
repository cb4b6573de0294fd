"""The table view the Examples and Preference pairs views share: fixed-height rows, sortable headers, and
selection by list index.

Rows of the view can be filtered and sorted (see :class:`~gemtune_desktop.qtcore.row_table_model.RowTableModel`);
the methods here speak of *list indices* (positions in the project) and map them to view rows.
:class:`~gemtune_desktop.ui.dataset.examples_table.ExamplesTable` and
:class:`~gemtune_desktop.ui.dataset.preference_table.PreferenceTable` add their names, column widths and how a
whole row is copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from gemtune_desktop.qtcore.row_table_model import RowT, RowTableModel

ROW_HEIGHT = 24
MAX_SELECTED = 10_000  # rows selected at once by a jump (selecting a million ranges takes seconds)


class RowTable(QTableView, Generic[RowT]):
    """A table of a session's rows.

    Signals:
        reveal_requested(): rows about to be selected are hidden by the filter; show every row.
    """

    reveal_requested = Signal()

    def __init__(self, model: RowTableModel[RowT], name: str, accessible_name: str,
                 column_widths: Sequence[tuple[int, int]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row_model = model
        self.setObjectName(name)
        self.setAccessibleName(accessible_name)
        self.setModel(model)
        vh = self.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(ROW_HEIGHT)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        hh = self.horizontalHeader()
        hh.setStretchLastSection(True)
        hh.setSortIndicatorShown(True)
        hh.setSectionsClickable(True)
        for col, width in column_widths:
            self.setColumnWidth(col, width)

    def whole_row(self, example: RowT) -> list[str]:
        """One row as the clipboard's columns (a whole-row copy)."""
        raise NotImplementedError

    def clear_sort_indicator(self) -> None:
        """No column marked as sorted (without asking for a sort)."""
        header = self.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.blockSignals(False)

    # -- selection --------------------------------------------------------------------------
    def selected_view_rows(self) -> list[int]:
        rows = {i.row() for i in self.selectionModel().selectedIndexes()}
        if not rows and self.currentIndex().isValid():
            rows = {self.currentIndex().row()}
        return sorted(rows)

    def selected_rows(self) -> list[RowT]:
        return [self.row_model.example_at(r) for r in self.selected_view_rows()]

    def select_list_indices(self, indices: list[int], column: int = 0) -> None:
        """Select these rows (list indices) and scroll to the first; hidden ones make the filter go."""
        model = self.row_model
        rows = [r for r in (model.view_row(i) for i in indices) if r >= 0]
        if len(rows) < len(indices) and model.mapped:
            self.reveal_requested.emit()
            rows = [r for r in (model.view_row(i) for i in indices) if r >= 0]
        if not rows:
            return
        selection = QItemSelection()
        last = model.columnCount() - 1
        for r in rows[:MAX_SELECTED]:
            selection.select(model.index(r, 0), model.index(r, last))
        first = model.index(rows[0], column)
        sm = self.selectionModel()
        sm.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
        sm.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.scrollTo(first)

    def selection_as_rows(self) -> list[list[str]]:
        """The selection as rows of text for the clipboard: a rectangle of cells as shown, else whole rows."""
        model = self.row_model
        idx = self.selectionModel().selectedIndexes()
        if not idx and self.currentIndex().isValid():
            idx = [self.currentIndex()]
        if not idx:
            return []
        rows = sorted({i.row() for i in idx})
        cols = sorted({i.column() for i in idx})
        if len(idx) == 1 or (len(cols) < model.columnCount() and len(idx) == len(rows) * len(cols)):
            edit = Qt.ItemDataRole.EditRole
            return [[str(model.data(model.index(r, c), edit) or model.data(model.index(r, c)) or "") for c in cols]
                    for r in rows]
        return [self.whole_row(e) for e in model.examples_at(rows)]

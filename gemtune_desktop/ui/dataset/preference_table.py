"""The table of preference pairs: the shared :class:`~gemtune_desktop.ui.dataset.row_table.RowTable`
(fixed-height rows, sortable headers, selection by list index), as the Examples table, over
:class:`~gemtune_desktop.qtcore.preference_model.PreferenceTableModel`, with the pairs' column widths, the
names a screen reader says for its headers, and a pair's clipboard columns.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.qtcore.preference_model import PairColumn, PreferenceTableModel
from gemtune_desktop.qtcore.preference_rows import pair_row
from gemtune_desktop.ui.dataset.row_table import RowTable

COLUMN_WIDTHS = ((PairColumn.PROMPT, 240), (PairColumn.PREFERRED, 190), (PairColumn.DISPREFERRED, 190),
                 (PairColumn.SPLIT, 80), (PairColumn.STATUS, 110), (PairColumn.TAGS, 80))


class PreferenceTable(RowTable[PreferenceExample]):
    """The table of preference pairs.

    Signals:
        reveal_requested(): rows about to be selected are hidden by the filter; show every row.
    """

    def __init__(self, model: PreferenceTableModel, parent: QWidget | None = None) -> None:
        super().__init__(model, "preferenceTable", "Preference pairs", COLUMN_WIDTHS, parent)
        self.pair_model = model
        self.horizontalHeader().setAccessibleName("Pair columns (click to sort)")
        self.verticalHeader().setAccessibleName("Pair numbers")

    def selected_pairs(self) -> list[PreferenceExample]:
        return self.selected_rows()

    def whole_row(self, example: PreferenceExample) -> list[str]:
        return pair_row(example)

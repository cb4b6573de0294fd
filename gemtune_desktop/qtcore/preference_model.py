"""The preference view's table: a thin QAbstractTableModel over the session's pairs, with filter and sort.

Built like :class:`~gemtune_desktop.qtcore.dataset_model.DatasetModel` for large sets (200,000 pairs and more):
``rowCount`` is O(1), ``data()`` checks the role first and does constant work (long text is cut before it
is drawn; the status of the row being painted is remembered between its text and its icon), and filtering
and sorting build a list of row indices (:mod:`~gemtune_desktop.qtcore.preference_rows`) instead of going
through a proxy model. They change only what is shown, never the order stored in the project.
"""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.core.row_view import RowFilter
from gemtune_desktop.qtcore.dataset_model import DISPLAY_CHARS, TOOLTIP_CHARS, parse_split, status_icon, status_text
from gemtune_desktop.qtcore.preference_rows import PreferenceSortKey, visible_rows
from gemtune_desktop.qtcore.preference_session import PreferenceSession

ModelIndex = QModelIndex | QPersistentModelIndex


class PairColumn(enum.IntEnum):
    PROMPT = 0
    PREFERRED = 1
    DISPREFERRED = 2
    SPLIT = 3
    STATUS = 4
    TAGS = 5
    NOTE = 6


HEADERS = {
    PairColumn.PROMPT: ("Prompt", "What the model is asked"),
    PairColumn.PREFERRED: ("Preferred answer", "The answer people preferred: the model learns to prefer it"),
    PairColumn.DISPREFERRED: ("Dispreferred answer", "The answer people did not prefer: the model learns to avoid it"),
    PairColumn.SPLIT: ("Split", "Train, Validation or Test: which part of the data this pair belongs to"),
    PairColumn.STATUS: ("Status", "Problems found in this pair (errors must be fixed before tuning)"),
    PairColumn.TAGS: ("Tags", "Your own labels, separated by commas"),
    PairColumn.NOTE: ("Note", "A note for yourself; not sent for tuning"),
}
PAIR_FIELD_OF = {PairColumn.PROMPT: "prompt", PairColumn.PREFERRED: "preferred",
                 PairColumn.DISPREFERRED: "dispreferred", PairColumn.SPLIT: "split", PairColumn.TAGS: "tags",
                 PairColumn.NOTE: "note"}
COLUMN_OF_FIELD = {f: c for c, f in PAIR_FIELD_OF.items()}
_ROLES = frozenset({Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, Qt.ItemDataRole.ToolTipRole,
                    Qt.ItemDataRole.DecorationRole})
_DISPLAY = Qt.ItemDataRole.DisplayRole
_EDIT = Qt.ItemDataRole.EditRole
_DECORATION = Qt.ItemDataRole.DecorationRole


class PreferenceTableModel(QAbstractTableModel):
    """Rows are the session's pairs (possibly filtered and sorted); columns are :class:`PairColumn`.

    Signals:
        view_changed(): the filter or sort changed (the row numbers shown changed).
    """

    view_changed = Signal()

    def __init__(self, session: PreferenceSession | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: PreferenceSession | None = None
        self._rows: list[int] | None = None  # view row -> list index; None means identity
        self._memo: tuple[PreferenceExample, tuple[int, int]] | None = None
        self.row_filter = RowFilter()
        self.sort_column = -1
        self.sort_order = Qt.SortOrder.AscendingOrder
        self.set_session(session)

    # -- session wiring -------------------------------------------------------------------------------
    def set_session(self, session: PreferenceSession | None) -> None:
        self.beginResetModel()
        if self.session is not None:
            for sig, slot in self._connections():
                try:
                    sig.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        self.session = session
        self.row_filter = RowFilter()
        self.sort_column = -1
        self._rows = None
        self._memo = None
        if session is not None:
            for sig, slot in self._connections():
                sig.connect(slot)
        self.endResetModel()
        self.view_changed.emit()

    def _connections(self) -> list[tuple[Any, Any]]:
        s = self.session
        assert s is not None
        return [(s.rows_about_to_be_inserted, self._before_insert), (s.rows_inserted, self._after_insert),
                (s.rows_about_to_be_removed, self._before_remove), (s.rows_removed, self._after_remove),
                (s.about_to_reset, self._before_reset), (s.reset_done, self._after_reset),
                (s.examples_changed, self._on_changed), (s.validation_changed, self._on_validation),
                (s.closed, self._on_closed)]

    def _on_closed(self) -> None:
        self.set_session(None)

    @property
    def mapped(self) -> bool:
        return self._rows is not None

    def _before_insert(self, first: int, count: int) -> None:
        if self._rows is None:
            self.beginInsertRows(QModelIndex(), first, first + count - 1)
        else:
            self.beginResetModel()

    def _after_insert(self, _first: int, _count: int) -> None:
        if self._rows is None:
            self.endInsertRows()
        else:
            self._after_reset()

    def _before_remove(self, first: int, count: int) -> None:
        if self._rows is None:
            self.beginRemoveRows(QModelIndex(), first, first + count - 1)
        else:
            self.beginResetModel()

    def _after_remove(self, _first: int, _count: int) -> None:
        if self._rows is None:
            self.endRemoveRows()
        else:
            self._after_reset()

    def _before_reset(self) -> None:
        self.beginResetModel()

    def _after_reset(self) -> None:
        self._memo = None
        if self._rows is not None:
            self._rows = self._compute_rows()
        self.endResetModel()

    def _on_changed(self, _examples: list[PreferenceExample]) -> None:
        self._memo = None
        n = self.rowCount()
        if n:
            self.dataChanged.emit(self.index(0, 0), self.index(n - 1, len(PairColumn) - 1))

    def _on_validation(self) -> None:
        self._memo = None
        n = self.rowCount()
        if n:
            self.dataChanged.emit(self.index(0, PairColumn.STATUS), self.index(n - 1, PairColumn.STATUS))

    # -- mapping ----------------------------------------------------------------------------------------
    def list_index(self, view_row: int) -> int:
        return view_row if self._rows is None else self._rows[view_row]

    def view_row(self, list_index: int) -> int:
        """The view row showing list index ``list_index``, or -1 when it is filtered out."""
        if self._rows is None:
            n = len(self.session.examples) if self.session else 0
            return list_index if 0 <= list_index < n else -1
        try:
            return self._rows.index(list_index)
        except ValueError:
            return -1

    def example_at(self, view_row: int) -> PreferenceExample:
        assert self.session is not None
        return self.session.examples[self.list_index(view_row)]

    def examples_at(self, view_rows: list[int]) -> list[PreferenceExample]:
        return [self.example_at(r) for r in sorted(set(view_rows))]

    # -- Qt model API -----------------------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        if parent.isValid() or self.session is None:
            return 0
        return len(self.session.examples) if self._rows is None else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(PairColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(PairColumn):
                if role == _DISPLAY:
                    return HEADERS[PairColumn(section)][0]
                if role == Qt.ItemDataRole.ToolTipRole:
                    return HEADERS[PairColumn(section)][1]
            return None
        if role == _DISPLAY and 0 <= section < self.rowCount():
            return str(self.list_index(section) + 1)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        if index.column() != PairColumn.STATUS and self.session is not None and self.session.can_edit:
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: ModelIndex, role: int = _DISPLAY) -> Any:
        if role not in _ROLES or self.session is None:
            return None
        row, col = index.row(), index.column()
        if row < 0 or row >= self.rowCount():
            return None
        e = self.session.examples[row if self._rows is None else self._rows[row]]
        if col == PairColumn.STATUS:
            return self._status(e, role)
        if col == PairColumn.SPLIT:
            if role in (_DISPLAY, Qt.ItemDataRole.ToolTipRole):
                return e.split.label
            return e.split.value if role == _EDIT else None
        if role == _DECORATION:
            return None
        text: str = getattr(e, PAIR_FIELD_OF[PairColumn(col)])
        if role == _DISPLAY:
            short = text[:DISPLAY_CHARS]
            if "\n" in short or "\t" in short or "\r" in short:
                short = short.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\r", " ").replace("\t", " ")
            return short
        if role == _EDIT:
            return text
        if not text:
            return None
        return text if len(text) <= TOOLTIP_CHARS else text[:TOOLTIP_CHARS] + f"… ({len(text):,} characters)"

    def _status(self, e: PreferenceExample, role: int) -> Any:
        assert self.session is not None
        if self.session.checking:
            return "Checking…" if role != _DECORATION else None
        if role == _DISPLAY:
            return status_text(*self._counts(e))
        if role == _DECORATION:
            errors, warnings = self._counts(e)
            return status_icon("error" if errors else "warning" if warnings else "ok")
        if role == Qt.ItemDataRole.ToolTipRole:
            findings = self.session.validator.findings_for(e.id)
            if not findings:
                return "No problems found in this pair."
            return "\n".join(f"{f.severity.value.capitalize()}: {f.message}" for f in findings[:10])
        return None

    def _counts(self, e: PreferenceExample) -> tuple[int, int]:
        """(errors, warnings), remembered for the cell being painted (text and icon ask in turn)."""
        memo = self._memo
        if memo is not None and memo[0] is e:
            return memo[1]
        assert self.session is not None
        counts = self.session.status_counts(e)
        self._memo = (e, counts)
        return counts

    def setData(self, index: ModelIndex, value: Any, role: int = _EDIT) -> bool:
        if role != _EDIT or not index.isValid() or self.session is None:
            return False
        if not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        e = self.example_at(index.row())
        field = PAIR_FIELD_OF[PairColumn(index.column())]
        if field == "split":
            new: Any = parse_split(value)
            if new is None:
                return False
        else:
            new = "" if value is None else str(value)
        if getattr(e, field) == new:
            return False
        from gemtune_desktop.qtcore.preference_undo import EditPairCommand

        # False when the file could not be written: the cell keeps its old value, and the session's
        # write_failed signal carries the message (nothing enters the undo history).
        return self.session.push(EditPairCommand(self.session, e, field, new))

    # -- filter and sort ----------------------------------------------------------------------------------
    def set_filter(self, row_filter: RowFilter) -> None:
        self.row_filter = row_filter
        self._refresh_mapping()

    def clear_view(self) -> None:
        """Show every row in the project's order."""
        self.row_filter = RowFilter()
        self.sort_column = -1
        self._refresh_mapping()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column = column
        self.sort_order = order
        self._refresh_mapping()

    def _refresh_mapping(self) -> None:
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_src = [(self.list_index(i.row()) if i.row() < self.rowCount() else -1, i.column()) for i in old]
        self._rows = self._compute_rows()
        new_idx = []
        for src, col in old_src:
            r = self.view_row(src) if src >= 0 and len(old) < 1000 else -1
            new_idx.append(self.index(r, col) if r >= 0 else QModelIndex())
        self.changePersistentIndexList(old, new_idx)
        self.layoutChanged.emit()
        self.view_changed.emit()

    def _compute_rows(self) -> list[int] | None:
        s = self.session
        if s is None:
            return None
        col = self.sort_column
        key = None if col < 0 else PreferenceSortKey.STATUS if col == PairColumn.STATUS else \
            PreferenceSortKey(PAIR_FIELD_OF[PairColumn(col)])
        return visible_rows(s.examples, self.row_filter, key, self.sort_order == Qt.SortOrder.DescendingOrder,
                            s.status_counts)

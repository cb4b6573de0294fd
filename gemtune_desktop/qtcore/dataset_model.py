"""The Dataset tab's table: a thin QAbstractTableModel over the session's examples, with filter and sort.

Built for a million rows: ``rowCount`` is O(1), ``data()`` checks the role first and does constant
work (long text is cut before it is drawn), and filtering and sorting build a Python list of row
indices instead of going through ``QSortFilterProxyModel`` (which calls ``data()`` twice per
comparison and takes minutes at this size). Filtering and sorting change only what is shown,
never the order stored in the project.
"""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.row_view import RowFilter, SortKey, StatusFilter, tag_list, visible_rows
from gemtune_desktop.qtcore.project_session import ProjectSession

__all__ = ["Column", "DatasetModel", "RowFilter", "StatusFilter", "parse_split", "status_icon", "status_text",
           "tag_list"]

ModelIndex = QModelIndex | QPersistentModelIndex


class Column(enum.IntEnum):
    INPUT = 0
    OUTPUT = 1
    SPLIT = 2
    STATUS = 3
    TAGS = 4
    NOTE = 5


HEADERS = {
    Column.INPUT: ("Input", "What the model is given (the prompt)"),
    Column.OUTPUT: ("Output", "What the model should answer"),
    Column.SPLIT: ("Split", "Train, Validation or Test: which part of the data this example belongs to"),
    Column.STATUS: ("Status", "Problems found in this example (errors must be fixed before tuning)"),
    Column.TAGS: ("Tags", "Your own labels, separated by commas"),
    Column.NOTE: ("Note", "A note for yourself; not sent for tuning"),
}
FIELD_OF = {Column.INPUT: "input", Column.OUTPUT: "output", Column.SPLIT: "split", Column.TAGS: "tags",
            Column.NOTE: "note"}
DISPLAY_CHARS = 300  # text drawn in a cell; the tooltip and the detail editor show all of it
TOOLTIP_CHARS = 2000

def parse_split(value: Any) -> Split | None:
    if isinstance(value, Split):
        return value
    from gemtune_desktop.core.formats.model import parse_split as parse_words

    return parse_words(str(value))


def status_text(errors: int, warnings: int) -> str:
    parts = []
    if errors:
        parts.append(f"{errors} error" + ("s" if errors != 1 else ""))
    if warnings:
        parts.append(f"{warnings} warning" + ("s" if warnings != 1 else ""))
    return ", ".join(parts) if parts else "OK"


_ICONS: dict[str, QIcon] = {}


def status_icon(kind: str) -> QIcon:
    """A small drawn icon: red disc with “!”, amber disc with “!”, green disc with “✓” (text says it too)."""
    icon = _ICONS.get(kind)
    if icon is None:
        colour, mark = {"error": ("#c62828", "!"), "warning": ("#ef8f00", "!"), "ok": ("#2e7d32", "✓")}[kind]
        pm = QPixmap(16, 16)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor(colour))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(1, 1, 14, 14)
        p.setPen(QColor("white"))
        font = p.font()
        font.setBold(True)
        font.setPixelSize(11)
        p.setFont(font)
        p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, mark)
        p.end()
        icon = QIcon(pm)
        _ICONS[kind] = icon
    return icon


class DatasetModel(QAbstractTableModel):
    """Rows are the session's examples (possibly filtered/sorted); columns are :class:`Column`.

    Signals:
        view_changed(): the filter or sort changed (row numbers shown changed).
    """

    view_changed = Signal()

    def __init__(self, session: ProjectSession | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self._rows: list[int] | None = None  # view row -> list index; None means identity
        self._memo: tuple[Example, tuple[int, int]] | None = None
        self.row_filter = RowFilter()
        self.sort_column = -1
        self.sort_order = Qt.SortOrder.AscendingOrder
        self.set_session(session)

    # -- session wiring ---------------------------------------------------------------------
    def set_session(self, session: ProjectSession | None) -> None:
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

    def _after_insert(self, first: int, count: int) -> None:
        if self._rows is None:
            self.endInsertRows()
        else:
            self._rows = self._compute_rows()
            self.endResetModel()

    def _before_remove(self, first: int, count: int) -> None:
        if self._rows is None:
            self.beginRemoveRows(QModelIndex(), first, first + count - 1)
        else:
            self.beginResetModel()

    def _after_remove(self, first: int, count: int) -> None:
        if self._rows is None:
            self.endRemoveRows()
        else:
            self._rows = self._compute_rows()
            self.endResetModel()

    def _before_reset(self) -> None:
        self.beginResetModel()

    def _after_reset(self) -> None:
        if self._rows is not None:
            self._rows = self._compute_rows()
        self.endResetModel()

    def _on_changed(self, _examples: list[Example]) -> None:
        self._memo = None
        n = self.rowCount()
        if n:
            self.dataChanged.emit(self.index(0, 0), self.index(n - 1, len(Column) - 1))

    def _on_validation(self) -> None:
        self._memo = None
        n = self.rowCount()
        if n:
            self.dataChanged.emit(self.index(0, Column.STATUS), self.index(n - 1, Column.STATUS))

    # -- mapping ----------------------------------------------------------------------------
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

    def example_at(self, view_row: int) -> Example:
        assert self.session is not None
        return self.session.examples[self.list_index(view_row)]

    def examples_at(self, view_rows: list[int]) -> list[Example]:
        return [self.example_at(r) for r in sorted(set(view_rows))]

    # -- Qt model API ---------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        if parent.isValid() or self.session is None:
            return 0
        return len(self.session.examples) if self._rows is None else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(Column):
                if role == Qt.ItemDataRole.DisplayRole:
                    return HEADERS[Column(section)][0]
                if role == Qt.ItemDataRole.ToolTipRole:
                    return HEADERS[Column(section)][1]
            return None
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < self.rowCount():
            return str(self.list_index(section) + 1)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        if index.column() != Column.STATUS and self.session is not None and self.session.can_edit:
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid() or self.session is None:
            return None
        row, col = index.row(), index.column()
        if row >= self.rowCount():
            return None
        e = self.session.examples[row if self._rows is None else self._rows[row]]
        if col == Column.STATUS:
            if self.session.checking:
                return "Checking…" if role != Qt.ItemDataRole.DecorationRole else None
            if role == Qt.ItemDataRole.DisplayRole:
                return status_text(*self._counts(e))
            if role == Qt.ItemDataRole.DecorationRole:
                errors, warnings = self._counts(e)
                return status_icon("error" if errors else "warning" if warnings else "ok")
            if role == Qt.ItemDataRole.ToolTipRole:
                findings = self.session.validator.findings_for(e.id)
                if not findings:
                    return "No problems found in this example."
                return "\n".join(f"{f.severity.value.capitalize()}: {f.message}" for f in findings[:10])
            return None
        if col == Column.SPLIT:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                return e.split.label
            if role == Qt.ItemDataRole.EditRole:
                return e.split.value
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return None
        text: str = getattr(e, FIELD_OF[Column(col)])
        if role == Qt.ItemDataRole.DisplayRole:
            short = text[:DISPLAY_CHARS]
            if "\n" in short or "\t" in short or "\r" in short:
                short = short.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\r", " ").replace("\t", " ")
            return short
        if role == Qt.ItemDataRole.EditRole:
            return text
        # tooltip
        if not text:
            return None
        return text if len(text) <= TOOLTIP_CHARS else text[:TOOLTIP_CHARS] + f"… ({len(text):,} characters)"

    def _counts(self, e: Example) -> tuple[int, int]:
        """(errors, warnings), remembered for the cell being painted (text and icon ask in turn)."""
        memo = self._memo
        if memo is not None and memo[0] is e:
            return memo[1]
        assert self.session is not None
        counts = self.session.status_counts(e)
        self._memo = (e, counts)
        return counts

    def setData(self, index: ModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or self.session is None:
            return False
        if not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        e = self.example_at(index.row())
        field = FIELD_OF[Column(index.column())]
        if field == "split":
            new: Any = parse_split(value)
            if new is None:
                return False
        else:
            new = "" if value is None else str(value)
        if getattr(e, field) == new:
            return False
        from gemtune_desktop.qtcore.undo import EditCellCommand

        # False when the file could not be written: the cell keeps its old value, and the session's
        # write_failed signal carries the message (nothing enters the undo history).
        return self.session.push(EditCellCommand(self.session, e, field, new))

    # -- filter and sort --------------------------------------------------------------------
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
        key = None if col < 0 else SortKey.STATUS if col == Column.STATUS else SortKey(FIELD_OF[Column(col)])
        return visible_rows(s.examples, self.row_filter, key, self.sort_order == Qt.SortOrder.DescendingOrder,
                            s.status_counts)


_ROLES = frozenset({Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, Qt.ItemDataRole.ToolTipRole,
                    Qt.ItemDataRole.DecorationRole})

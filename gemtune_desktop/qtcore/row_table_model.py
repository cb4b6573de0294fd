"""A thin, fast table model over a session's rows, with filter and sort: the Examples and Preference pairs tables.

:class:`RowTableModel` is the shared body of :class:`~gemtune_desktop.qtcore.dataset_model.DatasetModel` and
:class:`~gemtune_desktop.qtcore.preference_model.PreferenceTableModel`; each names its columns, headers, the
field behind each column, the undo command of a cell edit and how rows are filtered and sorted.

Built for a million rows: ``rowCount`` is O(1), ``data()`` checks the role first and does constant
work (long text is cut before it is drawn; the status of the row being painted is remembered between its text
and its icon), and filtering and sorting build a Python list of row indices instead of going through
``QSortFilterProxyModel`` (which calls ``data()`` twice per comparison and takes minutes at this size).
Filtering and sorting change only what is shown, never the order stored in the project.

Also here: the small helpers both tables and their panels use (:func:`parse_split`, :func:`status_text`,
:func:`status_icon`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Protocol, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QUndoCommand

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.row_view import RowFilter
from gemtune_desktop.qtcore.row_session import RowSession

ModelIndex = QModelIndex | QPersistentModelIndex


class TableRow(Protocol):
    """What the shared table needs of a row besides its text fields."""

    id: int
    split: Split


RowT = TypeVar("RowT", bound=TableRow)

DISPLAY_CHARS = 300  # text drawn in a cell; the tooltip and the detail editor show all of it
TOOLTIP_CHARS = 2000

_DISPLAY = Qt.ItemDataRole.DisplayRole
_EDIT = Qt.ItemDataRole.EditRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_DECORATION = Qt.ItemDataRole.DecorationRole
_ROLES = frozenset({_DISPLAY, _EDIT, _TOOLTIP, _DECORATION})


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


class RowTableModel(QAbstractTableModel, Generic[RowT]):
    """Rows are the session's rows (possibly filtered and sorted); the subclass names the columns.

    Signals:
        view_changed(): the filter or sort changed (the row numbers shown changed).
    """

    view_changed = Signal()

    # what the subclass names
    COLUMNS: int  # how many columns
    STATUS_COLUMN: int
    SPLIT_COLUMN: int
    HEADERS: Mapping[int, tuple[str, str]]  # column → (title, tooltip)
    FIELDS: Mapping[int, str]  # column → field of the row (every column but the status)
    NO_PROBLEMS: str  # the status tooltip of a row without findings

    def __init__(self, session: RowSession[RowT] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: RowSession[RowT] | None = None
        self._rows: list[int] | None = None  # view row -> list index; None means identity
        self._memo: tuple[RowT, tuple[int, int]] | None = None
        self.row_filter = RowFilter()
        self.sort_column = -1
        self.sort_order = Qt.SortOrder.AscendingOrder
        self.set_session(session)

    def edit_command(self, session: RowSession[RowT], example: RowT, field: str, new: Any) -> QUndoCommand:
        """The undo command that sets one cell."""
        raise NotImplementedError

    def _compute_rows(self) -> list[int] | None:
        """The list indices shown, in order, under the filter and sort (None: every row, in the stored order)."""
        raise NotImplementedError

    # -- session wiring ---------------------------------------------------------------------
    def set_session(self, session: RowSession[RowT] | None) -> None:
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

    def _on_changed(self, _examples: list[RowT]) -> None:
        self._memo = None
        n = self.rowCount()
        if n:
            self.dataChanged.emit(self.index(0, 0), self.index(n - 1, self.COLUMNS - 1))

    def _on_validation(self) -> None:
        self._memo = None
        n = self.rowCount()
        if n:
            self.dataChanged.emit(self.index(0, self.STATUS_COLUMN), self.index(n - 1, self.STATUS_COLUMN))

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

    def example_at(self, view_row: int) -> RowT:
        assert self.session is not None
        return self.session.examples[self.list_index(view_row)]

    def examples_at(self, view_rows: list[int]) -> list[RowT]:
        return [self.example_at(r) for r in sorted(set(view_rows))]

    # -- Qt model API ---------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        if parent.isValid() or self.session is None:
            return 0
        return len(self.session.examples) if self._rows is None else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.COLUMNS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < self.COLUMNS:
                if role == _DISPLAY:
                    return self.HEADERS[section][0]
                if role == _TOOLTIP:
                    return self.HEADERS[section][1]
            return None
        if role == _DISPLAY and 0 <= section < self.rowCount():
            return str(self.list_index(section) + 1)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        if index.column() != self.STATUS_COLUMN and self.session is not None and self.session.can_edit:
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: ModelIndex, role: int = _DISPLAY) -> Any:
        if role not in _ROLES or not index.isValid() or self.session is None:
            return None
        row, col = index.row(), index.column()
        if row >= self.rowCount():
            return None
        e = self.session.examples[row if self._rows is None else self._rows[row]]
        if col == self.STATUS_COLUMN:
            return self._status(e, role)
        if col == self.SPLIT_COLUMN:
            if role in (_DISPLAY, _TOOLTIP):
                return e.split.label
            return e.split.value if role == _EDIT else None
        if role == _DECORATION:
            return None
        text: str = getattr(e, self.FIELDS[col])
        if role == _DISPLAY:
            short = text[:DISPLAY_CHARS]
            if "\n" in short or "\t" in short or "\r" in short:
                short = short.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\r", " ").replace("\t", " ")
            return short
        if role == _EDIT:
            return text
        # tooltip
        if not text:
            return None
        return text if len(text) <= TOOLTIP_CHARS else text[:TOOLTIP_CHARS] + f"… ({len(text):,} characters)"

    def _status(self, e: RowT, role: int) -> Any:
        assert self.session is not None
        if self.session.checking:
            return "Checking…" if role != _DECORATION else None
        if role == _DISPLAY:
            return status_text(*self._counts(e))
        if role == _DECORATION:
            errors, warnings = self._counts(e)
            return status_icon("error" if errors else "warning" if warnings else "ok")
        if role == _TOOLTIP:
            findings = self.session.validator.findings_for(e.id)
            if not findings:
                return self.NO_PROBLEMS
            return "\n".join(f"{f.severity.value.capitalize()}: {f.message}" for f in findings[:10])
        return None

    def _counts(self, e: RowT) -> tuple[int, int]:
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
        field = self.FIELDS[index.column()]
        if field == "split":
            new: Any = parse_split(value)
            if new is None:
                return False
        else:
            new = "" if value is None else str(value)
        if getattr(e, field) == new:
            return False
        # False when the file could not be written: the cell keeps its old value, and the session's
        # write_failed signal carries the message (nothing enters the undo history).
        return self.session.push(self.edit_command(self.session, e, field, new))

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

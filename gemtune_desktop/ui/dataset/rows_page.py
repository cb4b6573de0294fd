"""What the Examples view (:class:`~.tab.DatasetTab`) and the Preference pairs view
(:class:`~.preference_view.PreferenceView`) share as pages: a table of rows or an empty state in a stack, the
filter bar's count, the side editor following the current row, filtering and sorting that say so on a large
set, the Problems tab's count, which Edit actions apply, and error boxes.

:class:`RowsPage` is their base widget; each page builds its own layout (:meth:`RowsPage._fill_stack` adds the
table and the empty state) and wires its own signals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMainWindow, QStackedWidget, QTabWidget, QWidget

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.row_view import RowFilter
from gemtune_desktop.qtcore.row_table_model import RowT, RowTableModel
from gemtune_desktop.ui.widgets.status_line import show_error_box

if TYPE_CHECKING:
    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.qtcore.row_session import RowSession
    from gemtune_desktop.ui.dataset.edit_actions import EditActions
    from gemtune_desktop.ui.dataset.filter_bar import FilterBar
    from gemtune_desktop.ui.dataset.row_table import RowTable


RowT_contra = TypeVar("RowT_contra", contravariant=True)


class RowDetail(Protocol[RowT_contra]):
    """The side editor of the current row."""

    def set_example(self, example: RowT_contra | None, row_number: int | None) -> None: ...


class RowsPage(QWidget, Generic[RowT]):
    """A page of rows: table, filter bar, side editor and Problems list (the subclass builds and wires them, and
    narrows the types of the parts below to its own)."""

    ROWS_WORD = "rows"  # "Sorting 200,000 rows…"
    FINDINGS_IN = "the dataset"  # "3 errors and 1 warnings found in the dataset"

    ctx: AppContext
    session: RowSession[RowT] | None
    model: RowTableModel[RowT]
    table: RowTable[RowT]
    filter_bar: FilterBar
    stack: QStackedWidget
    empty: QLabel
    side: QTabWidget
    findings: QWidget
    detail: RowDetail[RowT]

    def _fill_stack(self, empty_text: str, empty_name: str) -> None:
        """The empty state (``empty_text``, rich text) and the table, in :attr:`stack`."""
        self.empty = QLabel(empty_text, self.stack)
        self.empty.setObjectName(empty_name)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.empty.setMargin(24)
        self.empty.setTextFormat(Qt.TextFormat.RichText)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)

    def show_all_rows(self) -> None:
        raise NotImplementedError

    def show_error(self, err: UserError) -> None:
        show_error_box(self, err)

    def _enable_actions(self, actions: EditActions) -> None:
        """Enable the page's Edit actions for what applies now (none while the page is hidden)."""
        s = self.session
        actions.update(shown=self.isVisible(), stack=s.undo_stack if s is not None else None,
                       has_rows=s is not None and self.model.rowCount() > 0,
                       editable=s is not None and s.can_edit, movable=not self.model.mapped)

    def _show_rows(self) -> None:
        """The table, or the empty state when there are no rows; the filter bar's count."""
        total = len(self.session.examples) if self.session is not None else 0
        self.stack.setCurrentWidget(self.table if total else self.empty)
        self.filter_bar.show_count(self.model.rowCount(), total)
        self.filter_bar.setEnabled(total > 0)

    def _findings_counted(self, errors: int, warnings: int) -> None:
        i = self.side.indexOf(self.findings)
        self.side.setTabText(i, f"Problems ({errors + warnings:,})" if errors + warnings else "Problems")
        self.side.setTabToolTip(i, f"{errors:,} errors and {warnings:,} warnings found in {self.FINDINGS_IN}")

    # -- selection, filter, sort ------------------------------------------------------------
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or self.session is None:
            self.detail.set_example(None, None)
            return
        list_index = self.model.list_index(current.row())
        self.detail.set_example(self.session.examples[list_index], list_index + 1)

    def _filter_rows(self, row_filter: RowFilter, busy_above: int) -> None:
        self._busy("Filtering", lambda: self.model.set_filter(row_filter), busy_above)

    def _sort_rows(self, column: int, order: Qt.SortOrder, busy_above: int) -> bool:
        """Sort by ``column`` (False: no column, nothing done)."""
        if column < 0:
            return False
        self._busy("Sorting", lambda: self.model.sort(column, order), busy_above)
        return True

    def _busy(self, verb: str, work: Callable[[], None], busy_above: int) -> None:
        """Run a whole-table operation; on a large set (more than ``busy_above`` rows) say so while it runs
        (busy cursor, status bar)."""
        rows = len(self.session.examples) if self.session is not None else 0
        if rows <= busy_above:
            work()
            return
        self.ctx.status_message.emit(f"{verb} {rows:,} {self.ROWS_WORD}…", 0)
        window = self.window()
        if isinstance(window, QMainWindow):
            window.statusBar().repaint()  # paint the message now: the work below holds the GUI thread
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        started = time.perf_counter()
        try:
            work()
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.ctx.status_message.emit(f"{verb} {rows:,} {self.ROWS_WORD} took {time.perf_counter() - started:.1f} s.",
                                     5000)

    def _unfilter(self) -> None:
        if self.model.mapped:
            self.filter_bar.blockSignals(True)
            self.filter_bar.reset()
            self.filter_bar.blockSignals(False)
            self.show_all_rows()

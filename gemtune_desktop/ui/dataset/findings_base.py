"""What the Problems lists of the Examples view (:mod:`.findings_panel`) and the Preference pairs view
(:mod:`.preference_findings`) share: a read-only table model of findings with the severity column, a panel that
follows its session's ``validation_changed`` (refreshed a moment after the last edit, not on every keystroke),
and the count line above the list, with the list under it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableView, QVBoxLayout, QWidget

from gemtune_desktop.core.validation import Finding, Severity
from gemtune_desktop.qtcore.row_table_model import status_icon

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

ModelIndex = QModelIndex | QPersistentModelIndex
REFRESH_MS = 250
_ICON_KINDS = {Severity.ERROR: "error", Severity.WARNING: "warning"}  # the rest: the "ok" mark
_DISPLAY = Qt.ItemDataRole.DisplayRole
_ROLES = (_DISPLAY, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.DecorationRole)


class FindingsModelBase(QAbstractTableModel):
    """Rows are :attr:`findings`; column 0 is the severity (icon and word), the subclass draws the others
    (:meth:`cell`)."""

    HEADERS: tuple[str, ...] = ("Severity",)
    findings: list[Finding]

    def cell(self, f: Finding, row: int, col: int, role: int) -> Any:
        """Display or tooltip of a column after the severity."""
        raise NotImplementedError

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.findings)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled

    def data(self, index: ModelIndex, role: int = _DISPLAY) -> Any:
        if role not in _ROLES:
            return None
        if not index.isValid() or index.row() >= len(self.findings):
            return None
        f = self.findings[index.row()]
        col = index.column()
        if col == 0:
            if role == Qt.ItemDataRole.DecorationRole:
                return status_icon(_ICON_KINDS.get(f.severity, "ok"))
            return f.severity.label
        if role == Qt.ItemDataRole.DecorationRole:
            return None
        return self.cell(f, index.row(), col, role)


class _Validator(Protocol):
    def all_findings(self) -> Iterable[Finding]: ...


class ValidatedSession(Protocol):
    """What a Problems list reads of its session (the project's examples, or its preference pairs)."""

    @property
    def is_closed(self) -> bool: ...

    @property
    def checking(self) -> bool: ...

    @property
    def validator(self) -> _Validator: ...


S = TypeVar("S", bound=ValidatedSession)


S_contra = TypeVar("S_contra", bound=ValidatedSession, contravariant=True)


class _FindingsModel(Protocol[S_contra]):
    def set_findings(self, session: S_contra | None, findings: list[Finding]) -> None: ...


class ValidationFollower(QWidget, Generic[S]):
    """A panel refreshed (:meth:`refresh`) a moment after its session's findings change (``validation_changed``).

    A subclass sets :attr:`session`, :attr:`model` and ``counts_changed(errors, warnings)``, and says what its
    count line reads (:meth:`summary_for`), while checking (:attr:`CHECKING`) and after each refresh (:meth:`shown`).
    """

    counts_changed = Signal(int, int)  # errors and warnings after a refresh
    CHECKING = "Checking…"
    session: S | None
    model: _FindingsModel[S]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._watched: SignalInstance | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    def refresh(self) -> None:
        """The list and the count line as the session's findings are now."""
        self._timer.stop()
        s = self.session
        if s is None or s.is_closed:
            self.model.set_findings(None, [])
            self.summary.setText("No project open.")
            self.counts_changed.emit(0, 0)
        elif s.checking:
            self.model.set_findings(s, [])
            self.summary.setText(self.CHECKING)
        else:
            findings = list(s.validator.all_findings())
            self.model.set_findings(s, findings)
            counts = Counter(f.severity for f in findings)
            self.counts_changed.emit(counts[Severity.ERROR], counts[Severity.WARNING])
            self.summary.setText(self.summary_for(counts, s))
        self.shown()

    def summary_for(self, counts: Counter[Severity], session: S) -> str:
        raise NotImplementedError

    def shown(self) -> None:
        """Called after each refresh (the list holds the new findings)."""

    def _build_list(self, model: QAbstractTableModel, summary_name: str, view_name: str, accessible_name: str
                    ) -> QVBoxLayout:
        """The count line (:attr:`summary`) in a new layout, and the list (:attr:`view`: one row selected at a
        time) for the caller to place."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel(self)
        self.summary.setObjectName(summary_name)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.view = QTableView(self)
        self.view.setObjectName(view_name)
        self.view.setAccessibleName(accessible_name)
        self.view.setModel(model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        return layout

    def _follow(self, validation_changed: SignalInstance | None) -> None:
        """Listen to this session's ``validation_changed`` (None: no session), then refresh."""
        if self._watched is not None:
            try:
                self._watched.disconnect(self.schedule)
            except (RuntimeError, TypeError):
                pass
        self._watched = validation_changed
        if validation_changed is not None:
            validation_changed.connect(self.schedule)
        self.refresh()

    def schedule(self) -> None:
        self._timer.start()


def count_line(counts: Counter[Severity]) -> str:
    """ "3 errors, 1 warning." (kinds with none are left out)."""
    parts = []
    for severity, word in ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "note")):
        n = counts[severity]
        if n:
            parts.append(f"{n:,} {word}{'s' if n != 1 else ''}")
    return ", ".join(parts) + "."

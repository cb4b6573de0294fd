"""What the side editors of the Examples view (:class:`~.detail_editor.DetailEditor`) and the Preference pairs
view (:class:`~.preference_detail.PreferenceDetail`) share: text boxes that save when the user leaves them,
typing saved shortly after a pause (:data:`SAVE_AFTER_MS`), the Split / Tags / Note form, and a box reloaded
without moving its cursor.

Each editor keeps its own boxes, counts and how it saves text (the examples' editor also holds text typed while
the project cannot be saved); a split, tag or note change is one undo command of the row's table
(:meth:`RowDetailBase._edit_command`), and a change the file refuses is undone in the editor as in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFocusEvent, QUndoCommand
from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QPlainTextEdit, QWidget

from gemtune_desktop.core.examples import Split
from gemtune_desktop.qtcore.row_session import RowSession
from gemtune_desktop.qtcore.row_table_model import RowT

SAVE_AFTER_MS = 400


class SaveOnLeaveTextEdit(QPlainTextEdit):
    """A text box that saves what was typed when the user leaves it."""

    def __init__(self, on_leave: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_leave = on_leave

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._on_leave()
        super().focusOutEvent(event)


def reload_box(box: QPlainTextEdit, value: str) -> None:
    """Show ``value`` in ``box`` (when it differs), the cursor kept where it was."""
    if box.toPlainText() != value:
        cursor = box.textCursor().position()
        box.setPlainText(value)
        c = box.textCursor()
        c.setPosition(min(cursor, len(value)))
        box.setTextCursor(c)


class RowDetailBase(QWidget, Generic[RowT]):
    """Edits one row at a time (the table's current row); see the module docstring."""

    session: RowSession[RowT] | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.example: RowT | None = None
        self._loading = False
        self._pending: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_AFTER_MS)
        self._timer.timeout.connect(self.flush)

    def flush(self) -> None:
        """Save what was typed."""
        raise NotImplementedError

    def _load(self) -> None:
        """Show the row as it is (boxes with unsaved typing aside, where the editor keeps them)."""
        raise NotImplementedError

    def _update_counts(self) -> None:
        raise NotImplementedError

    def _edit_command(self, session: RowSession[RowT], example: RowT, field: str, value: Any) -> QUndoCommand:
        """The undo command that sets one field of the row."""
        raise NotImplementedError

    def _build_form(self, split_tip: str, tags_placeholder: str) -> QFormLayout:
        """Split, Tags and Note, each saved as one undo step when picked or left."""
        form = QFormLayout()
        self.split_combo = QComboBox(self)
        for s in Split:
            self.split_combo.addItem(s.label, s.value)
        self.split_combo.setToolTip(split_tip)
        self.split_combo.setAccessibleName("Split")
        self.split_combo.activated.connect(self._split_picked)
        self.tags_edit = QLineEdit(self)
        self.tags_edit.setPlaceholderText(tags_placeholder)
        self.tags_edit.setToolTip("Your own labels, separated by commas (used by the filter)")
        self.tags_edit.setAccessibleName("Tags")
        self.tags_edit.editingFinished.connect(lambda: self._line_done("tags", self.tags_edit))
        self.note_edit = QLineEdit(self)
        self.note_edit.setToolTip("A note for yourself; it is not sent for tuning")
        self.note_edit.setAccessibleName("Note")
        self.note_edit.editingFinished.connect(lambda: self._line_done("note", self.note_edit))
        form.addRow("&Split", self.split_combo)
        form.addRow("T&ags", self.tags_edit)
        form.addRow("N&ote", self.note_edit)
        return form

    # -- editing --------------------------------------------------------------------------------------
    def _typed(self, field: str) -> None:
        if self._loading or self.example is None:
            return
        self._pending.add(field)
        self._timer.start()
        self._update_counts()

    def _split_picked(self, _index: int) -> None:
        s, e = self.session, self.example
        if e is None or s is None:
            return
        value = Split(self.split_combo.currentData())
        if value is not e.split and not s.push(self._edit_command(s, e, "split", value)):
            self._load()

    def _line_done(self, field: str, edit: QLineEdit) -> None:
        s, e = self.session, self.example
        if self._loading or e is None or s is None or s.is_closed:
            return
        if getattr(e, field) != edit.text() and not s.push(self._edit_command(s, e, field, edit.text())):
            self._load()

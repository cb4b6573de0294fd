"""What the window says about the open project, wherever the user is: its name, whether the work is saved,
and what to do when it cannot be.

:class:`ProjectNotices` follows ``ctx.project`` (a :class:`~gemtune_desktop.qtcore.project_session.ProjectSession`)
and keeps three things true:

* the window title and a label in the status bar: the project's name and its save state in a few words
  ("Saved", "Saving…", "Read-only: save a copy to edit", "Not saved: the file was replaced"), the whole
  sentence and the file's full path in the tooltip;
* a bar under the menu bar when the work cannot be saved: a read-only project ("Save a copy…") or a file
  deleted, replaced or overwritten while open ("Save to a new file…", which keeps everything typed and the
  undo history); also, once after opening, what was repaired in a damaged file;
* one message box for a change that could not be written (the change was not kept; a second failure
  replaces the box rather than piling up another); when the file itself is gone, the bar alone says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from gemtune_desktop import APP_NAME
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.ui.widgets.notice_bar import Level, NoticeBar

if TYPE_CHECKING:  # the project's modules load with the project, after the window's first paint
    from gemtune_desktop.core.errors import UserError
    from gemtune_desktop.qtcore.project_session import ProjectSession


class ProjectNotices(QObject):
    """Title, status label, project bar and the write-failure box for the open project.

    Args:
        set_title: sets the window title.
        save_copy: asks where to save a copy and continues in it (read-only projects).
        save_to_new_file: asks where to save the work of a lost file and continues there.
    """

    def __init__(self, ctx: AppContext, window: QWidget, set_title: Callable[[str], None],
                 save_copy: Callable[[], object], save_to_new_file: Callable[[], object]) -> None:
        super().__init__(window)
        self.ctx = ctx
        self._window = window
        self._set_title = set_title
        self._save_copy = save_copy
        self._save_to_new_file = save_to_new_file
        self.session: ProjectSession | None = None
        self.bar = NoticeBar("projectBar", window)
        self.label = QLabel(window)
        self.label.setObjectName("saveState")
        self.label.setAccessibleName("The open project and whether it is saved")
        self.label.setContentsMargins(0, 0, 16, 0)  # apart from the connection beside it
        ctx.after_first_paint(self._plain_label)  # plain text (a file name may hold "<"); not before the first paint
        self.error_box: QMessageBox | None = None
        ctx.project_changed.connect(self.follow)

    def _plain_label(self) -> None:
        from PySide6.QtCore import Qt

        self.label.setTextFormat(Qt.TextFormat.PlainText)

    def opening(self, name: str) -> None:
        """Before the project is open (start-up): its name in the title already."""
        if name and self.session is None:
            self._set_title(f"{APP_NAME} — {name}")
            self.label.setText(f"Opening “{name}”…")

    def follow(self, session: ProjectSession | None) -> None:
        old = self.session
        if old is session:
            self.update()
            return
        if old is not None:
            for signal, slot in self._links(old):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        self.session = session
        if session is not None:
            for signal, slot in self._links(session):
                signal.connect(slot)
        self.update()
        if session is not None and session.open_notice is not None:
            notice, session.open_notice = session.open_notice, None  # shown once
            if not self.bar.isVisible():
                from gemtune_desktop.ui.widgets.status_line import Tone, error_text

                self.bar.show_notice(error_text(notice, tone=Tone.PLAIN), Level.INFO, tip=notice.detail)

    def _links(self, s: ProjectSession) -> list[tuple[SignalInstance, Callable[..., None]]]:
        return [(s.save_state_changed, self._state_changed), (s.write_failed, self.show_write_failure),
                (s.path_changed, self._state_changed), (s.closed, self._state_changed)]

    def _state_changed(self, *_args: object) -> None:
        self.update()

    def update(self) -> None:
        from gemtune_desktop.qtcore.save_state import SaveState

        s = self.session
        if s is None or s.is_closed:
            self._set_title(APP_NAME)
            self.label.setText("No project open")
            self.label.setToolTip("")
            return
        words = s.save_state_label
        self._set_title(f"{APP_NAME} — {s.display_name} — {words}")
        self.label.setText(f"{s.path.name} — {words}")
        self.label.setToolTip(f"{s.save_state_text}\n{s.path}")
        self.label.setStyleSheet("" if s.save_state in (SaveState.SAVED_IN_FILE, SaveState.PENDING)
                                 else "color: #b00020; font-weight: bold;")
        self._update_bar(s)

    def _update_bar(self, s: ProjectSession) -> None:
        from gemtune_desktop.qtcore.save_state import SaveState

        state = s.save_state
        if state is SaveState.READ_ONLY:
            self.bar.show_notice(f"Read-only: save a copy to edit. {s.save_state_text}", Level.WARNING,
                                 [("Save a &Copy…", self._save_copy)], closable=False, tip=str(s.path))
        elif state is SaveState.NOT_SAVED_FILE_LOST:
            self.bar.show_notice(s.save_state_text, Level.ERROR,
                                 [("Save to a &New File…", self._save_to_new_file)], closable=False, tip=str(s.path))
        elif not self.bar.closable:  # a state bar whose state is over
            self.bar.hide()

    def show_write_failure(self, err: UserError) -> None:
        """One box at a time: a newer failure replaces the one still open. A file that was replaced or deleted
        is said by the bar alone (what was typed is held for the new file, so no box says it was lost)."""
        from gemtune_desktop.qtcore.save_state import SaveState
        from gemtune_desktop.ui.widgets.status_line import show_error_box

        s = self.session
        if s is not None and s.save_state is SaveState.NOT_SAVED_FILE_LOST:
            self.update()
            return
        if self.error_box is not None:
            try:
                self.error_box.close()
            except RuntimeError:  # already deleted
                pass
        box = show_error_box(self._window, err, "Not saved")
        box.destroyed.connect(lambda _o=None, b=box: self._box_gone(b))
        self.error_box = box

    def _box_gone(self, box: QMessageBox) -> None:
        if self.error_box is box:
            self.error_box = None

"""The project file actions of the Dataset tab: New, Open, Open Recent, Save, Save As, Close Project.

There is always an open project: at start the last one is reopened, otherwise an "Untitled" project in
the app's data folder (a numbered one if another window has it), so nothing typed is ever lost.
:class:`ProjectFiles` opens sessions and hands them over with ``opened``; it never touches the tab's
widgets. The open project is ``ctx.project``.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from gemtune_desktop import paths
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.ui.dataset.edit_actions import make_action

log = logging.getLogger(__name__)

PROJECT_FILTER = "GemTune projects (*.gemtune)"
UNTITLED = "Untitled"
BACKGROUND_ABOVE = 20_000  # larger projects are validated on a worker after opening


def is_untitled(path: Path) -> bool:
    return path.parent == paths.data_dir() and path.stem.startswith(UNTITLED)


def with_project_suffix(path: Path) -> Path:
    return path if path.suffix.lower() == ".gemtune" else path.with_name(path.name + ".gemtune")


class ProjectFiles(QObject):
    """Opens, creates and copies project files.

    Args:
        dialog_parent: the widget file dialogs belong to.

    Signals:
        opened(object): a :class:`ProjectSession` to show (the previous one is closed by whoever shows it).
        switched(object): the open session now writes to another file (Save to a new file…).
        failed(object): a :class:`UserError` saying why a project could not be opened or written.
        about_to_write(): text still being typed should be written to the project now.
        open_requested(str): a path chosen in Open…: a project, or a dataset to import.
    """

    opened = Signal(object)
    switched = Signal(object)
    failed = Signal(object)
    about_to_write = Signal()
    open_requested = Signal(str)

    def __init__(self, ctx: AppContext, dialog_parent: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._dialog_parent = dialog_parent
        self.recent_menu = QMenu("Open &Recent", dialog_parent)
        self.recent_menu.setObjectName("menu_recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.actions: dict[str, QAction] = {}
        K = QKeySequence
        for key, text, slot, shortcut, tip in (
                ("new", "&New Project…", self.new_project, K(K.StandardKey.New), "Start an empty project file"),
                ("open", "&Open…", self.open_dialog, K(K.StandardKey.Open),
                 "Open a project, or import a spreadsheet or JSONL file into this one"),
                ("save", "&Save", self.save_now, K(K.StandardKey.Save),
                 "Write everything into the project file now and say where it is"),
                ("save_as", "Save Project &As…", self.save_as, K("Ctrl+Shift+S"),
                 "Save this project as one new file (for example to e-mail it) and keep working in it"),
                ("close", "&Close Project", self.close_project, None,
                 "Close this project (your work is already saved) and go back to the Untitled project")):
            self.actions[key] = make_action(self, key, text, slot, shortcut, tip)

    def install(self, menu: QMenu) -> None:
        a = self.actions
        menu.addActions([a["new"], a["open"]])
        menu.addMenu(self.recent_menu)
        menu.addActions([a["save"], a["save_as"], a["close"]])

    @property
    def session(self) -> ProjectSession | None:
        return self.ctx.project

    def save_now(self) -> str:
        """Ctrl+S: write any text still being typed, bring the file up to date, and say where it is and
        whether it holds the work (the message is returned too)."""
        self.about_to_write.emit()
        session = self.session
        if session is None:
            return ""
        if session.can_edit:
            session.flush()
        text = save_report(session)
        self.ctx.status_message.emit(text, 12000)
        return text

    # -- opening ----------------------------------------------------------------------------
    def open_startup_project(self) -> None:
        """Reopen the last project, unless opening it did not finish last time (then the Untitled one, and a
        message): a file that stops the app while it opens must never stop every start after it."""
        settings = self.ctx.settings
        last = settings.get(S.LAST_PROJECT)
        if last and settings.get(S.OPENING_PROJECT) == last:
            settings.set(S.OPENING_PROJECT, "")
            settings.set(S.LAST_PROJECT, "")
            settings.sync()
            log.warning("last project not reopened: opening it did not finish last time")
            self.failed.emit(UserError(
                f"“{Path(last).name}” was not reopened: the app stopped while opening it last time.",
                "It may be damaged. Open it from File → Open Recent when you are ready, or restore a backup copy.",
                detail=last))
            self.open_untitled()
            return
        if last and Path(last).is_file():
            settings.set(S.OPENING_PROJECT, last)
            settings.sync()  # on disk before the file is read: see the docstring
            try:
                self.opened.emit(ProjectSession.open(last, background_above=BACKGROUND_ABOVE))
                return
            except UserError as exc:
                log.info("last project not reopened: %s", exc.message)
                from gemtune_desktop.ui.widgets.status_line import Tone, error_text

                self.ctx.status_message.emit(error_text(exc, tone=Tone.PLAIN), 8000)
            except (sqlite3.Error, OSError, RuntimeError) as exc:
                log.warning("last project not reopened", exc_info=exc)
            finally:
                settings.set(S.OPENING_PROJECT, "")
        self.open_untitled()

    def open_untitled(self) -> None:
        """The Untitled project in the app's data folder (a numbered one if another window has it)."""
        folder = paths.data_dir()
        for n in range(1, 50):
            path = folder / (f"{UNTITLED}.gemtune" if n == 1 else f"{UNTITLED} {n}.gemtune")
            try:
                session = (ProjectSession.open(path, background_above=BACKGROUND_ABOVE) if path.exists()
                           else ProjectSession.create(path))
            except UserError:
                continue
            self.opened.emit(session)
            self._remember(session, recent=False)
            return
        self.failed.emit(UserError("No project could be opened.", f"Check that {folder} is writable."))

    def _remember(self, session: ProjectSession, recent: bool = True) -> None:
        self.ctx.settings.set(S.LAST_PROJECT, str(session.path))
        if recent and not is_untitled(session.path):
            self.ctx.settings.add_recent(str(session.path))

    def open_project(self, path: Path) -> bool:
        current = self.session
        try:
            if current is not None and current.path.resolve() == path.resolve():
                return True
        except (RuntimeError, OSError) as exc:  # a symbolic link that points back to itself
            self.failed.emit(link_loop_error(path, exc))
            return False
        try:
            session = ProjectSession.open(path, background_above=BACKGROUND_ABOVE)
        except UserError as exc:
            self.failed.emit(exc)
            return False
        except (RuntimeError, OSError) as exc:
            self.failed.emit(link_loop_error(path, exc))
            return False
        except sqlite3.Error as exc:
            self.failed.emit(UserError(f"“{path.name}” could not be opened.",
                                       "The file may be damaged. A backup copy may be next to it.", str(exc)))
            return False
        self.opened.emit(session)
        self._remember(session)
        backup = session.store.backup_path
        if backup is not None:
            self.ctx.status_message.emit(
                f"Upgraded “{path.name}” to this version; the original is kept as {backup.name}", 10000)
        return True

    def dialog_dir(self) -> str:
        last = self.ctx.settings.get(S.LAST_DIR)
        return last if last and Path(last).is_dir() else str(paths.default_projects_dir())

    def remember_dir(self, path: str) -> None:
        self.ctx.settings.set(S.LAST_DIR, str(Path(path).parent))

    def open_dialog(self) -> None:
        from gemtune_desktop.ui.dataset.transfer import DATASET_FILTER

        path, _ = QFileDialog.getOpenFileName(self._dialog_parent, "Open a project or dataset", self.dialog_dir(),
                                              f"{PROJECT_FILTER};;{DATASET_FILTER};;All files (*)")
        if path:
            self.remember_dir(path)
            self.open_requested.emit(path)

    def new_project(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self._dialog_parent, "New project",
                                              str(Path(self.dialog_dir()) / "My dataset.gemtune"), PROJECT_FILTER)
        if path:
            self.remember_dir(path)
            self.create_project(Path(path))

    def create_project(self, path: Path) -> bool:
        path = with_project_suffix(path)
        try:
            # The save dialog already asked whether to replace an existing file.
            from gemtune_desktop.core.project.store import ProjectStore

            session = ProjectSession(ProjectStore.create(path, overwrite=True))
        except UserError as exc:
            self.failed.emit(exc)
            return False
        except (sqlite3.Error, OSError) as exc:
            self.failed.emit(UserError(f"“{path.name}” could not be created.", "Choose another folder.", str(exc)))
            return False
        self.opened.emit(session)
        self._remember(session)
        return True

    def save_as(self) -> None:
        s = self.session
        if s is None:
            return
        start = Path(self.dialog_dir()) / (s.path.name if not is_untitled(s.path) else "My dataset.gemtune")
        path, _ = QFileDialog.getSaveFileName(self._dialog_parent, "Save a copy of the project as", str(start),
                                              PROJECT_FILTER)
        if path:
            self.remember_dir(path)
            self.save_copy(Path(path))

    def save_copy(self, dest: Path) -> bool:
        """Write the project to ``dest`` as one complete file and continue in it, undo history kept (the
        Untitled project it came from is removed: its work is in the new file)."""
        s = self.session
        if s is None:
            return False
        self.about_to_write.emit()
        untitled = s.path if is_untitled(s.path) else None
        if not self.save_to(dest, announce=False):
            return False
        if untitled is not None and untitled != s.path:
            remove_project_file(untitled)
        self.ctx.status_message.emit(f"Saved as {s.path}. You are working in this file now; it holds all your "
                                     "work (copy or e-mail it as it is).", 12000)
        return True

    def save_to_new_file(self) -> bool:
        """The open file was deleted or replaced: ask where to keep the work, then continue there."""
        s = self.session
        if s is None:
            return False
        start = Path(self.dialog_dir()) / (s.path.name if not is_untitled(s.path) else "My dataset.gemtune")
        path, _ = QFileDialog.getSaveFileName(self._dialog_parent, "Save your work to a new file", str(start),
                                              PROJECT_FILTER)
        if not path:
            return False
        self.remember_dir(path)
        return self.save_to(Path(path))

    def save_to(self, dest: Path, announce: bool = True) -> bool:
        """Write everything (the undo history kept) to ``dest`` and continue there."""
        s = self.session
        if s is None:
            return False
        dest = with_project_suffix(dest)
        try:
            written = s.save_to(dest)
        except UserError as exc:
            self.failed.emit(exc)
            return False
        except (sqlite3.Error, OSError) as exc:
            self.failed.emit(UserError(f"“{dest.name}” could not be written.",
                                       "Choose another folder, or check the free disk space.", str(exc)))
            return False
        self._remember(s)
        self.switched.emit(s)
        self.about_to_write.emit()  # text held while the file could not be written goes into the new one
        if announce:
            self.ctx.status_message.emit(f"Saved to {written}. You are working in this file now.", 12000)
        return True

    def close_project(self) -> None:
        s = self.session
        if s is not None and is_untitled(s.path):
            return
        self.open_untitled()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = [p for p in self.ctx.settings.get(S.RECENT_PROJECTS) if p]
        if not items:
            empty = self.recent_menu.addAction("No recent projects")
            empty.setEnabled(False)
            return
        for p in items:
            action = self.recent_menu.addAction(Path(p).name)
            action.setToolTip(p)
            action.setStatusTip(p)
            action.setEnabled(Path(p).is_file())
            action.triggered.connect(lambda _c=False, path=p: self.open_project(Path(path)))


def save_report(session: ProjectSession) -> str:
    """What Ctrl+S says: where the file is and whether it holds the work."""
    from gemtune_desktop.qtcore.save_state import SaveState

    state = session.save_state
    if state is SaveState.SAVED_IN_FILE:
        return f"Saved: all your work is in {session.path}"
    if state is SaveState.PENDING:
        return f"Saving: your changes are kept and still being written into {session.path}"
    return f"{session.save_state_label}. {session.save_state_text} ({session.path})"


def link_loop_error(path: Path, exc: BaseException) -> UserError:
    return UserError(f"“{path.name}” cannot be opened: it is a link that leads back to itself (or to a place that "
                     "cannot be reached).", "Open the project file itself, not the link.", detail=str(exc)[:300])


def remove_project_file(path: Path) -> None:
    """Delete a project file that is no longer needed (and its companions, if any were left)."""
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            p.unlink(missing_ok=True)
        except OSError as exc:
            log.info("could not remove %s: %s", p, exc)

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
        failed(object): a :class:`UserError` saying why a project could not be opened or written.
        about_to_write(): text still being typed should be written to the project now.
        open_requested(str): a path chosen in Open…: a project, or a dataset to import.
    """

    opened = Signal(object)
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
                 "Every change is already written to the project file as you make it; this confirms it"),
                ("save_as", "Save Project &As…", self.save_as, K("Ctrl+Shift+S"),
                 "Save a copy of this project under a new name and keep working in the copy"),
                ("close", "&Close Project", self.close_project, None,
                 "Close this project (your work is already saved) and go back to the Untitled project")):
            action = QAction(text, self)
            action.setObjectName(f"action_{key}")
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.setStatusTip(tip)
            action.setToolTip(tip)
            action.triggered.connect(lambda _c=False, f=slot: f())
            self.actions[key] = action

    def install(self, menu: QMenu) -> None:
        a = self.actions
        menu.addActions([a["new"], a["open"]])
        menu.addMenu(self.recent_menu)
        menu.addActions([a["save"], a["save_as"], a["close"]])

    @property
    def session(self) -> ProjectSession | None:
        return self.ctx.project

    def save_now(self) -> None:
        """Ctrl+S out of habit: write any text still being typed and say where the work is."""
        self.about_to_write.emit()
        session = self.session
        if session is None:
            return
        self.ctx.status_message.emit(
            f"Saved. Every change is written to {session.path.name} as you make it; there is nothing else to save.",
            6000)

    # -- opening ----------------------------------------------------------------------------
    def open_startup_project(self) -> None:
        last = self.ctx.settings.get(S.LAST_PROJECT)
        if last and Path(last).is_file():
            try:
                self.opened.emit(ProjectSession.open(last, background_above=BACKGROUND_ABOVE))
                return
            except UserError as exc:
                log.info("last project not reopened: %s", exc.message)
                from gemtune_desktop.ui.widgets.status_line import Tone, error_text

                self.ctx.status_message.emit(error_text(exc, tone=Tone.PLAIN), 8000)
            except sqlite3.Error as exc:
                log.warning("last project not reopened", exc_info=exc)
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
        if current is not None and current.path.resolve() == path.resolve():
            return True
        try:
            session = ProjectSession.open(path, background_above=BACKGROUND_ABOVE)
        except UserError as exc:
            self.failed.emit(exc)
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
        """Copy the project to ``dest`` and continue in the copy."""
        s = self.session
        if s is None:
            return False
        dest = with_project_suffix(dest)
        self.about_to_write.emit()
        try:
            s.save_as(dest)
        except UserError as exc:
            self.failed.emit(exc)
            return False
        except (sqlite3.Error, OSError) as exc:
            self.failed.emit(UserError(f"The copy “{dest.name}” could not be written.",
                                       "Check the folder and the free disk space.", str(exc)))
            return False
        return self.open_project(dest)

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

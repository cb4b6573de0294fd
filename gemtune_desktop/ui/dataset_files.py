"""File actions of the Dataset tab: New/Open/Open Recent/Save As/Close Project, Import and Export.

Imports read the file on a worker thread (progress bar and Cancel at the bottom of the tab) and are
added to the project as one undoable step. Exports write through the formats module on a worker.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from gemtune_desktop import paths
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.undo import InsertRowsCommand, SettingsCommand, copy_settings
from gemtune_desktop.qtcore.workers import TaskSlot

if TYPE_CHECKING:
    from gemtune_desktop.ui.dataset_tab import DatasetTab

log = logging.getLogger(__name__)

PROJECT_FILTER = "GemTune projects (*.gemtune)"
DATASET_EXTS = ("csv", "tsv", "txt", "xlsx", "jsonl", "json")
DATASET_FILTER = "Datasets (*.csv *.tsv *.txt *.xlsx *.jsonl *.json)"
EXPORT_FORMATS = (  # (fmt, label, extension)
    ("csv", "CSV (comma-separated, for Excel)", "csv"),
    ("tsv", "TSV (tab-separated)", "tsv"),
    ("xlsx", "Excel workbook", "xlsx"),
    ("jsonl", "JSON Lines, Gemini API form (text_input/output)", "jsonl"),
    ("json", "JSON array, Gemini API form", "json"),
    ("agent-platform", "JSON Lines, Agent Platform form (contents)", "jsonl"),
    ("openai", "JSON Lines, OpenAI chat form (messages)", "jsonl"),
)
UNTITLED = "Untitled"
BACKGROUND_ABOVE = 20_000  # larger projects are validated on a worker after opening


class ProjectFiles:
    def __init__(self, tab: DatasetTab) -> None:
        self.tab = tab
        self.ctx = tab.ctx
        self.actions: dict[str, QAction] = {}
        self.recent_menu = QMenu("Open &Recent", tab)
        self.recent_menu.setObjectName("menu_recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._import_task = TaskSlot(tab, tab.ctx.executor, "import")
        self._export_task = TaskSlot(tab, tab.ctx.executor, "export")
        tab.cancel_button.clicked.connect(self.cancel_import)
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
                 "Close this project (your work is already saved) and go back to the Untitled project"),
                ("import", "&Import Dataset…", self.import_dialog, K("Ctrl+I"),
                 "Add examples from a CSV, TSV, Excel, JSON or JSONL file"),
                ("export", "&Export Dataset…", self.export_dialog, K("Ctrl+E"),
                 "Write the examples to CSV, Excel, JSONL or another format"),
                ("export_upload", "Export Upload &File for the Active Connection…", self.export_for_upload, None,
                 "Write the exact file the active connection's tuning service expects")):
            action = QAction(text, tab)
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
        menu.addSeparator()
        menu.addActions([a["import"], a["export"], a["export_upload"]])

    def save_now(self) -> None:
        """Ctrl+S out of habit: write any text still being typed and say where the work is."""
        session = self.tab.session
        self.tab.detail.flush()
        self.tab.settings_panel.flush()
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
                self.tab.set_session(ProjectSession.open(last, background_above=BACKGROUND_ABOVE))
                return
            except UserError as exc:
                log.info("last project not reopened: %s", exc.message)
                self.ctx.status_message.emit(f"{exc.message} {exc.hint}", 8000)
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
            self.tab.set_session(session)
            self._remember(session, recent=False)
            return
        self.tab.show_error(UserError("No project could be opened.", f"Check that {folder} is writable."))

    def _remember(self, session: ProjectSession, recent: bool = True) -> None:
        self.ctx.settings.set(S.LAST_PROJECT, str(session.path))
        if recent and not self.is_untitled(session.path):
            self.ctx.settings.add_recent(str(session.path))

    @staticmethod
    def is_untitled(path: Path) -> bool:
        return path.parent == paths.data_dir() and path.stem.startswith(UNTITLED)

    def open_project(self, path: Path) -> bool:
        current = self.tab.session
        if current is not None and current.path.resolve() == path.resolve():
            return True
        try:
            session = ProjectSession.open(path, background_above=BACKGROUND_ABOVE)
        except UserError as exc:
            self.tab.show_error(exc)
            return False
        except sqlite3.Error as exc:
            self.tab.show_error(UserError(f"“{path.name}” could not be opened.",
                                          "The file may be damaged. A backup copy may be next to it.", str(exc)))
            return False
        self.tab.set_session(session)
        self._remember(session)
        if session.store.backup_path is not None:
            self.ctx.status_message.emit(
                f"Upgraded “{path.name}” to this version; the original is kept as {session.store.backup_path.name}",
                10000)
        return True

    def open_path(self, path: Path) -> None:
        if path.suffix.lower() == ".gemtune":
            self.open_project(path)
        else:
            self.import_file(path)

    def _dialog_dir(self) -> str:
        last = self.ctx.settings.get(S.LAST_DIR)
        return last if last and Path(last).is_dir() else str(paths.default_projects_dir())

    def _remember_dir(self, path: str) -> None:
        self.ctx.settings.set(S.LAST_DIR, str(Path(path).parent))

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.tab, "Open a project or dataset", self._dialog_dir(),
                                              f"{PROJECT_FILTER};;{DATASET_FILTER};;All files (*)")
        if path:
            self._remember_dir(path)
            self.open_path(Path(path))

    def new_project(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.tab, "New project", str(Path(self._dialog_dir()) /
                                              "My dataset.gemtune"), PROJECT_FILTER)
        if path:
            self._remember_dir(path)
            self.create_project(Path(path))

    def create_project(self, path: Path) -> bool:
        if path.suffix.lower() != ".gemtune":
            path = path.with_name(path.name + ".gemtune")
        try:
            # The save dialog already asked whether to replace an existing file.
            from gemtune_desktop.core.project.store import ProjectStore

            session = ProjectSession(ProjectStore.create(path, overwrite=True))
        except UserError as exc:
            self.tab.show_error(exc)
            return False
        except (sqlite3.Error, OSError) as exc:
            self.tab.show_error(UserError(f"“{path.name}” could not be created.", "Choose another folder.",
                                          str(exc)))
            return False
        self.tab.set_session(session)
        self._remember(session)
        return True

    def save_as(self) -> None:
        s = self.tab.session
        if s is None:
            return
        start = Path(self._dialog_dir()) / (s.path.name if not self.is_untitled(s.path) else "My dataset.gemtune")
        path, _ = QFileDialog.getSaveFileName(self.tab, "Save a copy of the project as", str(start), PROJECT_FILTER)
        if path:
            self._remember_dir(path)
            self.save_copy(Path(path))

    def save_copy(self, dest: Path) -> bool:
        """Copy the project to ``dest`` and continue in the copy."""
        s = self.tab.session
        if s is None:
            return False
        if dest.suffix.lower() != ".gemtune":
            dest = dest.with_name(dest.name + ".gemtune")
        self.tab.detail.flush()
        self.tab.settings_panel.flush()
        try:
            s.save_as(dest)
        except UserError as exc:
            self.tab.show_error(exc)
            return False
        except (sqlite3.Error, OSError) as exc:
            self.tab.show_error(UserError(f"The copy “{dest.name}” could not be written.",
                                          "Check the folder and the free disk space.", str(exc)))
            return False
        return self.open_project(dest)

    def close_project(self) -> None:
        s = self.tab.session
        if s is not None and self.is_untitled(s.path):
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

    # -- import -----------------------------------------------------------------------------
    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.tab, "Import examples", self._dialog_dir(),
                                              f"{DATASET_FILTER};;{PROJECT_FILTER};;All files (*)")
        if path:
            self._remember_dir(path)
            self.import_file(Path(path))

    def import_file(self, path: Path, mapping: Any = None, sheet: str | None = None) -> bool:
        """Read ``path`` on a worker; when done, add its examples as one undoable step."""
        if self.tab.session is None:
            self.open_untitled()
        if self._import_task.running:
            self.tab.show_error(UserError("An import is already running.", "Wait for it or press Cancel."))
            return False
        from gemtune_desktop.core.formats import read_dataset

        def work(token: Any, p: Path, m: Any, sh: str | None) -> Any:
            return read_dataset(p, mapping=m, sheet=sh, token=token)

        self._show_progress(f"Importing {path.name}…")
        self._import_task.start(work, path, mapping, sheet,
                                on_result=lambda r: self._imported(path, r, sheet),
                                on_error=self._import_failed, on_progress=self._progress,
                                on_cancelled=lambda: self.ctx.status_message.emit("Import cancelled", 4000),
                                on_finished=self._hide_progress)
        return True

    @property
    def importing(self) -> bool:
        return self._import_task.running

    @property
    def exporting(self) -> bool:
        return self._export_task.running

    def cancel_import(self) -> None:
        self._import_task.cancel()

    def _show_progress(self, text: str) -> None:
        t = self.tab
        t.progress_label.setText(text)
        t.progress.setRange(0, 0)
        for w in (t.progress_label, t.progress, t.cancel_button):
            w.show()

    def _progress(self, done: int, total: int, text: str) -> None:
        bar = self.tab.progress
        if total > 0:
            bar.setRange(0, 1000)
            bar.setValue(int(1000 * min(done, total) / total))
        if text:
            self.tab.progress_label.setText(text)

    def _hide_progress(self) -> None:
        t = self.tab
        for w in (t.progress_label, t.progress, t.cancel_button):
            w.hide()

    def _import_failed(self, err: UserError) -> None:
        self.tab.show_error(err)

    def _imported(self, path: Path, result: Any, sheet: str | None) -> None:
        if result.needs_mapping:
            self._ask_mapping(path, result, sheet)
            return
        s = self.tab.session
        if s is None:
            return
        examples = list(result.examples)
        for e in examples:
            e.id = 0  # new rows of this project
        problems = [f for f in result.findings if getattr(f.severity, "value", "") == "error"]
        if not examples:
            self._report_import(path, 0, result.findings)
            return
        stack = s.undo_stack
        stack.beginMacro(f"Import {path.name}")
        try:
            settings = result.settings
            if settings is not None and (settings.preamble or settings.system_instruction) and \
                    not (s.settings.preamble or s.settings.system_instruction):
                new = copy_settings(s.settings)
                new.preamble = settings.preamble
                new.system_instruction = settings.system_instruction
                self.tab.push(SettingsCommand(s, new, "Imported preamble and system instruction"))
            first = len(s.examples)
            self.tab.push(InsertRowsCommand(s, first, examples, f"Import {path.name}"))
        finally:
            stack.endMacro()
        self.tab._unfilter()
        self.tab._rows_changed()
        self.tab.select_list_indices([first])
        self._report_import(path, len(examples), problems)

    def _report_import(self, path: Path, count: int, problems: list[Any]) -> None:
        text = f"Imported {count:,} example" + ("s" if count != 1 else "") + f" from {path.name}."
        self.ctx.status_message.emit(text, 8000)
        if not problems and count:
            return
        box = QMessageBox(QMessageBox.Icon.Warning if problems else QMessageBox.Icon.Information,
                          "Import", text, parent=self.tab)
        if problems:
            lines = [f"{(f.location() or 'file').capitalize()}: {f.message}" for f in problems[:200]]
            box.setInformativeText(f"{len(problems):,} record" + ("s" if len(problems) != 1 else "") +
                                   " could not be imported. Fix them in the file and import again, or add them "
                                   "by hand. Undo (Ctrl+Z) removes this import.")
            box.setDetailedText("\n".join(lines))
        else:
            box.setInformativeText("No examples were found in this file.")
        box.open()
        self._report_box = box

    def _ask_mapping(self, path: Path, result: Any, sheet: str | None) -> None:
        from gemtune_desktop.core.formats import guess_mapping, preview
        from gemtune_desktop.ui.dataset_dialogs import ColumnMappingDialog

        try:
            columns, rows, sheets = preview(path, rows=20, sheet=sheet)
        except UserError as exc:
            self.tab.show_error(exc)
            return
        dialog = ColumnMappingDialog(path.name, columns or result.columns, rows, sheets, sheet,
                                     guess_mapping(columns or result.columns), self.tab)
        dialog.accepted.connect(lambda: self.import_file(path, dialog.mapping(), dialog.sheet()))
        dialog.open()
        self._mapping_dialog = dialog

    # -- export -----------------------------------------------------------------------------
    def export_dialog(self) -> None:
        s = self.tab.session
        if s is None:
            return
        filters = [f"{label} (*.{ext})" for _fmt, label, ext in EXPORT_FORMATS]
        path, chosen = QFileDialog.getSaveFileName(self.tab, "Export examples",
                                                   str(Path(self._dialog_dir()) / f"{s.display_name}.csv"),
                                                   ";;".join(filters))
        if not path:
            return
        self._remember_dir(path)
        fmt = EXPORT_FORMATS[filters.index(chosen)][0] if chosen in filters else self.format_for(Path(path))
        self.export_to(Path(path), fmt)

    @staticmethod
    def format_for(path: Path) -> str:
        from gemtune_desktop.core.formats import format_for_suffix

        return format_for_suffix(path) or "jsonl"

    def upload_format(self) -> str:
        from gemtune_desktop.services.connections import Backend

        backend = self.ctx.connections.profile.backend
        return "agent-platform" if backend is Backend.AGENT_PLATFORM else "jsonl"

    def export_for_upload(self) -> None:
        s = self.tab.session
        if s is None:
            return
        fmt = self.upload_format()
        path, _ = QFileDialog.getSaveFileName(
            self.tab, f"Export the upload file ({self.ctx.connections.profile.label})",
            str(Path(self._dialog_dir()) / f"{s.display_name}-{fmt}.jsonl"), "JSON Lines (*.jsonl)")
        if path:
            self._remember_dir(path)
            self.export_to(Path(path), fmt)

    def export_to(self, path: Path, fmt: str) -> bool:
        s = self.tab.session
        if s is None:
            return False
        from gemtune_desktop.core.formats import write_dataset

        self.tab.detail.flush()
        examples = list(s.examples)
        settings = copy_settings(s.settings)

        def work(token: Any) -> Path:
            write_dataset(path, examples, settings, fmt, token=token)
            return path

        if self._export_task.running:
            return False
        self._export_task.start(work, on_result=lambda p: self.ctx.status_message.emit(
                                    f"Exported {len(examples):,} examples to {Path(p).name}", 8000),
                                on_error=self.tab.show_error)
        return True

    def shutdown(self) -> None:
        self._import_task.shutdown()

"""Import and export of the Dataset tab: files read and written on a worker, imports added as one undoable step.

An import reads the file with :func:`gemtune_desktop.core.formats.read_dataset` (progress bar and Cancel
at the bottom of the tab), asks for the columns when their names are not recognised, then adds the
examples (and the file's preamble, if the project has none) as one undo step. An export writes through
the formats module on a worker. The workers, the progress signals and the mapping round trip are shared with
the Preference pairs view (:mod:`.transfer_base`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.formats.model import ColumnMapping, ImportResult
from gemtune_desktop.core.merge import MergePlan, plan_merge
from gemtune_desktop.core.validation import Finding, Severity
from gemtune_desktop.core.words import plural
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.undo import copy_settings
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.ui.dataset.edit_actions import make_action
from gemtune_desktop.ui.dataset.import_choice import ImportMode, ask_import_mode, import_command, merge_report
from gemtune_desktop.ui.dataset.project_files import PROJECT_FILTER, ProjectFiles
from gemtune_desktop.ui.dataset.row_editor import RowEditor
from gemtune_desktop.ui.dataset.transfer_base import TransferBase

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
MAX_LISTED_PROBLEMS = 200


class DatasetTransfer(TransferBase[ColumnMapping]):
    """Reads files into the open project and writes it out.

    Args:
        editor: pushes the import's undo commands (and explains a failed write).
        files: the project files (the open project, the last folder, creating the Untitled project).

    Signals:
        progress_started(str): an import began (text for the progress row).
        progressed(int, int, str): done, total, text.
        progress_ended(): the import is over (done, failed or cancelled).
        imported(int): examples were added from this list index on.
        failed(object): a :class:`UserError` to show.
    """

    def __init__(self, ctx: AppContext, editor: RowEditor, files: ProjectFiles, dialog_parent: QWidget,
                 parent: QObject | None = None) -> None:
        super().__init__(ctx, dialog_parent, "import", parent)
        self._editor = editor
        self._files = files
        self.choice_box: QMessageBox | None = None
        self.actions: dict[str, QAction] = {}
        K = QKeySequence
        for key, text, slot, shortcut, tip in (
                ("import", "&Import Dataset…", self.import_dialog, K("Ctrl+I"),
                 "Add examples from a CSV, TSV, Excel, JSON or JSONL file"),
                ("export", "&Export Dataset…", self.export_dialog, K("Ctrl+E"),
                 "Write the examples to CSV, Excel, JSONL or another format"),
                ("export_upload", "Export Upload &File for the Active Connection…", self.export_for_upload, None,
                 "Write the exact file the active connection's tuning service expects")):
            self.actions[key] = make_action(self, key, text, slot, shortcut, tip)

    def install(self, menu: QMenu) -> None:
        menu.addActions([self.actions["import"], self.actions["export"], self.actions["export_upload"]])

    @property
    def session(self) -> ProjectSession | None:
        return self.ctx.project

    # -- import -----------------------------------------------------------------------------
    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._dialog_parent, "Import examples", self._files.dialog_dir(),
                                              f"{DATASET_FILTER};;{PROJECT_FILTER};;All files (*)")
        if path:
            self._files.remember_dir(path)
            self.import_file(Path(path))

    def import_file(self, path: Path, mapping: ColumnMapping | None = None, sheet: str | None = None) -> bool:
        """Read ``path`` on a worker; when done, add its examples as one undoable step."""
        if self.session is None:
            self._files.open_untitled()
        if self._refuse_second_import():
            return False
        from gemtune_desktop.core.formats import read_dataset

        def work(token: CancelToken, p: Path, m: ColumnMapping | None, sh: str | None) -> ImportResult:
            return read_dataset(p, mapping=m, sheet=sh, token=token)

        self._start_import(f"Importing {path.name}…", work, path, mapping, sheet,
                           on_result=lambda r: self._imported(path, r, sheet))
        return True

    def _imported(self, path: Path, result: ImportResult, sheet: str | None) -> None:
        if result.needs_mapping:
            self._ask_mapping(path, result, sheet)
            return
        s = self.session
        if s is None:
            return
        examples = list(result.examples)
        for e in examples:
            e.id = 0  # new rows of this project
        problems = [f for f in result.findings if f.severity is Severity.ERROR]
        if not examples:
            self._report_import(path, 0, result.findings)
            return
        settings = None
        read = result.settings
        if read is not None and (read.preamble or read.system_instruction) and \
                not (s.settings.preamble or s.settings.system_instruction):
            settings = copy_settings(s.settings)  # the file's preamble, when the project has none
            settings.preamble = read.preamble
            settings.system_instruction = read.system_instruction
        if not s.examples:
            self.add_imported(path, examples, settings, problems, ImportMode.ADD)
            return
        self.choice_box = ask_import_mode(
            self._dialog_parent, path.name, s.examples, examples,
            lambda mode, plan: self.add_imported(path, examples, settings, problems, mode, plan))

    def add_imported(self, path: Path, examples: list[Example], settings: DatasetSettings | None,
                     problems: list[Finding], mode: ImportMode, plan: MergePlan | None = None) -> bool:
        """Add, replace or merge as one undo step; success is reported only when it was written."""
        s = self.session
        if s is None or s.is_closed:
            return False
        command, first = import_command(s, mode, examples, path.name, settings, plan)
        if command is None:
            self.ctx.status_message.emit(f"Nothing to merge: every example of {path.name} is already here.", 8000)
            return True
        if not s.push(command):
            return False  # the session's write_failed message says why; nothing was added
        if first >= 0:
            self.imported.emit(first)
        if mode is ImportMode.MERGE:
            self.ctx.status_message.emit(merge_report(plan or plan_merge(s.examples, examples), path.name), 10000)
            if problems:
                self._report_import(path, len(examples), problems)
            return True
        self._report_import(path, len(examples), problems)
        return True

    def _report_import(self, path: Path, count: int, problems: list[Finding]) -> None:
        text = f"Imported {plural(count, 'example')} from {path.name}."
        self.ctx.status_message.emit(text, 8000)
        if not problems and count:
            return
        box = QMessageBox(QMessageBox.Icon.Warning if problems else QMessageBox.Icon.Information,
                          "Import", text, parent=self._dialog_parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if problems:
            lines = [f"{(f.location() or 'file').capitalize()}: {f.message}" for f in problems[:MAX_LISTED_PROBLEMS]]
            box.setInformativeText(f"{plural(len(problems), 'record')} could not be imported. Fix them in the file "
                                   "and import again, or add them by hand. Undo (Ctrl+Z) removes this import.")
            box.setDetailedText("\n".join(lines))
        else:
            box.setInformativeText("No examples were found in this file.")
        box.open()
        self.report_box = box

    def _ask_mapping(self, path: Path, result: ImportResult, sheet: str | None) -> None:
        from gemtune_desktop.core.formats import default_sheet, guess_mapping, preview
        from gemtune_desktop.ui.dataset.mapping_dialog import ColumnMappingDialog

        try:
            sheet = sheet or default_sheet(path)  # the sheet the preview shows is the one the picker names
            columns, rows, sheets = preview(path, rows=20, sheet=sheet)
        except UserError as exc:
            self.failed.emit(exc)
            return
        def reload(skip: int, chosen: str | None) -> tuple[list[str], list[list[str]]]:
            cols, data, _sheets = preview(path, rows=20, sheet=chosen or sheet, skip_rows=skip)
            return cols, data

        dialog = ColumnMappingDialog(path.name, columns or result.columns or [], rows, sheets, sheet,
                                     guess_mapping(columns or result.columns or []), self._dialog_parent,
                                     reload=reload)
        self._open_mapping(dialog, path, dialog.mapping, dialog.sheet)

    # -- export -----------------------------------------------------------------------------
    def export_dialog(self) -> None:
        s = self.session
        if s is None:
            return
        filters = [f"{label} (*.{ext})" for _fmt, label, ext in EXPORT_FORMATS]
        path, chosen = QFileDialog.getSaveFileName(self._dialog_parent, "Export examples",
                                                   str(Path(self._files.dialog_dir()) / f"{s.display_name}.csv"),
                                                   ";;".join(filters))
        if not path:
            return
        self._files.remember_dir(path)
        fmt = EXPORT_FORMATS[filters.index(chosen)][0] if chosen in filters else self.format_for(Path(path))
        self.export_to(Path(path), fmt)

    @staticmethod
    def format_for(path: Path) -> str:
        from gemtune_desktop.core.formats import format_for_suffix

        return format_for_suffix(path) or "jsonl"

    def upload_format(self) -> str:
        backend = self.ctx.connections.profile.backend
        return "agent-platform" if backend is Backend.AGENT_PLATFORM else "jsonl"

    def export_for_upload(self) -> None:
        s = self.session
        if s is None:
            return
        fmt = self.upload_format()
        path, _ = QFileDialog.getSaveFileName(
            self._dialog_parent, f"Export the upload file ({self.ctx.connections.profile.label})",
            str(Path(self._files.dialog_dir()) / f"{s.display_name}-{fmt}.jsonl"), "JSON Lines (*.jsonl)")
        if path:
            self._files.remember_dir(path)
            self.export_to(Path(path), fmt)

    def export_to(self, path: Path, fmt: str) -> bool:
        s = self.session
        if s is None or self._export_task.running:
            return False
        from gemtune_desktop.core.formats import write_dataset

        self._files.about_to_write.emit()
        refused = s.prepare_export(fmt, path.name)  # what the format cannot hold, before anything is written
        if refused is not None:
            rows = sorted({p.row for p in refused.problems})
            self.ctx.rows_focus_requested.emit([s.examples[r - 1].id for r in rows if 0 < r <= len(s.examples)])
            self.failed.emit(refused)
            return False
        examples = list(s.examples)
        settings = copy_settings(s.settings)

        def work(token: CancelToken) -> Path:
            write_dataset(path, examples, settings, fmt, token=token)
            return path

        self._export_task.start(work, on_result=lambda p: self.ctx.status_message.emit(
            f"Exported {len(examples):,} examples to {Path(p).name}", 8000), on_error=self.failed.emit)
        return True

    def shutdown(self) -> None:
        self._import_task.shutdown()

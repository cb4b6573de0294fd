"""Import and export of preference pairs: files read and written on a worker, an import added as one undoable step.

Reading goes through :func:`gemtune_desktop.core.preference.formats.read_preference_dataset`: Agent Platform's
preference JSONL, JSON or JSON Lines with prompt/chosen/rejected (and the other shapes tools write), and CSV,
TSV or Excel tables with three columns — their encodings and quoting read like the Examples import. When a
table's header names no prompt and answers, the user picks the columns (:mod:`.preference_mapping`). Every
record that could not be read is listed with its line and field; nothing is dropped without saying so.

:func:`file_kind` tells where a file belongs — the Examples or the Preference pairs view — from its first
records (:func:`~gemtune_desktop.core.preference.formats.detect_example_kind`), so dropping or importing a file
takes it to the right view. Exports write every format of
:data:`~gemtune_desktop.core.preference.writers.PREFERENCE_WRITE_FORMATS`. The workers, the progress signals
and the mapping round trip are shared with the Examples view (:mod:`.transfer_base`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.preference.formats import PreferenceImport
from gemtune_desktop.core.preference.model import FIELD_WORDS, ExampleKind, PreferenceExample
from gemtune_desktop.core.preference.records import PreferenceMapping
from gemtune_desktop.core.validation import Finding, Severity
from gemtune_desktop.core.words import plural
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.preference_session import PreferenceSession
from gemtune_desktop.ui.dataset.transfer_base import TransferBase

PREFERENCE_FILTER = "Preference files (*.jsonl *.json *.csv *.tsv *.txt *.xlsx)"
EXPORT_FORMATS = (  # (fmt, label, extension): every format of PREFERENCE_WRITE_FORMATS
    ("agent-platform", "JSON Lines, Agent Platform preference form (the upload file)", "jsonl"),
    ("jsonl", "JSON Lines, prompt/chosen/rejected (TRL, Kiln, LLaMA-Factory)", "jsonl"),
    ("json", "JSON array, prompt/chosen/rejected", "json"),
    ("csv", "CSV (comma-separated, for Excel)", "csv"),
    ("tsv", "TSV (tab-separated)", "tsv"),
    ("xlsx", "Excel workbook", "xlsx"),
)
MAX_LISTED_PROBLEMS = 200
# A table read for preference pairs is read with the Examples reader; its findings name that reader's fields.
_TABLE_FIELDS = {"input": "prompt", "output": "preferred"}


def file_kind(path: Path, preference_view_shown: bool) -> ExampleKind:
    """Whether ``path`` belongs in the Preference pairs view or the Examples view.

    A file whose records or header say "preference" goes to the pairs; a table whose header names neither
    kind goes to the view the user is looking at (its mapping dialog asks for the columns). Raises
    :class:`~gemtune_desktop.core.errors.DatasetReadError` when the file cannot be read at all.
    """
    from gemtune_desktop.core.formats import detect_format, guess_mapping, preview
    from gemtune_desktop.core.preference.formats import TABLE_FORMATS, detect_example_kind

    fmt = detect_format(path)
    if detect_example_kind(path, fmt) is ExampleKind.PREFERENCE:
        return ExampleKind.PREFERENCE
    if preference_view_shown and fmt in TABLE_FORMATS:
        columns, _rows, _sheets = preview(path, rows=1)
        if guess_mapping(columns) is None:
            return ExampleKind.PREFERENCE
    return ExampleKind.SUPERVISED


def problem_line(f: Finding) -> str:
    """One finding of an import as a line: "Line 4, preferred answer: …"."""
    field = _TABLE_FIELDS.get(f.field or "", f.field or "")
    where = f"Line {f.line:,}" if f.line is not None else f"Row {f.row:,}" if f.row is not None else "The file"
    if field:
        where += f", {FIELD_WORDS.get(field, field)}"
    return f"{where}: {f.message}"


class PreferenceTransfer(TransferBase[PreferenceMapping]):
    """Reads files into the project's preference pairs and writes them out.

    Signals:
        progress_started(str), progressed(int, int, str), progress_ended(): a running import.
        imported(int): pairs were added from this list index on.
        failed(object): a :class:`UserError` to show (a file that cannot be read or written).
    """

    def __init__(self, ctx: AppContext, dialog_parent: QWidget, parent: QObject | None = None) -> None:
        super().__init__(ctx, dialog_parent, "preference import", parent)
        self.session: PreferenceSession | None = None

    # -- import -------------------------------------------------------------------------------------------
    def import_file(self, path: Path, mapping: PreferenceMapping | None = None, sheet: str | None = None) -> bool:
        """Read ``path`` on a worker; when done, add its pairs as one undoable step."""
        if self.session is None:
            return False
        if self._refuse_second_import():
            return False
        from gemtune_desktop.core.preference.formats import read_preference_dataset

        def work(token: CancelToken, p: Path, m: PreferenceMapping | None, sh: str | None) -> PreferenceImport:
            return read_preference_dataset(p, mapping=m, sheet=sh, token=token)

        self._start_import(f"Importing preference pairs from {path.name}…", work, path, mapping, sheet,
                           on_result=lambda r: self._read(path, r, sheet))
        return True

    def _read(self, path: Path, result: PreferenceImport, sheet: str | None) -> None:
        if result.needs_mapping:
            self._ask_mapping(path, result, sheet)
            return
        s = self.session
        if s is None or s.is_closed:
            return
        pairs: list[PreferenceExample] = list(result.examples)
        for e in pairs:
            e.id = 0  # new rows of this project
        first = len(s.examples)
        if pairs and not s.import_pairs(pairs, f"Import {path.name}"):
            return  # nothing was added; the session said why
        if pairs:
            self.imported.emit(first)
        self._report(path, len(pairs), result.findings)

    def _report(self, path: Path, count: int, findings: list[Finding]) -> None:
        text = f"Imported {plural(count, 'preference pair')} from {path.name}."
        self.ctx.status_message.emit(text, 8000)
        errors = [f for f in findings if f.severity is Severity.ERROR]
        notes = [f for f in findings if f.severity is not Severity.ERROR]
        if not findings and count:
            return
        box = QMessageBox(QMessageBox.Icon.Warning if errors else QMessageBox.Icon.Information, "Import", text,
                          parent=self._dialog_parent)
        box.setObjectName("preferenceImportReport")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        parts = []
        if errors:
            them = "it is" if len(errors) == 1 else "they are"
            parts.append(f"{plural(len(errors), 'record')} could not be imported ({them} listed under Show "
                         "Details). Fix the file and import it again, or add the pairs by hand.")
        if notes:
            parts.append(f"{plural(len(notes), 'note')} about what was imported (under Show Details).")
        if not count and not errors:
            parts.append("No preference pairs were found in this file.")
        if count:
            parts.append("Undo (Ctrl+Z) removes this import.")
        box.setInformativeText(" ".join(parts))
        if findings:
            listed = errors + notes
            lines = [problem_line(f) for f in listed[:MAX_LISTED_PROBLEMS]]
            if len(listed) > MAX_LISTED_PROBLEMS:
                lines.append(f"… and {len(listed) - MAX_LISTED_PROBLEMS:,} more.")
            box.setDetailedText("\n".join(lines))
        box.open()
        self.report_box = box

    def _ask_mapping(self, path: Path, result: PreferenceImport, sheet: str | None) -> None:
        from gemtune_desktop.core.formats import default_sheet, preview
        from gemtune_desktop.ui.dataset.preference_mapping import PreferenceMappingDialog

        try:
            sheet = sheet or default_sheet(path)  # the sheet the preview shows is the one the picker names
            columns, rows, sheets = preview(path, rows=20, sheet=sheet)
        except UserError as exc:
            self.failed.emit(exc)
            return
        def reload(chosen: str | None) -> tuple[list[str], list[list[str]]]:
            cols, data, _sheets = preview(path, rows=20, sheet=chosen or sheet)
            return cols, data

        dialog = PreferenceMappingDialog(path.name, columns or result.columns, rows, sheets or result.sheets, sheet,
                                         self._dialog_parent, reload=reload)
        self._open_mapping(dialog, path, dialog.mapping, dialog.sheet)

    # -- export -------------------------------------------------------------------------------------------
    def export_dialog(self, start_dir: str, upload: bool = False) -> None:
        s = self.session
        if s is None:
            return
        formats = EXPORT_FORMATS[:1] if upload else EXPORT_FORMATS
        filters = [f"{label} (*.{ext})" for _fmt, label, ext in formats]
        name = f"{s.project.display_name}-preference.jsonl"
        title = "Export the preference upload file (Agent Platform)" if upload else "Export preference pairs"
        path, chosen = QFileDialog.getSaveFileName(self._dialog_parent, title, str(Path(start_dir) / name),
                                                   ";;".join(filters))
        if not path:
            return
        self.ctx.settings.set(S.LAST_DIR, str(Path(path).parent))
        self.export_to(Path(path), chosen_format(Path(path), formats[filters.index(chosen)] if chosen in filters
                                                 else None))

    def export_to(self, path: Path, fmt: str) -> bool:
        """Write every pair to ``path`` in ``fmt`` on a worker (the project file is brought up to date first)."""
        s = self.session
        if s is None or self._export_task.running:
            return False
        from gemtune_desktop.core.preference.writers import write_preferences

        s.project.flush()
        pairs = [e.copy() for e in s.examples]
        settings = s.settings

        def work(token: CancelToken) -> Path:
            write_preferences(path, pairs, settings, fmt, token=token)
            return path

        self._export_task.start(work, on_result=lambda p: self.ctx.status_message.emit(
            f"Exported {plural(len(pairs), 'preference pair')} to {Path(p).name}", 8000), on_error=self.failed.emit)
        return True

    def shutdown(self) -> None:
        self._import_task.shutdown()
        self._export_task.shutdown()


def chosen_format(path: Path, picked: tuple[str, str, str] | None) -> str:
    """The format to write: the file type picked in the dialog, unless the name typed says another
    ("pairs.csv" typed while "JSON Lines" is picked writes CSV)."""
    suffix = path.suffix.lower().lstrip(".")
    if picked is None or (suffix in _SUFFIX_FORMATS and suffix != picked[2]):
        return format_for(path)
    return picked[0]


_SUFFIX_FORMATS = {"json", "jsonl", "csv", "tsv", "txt", "xlsx"}


def format_for(path: Path) -> str:
    """The export format a file name asks for (``.jsonl``: the Agent Platform upload form)."""
    suffix = path.suffix.lower().lstrip(".")
    return {"json": "json", "csv": "csv", "tsv": "tsv", "txt": "tsv", "xlsx": "xlsx"}.get(suffix, "agent-platform")

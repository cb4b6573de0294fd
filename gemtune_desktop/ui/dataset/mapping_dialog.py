"""The column-mapping dialog of an import: which row holds the column names, which columns hold the input and
the output, with a readable preview (wrap long cells, or read a whole cell below the table).

The Sheet row and the Import / Cancel buttons are shared with the preference pairs' mapping dialog
(:func:`add_sheet_picker`, :func:`import_buttons`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.formats.model import ColumnMapping
from gemtune_desktop.ui.widgets.status_line import Tone, error_text

NONE_LABEL = "(none)"
MAX_HEADER_ROW = 20
Reload = Callable[[int, str | None], tuple[Sequence[str], Sequence[Sequence[Any]]]]  # skip_rows, sheet

_FIELDS = (
    ("input", "&Input column", False, "The column with what the model is given"),
    ("output", "&Output column", False, "The column with the answer the model should learn"),
    ("split", "S&plit column", True, "Optional: a column saying train, validation or test"),
    ("tags", "&Tags column", True, "Optional: your own labels"),
    ("note", "&Note column", True, "Optional: notes (not sent for tuning)"),
)


class ColumnMappingDialog(QDialog):
    """Ask which columns hold the input and the output when their names were not recognised.

    Args:
        reload: reads the preview again with that many rows above the header skipped (title rows); without
            it the header row cannot be changed.
    """

    def __init__(self, file_name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                 sheets: Sequence[str] = (), sheet: str | None = None, guess: ColumnMapping | None = None,
                 parent: QWidget | None = None, reload: Reload | None = None, skip_rows: int = 0) -> None:
        super().__init__(parent)
        from PySide6.QtCore import Qt

        self.setWindowTitle("Which columns are which?")
        self.setObjectName("columnMappingDialog")
        self.resize(900, 620)
        self.columns = list(columns)
        self._reload = reload
        intro = QLabel(f"The column names in “{file_name}” were not recognised. Say which row holds the column "
                       "names, then pick the column with the input (what the model is given) and the one with the "
                       "output (what it should answer).", self)
        intro.setWordWrap(True)
        form = QFormLayout()
        self.sheet_combo = add_sheet_picker(self, form, sheets, sheet)
        self.header_row = QSpinBox(self)
        self.header_row.setObjectName("headerRow")
        self.header_row.setRange(1, MAX_HEADER_ROW)
        self.header_row.setValue(skip_rows + 1)
        self.header_row.setEnabled(reload is not None)
        self.header_row.setToolTip("The row with the column names (blank rows not counted); the rows above it — a "
                                   "title, a date, notes — are skipped")
        self.header_row.setAccessibleName("Row with the column names")
        self.header_row.setMaximumWidth(90)
        header_line = QHBoxLayout()
        header_line.addWidget(self.header_row)
        header_line.addWidget(QLabel("(rows above it, such as a title or a date, are skipped)", self), 1)
        caption = QLabel("Column &names in row", self)
        caption.setBuddy(self.header_row)
        form.addRow(caption, header_line)
        self.combos: dict[str, QComboBox] = {}
        for key, label, _optional, tip in _FIELDS:
            combo = QComboBox(self)
            combo.setToolTip(tip)
            combo.setAccessibleName(label.replace("&", ""))
            form.addRow(label, combo)
            self.combos[key] = combo
        self._build_preview()
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = import_buttons(self)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        preview_row = QHBoxLayout()
        preview_row.addWidget(QLabel("Preview:", self))
        preview_row.addStretch(1)
        preview_row.addWidget(self.wrap)
        layout.addLayout(preview_row)
        layout.addWidget(self.preview_split, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._fill(self.columns, rows, guess)
        for combo in self.combos.values():
            combo.currentIndexChanged.connect(self._validate)
        self.header_row.valueChanged.connect(self._header_moved)
        if self.sheet_combo is not None and reload is not None:
            self.sheet_combo.currentTextChanged.connect(self._sheet_changed)
        self._validate()
        if reload is not None and skip_rows == 0:
            self._start_at_suggested_header(rows)

    def _start_at_suggested_header(self, rows: Sequence[Sequence[Any]]) -> None:
        suggested = suggest_header_row(self.columns, rows)
        if suggested > 1:
            self.header_row.setValue(suggested)  # a title above the header: start from the real one

    def _build_preview(self) -> None:
        """The first rows of the file, one line per cell or wrapped, and the selected cell in full below."""
        from PySide6.QtCore import Qt

        self.table = QTableWidget(0, 0, self)
        self.table.setObjectName("mappingPreview")
        self.table.setAccessibleName("Preview of the first rows of the file")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setDefaultSectionSize(260)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.wrap = QCheckBox("&Wrap long text", self)
        self.wrap.setObjectName("wrapPreview")
        self.wrap.setToolTip("Show whole cells on several lines instead of one line each")
        self.wrap.toggled.connect(self._set_wrap)
        self.cell_view = QPlainTextEdit(self)
        self.cell_view.setObjectName("cellText")
        self.cell_view.setReadOnly(True)
        self.cell_view.setAccessibleName("The whole text of the selected cell")
        self.cell_view.setPlaceholderText("Click a cell to read all of it here.")
        self.table.currentCellChanged.connect(lambda r, c, _r, _c: self._show_cell(r, c))
        self.preview_split = QSplitter(Qt.Orientation.Vertical, self)
        self.preview_split.addWidget(self.table)
        self.preview_split.addWidget(self.cell_view)
        self.preview_split.setStretchFactor(0, 3)
        self.preview_split.setStretchFactor(1, 1)

    # -- contents -------------------------------------------------------------------------------
    def _fill(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], guess: ColumnMapping | None) -> None:
        self.columns = list(columns)
        for key, _label, optional, _tip in _FIELDS:
            set_column_choices(self.combos[key], self.columns, optional)
        if not guess and len(self.columns) >= 2:
            self.combos["input"].setCurrentIndex(0)
            self.combos["output"].setCurrentIndex(1)
        if guess is not None:
            for key, value in (("input", guess.input_column), ("output", guess.output_column),
                               ("split", guess.split_column), ("tags", guess.tags_column),
                               ("note", guess.note_column)):
                i = self.combos[key].findData(value) if value is not None else -1
                if i >= 0:
                    self.combos[key].setCurrentIndex(i)
        self.table.clear()
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(self.columns))
        self.table.setHorizontalHeaderLabels([c or "(unnamed)" for c in self.columns])
        for r, row in enumerate(rows):
            for col, value in enumerate(list(row)[:len(self.columns)]):
                text = "" if value is None else str(value)
                item = QTableWidgetItem(text if self.wrap.isChecked() else _one_line(text))
                item.setData(_FULL_TEXT_ROLE, text)
                item.setToolTip(text[:2000])
                self.table.setItem(r, col, item)
        self._set_wrap(self.wrap.isChecked())
        self.cell_view.clear()

    def _set_wrap(self, on: bool) -> None:
        self.table.setWordWrap(on)
        for r in range(self.table.rowCount()):
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                if item is not None:
                    full = str(item.data(_FULL_TEXT_ROLE) or "")
                    item.setText(full if on else _one_line(full))
        if on:
            self.table.resizeRowsToContents()
        else:
            for r in range(self.table.rowCount()):
                self.table.setRowHeight(r, self.table.verticalHeader().defaultSectionSize())

    def _show_cell(self, row: int, column: int) -> None:
        item = self.table.item(row, column) if row >= 0 and column >= 0 else None
        self.cell_view.setPlainText(str(item.data(_FULL_TEXT_ROLE) or "") if item is not None else "")

    def _header_moved(self, value: int) -> None:
        self._load(value - 1)

    def _sheet_changed(self) -> None:
        """Another sheet: its columns and first rows, from its own header row (found as on opening)."""
        self.header_row.blockSignals(True)
        self.header_row.setValue(1)
        self.header_row.blockSignals(False)
        rows = self._load(0)
        if rows is not None:
            self._start_at_suggested_header(rows)

    def _load(self, skip_rows: int) -> Sequence[Sequence[Any]] | None:
        """Read the chosen sheet again with ``skip_rows`` rows above its header; the rows shown, or None."""
        if self._reload is None:
            return None
        from gemtune_desktop.core.errors import UserError
        from gemtune_desktop.core.formats import guess_mapping

        try:
            columns, rows = self._reload(skip_rows, self.sheet())
        except UserError as exc:
            self.problem.setText(error_text(exc, tone=Tone.PLAIN))
            return None
        self._fill(columns, rows, guess_mapping(list(columns)))
        self._validate()
        return rows

    def _validate(self, *_args: object) -> None:
        a, b = self.combos["input"].currentData(), self.combos["output"].currentData()
        ok = a is not None and b is not None and a != b
        self.problem.setText("" if ok else "Input and output must be two different columns.")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    # -- the answer ------------------------------------------------------------------------------
    @property
    def skip_rows(self) -> int:
        return self.header_row.value() - 1

    def sheet(self) -> str | None:
        return self.sheet_combo.currentText() if self.sheet_combo is not None else None

    def mapping(self) -> ColumnMapping:
        c = self.combos
        return ColumnMapping(c["input"].currentData(), c["output"].currentData(), c["split"].currentData(),
                             c["tags"].currentData(), c["note"].currentData(), skip_rows=self.skip_rows)


_FULL_TEXT_ROLE = 0x0100 + 7  # Qt.ItemDataRole.UserRole + 7, without touching the Qt namespace at import


def set_column_choices(combo: QComboBox, columns: Sequence[str], optional: bool, current: int = -1) -> None:
    """Offer ``columns`` in ``combo`` (after "(none)" when the field is optional), choosing ``current`` if given,
    without announcing the change (the dialog validates once all its boxes are filled)."""
    combo.blockSignals(True)
    combo.clear()
    if optional:
        combo.addItem(NONE_LABEL, None)
    for c in columns:
        combo.addItem(c or "(unnamed)", c)
    if 0 <= current < len(columns):
        combo.setCurrentIndex(current)
    combo.blockSignals(False)


def add_sheet_picker(dialog: QDialog, form: QFormLayout, sheets: Sequence[str], sheet: str | None
                     ) -> QComboBox | None:
    """A Sheet row in ``form`` when the workbook has more than one worksheet (``sheet`` chosen at first)."""
    if len(sheets) <= 1:
        return None
    combo = QComboBox(dialog)
    combo.addItems(list(sheets))
    if sheet:
        combo.setCurrentText(sheet)
    combo.setToolTip("The worksheet to import")
    form.addRow("&Sheet", combo)
    return combo


def import_buttons(dialog: QDialog) -> QDialogButtonBox:
    """Import and Cancel, accepting or rejecting ``dialog``."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def _one_line(text: str) -> str:
    short = text[:300]
    return short.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\r", " ⏎ ") + ("…" if len(text) > 300 else "")


def suggest_header_row(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """The row (1-based, as in the dialog) that most likely holds the column names: when the first row has fewer
    cells than the rows below it (a title), the first row that fills as many cells as the widest row."""
    widths = [sum(1 for c in row if c not in (None, "")) for row in rows]
    widest = max(widths, default=0)
    if widest <= sum(1 for c in columns if c):
        return 1
    for i, width in enumerate(widths):
        if width == widest:
            return i + 2  # rows[0] is the row under the first row
    return 1

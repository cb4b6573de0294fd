"""The column-mapping dialog of a preference import: which columns hold the prompt and the two answers.

Asked when a CSV, TSV or Excel table's header does not name them in a way GemTune recognises (as the
Examples import asks for the input and output columns), with a preview of the first rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.preference.records import PreferenceMapping
from gemtune_desktop.ui.dataset.mapping_dialog import add_sheet_picker, import_buttons, set_column_choices
from gemtune_desktop.ui.widgets.status_line import Tone, error_text

REQUIRED = ("prompt", "preferred", "dispreferred")
SheetReload = Callable[[str | None], tuple[Sequence[str], Sequence[Sequence[Any]]]]  # sheet → columns, rows
FIELDS = (  # key, label, optional, tip
    ("prompt", "&Prompt column", False, "The column with what the model is asked"),
    ("preferred", "P&referred answer column", False, "The column with the answer people preferred"),
    ("dispreferred", "&Dispreferred answer column", False, "The column with the answer people did not prefer"),
    ("system", "S&ystem instruction column", True, "Optional: a system instruction for each pair"),
    ("split", "S&plit column", True, "Optional: a column saying train, validation or test"),
    ("tags", "&Tags column", True, "Optional: your own labels"),
    ("note", "&Note column", True, "Optional: notes (not sent for tuning)"),
)


class PreferenceMappingDialog(QDialog):
    """Ask which columns hold the prompt, the preferred and the dispreferred answer."""

    def __init__(self, file_name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                 sheets: Sequence[str] = (), sheet: str | None = None, parent: QWidget | None = None,
                 reload: SheetReload | None = None) -> None:
        super().__init__(parent)
        self._reload = reload
        self.setWindowTitle("Which columns are which?")
        self.setObjectName("preferenceMappingDialog")
        self.resize(780, 500)
        self.columns = list(columns)
        intro = QLabel(f"GemTune did not recognise the column names in “{file_name}”. Pick the column with the "
                       "prompt, the one with the preferred answer (the better one) and the one with the "
                       "dispreferred answer.", self)
        intro.setWordWrap(True)
        form = QFormLayout()
        self.sheet_combo = add_sheet_picker(self, form, sheets, sheet)
        self.combos: dict[str, QComboBox] = {}
        for key, label, _optional, tip in FIELDS:
            combo = QComboBox(self)
            combo.setObjectName(f"map_{key}")
            combo.setToolTip(tip)
            combo.setAccessibleName(label.replace("&", ""))
            form.addRow(label, combo)
            self.combos[key] = combo
        self.table = QTableWidget(0, 0, self)
        self.table.setObjectName("preferenceMappingPreview")
        self.table.setAccessibleName("Preview of the first rows of the file")
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)  # the preview uses the dialog's width
        self.table.horizontalHeader().setDefaultSectionSize(180)
        self._fill(columns, rows)
        self.problem = QLabel(self)
        self.problem.setObjectName("mappingProblem")
        self.problem.setWordWrap(True)
        self.buttons = import_buttons(self)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(QLabel("Preview:", self))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for combo in self.combos.values():
            combo.currentIndexChanged.connect(self._validate)
        if self.sheet_combo is not None and reload is not None:
            self.sheet_combo.currentTextChanged.connect(self._sheet_changed)
        self._validate()

    def _fill(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """The column choices (the first three columns, in order, as a start) and the preview of ``rows``."""
        self.columns = list(columns)
        for n, (key, _label, optional, _tip) in enumerate(FIELDS):
            set_column_choices(self.combos[key], self.columns, optional, n if key in REQUIRED else -1)
        table = self.table
        table.clear()
        table.setRowCount(len(rows))
        table.setColumnCount(len(self.columns))
        table.setHorizontalHeaderLabels([c or "(unnamed)" for c in self.columns])
        for r, row in enumerate(rows):
            for col, value in enumerate(list(row)[:len(self.columns)]):
                text = "" if value is None else str(value)
                item = QTableWidgetItem(text[:200].replace("\n", " ⏎ "))
                item.setToolTip(text[:2000])
                table.setItem(r, col, item)

    def _sheet_changed(self) -> None:
        if self._reload is None:
            return
        from gemtune_desktop.core.errors import UserError

        try:
            columns, rows = self._reload(self.sheet())
        except UserError as exc:
            self.problem.setText(error_text(exc, tone=Tone.PLAIN))
            return
        self._fill(columns, rows)
        self._validate()

    def _validate(self) -> None:
        chosen = [self.combos[k].currentData() for k in REQUIRED]
        optional = [c.currentData() for k, c in self.combos.items() if k not in REQUIRED]
        used = [c for c in chosen + optional if c is not None]
        if len(self.columns) < 3:
            text = (f"The file has {len(self.columns)} column{'s' if len(self.columns) != 1 else ''}; a preference "
                    "table needs three: a prompt, a preferred and a dispreferred answer.")
        elif any(c is None for c in chosen):
            text = "Pick a column for the prompt and for each answer."
        elif len(set(used)) < len(used):
            text = "Each column can be used once: pick a different column for each field."
        else:
            text = ""
        self.problem.setText(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not text)

    def sheet(self) -> str | None:
        return self.sheet_combo.currentText() if self.sheet_combo is not None else None

    def mapping(self) -> PreferenceMapping:
        c = self.combos
        return PreferenceMapping(c["prompt"].currentData(), c["preferred"].currentData(),
                                 c["dispreferred"].currentData(), c["split"].currentData(), c["tags"].currentData(),
                                 c["note"].currentData(), c["system"].currentData())

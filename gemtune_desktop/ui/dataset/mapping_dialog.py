"""The column-mapping dialog of an import: which columns hold the input and the output, with a preview."""

from __future__ import annotations

from collections.abc import Sequence
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

from gemtune_desktop.core.formats.model import ColumnMapping

NONE_LABEL = "(none)"


class ColumnMappingDialog(QDialog):
    """Ask which columns hold the input and the output when their names were not recognised."""

    def __init__(self, file_name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                 sheets: Sequence[str] = (), sheet: str | None = None, guess: ColumnMapping | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Which columns are which?")
        self.setObjectName("columnMappingDialog")
        self.resize(760, 460)
        self.columns = list(columns)
        intro = QLabel(f"The column names in “{file_name}” were not recognised. Pick the column with the input "
                       "(what the model is given) and the one with the output (what it should answer).", self)
        intro.setWordWrap(True)
        form = QFormLayout()
        self.sheet_combo: QComboBox | None = None
        if len(sheets) > 1:
            self.sheet_combo = QComboBox(self)
            self.sheet_combo.addItems(list(sheets))
            if sheet:
                self.sheet_combo.setCurrentText(sheet)
            self.sheet_combo.setToolTip("The worksheet to import")
            form.addRow("&Sheet", self.sheet_combo)
        self.combos: dict[str, QComboBox] = {}
        for key, label, optional, tip in (
                ("input", "&Input column", False, "The column with what the model is given"),
                ("output", "&Output column", False, "The column with the answer the model should learn"),
                ("split", "S&plit column", True, "Optional: a column saying train, validation or test"),
                ("tags", "&Tags column", True, "Optional: your own labels"),
                ("note", "&Note column", True, "Optional: notes (not sent for tuning)")):
            combo = QComboBox(self)
            if optional:
                combo.addItem(NONE_LABEL, None)
            for c in self.columns:
                combo.addItem(c or "(unnamed)", c)
            combo.setToolTip(tip)
            combo.setAccessibleName(label.replace("&", ""))
            form.addRow(label, combo)
            self.combos[key] = combo
        if not guess and len(self.columns) >= 2:
            self.combos["input"].setCurrentIndex(0)
            self.combos["output"].setCurrentIndex(1)
        if guess is not None:
            for key, value in (("input", guess.input_column), ("output", guess.output_column),
                               ("split", guess.split_column), ("tags", guess.tags_column),
                               ("note", guess.note_column)):
                if value is not None:
                    i = self.combos[key].findData(value)
                    if i >= 0:
                        self.combos[key].setCurrentIndex(i)
        self.table = QTableWidget(len(rows), len(self.columns), self)
        self.table.setObjectName("mappingPreview")
        self.table.setAccessibleName("Preview of the first rows of the file")
        self.table.setHorizontalHeaderLabels([c or "(unnamed)" for c in self.columns])
        for r, row in enumerate(rows):
            for col, value in enumerate(list(row)[:len(self.columns)]):
                text = "" if value is None else str(value)
                item = QTableWidgetItem(text[:200].replace("\n", " ⏎ "))
                item.setToolTip(text[:2000])
                self.table.setItem(r, col, item)
        self.table.setWordWrap(False)
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(QLabel("Preview:", self))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for combo in self.combos.values():
            combo.currentIndexChanged.connect(self._validate)
        self._validate()

    def _validate(self) -> None:
        a, b = self.combos["input"].currentData(), self.combos["output"].currentData()
        ok = a is not None and b is not None and a != b
        self.problem.setText("" if ok else "Input and output must be two different columns.")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def sheet(self) -> str | None:
        return self.sheet_combo.currentText() if self.sheet_combo is not None else None

    def mapping(self) -> ColumnMapping:
        c = self.combos
        return ColumnMapping(c["input"].currentData(), c["output"].currentData(), c["split"].currentData(),
                             c["tags"].currentData(), c["note"].currentData())

"""Dialogs of the Dataset tab: find & replace, split, and column mapping for imports."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.examples import Example


# -- find & replace -------------------------------------------------------------------------
def _pattern(find: str, match_case: bool) -> re.Pattern[str]:
    return re.compile(re.escape(find), 0 if match_case else re.IGNORECASE)


def plan_replace(examples: Sequence[Example], find: str, replace: str, fields: Sequence[str],
                 match_case: bool = False) -> list[tuple[Example, str, str]]:
    """The ``(example, field, new text)`` changes that replace every ``find`` with ``replace``."""
    if not find:
        return []
    pat = _pattern(find, match_case)
    out: list[tuple[Example, str, str]] = []
    needle = find if match_case else find.lower()
    for e in examples:
        for field in fields:
            text: str = getattr(e, field)
            hay = text if match_case else text.lower()
            if needle in hay:
                out.append((e, field, pat.sub(lambda _m: replace, text)))
    return out


def matches(example: Example, find: str, fields: Sequence[str], match_case: bool = False) -> bool:
    if not find:
        return False
    needle = find if match_case else find.lower()
    return any(needle in (getattr(example, f) if match_case else getattr(example, f).lower()) for f in fields)


class FindReplaceDialog(QDialog):
    """Non-modal find & replace over input and output.

    Signals:
        find_next_requested(): select the next row that matches.
        replace_all_requested(): replace every match (one undo step).
    """

    find_next_requested = Signal()
    replace_all_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find and Replace")
        self.setObjectName("findReplaceDialog")
        form = QFormLayout()
        self.find_edit = QLineEdit(self)
        self.find_edit.setAccessibleName("Find")
        self.find_edit.setToolTip("The text to look for")
        self.replace_edit = QLineEdit(self)
        self.replace_edit.setAccessibleName("Replace with")
        self.replace_edit.setToolTip("The text to put in its place (leave empty to delete the found text)")
        form.addRow("&Find:", self.find_edit)
        form.addRow("Replace &with:", self.replace_edit)
        self.in_input = QCheckBox("In &input", self)
        self.in_input.setChecked(True)
        self.in_output = QCheckBox("In &output", self)
        self.in_output.setChecked(True)
        self.match_case = QCheckBox("Match &case", self)
        self.selection_only = QCheckBox("Only the &selected rows", self)
        self.selection_only.setToolTip("Replace only in the rows selected in the table")
        checks = QHBoxLayout()
        for c in (self.in_input, self.in_output, self.match_case, self.selection_only):
            checks.addWidget(c)
        self.result_label = QLabel(self)
        self.result_label.setObjectName("findResult")
        self.result_label.setWordWrap(True)
        buttons = QHBoxLayout()
        self.next_button = QPushButton("Find &Next", self)
        self.next_button.setDefault(True)
        self.next_button.setToolTip("Select the next row containing the text")
        self.replace_button = QPushButton("Replace &All", self)
        self.replace_button.setToolTip("Replace every match at once (Undo puts them all back)")
        close = QPushButton("Close", self)
        for b in (self.next_button, self.replace_button, close):
            buttons.addWidget(b)
        self.next_button.clicked.connect(self.find_next_requested)
        self.replace_button.clicked.connect(self.replace_all_requested)
        close.clicked.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(checks)
        layout.addWidget(self.result_label)
        layout.addLayout(buttons)

    def fields(self) -> list[str]:
        return [f for f, box in (("input", self.in_input), ("output", self.in_output)) if box.isChecked()]

    def show_for(self, replace: bool, initial: str = "") -> None:
        if initial:
            self.find_edit.setText(initial)
        self.replace_edit.setEnabled(True)
        self.show()
        (self.replace_edit if replace and self.find_edit.text() else self.find_edit).setFocus()


# -- split ----------------------------------------------------------------------------------
class SplitDialog(QDialog):
    """Ratios (percent) and the random seed for a train / validation / test split."""

    def __init__(self, ratios: tuple[float, float, float], seed: int, total: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Split into Train, Validation and Test")
        self.total = total
        intro = QLabel("Examples are assigned at random with the ratios you pick. The same seed always gives "
                       "the same split. Identical inputs are kept on the same side so the model is not "
                       "tested on what it trained on.", self)
        intro.setWordWrap(True)
        form = QFormLayout()
        self.spins: list[QDoubleSpinBox] = []
        for label, value, tip in (("&Train %", ratios[0], "Share of examples the model learns from"),
                                  ("&Validation %", ratios[1], "Share used to measure progress while tuning"),
                                  ("T&est %", ratios[2], "Share kept aside for your own evaluation")):
            spin = QDoubleSpinBox(self)
            spin.setRange(0.0, 100.0)
            spin.setDecimals(1)
            spin.setSuffix(" %")
            spin.setValue(round(value * 100, 1))
            spin.setToolTip(tip)
            spin.setAccessibleName(label.replace("&", ""))
            spin.valueChanged.connect(self._update)
            form.addRow(label, spin)
            self.spins.append(spin)
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 2_000_000_000)
        self.seed.setValue(seed)
        self.seed.setToolTip("Any number; change it to get a different random split")
        self.seed.setAccessibleName("Random seed")
        form.addRow("Random &seed", self.seed)
        self.preview = QLabel(self)
        self.preview.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Split")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.preview)
        layout.addWidget(self.buttons)
        self._update()

    def ratios(self) -> tuple[float, float, float]:
        values = [s.value() for s in self.spins]
        total = sum(values) or 1.0
        return (values[0] / total, values[1] / total, values[2] / total)

    def _update(self) -> None:
        values = [s.value() for s in self.spins]
        ok = sum(values) > 0
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        if not ok:
            self.preview.setText("At least one share must be above 0 %.")
            return
        r = self.ratios()
        counts = [round(self.total * x) for x in r]
        text = (f"About {counts[0]:,} train, {counts[1]:,} validation and {counts[2]:,} test examples "
                f"of {self.total:,}.")
        if abs(sum(values) - 100.0) > 0.05:
            text += " (The shares are scaled to add up to 100 %.)"
        self.preview.setText(text)


# -- column mapping -------------------------------------------------------------------------
NONE_LABEL = "(none)"


class ColumnMappingDialog(QDialog):
    """Ask which columns hold the input and the output when their names were not recognised."""

    def __init__(self, file_name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                 sheets: Sequence[str] = (), sheet: str | None = None, guess: Any = None,
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
            for key, attr in (("input", "input_column"), ("output", "output_column"), ("split", "split_column"),
                              ("tags", "tags_column"), ("note", "note_column")):
                value = getattr(guess, attr, None)
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

    def mapping(self) -> Any:
        from gemtune_desktop.core.formats.model import ColumnMapping

        c = self.combos
        return ColumnMapping(c["input"].currentData(), c["output"].currentData(), c["split"].currentData(),
                             c["tags"].currentData(), c["note"].currentData())

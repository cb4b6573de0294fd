"""Pasting rows that need a look first: cells with control characters, or columns laid out differently from
input, output (then split, tags, note). The preview shows the rows as they would come in, lets the user say
which column holds what, and removes the control characters unless told not to."""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.clipboard import COPY_COLUMNS
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.formats.model import guess_mapping, parse_split

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PREVIEW_ROWS = 50
FIELD_LABELS = {"input": "Input", "output": "Output", "split": "Split", "tags": "Tags", "note": "Note", "": "(skip)"}


def visible(text: str) -> str:
    """Control characters as their visible symbols (U+2400…), line breaks as ⏎."""
    text = CONTROL.sub(lambda m: chr(0x2400 + ord(m.group())) if m.group() != "\x7f" else "␡", text)
    return text.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\r", " ⏎ ")


def layout_of(rows: Sequence[Sequence[str]]) -> tuple[list[str], bool]:
    """(the field of each column, whether the first row names them) as the paste would read them."""
    width = max((len(r) for r in rows), default=0)
    mapping = guess_mapping(list(rows[0])) if rows else None
    if mapping is not None:
        names = {mapping.input_column: "input", mapping.output_column: "output", mapping.split_column: "split",
                 mapping.tags_column: "tags", mapping.note_column: "note"}
        return [names.get(h, "") for h in rows[0]] + [""] * (width - len(rows[0])), True
    return [COPY_COLUMNS[i] if i < len(COPY_COLUMNS) else "" for i in range(width)], False


def paste_concerns(rows: Sequence[Sequence[str]]) -> list[str]:
    """Why the rows deserve a preview before they are added (empty: paste at once)."""
    out: list[str] = []
    cells = sum(1 for r in rows for c in r if CONTROL.search(c))
    if cells:
        out.append(f"{cells:,} cell{'s' if cells != 1 else ''} hold{'s' if cells == 1 else ''} control characters "
                   "(invisible codes copied from another program), shown here as symbols.")
    widths = {len(r) for r in rows}
    _fields, named = layout_of(rows)
    if len(widths) > 1:
        out.append("The rows do not all have the same number of columns.")
    elif not named and max(widths, default=0) > 2:
        out.append(f"The rows have {max(widths)} columns and no header row: say which column holds what.")
    return out


def build_examples(rows: Sequence[Sequence[str]], fields: Sequence[str], skip_header: bool,
                   strip_control: bool) -> list[Example]:
    out: list[Example] = []
    for r in rows[1:] if skip_header else rows:
        e = Example("", "")
        for field, value in zip(fields, r, strict=False):
            if strip_control:
                value = CONTROL.sub("", value)
            if field == "split":
                e.split = parse_split(value) or e.split
            elif field:
                setattr(e, field, value)
        out.append(e)
    return [e for e in out if e.input.strip() or e.output.strip()]


class PastePreviewDialog(QDialog):
    """What the pasted rows would become; Paste adds them (one undo step), Cancel adds nothing."""

    def __init__(self, rows: Sequence[Sequence[str]], concerns: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pastePreview")
        self.setWindowTitle("Check the pasted rows")
        self.resize(820, 520)
        self.rows = [list(r) for r in rows]
        fields, self.named = layout_of(self.rows)
        width = len(fields)
        intro = QLabel("Before these rows are added:\n• " + "\n• ".join(concerns), self)
        intro.setObjectName("pasteConcerns")
        intro.setWordWrap(True)
        grid = QGridLayout()
        self.combos: list[QComboBox] = []
        for c in range(width):
            combo = QComboBox(self)
            for key, label in FIELD_LABELS.items():
                combo.addItem(label, key)
            combo.setCurrentIndex(combo.findData(fields[c]))
            combo.setAccessibleName(f"What column {c + 1} holds")
            combo.currentIndexChanged.connect(self._validate)
            grid.addWidget(QLabel(f"Column {c + 1}", self), 0, c)
            grid.addWidget(combo, 1, c)
            self.combos.append(combo)
        self.clean = QCheckBox("&Remove the control characters", self)
        self.clean.setObjectName("stripControl")
        self.clean.setChecked(True)
        self.clean.setVisible(any(CONTROL.search(c) for r in self.rows for c in r))
        shown = self.rows[: PREVIEW_ROWS + (1 if self.named else 0)]
        self.table = QTableWidget(len(shown), width, self)
        self.table.setObjectName("pastePreviewTable")
        self.table.setAccessibleName("The pasted rows")
        self.table.setWordWrap(False)
        for r, row in enumerate(shown):
            for c, value in enumerate(row):
                item = QTableWidgetItem(visible(value)[:300])
                item.setToolTip(visible(value)[:2000])
                self.table.setItem(r, c, item)
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(grid)
        layout.addWidget(self.clean)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._validate()

    def fields(self) -> list[str]:
        return [str(c.currentData() or "") for c in self.combos]

    def examples(self) -> list[Example]:
        return build_examples(self.rows, self.fields(), self.named, self.clean.isChecked())

    def _validate(self, *_args: object) -> None:
        fields = [f for f in self.fields() if f]
        ok = "input" in fields and "output" in fields and len(fields) == len(set(fields))
        n = len(self.examples()) if ok else 0
        self.problem.setText("" if ok else "Pick one column for the input and one for the output (each field once).")
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        button.setText(f"Paste {n:,} row{'s' if n != 1 else ''}")
        button.setEnabled(ok and n > 0)

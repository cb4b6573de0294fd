"""Per-row results of an evaluation run (a table model) and the word diff of expected vs actual.

The diff marks removed words as ``[-word-]`` on red and added words as ``{+word+}`` on green,
so it reads without colour too.
"""

from __future__ import annotations

import difflib
import html
import re
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from gemtune_desktop.core.generation import category_label
from gemtune_desktop.core.project.evals_repo import EvalRow
from gemtune_desktop.services.eval_plan import RowGroup

AnyIndex = QModelIndex | QPersistentModelIndex
_WORDS = re.compile(r"\S+\s*|\s+")  # each word with the spaces after it


def word_diff_html(expected: str, actual: str) -> str:
    """HTML showing how ``actual`` differs from ``expected``, word by word."""
    a = _WORDS.findall(expected)
    b = _WORDS.findall(actual)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # Mostly different texts read better as one removal and one addition than as a word salad.
    ops = matcher.get_opcodes() if matcher.ratio() >= 0.3 else [("replace", 0, len(a), 0, len(b))]
    out: list[str] = []
    for op, i1, i2, j1, j2 in ops:
        if op == "equal":
            out.append(html.escape("".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            removed = html.escape("".join(a[i1:i2]))
            out.append(f'<span style="background:#ffd7d7;color:#7a0000;text-decoration:line-through">'
                       f"[-{removed}-]</span>")
        if op in ("insert", "replace"):
            added = html.escape("".join(b[j1:j2]))
            out.append(f'<span style="background:#d4f7d4;color:#005a00;text-decoration:underline">'
                       f"{{+{added}+}}</span>")
    body = "".join(out).replace("\n", "<br>")
    return f'<div style="white-space:pre-wrap">{body}</div>'


def answer_words(row: EvalRow | None) -> str:
    if row is None:
        return "(not run yet)"
    if row.error:
        return f"✖ {row.error}"
    if row.blocked:
        return f"⛔ blocked ({category_label(row.blocked)})" + (f": {row.actual}" if row.actual else "")
    return row.actual


class EvalRowsModel(QAbstractTableModel):
    """One row per example: input, expected, and each model's answer with its word-overlap score."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.groups: list[RowGroup] = []
        self.labels: list[str] = ["Model A"]
        self.metric = "token_f1"

    def set_rows(self, groups: list[RowGroup], labels: list[str]) -> None:
        self.beginResetModel()
        self.groups = groups
        self.labels = labels or ["Model A"]
        self.endResetModel()

    def _columns(self) -> list[tuple[str, int]]:
        cols = [("Example", -1), ("Input", -1), ("Expected", -1)]
        for slot, _label in enumerate(self.labels):
            name = f"Model {'AB'[slot]}" if slot < 2 else f"Model {slot + 1}"
            cols.append((f"{name}'s answer", slot))
            cols.append((f"F1 {name[6:]}", slot))
        return cols

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.groups)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns())

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.groups):
            return None
        cols = self._columns()
        if not 0 <= index.column() < len(cols):
            return None
        g = self.groups[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 2 and (col - 3) % 2 == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        full = role == Qt.ItemDataRole.ToolTipRole
        if col == 0:
            return str(g.example_id)
        if col == 1:
            return g.input if full else " ".join(g.input.split())[:200]
        if col == 2:
            return g.expected if full else " ".join(g.expected.split())[:200]
        slot = (col - 3) // 2
        row = g.answers.get(slot)
        if (col - 3) % 2 == 0:
            text = answer_words(row)
            return text if full else " ".join(text.split())[:200]
        score = g.scores.get(slot)
        if score is None or row is None or row.error:
            return "—"
        value = score.get(self.metric, 0.0)
        if full:
            return ", ".join(f"{k}: {v:.3f}" for k, v in score.items())
        return f"{value:.2f}"

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role not in (Qt.ItemDataRole.DisplayRole,
                                                                      Qt.ItemDataRole.ToolTipRole):
            return None
        cols = self._columns()
        if not 0 <= section < len(cols):
            return None
        if role == Qt.ItemDataRole.ToolTipRole and section > 2:
            label = self.labels[cols[section][1]]
            if (section - 3) % 2 == 1:
                return f"Word overlap (token F1, 0–1) of {label}'s answer with the expected one"
            return f"The answer of {label}"
        return cols[section][0]

    def group_at(self, row: int) -> RowGroup | None:
        return self.groups[row] if 0 <= row < len(self.groups) else None

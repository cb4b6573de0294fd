"""The judge's verdict on every answer of a run, as a table model: example, model, verdict, score, the
expert's own rating, and the judge's explanation (a row without a verdict says why)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from gemtune_desktop.core.project.judge_repo import Judgement

AnyIndex = QModelIndex | QPersistentModelIndex
HEADERS = ("Example", "Model", "Judge", "Points met", "Your rating", "Judge's explanation")
VERDICT_WORDS = {"pass": "✔ pass", "fail": "✖ fail"}
RATING_WORDS = {"pass": "✔ pass", "fail": "✖ fail"}


@dataclass(slots=True)
class JudgedRow:
    judgement: Judgement
    model: str  # "Model A" / "Model B"
    rating: str = ""  # the expert's "pass" | "fail" | ""
    label: str = ""  # the model's name

    @property
    def verdict_words(self) -> str:
        return VERDICT_WORDS.get(self.judgement.verdict, "no verdict")

    @property
    def score_words(self) -> str:
        j = self.judgement
        if j.score is None:
            return "—"
        met = sum(1 for c in j.criteria if isinstance(c, dict) and c.get("met"))
        return f"{met} of {len(j.criteria)}" if j.criteria else f"{j.score:.0%}"

    @property
    def explanation(self) -> str:
        j = self.judgement
        return j.explanation if j.verdict else f"⚠ {j.error or 'Not judged yet.'}"


class JudgeRowsModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[JudgedRow] = []

    def set_rows(self, rows: list[JudgedRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        row = self.rows[index.row()]
        col = index.column()
        full = role == Qt.ItemDataRole.ToolTipRole
        if col == 0:
            return str(row.judgement.example_id)
        if col == 1:
            return f"{row.model}: {row.label}" if full and row.label else row.model
        if col == 2:
            return row.verdict_words
        if col == 3:
            return row.score_words
        if col == 4:
            return RATING_WORDS.get(row.rating, "—")
        text = row.explanation
        return text if full else " ".join(text.split())[:300]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def row_at(self, row: int) -> JudgedRow | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

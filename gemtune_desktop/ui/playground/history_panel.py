"""The console history: every prompt and answer kept in the project, searchable and re-runnable.

Signals (HistoryPanel):
    rerun_requested(object): a :class:`HistoryEntry` to load into the console and send again.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.project.history_repo import HistoryEntry
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.services.console import finish_words

AnyIndex = QModelIndex | QPersistentModelIndex


SHORT_ENDINGS = {"STOP": "finished", "MAX_TOKENS": "cut off (length)", "SAFETY": "blocked (safety)",
                 "STOPPED_BY_USER": "stopped by you", "RECITATION": "stopped (recitation)"}


def _one_line(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class HistoryModel(QAbstractTableModel):
    """Rows of console history, newest first."""

    HEADERS = ("When", "Model", "Prompt", "Answer", "Ended")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[HistoryEntry] = []

    def set_entries(self, entries: list[HistoryEntry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        e = self.entries[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            col = index.column()
            full = role == Qt.ItemDataRole.ToolTipRole
            if col == 0:
                return e.created_at.replace("T", " ").replace("+00:00", " UTC")
            if col == 1:
                return e.model_label or e.model
            if col == 2:
                return e.prompt if full else _one_line(e.prompt)
            if col == 3:
                return e.answer_text if full else _one_line(e.answer_text)
            if col == 4:
                cands = e.response.get("candidates") or []
                if e.response.get("prompt_block_reason"):
                    return "prompt blocked"
                code = str(cands[0].get("finish_reason", "")) if cands else ""
                return finish_words(code).rstrip(".") if full else SHORT_ENDINGS.get(
                    code, code.replace("_", " ").lower() or "—")
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None


class HistoryPanel(QWidget):
    rerun_requested = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setObjectName("historySearch")
        self.search.setPlaceholderText("Search prompts, answers and models…")
        self.search.setAccessibleName("Search the history")
        self.search.setClearButtonEnabled(True)
        top.addWidget(self.search, 1)
        self.rerun_button = QPushButton("Run again", self)
        self.rerun_button.setObjectName("historyRerun")
        self.rerun_button.setToolTip("Put this prompt, model and settings back into the console and send it.")
        self.rerun_button.clicked.connect(self._rerun)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setToolTip("Remove this entry from the project's history.")
        self.delete_button.clicked.connect(self._delete)
        top.addWidget(self.rerun_button)
        top.addWidget(self.delete_button)
        layout.addLayout(top)

        split = QSplitter(Qt.Orientation.Vertical, self)
        self.model = HistoryModel(self)
        self.table = QTableView(split)
        self.table.setObjectName("historyTable")
        self.table.setAccessibleName("Console history")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setAccessibleName("History columns")
        self.table.doubleClicked.connect(lambda _i: self._rerun())
        self.detail = QPlainTextEdit(split)
        self.detail.setReadOnly(True)
        self.detail.setObjectName("historyDetail")
        self.detail.setAccessibleName("The selected prompt and answer")
        layout.addWidget(split, 1)
        self.info = QLabel(self)
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.info)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._show_detail())

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.reload()

    def reload(self) -> None:
        project = self.ctx.project
        if project is None:
            self.model.set_entries([])
            self.info.setText("Open a project to keep a history of your prompts.")
            self._update_buttons()
            return
        from gemtune_desktop.core.project import history_repo

        entries = history_repo.list_entries(project.store, self.search.text())
        self.model.set_entries(entries)
        total = history_repo.count(project.store)
        shown = f"{len(entries)} of {total}" if self.search.text().strip() else f"{total}"
        self.info.setText(f"{shown} prompts in this project's history.")
        self._update_buttons()
        self._show_detail()

    def selected(self) -> HistoryEntry | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = rows[0].row()
        return self.model.entries[row] if 0 <= row < len(self.model.entries) else None

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.rerun_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def _show_detail(self) -> None:
        e = self.selected()
        self._update_buttons()
        if e is None:
            self.detail.setPlainText("")
            return
        req = e.request
        gen = req.get("generation") or {}
        lines = [f"Model: {e.model_label or e.model}", f"Settings: temperature {gen.get('temperature')}, "
                 f"top-p {gen.get('top_p')}, top-k {gen.get('top_k')}, max tokens {gen.get('max_output_tokens')}"]
        if req.get("system_instruction"):
            lines.append(f"System instruction: {req['system_instruction']}")
        if req.get("preamble"):
            lines.append(f"Preamble: {req['preamble']}")
        lines += ["", "Prompt:", e.prompt, "", "Answer:", e.answer_text or "(no answer)"]
        self.detail.setPlainText("\n".join(lines))

    def _rerun(self) -> None:
        e = self.selected()
        if e is not None:
            self.rerun_requested.emit(e)

    def _delete(self) -> None:
        e = self.selected()
        project = self.ctx.project
        if e is None or project is None:
            return
        from gemtune_desktop.core.project import history_repo

        history_repo.delete_entry(project.store, e.id)
        self.reload()

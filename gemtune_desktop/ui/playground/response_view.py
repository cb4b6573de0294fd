"""One model's answer in the console: streamed text per candidate, finish reason, safety, usage, latency.

Signals:
    add_to_dataset_requested(str): the user wants this answer (as shown) turned into an example.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.services.console import Candidate, ConsoleResult, finish_words
from gemtune_desktop.ui.widgets.status_line import error_text


class ResponseView(QWidget):
    add_to_dataset_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None, title: str = "Answer") -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(title, self)
        self.title.setObjectName("responseTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)  # a long model name wraps inside its own pane, never over the other one
        layout.addWidget(self.title)

        self.block_label = QLabel(self)
        self.block_label.setObjectName("promptBlocked")
        self.block_label.setTextFormat(Qt.TextFormat.PlainText)
        self.block_label.setWordWrap(True)
        self.block_label.setStyleSheet("color: #a40000; font-weight: bold;")
        self.block_label.hide()
        layout.addWidget(self.block_label)

        self.candidates = QTabWidget(self)
        self.candidates.setObjectName("candidateTabs")
        self.candidates.setAccessibleName("Answers, one tab per candidate")
        self.candidates.setDocumentMode(True)
        self.candidates.currentChanged.connect(lambda _i: self._show_details())
        layout.addWidget(self.candidates, 1)

        self.finish_label = QLabel(self)
        self.finish_label.setObjectName("finishReason")
        self.finish_label.setTextFormat(Qt.TextFormat.PlainText)
        self.finish_label.setWordWrap(True)
        self.finish_label.setAccessibleName("Why the answer ended")
        layout.addWidget(self.finish_label)
        self.safety_label = QLabel(self)
        self.safety_label.setObjectName("safetyRatings")
        self.safety_label.setTextFormat(Qt.TextFormat.PlainText)
        self.safety_label.setWordWrap(True)
        self.safety_label.setAccessibleName("Safety ratings")
        layout.addWidget(self.safety_label)
        self.usage_label = QLabel(self)
        self.usage_label.setObjectName("usage")
        self.usage_label.setTextFormat(Qt.TextFormat.PlainText)
        self.usage_label.setAccessibleName("Tokens used and time taken")
        layout.addWidget(self.usage_label)

        buttons = QHBoxLayout()
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the shown answer to the clipboard.")
        self.copy_button.clicked.connect(self.copy)
        self.add_button = QPushButton("Add to dataset…", self)
        self.add_button.setObjectName("addToDataset")
        self.add_button.setToolTip("Make a new example from the prompt and this answer; you can correct the "
                                   "answer first.")
        self.add_button.clicked.connect(lambda: self.add_to_dataset_requested.emit(self.text()))
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.result: ConsoleResult | None = None
        self.clear()

    # -- state ------------------------------------------------------------------------------
    def clear(self, title: str | None = None) -> None:
        if title is not None:
            self.title.setText(title)
        self.result = None
        while self.candidates.count():
            widget = self.candidates.widget(0)
            self.candidates.removeTab(0)
            if widget is not None:
                widget.deleteLater()
        self.block_label.hide()
        self.finish_label.setText("")
        self.safety_label.setText("")
        self.usage_label.setText("")
        self._set_buttons()

    def begin(self, title: str) -> None:
        """A new call started: empty answer, waiting text."""
        self.clear(title)
        self._editor(0)
        self.finish_label.setText("Waiting for the answer…")

    def _editor(self, index: int) -> QPlainTextEdit:
        while self.candidates.count() <= index:
            n = self.candidates.count() + 1
            edit = QPlainTextEdit(self.candidates)
            edit.setReadOnly(True)
            edit.setObjectName(f"candidate{n}")
            edit.setAccessibleName(f"Answer {n}")
            self.candidates.addTab(edit, f"Answer {n}")
        widget = self.candidates.widget(index)
        assert isinstance(widget, QPlainTextEdit)
        return widget

    def append_text(self, index: int, text: str) -> None:
        """A streamed piece of candidate ``index``'s answer."""
        edit = self._editor(index)
        cursor = edit.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(text)
        if self.finish_label.text().startswith("Waiting"):
            self.finish_label.setText("Receiving…")
        self._set_buttons()

    def texts(self) -> list[str]:
        return [self._editor(i).toPlainText() for i in range(self.candidates.count())]

    def text(self) -> str:
        index = self.candidates.currentIndex()
        return self._editor(index).toPlainText() if index >= 0 else ""

    def show_result(self, result: ConsoleResult) -> None:
        self.result = result
        if result.prompt_blocked:
            detail = f" ({result.prompt_block_message})" if result.prompt_block_message else ""
            ratings = "; ".join(r.words for r in result.prompt_safety if r.probability or r.blocked)
            self.block_label.setText(f"⚠ {result.prompt_block_words}{detail}" + (f"\n{ratings}" if ratings else ""))
            self.block_label.show()
        for i, cand in enumerate(result.candidates):
            edit = self._editor(i)
            if edit.toPlainText() != cand.text:
                edit.setPlainText(cand.text)
        if not result.candidates and self.candidates.count() == 1 and not self.texts()[0]:
            self._editor(0).setPlaceholderText("(no answer)")
        usage = result.usage.words if result.usage.total_tokens else "tokens not reported"
        stopped = " · stopped by you" if result.stopped else ""
        self.usage_label.setText(f"{usage} · {result.latency_ms / 1000:.2f} s{stopped}")
        self._show_details()
        self._set_buttons()

    def show_stopped(self) -> None:
        self.finish_label.setText(finish_words("STOPPED_BY_USER"))
        self._set_buttons()

    def show_error(self, err: UserError) -> None:
        self.finish_label.setText(error_text(err))
        self._set_buttons()

    def _show_details(self) -> None:
        if self.result is None:
            return
        index = max(0, self.candidates.currentIndex())
        cand = self.result.candidates[index] if index < len(self.result.candidates) else None
        if cand is None:
            self.finish_label.setText("No answer: the prompt was blocked." if self.result.prompt_blocked else
                                      "No answer was returned.")
            self.safety_label.setText("")
            return
        self.finish_label.setText(self._finish_text(cand))
        rated = [r.words for r in cand.safety if r.probability or r.blocked]
        self.safety_label.setText("Safety: " + "; ".join(rated) if rated else "Safety: no ratings reported")

    @staticmethod
    def _finish_text(cand: Candidate) -> str:
        mark = "✔" if cand.finish_reason == "STOP" else "⚠"
        text = f"{mark} {cand.finish_words}"
        if cand.finish_message:
            text += f" ({cand.finish_message})"
        return text

    def _set_buttons(self) -> None:
        has_text = any(self.texts()) if self.candidates.count() else False
        self.copy_button.setEnabled(has_text)
        self.add_button.setEnabled(True)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

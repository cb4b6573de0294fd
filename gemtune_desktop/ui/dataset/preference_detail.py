"""The pair editor beside the preference table: the selected pair's prompt, both answers, its own system
instruction, split, tags and note.

Like the Examples view's detail editor: typing is saved shortly after the user pauses (and at once when they
leave the field or pick another row) as one undoable step per field and burst of typing; the line under the
answers counts the pair against Agent Platform's 131,072-token limit (the prompt with the preamble, the system
instruction and the longer answer, as the validation counts it). The timer, the Split / Tags / Note form and
their saving are shared with the examples' editor (:mod:`.detail_base`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gemtune_desktop.core.preference import rules as P
from gemtune_desktop.core.preference.model import FIELD_WORDS, PreferenceExample, PreferenceSettings
from gemtune_desktop.core.tokens import estimate_tokens
from gemtune_desktop.qtcore.preference_session import PreferenceSession
from gemtune_desktop.qtcore.preference_undo import EditPairCommand
from gemtune_desktop.qtcore.row_session import RowSession
from gemtune_desktop.ui.dataset.detail_base import RowDetailBase, SaveOnLeaveTextEdit, reload_box

TEXT_FIELDS = ("prompt", "preferred", "dispreferred", "system_instruction")
TIPS = {"prompt": "The prompt: what the model is asked. Multi-line text is fine.",
        "preferred": "The preferred answer: the one people chose. The model learns to prefer answers like it.",
        "dispreferred": "The dispreferred answer: the one people did not choose. The model learns to avoid it.",
        "system_instruction": "Optional. Replaces the project's system instruction (Examples › Preamble) for "
                              "this pair only; leave empty to use the project's."}


def source_words(source: str) -> str:
    """Where a pair came from, in words ("" for pairs typed or imported)."""
    parts = source.split(":")
    if parts[0] == "review" and len(parts) >= 2:
        return f"From a blind-review vote (evaluation run {parts[1]})."
    if parts[0] == "correction" and len(parts) >= 2:
        return f"From a correction typed in review (evaluation run {parts[1]})."
    return f"Source: {source}." if source else ""


def pair_tokens_line(prompt: str, preferred: str, dispreferred: str, system: str,
                     settings: PreferenceSettings) -> tuple[str, bool]:
    """The line under the answers, and whether the pair is over the per-example token limit."""
    tokens = (estimate_tokens(settings.as_dataset().apply_preamble(prompt))
              + estimate_tokens(system or settings.system_instruction)
              + max(estimate_tokens(preferred), estimate_tokens(dispreferred)))
    over = tokens > P.MAX_EXAMPLE_TOKENS
    line = (f"About {tokens:,} of {P.MAX_EXAMPLE_TOKENS:,} tokens allowed per pair (prompt with preamble, "
            f"system instruction, longer answer)")
    return (line + " — too long for Agent Platform" if over else line), over


class PreferenceDetail(RowDetailBase[PreferenceExample]):
    """Edits one pair at a time (the table's current row)."""

    session: PreferenceSession | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferenceDetail")
        self.session = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel("No pair selected", self)
        self.title.setObjectName("pairTitle")
        layout.addWidget(self.title)
        self.boxes: dict[str, SaveOnLeaveTextEdit] = {}
        for field, caption, stretch in (("prompt", "&Prompt", 2), ("preferred", "P&referred answer", 2),
                                        ("dispreferred", "Dispreferred ans&wer", 2),
                                        ("system_instruction", "S&ystem instruction (this pair only)", 1)):
            box = self._text_box(field)
            cap = QLabel(caption, self)
            cap.setBuddy(box)
            layout.addWidget(cap)
            layout.addWidget(box, stretch)
        self.system_box = self.boxes["system_instruction"]
        self.system_box.setPlaceholderText("Empty: the project's system instruction is used")
        self.count = QLabel(self)
        self.count.setObjectName("pairTokens")
        self.count.setWordWrap(True)
        self.count.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.count)
        layout.addLayout(self._build_form("Which part of the data this pair is in: Train, Validation or Test",
                                          "e.g. tone, legal"))
        self.source = QLabel(self)
        self.source.setObjectName("pairSource")
        self.source.setWordWrap(True)
        layout.addWidget(self.source)
        self.set_example(None, None)

    def heightForWidth(self, width: int) -> int:
        """The least height that shows every field at this width, so that a scroll area around the editor
        fills its viewport when there is room and scrolls only below this (not below the text boxes' large
        preferred heights)."""
        layout = self.layout()
        return layout.minimumHeightForWidth(width) if layout is not None else -1

    def _text_box(self, field: str) -> SaveOnLeaveTextEdit:
        box = SaveOnLeaveTextEdit(self.flush, self)
        box.setObjectName(f"pair_{field}")
        box.setToolTip(TIPS[field])
        box.setAccessibleName(FIELD_WORDS[field].capitalize())
        box.setTabChangesFocus(True)
        box.setMinimumHeight(48)
        box.textChanged.connect(lambda f=field: self._typed(f))
        self.boxes[field] = box
        return box

    def _edit_command(self, session: RowSession[PreferenceExample], example: PreferenceExample, field: str,
                      value: Any) -> QUndoCommand:
        assert isinstance(session, PreferenceSession)
        return EditPairCommand(session, example, field, value)

    # -- showing --------------------------------------------------------------------------------------
    def _links(self) -> list[tuple[object, Callable[..., None]]]:
        s = self.session
        assert s is not None
        return [(s.examples_changed, self._on_changed), (s.validation_changed, self._update_counts)]

    def set_session(self, session: PreferenceSession | None) -> None:
        self.flush()
        if self.session is not None:
            for signal, slot in self._links():
                try:
                    signal.disconnect(slot)  # type: ignore[attr-defined]
                except (RuntimeError, TypeError):
                    pass
        self.session = session
        if session is not None:
            for signal, slot in self._links():
                signal.connect(slot)  # type: ignore[attr-defined]
        self.set_example(None, None)

    def set_example(self, example: PreferenceExample | None, row_number: int | None) -> None:
        if example is not self.example:
            self.flush()
        self.example = example
        enabled = example is not None and self.session is not None and self.session.can_edit
        for w in (*self.boxes.values(), self.split_combo, self.tags_edit, self.note_edit):
            w.setEnabled(enabled)
        self.title.setText(f"Pair {row_number:,}" if example is not None and row_number else "No pair selected")
        self._load()

    def _load(self) -> None:
        e = self.example
        self._loading = True
        try:
            for field, box in self.boxes.items():
                reload_box(box, getattr(e, field) if e is not None else "")
            self.split_combo.setCurrentIndex(self.split_combo.findData(e.split.value) if e else 0)
            self.tags_edit.setText(e.tags if e else "")
            self.note_edit.setText(e.note if e else "")
            self.source.setText(source_words(e.source) if e else "")
        finally:
            self._loading = False
        self._update_counts()

    def _on_changed(self, examples: list[PreferenceExample]) -> None:
        if self.example is not None and any(x is self.example for x in examples) and not self._pending:
            self._load()

    def _update_counts(self) -> None:
        if self.example is None or self.session is None:
            self.count.setText("")
            return
        text = {f: b.toPlainText() for f, b in self.boxes.items()}
        line, over = pair_tokens_line(text["prompt"], text["preferred"], text["dispreferred"],
                                      text["system_instruction"], self.session.settings)
        self.count.setText(("⚠ " if over else "") + line)
        self.count.setStyleSheet("color: #b00020; font-weight: bold;" if over else "")

    # -- editing --------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Save what was typed (one undo step per field, merged with the previous burst)."""
        self._timer.stop()
        pending, self._pending = self._pending, set()
        s, e = self.session, self.example
        if not pending or e is None or s is None or s.is_closed:
            return
        for field in sorted(pending):
            text = self.boxes[field].toPlainText()
            if getattr(e, field) != text and not s.push(EditPairCommand(s, e, field, text)):
                self._load()  # not kept: show what the file holds
                return

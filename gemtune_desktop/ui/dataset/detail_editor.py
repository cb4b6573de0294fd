"""The detail editor beside the table: the selected example's full input and output, split, tags and note.

Long multi-line text is edited here. Counts update live (characters and an offline token estimate)
against the target's limits. Typing is saved shortly after the user pauses (and at once when they
leave the field or pick another row) as one undoable "Edit input" step per burst of typing.

Nothing typed is lost or moved by a save: a box whose text is not saved yet is never reloaded (saving the
input does not reset the output being typed), and the cursor stays where it was. A change the file refuses
(a full disk) is undone in the box, as in the file; while the project cannot be saved at all (its file was
replaced or deleted) the text is held and written as soon as the work is saved to a new file.

The timer, the Split / Tags / Note form and their saving are shared with the pair editor (:mod:`.detail_base`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gemtune_desktop.core import validation_rules as R
from gemtune_desktop.core.examples import Example, Target
from gemtune_desktop.core.tokens import estimate_tokens
from gemtune_desktop.core.words import plural
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.row_session import RowSession
from gemtune_desktop.ui.dataset.detail_base import SAVE_AFTER_MS, RowDetailBase, SaveOnLeaveTextEdit, reload_box

__all__ = ["SAVE_AFTER_MS", "DetailEditor", "count_text"]


def count_text(text: str, other: str, field: str, target: Target) -> tuple[str, bool]:
    """The line under a text box, and whether it is over the limit."""
    chars = len(text)
    tokens = estimate_tokens(text)
    if target is Target.GEMINI_API:
        limit = R.GEMINI_MAX_INPUT_CHARS if field == "input" else R.GEMINI_MAX_OUTPUT_CHARS
        over = chars > limit
        line = f"{chars:,} of {limit:,} characters allowed · about {plural(tokens, 'token')}"
        if over:
            line += f" — {chars - limit:,} characters too long for the Gemini API"
        return line, over
    total = tokens + estimate_tokens(other)
    over = total > R.AGENT_MAX_EXAMPLE_TOKENS
    line = (f"{plural(chars, 'character')} · about {plural(tokens, 'token')} "
            f"(example about {total:,} of {R.AGENT_MAX_EXAMPLE_TOKENS:,} tokens allowed)")
    if over:
        line += " — too long for Agent Platform"
    return line, over


class DetailEditor(RowDetailBase[Example]):
    """Edits one example at a time (the table's current row)."""

    session: ProjectSession | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = None
        self._held: dict[tuple[int, str], tuple[Example, str, str]] = {}  # typed while nothing could be saved

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel("No example selected", self)
        self.title.setObjectName("detailTitle")
        layout.addWidget(self.title)

        self.input_edit = self._text_box("input", "Input: what the model is given. Multi-line text is fine.")
        self.input_count = QLabel(self)
        self.output_edit = self._text_box("output", "Output: the answer you want the model to learn to give.")
        self.output_count = QLabel(self)
        for w, label in ((self.input_edit, "&Input"), (self.output_edit, "&Output")):
            cap = QLabel(label, self)
            cap.setBuddy(w)
            layout.addWidget(cap)
            layout.addWidget(w, 1)
            layout.addWidget(self.input_count if w is self.input_edit else self.output_count)
        for lab in (self.input_count, self.output_count):
            lab.setWordWrap(True)
            lab.setTextFormat(Qt.TextFormat.PlainText)

        layout.addLayout(self._build_form("Which part of the data this example is in: Train, Validation or Test",
                                          "e.g. refund, urgent"))
        self.set_example(None, None)

    def _edit_command(self, session: RowSession[Example], example: Example, field: str, value: Any) -> QUndoCommand:
        from gemtune_desktop.qtcore.undo import EditCellCommand

        assert isinstance(session, ProjectSession)
        return EditCellCommand(session, example, field, value)

    def _text_box(self, field: str, tip: str) -> SaveOnLeaveTextEdit:
        box = SaveOnLeaveTextEdit(self.flush, self)
        box.setObjectName(f"detail_{field}")
        box.setToolTip(tip)
        box.setAccessibleName(f"{field.capitalize()} text")
        box.setTabChangesFocus(True)
        box.textChanged.connect(lambda f=field: self._typed(f))
        return box

    # -- showing ------------------------------------------------------------------------------
    def set_session(self, session: ProjectSession | None) -> None:
        self.flush()
        if self.session is not None:
            try:
                self.session.examples_changed.disconnect(self._on_changed)
                self.session.settings_changed.disconnect(self._on_settings)
            except (RuntimeError, TypeError):
                pass
        self.session = session
        if session is not None:
            session.examples_changed.connect(self._on_changed)
            session.settings_changed.connect(self._on_settings)
        self.set_example(None, None)

    def set_example(self, example: Example | None, row_number: int | None) -> None:
        if example is not self.example:
            self.flush()
        self.example = example
        self._set_enabled()
        self.title.setText(f"Example {row_number}" if example is not None and row_number else "No example selected")
        self._load()

    def _set_enabled(self) -> None:
        s = self.session
        enabled = self.example is not None and s is not None and s.can_edit
        for w in (self.input_edit, self.output_edit, self.split_combo, self.tags_edit, self.note_edit):
            w.setEnabled(enabled)

    def refresh_editable(self) -> None:
        """The project's save state changed: edit only what can be saved; write what was held."""
        self._set_enabled()
        s = self.session
        if self._held and s is not None and s.can_edit:
            held, self._held = list(self._held.values()), {}
            from gemtune_desktop.qtcore.undo import EditCellCommand

            for example, field, text in held:
                if s.index_of(example) >= 0 and getattr(example, field) != text:
                    s.push(EditCellCommand(s, example, field, text))

    def _load(self) -> None:
        e = self.example
        self._loading = True
        try:
            for box, field in ((self.input_edit, "input"), (self.output_edit, "output")):
                if field in self._pending:
                    continue  # typed and not saved yet: never replaced
                value = getattr(e, field) if e else ""
                if e is not None and (id(e), field) in self._held:
                    value = self._held[(id(e), field)][2]
                reload_box(box, value)
            self.split_combo.setCurrentIndex(self.split_combo.findData(e.split.value) if e else 0)
            self.tags_edit.setText(e.tags if e else "")
            self.note_edit.setText(e.note if e else "")
        finally:
            self._loading = False
        self._update_counts()

    def _on_changed(self, examples: list[Example]) -> None:
        if self.example is not None and any(x is self.example for x in examples):
            self._load()

    def _on_settings(self, _settings: object) -> None:
        self._update_counts()

    def _update_counts(self) -> None:
        target = self.session.settings.target if self.session is not None else Target.GEMINI_API
        if self.example is None:
            self.input_count.setText("")
            self.output_count.setText("")
            return
        i, o = self.input_edit.toPlainText(), self.output_edit.toPlainText()
        for lab, text, other, field in ((self.input_count, i, o, "input"), (self.output_count, o, i, "output")):
            line, over = count_text(text, other, field, target)
            lab.setText(("⚠ " if over else "") + line)
            lab.setStyleSheet("color: #b00020; font-weight: bold;" if over else "")

    # -- editing ----------------------------------------------------------------------------
    def flush(self) -> None:
        """Save what was typed (one undo step per field, merged with the previous burst)."""
        self._timer.stop()
        s, example = self.session, self.example
        if not self._pending or example is None or s is None or s.is_closed:
            self._pending.clear()
            return
        from gemtune_desktop.qtcore.undo import EditCellCommand

        for field in sorted(self._pending):
            box = self.input_edit if field == "input" else self.output_edit
            text = box.toPlainText()
            if getattr(example, field) == text:
                self._pending.discard(field)
            elif not s.can_edit and s.store.lost is not None:
                self._hold(example, field, text)
            elif s.push(EditCellCommand(s, example, field, text)):
                self._pending.discard(field)
            elif s.store.lost is not None:  # found out just now: keep the text for the new file
                self._hold(example, field, text)
            else:  # not kept in the file (the message says why): not kept on screen either
                self._pending.discard(field)
                self._load()

    def _hold(self, example: Example, field: str, text: str) -> None:
        self._pending.discard(field)
        self._held[(id(example), field)] = (example, field, text)

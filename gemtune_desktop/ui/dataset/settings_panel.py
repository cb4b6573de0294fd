"""Dataset-level text: the preamble (added before every input) and the system instruction (Agent Platform).

Google's tuning guide: whatever is added to the training examples must also be sent when the model
is used, so the Test tab applies the same preamble and system instruction. Edits are undoable and
saved shortly after typing pauses. Saving one box never reloads the other while it holds unsaved typing
(text typed into the system instruction right after the preamble stays, and so does the cursor); a change
the file refuses is undone in the box too.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from gemtune_desktop.core.examples import Target
from gemtune_desktop.qtcore.project_session import ProjectSession

SAVE_AFTER_MS = 500


class DatasetSettingsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: ProjectSession | None = None
        self._loading = False
        self._pending: set[str] = set()
        self._flushing = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_AFTER_MS)
        self._timer.timeout.connect(self.flush)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        intro = QLabel("Text added to every example when you export, tune and test. Whatever you add here "
                       "is also sent when you try the tuned model, so the model sees the same format.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.preamble = QPlainTextEdit(self)
        self.preamble.setObjectName("preambleEdit")
        self.preamble.setPlaceholderText("e.g. Classify the support ticket into one of: billing, bug, feature.")
        self.preamble.setToolTip("Put before every input (a short instruction shared by all examples)")
        self.preamble.setAccessibleName("Preamble")
        self.preamble.setTabChangesFocus(True)
        self.system = QPlainTextEdit(self)
        self.system.setObjectName("systemInstructionEdit")
        self.system.setPlaceholderText("e.g. You are a careful paralegal. Answer in one sentence.")
        self.system.setToolTip("Sent as the system instruction with every example (Agent Platform only)")
        self.system.setAccessibleName("System instruction")
        self.system.setTabChangesFocus(True)
        cap1 = QLabel("&Preamble (before every input)", self)
        cap1.setBuddy(self.preamble)
        self.system_caption = QLabel("S&ystem instruction (Agent Platform)", self)
        self.system_caption.setBuddy(self.system)
        self.system_note = QLabel(self)
        self.system_note.setWordWrap(True)
        self.system_note.setTextFormat(Qt.TextFormat.PlainText)
        for w in (cap1, self.preamble, self.system_caption, self.system, self.system_note):
            layout.addWidget(w)
        self.preamble.textChanged.connect(lambda: self._typed("preamble"))
        self.system.textChanged.connect(lambda: self._typed("system_instruction"))
        self.set_session(None)

    def set_session(self, session: ProjectSession | None) -> None:
        self.flush()
        if self.session is not None:
            try:
                self.session.settings_changed.disconnect(self._load)
            except (RuntimeError, TypeError):
                pass
        self.session = session
        if session is not None:
            session.settings_changed.connect(self._load)
        self.setEnabled(session is not None and session.can_edit)
        self._load()

    def set_editable(self, editable: bool) -> None:
        """Whether the project can be saved now (read-only, file lost: not); text held meanwhile is saved now."""
        self.setEnabled(editable)
        if editable and self._pending and not self._timer.isActive():
            self.flush()

    def _load(self, *_args: object) -> None:
        s = self.session.settings if self.session is not None else None
        self._loading = True
        try:
            for box, value in ((self.preamble, s.preamble if s else ""),
                               (self.system, s.system_instruction if s else "")):
                field = "preamble" if box is self.preamble else "system_instruction"
                if box.toPlainText() != value and field not in self._pending:  # unsaved typing stays as it is
                    box.setPlainText(value)
        finally:
            self._loading = False
        ap = s is not None and s.target is Target.AGENT_PLATFORM
        self.system_note.setText("" if ap or s is None or not s.system_instruction else
                                 "The Gemini API does not take a system instruction for tuning; it is kept "
                                 "for Agent Platform and used when testing.")

    def _typed(self, field: str) -> None:
        if self._loading or self.session is None:
            return
        self._pending.add(field)
        self._timer.start()

    def flush(self) -> None:
        """Save what is typed and not saved yet. Not re-entered: what a save sets off (the save state, the
        window's notices) may ask for a flush while one runs, which would send a change twice or out of order."""
        if self._flushing:
            return
        self._flushing = True
        try:
            self._flush()
        finally:
            self._flushing = False

    def _flush(self) -> None:
        self._timer.stop()
        s = self.session
        if not self._pending or s is None or s.is_closed:
            self._pending.clear()
            return
        if not s.can_edit and s.store.lost is not None:
            return  # kept in the boxes until the work is saved to a new file
        from gemtune_desktop.qtcore.undo import SettingsCommand, copy_settings

        for field in sorted(self._pending):
            box = self.preamble if field == "preamble" else self.system
            new = copy_settings(s.settings)
            if getattr(new, field) == box.toPlainText():
                self._pending.discard(field)
                continue
            setattr(new, field, box.toPlainText())
            label = "Edit preamble" if field == "preamble" else "Edit system instruction"
            if s.push(SettingsCommand(s, new, label, merge_key=field)):
                self._pending.discard(field)
            elif s.store.lost is None:  # not kept in the file: not kept on screen either
                self._pending.discard(field)
                self._load()
            else:
                return

"""What goes with the prompt: the project's preamble and system instruction, or why a model cannot be called.

The box sits between the model pickers and the prompt and keeps one height whatever is chosen, so the
prompt and the Send button never move when the model changes. It shows one of three pages:

* the project's texts, with "Apply the dataset's preamble and system instruction" (for models tuned on
  the project, as in training) and, when comparing, "Also send them to the model it is compared with"
  (on by default: a fair comparison gives the base model the same preamble);
* a note that the chosen model was tuned on another connection, with one button to switch to it;
* a line saying that nothing is added (a base model alone, or a project without such texts).

Signals:
    changed(): a switch was toggled.
    switch_requested(object): the :class:`~gemtune_desktop.core.jobs.JobRecord` whose connection to use.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.examples import DatasetSettings
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.services.model_choices import job_connection_label

TEXTS_PAGE, NOTE_PAGE, NOTHING_PAGE = 0, 1, 2


class TextsBox(QGroupBox):
    changed = Signal()
    switch_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Sent with your prompt", parent)
        self.setObjectName("datasetTexts")
        self.pages = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.addWidget(self.pages)
        built = [self._texts_page(), self._note_page(), self._nothing_page()]
        for page in built:
            self.pages.addWidget(page)
        self._job: JobRecord | None = None
        height = max(page.sizeHint().height() for page in built)
        self.pages.setFixedHeight(height)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def _texts_page(self) -> QWidget:
        page = QWidget(self.pages)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        switches = QHBoxLayout()
        self.apply_dataset = QCheckBox("Apply the dataset's preamble and system instruction", page)
        self.apply_dataset.setObjectName("applyDatasetTexts")
        self.apply_dataset.setChecked(True)
        self.apply_dataset.setToolTip("Google's tuning guide: a tuned model should get the same preamble and "
                                      "system instruction it was trained with. Switch off to send the prompt alone.")
        self.share_texts = QCheckBox("Also to the model it is compared with (fair comparison)", page)
        self.share_texts.setObjectName("shareDatasetTexts")
        self.share_texts.setChecked(True)
        self.share_texts.setToolTip("When a model tuned on this project is compared with another model (the base "
                                    "model, say), both get the same preamble and system instruction, so the "
                                    "comparison is fair. Switch off to send the other model your prompt alone.")
        for box in (self.apply_dataset, self.share_texts):
            box.toggled.connect(lambda _on: self.changed.emit())
            switches.addWidget(box)
        switches.addStretch(1)
        layout.addLayout(switches)
        self.preview = QPlainTextEdit(page)
        self.preview.setObjectName("datasetTextPreview")
        self.preview.setReadOnly(True)
        self.preview.setAccessibleName("Preamble and system instruction that will be sent")
        self.preview.setFixedHeight(self.preview.fontMetrics().lineSpacing() * 3 + 10)
        layout.addWidget(self.preview)
        return page

    def _note_page(self) -> QWidget:
        page = QWidget(self.pages)
        layout = QHBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel(page)
        self.note.setObjectName("modelNote")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.switch_button = QPushButton("Switch", page)
        self.switch_button.setObjectName("switchConnection")
        self.switch_button.clicked.connect(lambda: self.switch_requested.emit(self._job))
        layout.addWidget(self.note, 1)
        layout.addWidget(self.switch_button, 0, Qt.AlignmentFlag.AlignTop)
        return page

    def _nothing_page(self) -> QWidget:
        page = QWidget(self.pages)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.nothing = QLabel(page)
        self.nothing.setObjectName("nothingAdded")
        self.nothing.setTextFormat(Qt.TextFormat.PlainText)
        self.nothing.setWordWrap(True)
        layout.addWidget(self.nothing)
        layout.addStretch(1)
        return page

    # -- what to show -----------------------------------------------------------------------
    def show_other_connection(self, label: str, job: JobRecord, active: str) -> None:
        """``label``'s model was tuned on ``job``'s connection, not the one in use (``active``)."""
        self._job = job
        self.setTitle("This model cannot be called on this connection")
        where = job_connection_label(job)
        self.note.setText(f"“{label}” was tuned on the {where} connection; the connection in use is {active}. "
                          "A tuned model answers only on the connection it was tuned on.")
        self.switch_button.setText(f"Use {where}")
        self.switch_button.setToolTip(f"Make {where} the connection in use (Settings → Connections).")
        self.pages.setCurrentIndex(NOTE_PAGE)

    def show_texts(self, settings: DatasetSettings, comparing_with_other: bool, note: str = "") -> None:
        """The texts a tuned model gets; ``comparing_with_other``: the other model is not tuned on the project."""
        self.setTitle("Sent with your prompt (from the dataset, as in training)")
        self.share_texts.setVisible(comparing_with_other)
        parts = []
        if settings.system_instruction.strip():
            parts.append(f"System instruction: {settings.system_instruction}")
        if settings.preamble.strip():
            parts.append(f"Preamble (before your prompt): {settings.preamble}")
        if note:
            parts.append(note)
        self.preview.setPlainText("\n".join(parts))
        self.preview.setEnabled(self.apply_dataset.isChecked())
        self.pages.setCurrentIndex(TEXTS_PAGE)

    def show_nothing(self, why: str) -> None:
        self.setTitle("Sent with your prompt")
        self.nothing.setText(why)
        self.pages.setCurrentIndex(NOTHING_PAGE)

    @property
    def showing_note(self) -> bool:
        return self.pages.currentIndex() == NOTE_PAGE

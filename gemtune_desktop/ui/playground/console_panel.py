"""The single-turn console: pick a model (or two to compare), write a prompt, see the streamed answer.

Each answer streams on a worker thread (``generate_content_stream``); pieces arrive as
progress reports and are appended to the :class:`ResponseView`. Stop breaks the stream.
Every finished call is kept in the project's console history.

Signals:
    history_added(): a call was stored in the history.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings
from gemtune_desktop.core.generation import ThinkingLevel, model_supports_thinking
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.workers import TaskGroup
from gemtune_desktop.services.api import ServiceApi
from gemtune_desktop.services.console import ConsoleRequest, ConsoleResult, ModelRef, tuned_thinking_level
from gemtune_desktop.ui.playground import project_edits
from gemtune_desktop.ui.playground.model_picker import ModelCatalog, ModelPicker
from gemtune_desktop.ui.playground.response_view import ResponseView
from gemtune_desktop.ui.playground.settings_panels import GenerationPanel, SafetyPanel
from gemtune_desktop.ui.playground.texts_box import TextsBox
from gemtune_desktop.ui.widgets.status_line import StatusLine, Tone

log = logging.getLogger(__name__)


def stream_task(token: CancelToken, service: ServiceApi, *, request: ConsoleRequest) -> ConsoleResult:
    """Worker: stream the answer; each piece goes out as a progress report (candidate index, 0, text)."""
    return service.stream(token, request, on_text=lambda index, text: token.report(index, 0, text))


class ConsolePanel(QWidget):
    history_added = Signal()

    def __init__(self, ctx: AppContext, catalog: ModelCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.catalog = catalog
        self._requests: dict[int, ConsoleRequest] = {}
        self._projects: dict[int, ProjectSession | None] = {}  # the project each call belongs to
        self._labels: dict[int, str] = {}
        self._streams: TaskGroup[int] = TaskGroup(self, ctx.executor, "answer")

        outer = QHBoxLayout(self)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        outer.addWidget(splitter)
        splitter.addWidget(self._build_main(splitter, catalog))
        splitter.addWidget(self._build_settings(splitter))
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        self.prompt.installEventFilter(self)  # Ctrl+Enter in the prompt sends
        self.compare.toggled.connect(self._compare_toggled)
        self.texts_box.changed.connect(self._update_dataset_box)
        self.texts_box.switch_requested.connect(self._switch_connection)
        self.picker_a.model_changed.connect(lambda _r: self._models_changed())
        self.picker_b.model_changed.connect(lambda _r: self._models_changed())
        self._models_changed()
        from gemtune_desktop.ui.playground.console_state import ConsoleState

        self.state = ConsoleState(self)  # the choices above, kept with the open project

    def _build_main(self, splitter: QSplitter, catalog: ModelCatalog) -> QWidget:
        """The left side: models, the dataset's texts, the prompt, Send and Stop, the answers."""
        main = QWidget(splitter)
        layout = QVBoxLayout(main)
        layout.setContentsMargins(0, 0, 0, 0)
        models = QHBoxLayout()
        models.addWidget(QLabel("Model", main))
        self.picker_a = ModelPicker(catalog, main, "Model to ask")
        self.picker_a.setObjectName("modelA")
        models.addWidget(self.picker_a, 1)
        layout.addLayout(models)
        models = QHBoxLayout()
        self.compare = QCheckBox("Compare with", main)
        self.compare.setObjectName("compare")
        self.compare.setToolTip("Send the same prompt to a second model and show both answers side by side.")
        models.addWidget(self.compare)
        self.picker_b = ModelPicker(catalog, main, "Second model to compare")
        self.picker_b.setObjectName("modelB")
        self.picker_b.setEnabled(False)
        models.addWidget(self.picker_b, 1)
        layout.addLayout(models)
        layout.addWidget(self._build_dataset_box(main))
        self._add_prompt_rows(main, layout)
        return main

    def _build_dataset_box(self, main: QWidget) -> TextsBox:
        """What is sent with the prompt (one height whatever the models, so Send never moves)."""
        self.texts_box = TextsBox(main)
        self.dataset_box = self.texts_box
        self.apply_dataset = self.texts_box.apply_dataset
        self.share_texts = self.texts_box.share_texts
        self.dataset_text = self.texts_box.preview
        self.model_note = self.texts_box.note
        self.switch_button = self.texts_box.switch_button
        return self.texts_box

    def _add_prompt_rows(self, main: QWidget, layout: QVBoxLayout) -> None:
        self.prompt = QPlainTextEdit(main)
        self.prompt.setObjectName("prompt")
        self.prompt.setPlaceholderText("Type a prompt as your users would. Ctrl+Enter sends, Esc stops.")
        self.prompt.setAccessibleName("Prompt")
        self.prompt.setToolTip("Type what a user of your model would send. Ctrl+Enter sends it; Esc stops the answer.")
        self.prompt.setMaximumHeight(140)
        layout.addWidget(self.prompt)
        buttons = QHBoxLayout()
        self.send_button = QPushButton("Send", main)
        self.send_button.setObjectName("send")
        self.send_button.setToolTip("Send the prompt (Ctrl+Enter).")
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop", main)
        self.stop_button.setObjectName("stop")
        self.stop_button.setToolTip("Stop the answer now (Esc in the prompt); what arrived so far is kept.")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.status = QLabel(main)
        self.status.setObjectName("consoleStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        top = Qt.AlignmentFlag.AlignTop  # a status of two lines never moves the buttons
        buttons.addWidget(self.send_button, 0, top)
        buttons.addWidget(self.stop_button, 0, top)
        self.status_line = StatusLine(self.status)
        buttons.addWidget(self.status, 1, top)
        layout.addLayout(buttons)

        self.answers = QSplitter(Qt.Orientation.Horizontal, main)
        self.views = [ResponseView(self.answers, "Answer"), ResponseView(self.answers, "Second model")]
        for slot, view in enumerate(self.views):
            view.setObjectName(f"response{'AB'[slot]}")
            view.add_to_dataset_requested.connect(lambda text, s=slot: self.add_to_dataset(s, text))
        self.views[1].hide()
        layout.addWidget(self.answers, 1)

    def _build_settings(self, splitter: QSplitter) -> QTabWidget:
        """The right side: generation and safety settings."""
        side = QTabWidget(splitter)
        side.setObjectName("settingsTabs")
        self.generation = GenerationPanel()
        self.safety = SafetyPanel()
        for panel, title in ((self.generation, "Generation"), (self.safety, "Safety")):
            scroll = QScrollArea(side)
            scroll.setWidgetResizable(True)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scroll.setWidget(panel)
            scroll.setMinimumWidth(panel.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                                   + 2 * scroll.frameWidth())
            side.addTab(scroll, title)
        return side

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.prompt and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                    and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.send()
                return True
            if event.key() == Qt.Key.Key_Escape and self.is_busy():
                self.stop()
                return True
        return super().eventFilter(watched, event)

    # -- models and dataset texts ---------------------------------------------------------
    def _compare_toggled(self, on: bool) -> None:
        self.picker_b.setEnabled(on)
        self.views[1].setVisible(on)
        if on:
            half = max(1, self.answers.width() // 2)
            self.answers.setSizes([half, half])
        self._models_changed()

    def active_refs(self) -> list[ModelRef | None]:
        refs = [self.picker_a.current_ref()]
        if self.compare.isChecked():
            refs.append(self.picker_b.current_ref())
        return refs

    def _models_changed(self) -> None:
        refs = [r for r in self.active_refs() if r is not None]
        self.generation.set_thinking_supported(any(model_supports_thinking(r.base_model or r.model) for r in refs),
                                               self._default_thinking_label(refs))
        self._update_dataset_box()

    @staticmethod
    def _default_thinking_label(refs: list[ModelRef]) -> str:
        """What "Model default" sends: for tuned models, the least thinking their base model allows."""
        levels = {tuned_thinking_level(r.base_model) for r in refs if r.kind != "base" and r.base_model}
        levels.discard(ThinkingLevel.DEFAULT)
        if len(levels) != 1:
            return ""
        label = f"advised for tuned models: {levels.pop().label}"
        if all(r.kind != "base" for r in refs):
            return f"Lowest ({label})"
        return f"Model default (tuned: lowest, {label.rsplit(': ', 1)[-1]})"

    def tuned_here(self, ref: ModelRef | None) -> bool:
        return ref is not None and ref.job_id is not None and self.ctx.project is not None \
            and self.catalog.job_of(ref) is None

    def _update_dataset_box(self) -> None:
        refs = self.active_refs()
        other = next((r for r in refs if self.catalog.job_of(r) is not None), None)
        job = self.catalog.job_of(other)
        if other is not None and job is not None:
            self.texts_box.show_other_connection(other.label.strip(), job, self.ctx.connections.profile.label)
            return
        settings = self._dataset_settings()
        has_text = bool(settings.preamble.strip() or settings.system_instruction.strip())
        tuned = [self.tuned_here(r) for r in refs]
        if not any(tuned):
            self.texts_box.show_nothing("Your prompt is sent as typed: the dataset's preamble and system instruction "
                                        "go only with a model tuned on this project.")
        elif not has_text:
            self.texts_box.show_nothing("Your prompt is sent as typed: this project has no preamble or system "
                                        "instruction (Dataset tab → Preamble).")
        else:
            mixed = len(refs) > 1 and not all(tuned)
            note = "" if not mixed else ("(Sent to both models.)" if self.share_texts.isChecked() else
                                         "(Only for the model tuned on this project.)")
            self.texts_box.show_texts(settings, mixed, note)

    def dataset_texts_for(self, ref: ModelRef | None, refs: list[ModelRef | None] | None = None) -> tuple[str, str]:
        """(preamble, system instruction) to send to ``ref``; ``refs`` are all the models asked together (when
        comparing, the other model gets the texts too unless the fair-comparison switch is off)."""
        if ref is None or not self.apply_dataset.isChecked():
            return "", ""
        compared = [r for r in (refs if refs is not None else self.active_refs()) if r is not None]
        shared = self.share_texts.isChecked() and len(compared) > 1 and any(self.tuned_here(r) for r in compared)
        if not self.tuned_here(ref) and not shared:
            return "", ""
        settings = self._dataset_settings()
        return settings.preamble, settings.system_instruction

    def _dataset_settings(self) -> DatasetSettings:
        project = self.ctx.project
        return project.settings if project is not None else DatasetSettings()

    def _switch_connection(self, job: object) -> None:
        """Make the connection ``job`` was tuned on the one in use (its model is chosen again when listed)."""
        from gemtune_desktop.core.jobs import JobRecord
        from gemtune_desktop.services.connections import Backend, ConnectionKind

        if not isinstance(job, JobRecord):
            return
        connections = self.ctx.connections
        kind = ConnectionKind(job.connection_kind)
        if kind is ConnectionKind.SANDBOX:
            profile = connections.profiles()[kind]
            profile.sandbox_backend = Backend(job.backend)
            connections.save_profile(profile, reconnect=False)
        connections.set_active(kind)
        self.ctx.status_message.emit(f"The connection in use is now {connections.profile.label}.", 5000)

    def refresh_project(self) -> None:
        self._update_dataset_box()

    # -- sending --------------------------------------------------------------------------
    def build_request(self, ref: ModelRef, prompt: str) -> ConsoleRequest:
        preamble, system = self.dataset_texts_for(ref)
        return ConsoleRequest(model=ref.model, prompt=prompt, generation=self.generation.settings(),
                              safety=self.safety.settings(), preamble=preamble, system_instruction=system,
                              base_model=ref.base_model)

    def is_busy(self) -> bool:
        return self._streams.running

    def send(self) -> None:
        if self.is_busy():
            self.status.setText("An answer is still arriving; stop it first.")
            return
        prompt = self.prompt.toPlainText()
        if not prompt.strip():
            self.status_line.say("Type a prompt first.", Tone.ERROR)
            self.prompt.setFocus()
            return
        refs = self.active_refs()
        if any(r is None for r in refs):
            self.status_line.say("Choose a model first (the list may still be loading).", Tone.ERROR)
            return
        other = next((r for r in refs if self.catalog.job_of(r) is not None), None)
        job = self.catalog.job_of(other)
        if other is not None and job is not None:
            from gemtune_desktop.services.model_choices import job_connection_label

            self.status_line.say(f"“{other.label.strip()}” answers only on the {job_connection_label(job)} "
                                 "connection: switch to it first (the button above).", Tone.ERROR)
            return
        self.status.setText("Sending…")
        for slot, ref in enumerate(refs):
            assert ref is not None
            request = self.build_request(ref, prompt)
            self._requests[slot] = request
            self._projects[slot] = self.ctx.project
            self._labels[slot] = ref.label.strip()
            self.views[slot].begin(ref.label.strip())
            self.ctx.connections.start(
                self._streams.slot(slot), partial(stream_task, request=request),
                on_progress=partial(self._piece, slot), on_result=partial(self._finished, slot),
                on_error=partial(self._failed, slot), on_cancelled=partial(self._stopped, slot),
                on_finished=self._update_buttons)
        self._update_buttons()

    def stop(self) -> None:
        self._streams.cancel_all()
        self.status.setText("Stopping…")

    def _update_buttons(self) -> None:
        busy = self.is_busy()
        self.stop_button.setEnabled(busy)
        self.send_button.setEnabled(not busy)
        if not busy and self.status.text() in ("Sending…", "Stopping…"):
            self.status.setText("")

    def _piece(self, slot: int, index: int, _total: int, text: str) -> None:
        self.views[slot].append_text(index, text)

    def _finished(self, slot: int, result: ConsoleResult) -> None:
        self.views[slot].show_result(result)
        self._remember(slot, result)

    def _stopped(self, slot: int) -> None:
        view = self.views[slot]
        request = self._requests.get(slot)
        view.show_stopped()
        if request is not None:
            from gemtune_desktop.services.console import Candidate

            partial = ConsoleResult(model=request.model, stopped=True,
                                    candidates=[Candidate(text=t, finish_reason="STOPPED_BY_USER")
                                                for t in view.texts()])
            view.result = partial
            self._remember(slot, partial)

    def _failed(self, slot: int, err: UserError) -> None:
        self.views[slot].show_error(err)

    def _remember(self, slot: int, result: ConsoleResult) -> None:
        project = self._projects.get(slot)
        request = self._requests.get(slot)
        if project is None or request is None or project.is_closed:
            return
        from gemtune_desktop.core.project import history_repo

        entry = history_repo.HistoryEntry(model=request.model, prompt=request.prompt,
                                          model_label=self._labels.get(slot, ""), request=request.to_dict(),
                                          response=result.to_dict(), latency_ms=result.latency_ms)
        try:
            history_repo.add_entry(project.store, entry)
        except Exception:  # the answer is still shown; only the history entry is lost
            log.warning("could not store console history", exc_info=True)
            self.status.setText("The answer could not be saved in the project's history.")
            return
        self.history_added.emit()

    # -- history and dataset --------------------------------------------------------------
    def load(self, model: str, prompt: str, request: dict[str, Any]) -> None:
        """Put a history entry back into the console (model, prompt, settings)."""
        from gemtune_desktop.core.generation import GenerationSettings, SafetySettings

        self.compare.setChecked(False)
        if not self.picker_a.select_model(model):
            ref = ModelRef(model=model, label=model, kind="base")
            self.catalog.add_requested(ref)
            self.picker_a.select_model(model)
        self.prompt.setPlainText(prompt)
        self.generation.set_settings(GenerationSettings.from_dict(request.get("generation") or {}))
        self.safety.set_settings(SafetySettings.from_dict(request.get("safety") or {}))

    def add_to_dataset(self, slot: int, answer: str) -> None:
        project = self.ctx.project
        if project is None:
            QMessageBox.information(self, "Add to dataset", "Open or create a project first (File menu).")
            return
        request = self._requests.get(slot)
        prompt = request.prompt if request is not None else self.prompt.toPlainText()
        from gemtune_desktop.ui.playground.add_example_dialog import AddExampleDialog

        dialog = AddExampleDialog(prompt, answer, self)
        dialog.setObjectName("addExampleDialog")
        accepted = dialog.exec() == AddExampleDialog.DialogCode.Accepted
        example = dialog.example()
        dialog.deleteLater()
        if not accepted:
            return
        try:
            project_edits.add_example(project, example)
        except Exception as exc:
            from gemtune_desktop.services.errors import describe

            self.status_line.error(describe(exc), "The example could not be added:", hint=False)
            return
        self.status_line.say(f"Added as a new {example.split.label.lower()} example.")
        self.ctx.status_message.emit("Example added to the dataset.", 4000)

    def shutdown(self) -> None:
        self.state.save_now()
        self.stop()

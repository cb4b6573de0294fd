"""The Monitor tab's details panel: everything the service reported about the selected job.

The job's state (and, for a job of another connection than the active one, which it belongs to), its
error or why its start is not confirmed yet, the models it made — the tuned model and, under it, each
checkpoint, each with a Test button — the settings the service used, the dataset statistics it reported
(the examples it dropped, 1-based with its reason, each linked to its row in the Dataset tab) and, once
the job has ended, what it cost: the service's billable tokens × the price.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gemtune_desktop.core.dropped import DroppedExamples, dropped_examples
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.preference.lineage import lineage_of, maker_of
from gemtune_desktop.qtcore.context import ModelRequest
from gemtune_desktop.ui.monitor.panel_parts import HYPER_WORDS, ClearableBox, heading, text_label

if TYPE_CHECKING:
    from gemtune_desktop.services.rebase import RebaseOffer

STAT_WORDS = (
    ("tuning_dataset_example_count", "Training examples"),
    ("tuning_step_count", "Training steps"),
    ("total_billable_token_count", "Billable tokens"),
    ("total_tuning_character_count", "Characters"),
    ("total_truncated_example_count", "Dropped examples"),
)
MAX_DROPPED_LINKS = 50
# Where the job started: said in words by its lineage line, not listed among the settings.
LINEAGE_KEYS = frozenset({"method", "base_model", "display_name", "start_model", "start_checkpoint", "start_base",
                          "start_job", "rebased_from", "rebased_from_job", "rebased_from_label", "rebased_from_base"})


@dataclass(frozen=True)
class JobContext:
    """What the panel shows beside the record: facts the tab knows about the job.

    Attributes:
        train_row_ids: the project's training example ids in file order (to link dropped examples).
        other_connection: the connection the job belongs to when it is not the active one, else "".
        cost: the actual cost in words once the job has ended ("" while it runs).
        lineage: what the job was tuned from, in words ("Preference-tuned from checkpoint 2 of “Lease desk”").
        lineage_job: the project's job it continued from or was moved from (0 when none is in the project).
        rebase: the move onto a newer base model to offer, when the job's base retires soon.
        moved: the job (id, words) that already moves this job's tuned model, if one does.
        compare_with: for a model moved onto a newer base, once it is ready: the model it was moved from (to
            evaluate both side by side before switching), else "".
    """

    train_row_ids: tuple[int, ...] = ()
    other_connection: str = ""
    cost: str = ""
    lineage: str = ""
    lineage_job: int = 0
    rebase: RebaseOffer | None = None
    moved: tuple[int, str] | None = None
    compare_with: str = ""


def lineage_words(job: JobRecord, records: Sequence[JobRecord]) -> tuple[str, int]:
    """What ``job`` was tuned from in words, and the id of that job when it is among ``records`` (else 0)."""
    hp = job.hyperparameters or {}
    source = str(hp.get("rebased_from") or hp.get("start_model") or "")
    if not (job.base_model or source):
        return "", 0
    maker = maker_of(source, records) if source.startswith("projects/") else None
    return lineage_of(job, records), maker.id if maker is not None and maker.id != job.id else 0


class DetailsPanel(QScrollArea):
    """Everything the service reported about the selected job.

    Signals:
        test_requested(object): a :class:`ModelRequest` for the tuned model or a checkpoint.
        rows_requested(list): example ids to select in the Dataset tab.
        job_requested(int): select this job (the one the shown job was tuned from).
        rebase_requested(int, str): move this job's tuned model onto this newer base model.
        compare_requested(str, str): evaluate the old model and the new one (moved onto a newer base) side by side.
    """

    test_requested = Signal(object)
    rows_requested = Signal(list)
    job_requested = Signal(int)
    rebase_requested = Signal(int, str)
    compare_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobDetails")
        self.setAccessibleName("Details of the selected job")
        self.setWidgetResizable(True)
        self.body = ClearableBox(self)
        self.setWidget(self.body)
        self.job: JobRecord | None = None
        self.state_label: QLabel | None = None
        self.dropped = DroppedExamples()
        self.set_job(None)

    def set_job(self, job: JobRecord | None, context: JobContext | None = None) -> None:
        """Show ``job`` with what the tab knows about it (``context``)."""
        self.job = job
        context = context or JobContext()
        body = self.body
        body.clear()
        box = body.box
        self.state_label = None
        if job is None:
            box.addWidget(text_label("Select a job to see its details.", body))
            box.addStretch(1)
            return
        box.addWidget(heading(job.display_name or "Tuning job", body))
        self.state_label = text_label(self._state_text(job), body)
        self.state_label.setObjectName("jobState")
        box.addWidget(self.state_label)
        if context.other_connection:
            note = text_label(f"This job belongs to the {context.other_connection} connection, not the active one. "
                              "Its curve and details are what this project saved; switch to that connection in "
                              "Settings → Connections to follow it, cancel it or try its model.", body)
            note.setObjectName("jobConnection")
            box.addWidget(note)
        if context.lineage:
            box.addWidget(self._lineage_label(context))
        if job.resource_name:
            box.addLayout(self._copy_row("Job", job.resource_name))
        if job.error:
            mark = "⏳" if job.state.being_submitted else "⚠"
            err = text_label(f"{mark} {job.error}", body)
            err.setObjectName("jobError")
            err.setFrameShape(QFrame.Shape.Box)
            box.addWidget(err)
        if context.cost:
            cost = text_label(f"Cost: {context.cost}", body)
            cost.setObjectName("jobCost")
            box.addWidget(cost)
        if context.rebase is not None:
            self._rebase_offer(job, context.rebase, not context.other_connection, context.moved)
        if context.compare_with and job.endpoint:
            self._compare_offer(context.compare_with, job.endpoint)
        self._models(job, not context.other_connection)
        self._hyperparameters(job)
        self._stats(job, list(context.train_row_ids))
        box.addStretch(1)

    def _lineage_label(self, context: JobContext) -> QLabel:
        text = html.escape(context.lineage, quote=False) + "."
        if context.lineage_job:
            text += f' <a href="job:{context.lineage_job}">Show that job</a>'
        label = text_label(text, self.body, rich=True)
        label.setObjectName("jobLineage")
        label.setOpenExternalLinks(False)
        label.linkActivated.connect(self._job_link)
        return label

    def _rebase_offer(self, job: JobRecord, offer: RebaseOffer, can_move: bool,
                      moved: tuple[int, str] | None) -> None:
        frame = QFrame(self.body)
        frame.setObjectName("rebaseOffer")
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(frame)
        notice = text_label(f"⚠ {offer.notice}", frame)
        notice.setObjectName("rebaseNotice")
        box.addWidget(notice)
        if moved is not None:
            started = text_label(f"It is being moved (or was moved) by {html.escape(moved[1], quote=False)}. "
                                 f'<a href="job:{moved[0]}">Show that job</a>', frame, rich=True)
            started.setObjectName("rebaseStarted")
            started.setOpenExternalLinks(False)
            started.linkActivated.connect(self._job_link)
            box.addWidget(started)
            self.body.box.addWidget(frame)
            return
        if not offer.choices:
            box.addWidget(text_label("No newer base model that can be tuned is listed for it yet.", frame))
            self.body.box.addWidget(frame)
            return
        row = QHBoxLayout()
        row.addWidget(QLabel("Newer base:", frame))
        self.rebase_choice = QComboBox(frame)
        self.rebase_choice.setObjectName("rebaseChoice")
        self.rebase_choice.setAccessibleName("Newer base model")
        for model in offer.choices:
            self.rebase_choice.addItem(model.label or model.id, model.id)
        row.addWidget(self.rebase_choice, 1)
        box.addLayout(row)
        move = QPushButton("Move to a newer base model…", frame)
        move.setObjectName("rebaseButton")
        move.setEnabled(can_move)
        move.setToolTip("Start a tuning job that trains this model again on the newer base (asks first)" if can_move
                        else "Switch to this job's connection to move its model")
        choice = self.rebase_choice
        move.clicked.connect(lambda _=False: self.rebase_requested.emit(job.id, str(choice.currentData() or "")))
        box.addWidget(move)
        self.body.box.addWidget(frame)

    def _compare_offer(self, old: str, new: str) -> None:
        frame = QFrame(self.body)
        frame.setObjectName("compareOffer")
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(frame)
        box.addWidget(text_label("The model on the newer base is ready. Before you switch to it, compare it with "
                                 "the old one on your evaluation examples: both answer each example, side by side.",
                                 frame))
        button = QPushButton("Compare old and new in the Test tab", frame)
        button.setObjectName("compareButton")
        button.clicked.connect(lambda _=False: self.compare_requested.emit(old, new))
        box.addWidget(button)
        self.body.box.addWidget(frame)

    def _job_link(self, href: str) -> None:
        try:
            self.job_requested.emit(int(href.split(":", 1)[1]))
        except (IndexError, ValueError):
            return

    @staticmethod
    def _state_text(job: JobRecord) -> str:
        steps = f" — step {job.completed_steps} of {job.total_steps}" if job.total_steps and job.state.active else ""
        if job.total_steps and job.state.ended and 0 < job.completed_steps < job.total_steps:
            steps = f" at step {job.completed_steps} of {job.total_steps}"
        return f"State: {job.state_words}{steps}"

    def update_state(self, job: JobRecord) -> None:
        """Refresh the state line only (progress ticks do not rebuild the panel)."""
        if self.job is not None and job.id == self.job.id and self.state_label is not None:
            self.job = job
            self.state_label.setText(self._state_text(job))

    def _copy_row(self, title: str, value: str) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(f"{title}:", self.body))
        field = QLineEdit(value, self.body)
        field.setReadOnly(True)
        field.setAccessibleName(title)
        field.setObjectName(f"copyField_{title.split()[0].lower()}")
        field.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        field.setCursorPosition(0)
        row.addWidget(field, 1)
        button = QToolButton(self.body)
        button.setText("Copy")
        button.setObjectName(f"copy_{title.split()[0].lower()}")
        button.setToolTip(f"Copy the {title.lower()} name to the clipboard")
        button.setAccessibleName(f"Copy {title.lower()} name")
        button.clicked.connect(lambda _=False, v=value: QGuiApplication.clipboard().setText(v))
        row.addWidget(button)
        return row

    # -- the models the job made: the tuned model, then its checkpoints ------------------------------
    def _models(self, job: JobRecord, can_test: bool) -> None:
        box = self.body.box
        if job.data_stats.get("tuned_model_deleted"):
            box.addWidget(text_label("The tuned model was deleted on the service; this job's curve and settings stay "
                                     "in the project.", self.body))
        cps = sorted((c for c in job.checkpoints if c.get("endpoint")), key=lambda c: int(c.get("step") or 0))
        if not (job.tuned_model or job.endpoint or cps):
            return
        box.addWidget(heading("Models from this job", self.body))
        for title, value in (("Tuned model", job.tuned_model), ("Endpoint", job.endpoint)):
            if value:
                box.addLayout(self._copy_row(title, value))
        if job.endpoint:
            test = QPushButton("Open in the Test tab", self.body)
            test.setObjectName("detailsTestModel")
            test.setToolTip("Try the tuned model on your own prompts" if can_test else
                            "Switch to this job's connection to try its model")
            test.setEnabled(can_test)
            payload = ModelRequest(job.endpoint, job.display_name or "tuned model", job.id)
            test.clicked.connect(lambda _=False, p=payload: self.test_requested.emit(p))
            box.addWidget(test)
        if cps:
            box.addWidget(text_label(f"Checkpoints of this job ({len(cps)}): the model as it was after each epoch.",
                                     self.body))
        for cp in cps:
            self._checkpoint_row(job, cp, can_test)

    def _checkpoint_row(self, job: JobRecord, cp: dict[str, object], can_test: bool) -> None:
        row = QHBoxLayout()
        row.setContentsMargins(16, 0, 0, 0)  # indented under the job's model
        what = f"Epoch {cp.get('epoch', '?')} · step {cp.get('step', '?')}"
        row.addWidget(QLabel(what, self.body), 1)
        button = QPushButton("Test", self.body)
        button.setObjectName(f"testCheckpoint_{cp.get('checkpoint_id') or cp.get('epoch')}")
        button.setToolTip(f"Try the model as it was after {what.lower()} in the Test tab")
        button.setAccessibleName(f"Test checkpoint {what}")
        button.setEnabled(can_test)
        payload = ModelRequest(str(cp["endpoint"]), f"{job.display_name or 'job'} — {what.lower()}", job.id)
        button.clicked.connect(lambda _=False, p=payload: self.test_requested.emit(p))
        row.addWidget(button)
        self.body.box.addLayout(row)

    def _hyperparameters(self, job: JobRecord) -> None:
        used = job.data_stats.get("hyper_parameters") if isinstance(job.data_stats, dict) else None
        source = "as the service reports them" if used else "as requested"
        params = used or job.hyperparameters
        if not params:
            return
        self.body.box.addWidget(heading(f"Settings ({source})", self.body))
        lines = [f"{HYPER_WORDS.get(k, k.replace('_', ' '))}: {v}" for k, v in sorted(params.items())
                 if not isinstance(v, dict | list) and k not in LINEAGE_KEYS]
        self.body.box.addWidget(text_label("\n".join(lines), self.body))

    # -- what the service counted, and the examples it dropped -----------------------------------------
    def _stats(self, job: JobRecord, train_row_ids: list[int]) -> None:
        stats = {k: v for k, v in (job.data_stats or {}).items() if k != "hyper_parameters"}
        if not stats:
            return
        box = self.body.box
        box.addWidget(heading("Your data, as the service counted it", self.body))
        lines = []
        for key, words in STAT_WORDS:
            if key in stats:
                try:
                    lines.append(f"{words}: {int(stats[key]):,}")
                except (TypeError, ValueError):
                    lines.append(f"{words}: {stats[key]}")
        if lines:
            box.addWidget(text_label("\n".join(lines), self.body))
        self.dropped = dropped_examples(stats, train_row_ids, job.train_count)
        if self.dropped.summary:
            box.addWidget(self._dropped_label(self.dropped))

    def _dropped_label(self, dropped: DroppedExamples) -> QLabel:
        shown = dropped.items[:MAX_DROPPED_LINKS]
        lines = []
        for i, item in enumerate(shown):
            words = html.escape(item.words)
            lines.append(f'<a href="dropped:{i}">{words}</a>' if item.row_id is not None else words)
        more = len(dropped.items) - len(shown)
        text = html.escape(dropped.summary)
        if lines:
            text += "<br>" + "<br>".join(lines)
        if more > 0:
            text += f"<br>… and {more:,} more."
        if any(item.row_id is not None for item in shown):
            text += "<br>Click an example to show it in the Dataset tab."
        label = text_label(text, self.body, rich=True)
        label.setObjectName("droppedRows")
        label.setOpenExternalLinks(False)
        label.linkActivated.connect(self._dropped_link)
        return label

    def _dropped_link(self, href: str) -> None:
        try:
            item = self.dropped.items[int(href.split(":", 1)[1])]
        except (IndexError, ValueError):
            return
        if item.row_id is not None:
            self.rows_requested.emit([item.row_id])

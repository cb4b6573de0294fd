"""The Monitor tab's details panel: everything the service reported about the selected job.

The hyperparameters the service used, the dataset statistics it reported (truncated rows link to the
Dataset tab), errors in plain words, the tuned model and endpoint names with copy buttons, and each
checkpoint with a Test button.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.qtcore.context import ModelRequest
from gemtune_desktop.ui.monitor.panel_parts import HYPER_WORDS, ClearableBox, heading, text_label

STAT_WORDS = (
    ("tuning_dataset_example_count", "Training examples"),
    ("tuning_step_count", "Training steps"),
    ("total_billable_token_count", "Billable tokens"),
    ("total_tuning_character_count", "Characters"),
    ("total_truncated_example_count", "Truncated examples"),
)




class DetailsPanel(QScrollArea):
    """Everything the service reported about the selected job.

    Signals:
        test_requested(object): a :class:`ModelRequest` for the tuned model or a checkpoint.
        rows_requested(list): example ids to select in the Dataset tab.
    """

    test_requested = Signal(object)
    rows_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobDetails")
        self.setAccessibleName("Details of the selected job")
        self.setWidgetResizable(True)
        self.body = ClearableBox(self)
        self.setWidget(self.body)
        self.job: JobRecord | None = None
        self.state_label: QLabel | None = None
        self._row_ids: list[int] = []
        self.set_job(None)

    def set_job(self, job: JobRecord | None, train_row_ids: list[int] | None = None) -> None:
        """Show ``job``; ``train_row_ids`` are the project's training example ids in file order (for truncated rows)."""
        self.job = job
        self._row_ids = list(train_row_ids or [])
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
        if job.resource_name:
            box.addLayout(self._copy_row("Job", job.resource_name))
        if job.error:
            err = text_label(f"⚠ {job.error}", body)
            err.setObjectName("jobError")
            err.setFrameShape(QFrame.Shape.Box)
            box.addWidget(err)
        if job.data_stats.get("tuned_model_deleted"):
            box.addWidget(text_label("The tuned model was deleted on the service; this job's curve and settings stay "
                                 "in the project.", body))
        for title, value in (("Tuned model", job.tuned_model), ("Endpoint", job.endpoint)):
            if value:
                box.addLayout(self._copy_row(title, value))
        if job.endpoint:
            test = QPushButton("Open in the Test tab", body)
            test.setObjectName("detailsTestModel")
            test.setToolTip("Try the tuned model on your own prompts")
            payload = ModelRequest(job.endpoint, job.display_name or "tuned model", job.id)
            test.clicked.connect(lambda _=False, p=payload: self.test_requested.emit(p))
            box.addWidget(test)
        self._hyperparameters(job)
        self._stats(job)
        self._checkpoints(job)
        box.addStretch(1)

    @staticmethod
    def _state_text(job: JobRecord) -> str:
        steps = f" — step {job.completed_steps} of {job.total_steps}" if job.total_steps and job.state.active else ""
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
        row.addWidget(field, 1)
        button = QToolButton(self.body)
        button.setText("Copy")
        button.setObjectName(f"copy_{title.split()[0].lower()}")
        button.setToolTip(f"Copy the {title.lower()} name to the clipboard")
        button.setAccessibleName(f"Copy {title.lower()} name")
        button.clicked.connect(lambda _=False, v=value: QGuiApplication.clipboard().setText(v))
        row.addWidget(button)
        return row

    def _hyperparameters(self, job: JobRecord) -> None:
        used = job.data_stats.get("hyper_parameters") if isinstance(job.data_stats, dict) else None
        source = "as the service reports them" if used else "as requested"
        params = used or job.hyperparameters
        if not params:
            return
        self.body.box.addWidget(heading(f"Settings ({source})", self.body))
        lines = [f"{HYPER_WORDS.get(k, k.replace('_', ' '))}: {v}" for k, v in sorted(params.items())
                 if not isinstance(v, dict | list)]
        self.body.box.addWidget(text_label("\n".join(lines), self.body))

    def _stats(self, job: JobRecord) -> None:
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
        indices = [int(i) for i in stats.get("truncated_example_indices") or [] if str(i).lstrip("-").isdigit()]
        if indices:
            box.addWidget(self._truncated(job, indices))
        reasons = stats.get("dropped_example_reasons") or []
        if reasons:
            text = "Examples the service dropped:\n" + "\n".join(f"• {r}" for r in reasons[:20])
            box.addWidget(text_label(text, self.body))

    def _truncated(self, job: JobRecord, indices: list[int]) -> QLabel:
        matches = bool(self._row_ids) and (not job.train_count or job.train_count == len(self._row_ids))
        shown = indices[:50]
        if matches:
            links = ", ".join(f'<a href="row:{i}">row {i + 1}</a>' for i in shown if 0 <= i < len(self._row_ids))
            text = (f"Examples cut short because they were too long ({len(indices)}): {links}"
                    f"{' …' if len(indices) > len(shown) else ''}. Click a row to show it in the Dataset tab.")
        else:
            nums = ", ".join(str(i + 1) for i in shown)
            text = (f"Examples cut short because they were too long ({len(indices)}): training examples {nums}. "
                    "The dataset has changed since this job, so they cannot be matched to rows.")
        label = text_label(text, self.body, rich=matches)
        label.setObjectName("truncatedRows")
        label.setOpenExternalLinks(False)
        label.linkActivated.connect(self._row_link)
        return label

    def _row_link(self, href: str) -> None:
        if href == "all":
            return
        try:
            index = int(href.split(":", 1)[1])
        except (IndexError, ValueError):
            return
        if 0 <= index < len(self._row_ids):
            self.rows_requested.emit([self._row_ids[index]])

    def _checkpoints(self, job: JobRecord) -> None:
        cps = [c for c in job.checkpoints if c.get("endpoint")]
        if not cps:
            return
        box = self.body.box
        box.addWidget(heading("Checkpoints", self.body))
        for cp in sorted(cps, key=lambda c: int(c.get("step") or 0)):
            row = QHBoxLayout()
            what = f"Epoch {cp.get('epoch', '?')} · step {cp.get('step', '?')}"
            row.addWidget(QLabel(what, self.body), 1)
            button = QPushButton("Test", self.body)
            button.setObjectName(f"testCheckpoint_{cp.get('checkpoint_id') or cp.get('epoch')}")
            button.setToolTip(f"Try the model as it was after {what.lower()} in the Test tab")
            button.setAccessibleName(f"Test checkpoint {what}")
            payload = ModelRequest(str(cp["endpoint"]), f"{job.display_name or 'job'} — {what.lower()}", job.id)
            button.clicked.connect(lambda _=False, p=payload: self.test_requested.emit(p))
            row.addWidget(button)
            box.addLayout(row)

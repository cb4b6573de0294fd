"""The Monitor tab's advice panel: what the loss curve suggests, each with a one-click next step.

The words fit how the job ended: only a job that succeeded can have a "healthy" curve; a cancelled
or failed job is read for the part that ran, and the panel says so.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from gemtune_desktop.core.advice import OVERFITTING, Advice, advise
from gemtune_desktop.core.job_facts import checkpoint_for, learning_rate_multiplier, rerun_settings, steps_per_epoch
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.loss import TRAIN, VALIDATION, LossSeries
from gemtune_desktop.qtcore.context import ModelRequest
from gemtune_desktop.ui.monitor.panel_parts import HYPER_WORDS, ClearableBox, heading, text_label


class AdvicePanel(ClearableBox):
    """Findings from the curve, each with a one-click next step.

    Signals:
        prefill_requested(dict): settings for the Tune tab.
        test_requested(object): a :class:`ModelRequest` for a checkpoint to try.
    """

    prefill_requested = Signal(dict)
    test_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("advicePanel")
        self.setAccessibleName("Advice from the loss curve")
        self.advice: list[Advice] = []
        self.show_advice(None, [])

    def read_curves(self, job: JobRecord, curves: Mapping[str, LossSeries], force: bool = False) -> None:
        """Read ``job``'s curves and show what they suggest (rebuilt only when the findings change, or ``force``)."""
        train = curves.get(TRAIN, LossSeries())
        succeeded = job.state in (JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED)
        found = advise(train, curves.get(VALIDATION), steps_per_epoch=steps_per_epoch(job),
                       learning_rate_multiplier=learning_rate_multiplier(job), finished=succeeded)
        if force or [a.text for a in found] != [a.text for a in self.advice] or not found:
            other = any(len(s) for key, s in curves.items() if key not in (TRAIN, VALIDATION))
            self.show_advice(job, found, has_curve=len(train) > 0, other_curves=other)

    def show_advice(self, job: JobRecord | None, advice: list[Advice], has_curve: bool = True,
                    other_curves: bool = False) -> None:
        """Show the findings for ``job``'s curve; ``has_curve`` is False when no supervised loss was recorded,
        ``other_curves`` True when the job reported other series (a preference job's loss and margin)."""
        self.clear()
        self.advice = list(advice)
        self.box.addWidget(heading("Advice from the curve", self))
        if job is None:
            self.box.addWidget(text_label("Select a job to read its curve.", self))
            self.box.addStretch(1)
            return
        stopped = stopped_words(job)
        if stopped:
            note = text_label(stopped, self)
            note.setObjectName("adviceStopped")
            self.box.addWidget(note)
        if not advice:
            if not stopped:
                self.box.addWidget(text_label(no_advice_words(job, has_curve, other_curves), self))
            self.box.addStretch(1)
            return
        for a in advice:
            frame = QFrame(self)
            frame.setFrameShape(QFrame.Shape.StyledPanel)
            frame.setObjectName(f"advice_{a.kind}")
            inner = QVBoxLayout(frame)
            mark = "⚠ " if a.warning else "ℹ "
            inner.addWidget(heading(mark + a.title, frame))
            inner.addWidget(text_label(a.text, frame))
            row = QHBoxLayout()
            if a.settings:
                settings = {**rerun_settings(job), **a.settings}
                button = QPushButton("Tune again with these settings", frame)
                button.setObjectName(f"adviceTune_{a.kind}")
                shown = ", ".join(f"{HYPER_WORDS.get(k, k)} {v}" for k, v in a.settings.items())
                button.setToolTip(f"Open the Tune tab with {shown} and this job's other settings")
                button.clicked.connect(lambda _=False, s=settings: self.prefill_requested.emit(s))
                row.addWidget(button)
            if a.kind == OVERFITTING:
                cp = checkpoint_for(job, a.epoch, a.step)
                if cp is not None:
                    test = QPushButton(f"Test the checkpoint from epoch {cp.get('epoch')}", frame)
                    test.setObjectName("adviceTestCheckpoint")
                    test.setToolTip("Try the model as it was at its lowest validation loss, in the Test tab")
                    payload = ModelRequest(str(cp["endpoint"]),
                                           f"{job.display_name or 'job'} — epoch {cp.get('epoch')} checkpoint",
                                           job.id)
                    test.clicked.connect(lambda _=False, p=payload: self.test_requested.emit(p))
                    row.addWidget(test)
            row.addStretch(1)
            inner.addLayout(row)
            self.box.addWidget(frame)
        self.box.addStretch(1)


def stopped_words(job: JobRecord) -> str:
    """What to make of the curve of a job that ended without succeeding ("" for any other job)."""
    where = (f" at step {job.completed_steps:,} of {job.total_steps:,}"
             if job.total_steps and 0 < job.completed_steps < job.total_steps else "")
    if job.state in (JobState.CANCELLED, JobState.CANCELLING):
        return (f"This job was cancelled{where}, so its curve stops there and says nothing about the training that "
                "did not run. A model it left behind was not fully trained: test it before you use it, or tune "
                "again. Any advice below reads only the part that ran.")
    if job.state in (JobState.FAILED, JobState.EXPIRED):
        return (f"This job stopped before it finished{where} (see its details), so its curve is incomplete. "
                "Any advice below reads only the part that ran.")
    if job.state is JobState.SUBMIT_FAILED:
        return "This job did not start, so there is no curve to read."
    return ""


def no_advice_words(job: JobRecord, has_curve: bool, other_curves: bool = False) -> str:
    """Why there is no advice for a job that is running or succeeded."""
    if not has_curve and other_curves:
        return ("GemTune's advice reads the supervised training loss, which this job does not report. Its own curves "
                "are plotted, and what each one means is said under the plot.")
    if job.state.being_submitted:
        return "GemTune is still checking whether this job started; its curve appears once it is found."
    if job.state is JobState.SUCCEEDED or job.state is JobState.PARTIALLY_SUCCEEDED:
        if not has_curve:
            return "No loss values were recorded for this job, so there is nothing to read."
        return "The curve looks healthy: no plateau, no overfitting, and the loss went down."
    return ("Nothing to suggest yet: advice appears when the curve shows a plateau, overfitting, or a loss that does "
            "not go down.")

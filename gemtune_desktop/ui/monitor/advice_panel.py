"""The Monitor tab's advice panel: what the loss curve suggests, each with a one-click next step."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from gemtune_desktop.core.advice import OVERFITTING, Advice
from gemtune_desktop.core.job_facts import checkpoint_for, rerun_settings
from gemtune_desktop.core.jobs import JobRecord
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

    def show_advice(self, job: JobRecord | None, advice: list[Advice]) -> None:
        self.clear()
        self.advice = list(advice)
        self.box.addWidget(heading("Advice from the curve", self))
        if job is None:
            self.box.addWidget(text_label("Select a job to read its curve.", self))
            self.box.addStretch(1)
            return
        if not advice:
            text = ("Nothing to suggest yet: advice appears when the curve shows a plateau, overfitting, or a "
                    "loss that does not go down." if job.state.active or not job.state.ended else
                    "The curve looks healthy: no plateau, no overfitting, and the loss went down.")
            self.box.addWidget(text_label(text, self))
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



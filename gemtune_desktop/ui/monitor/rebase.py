"""Moving a tuned model whose base model retires onto a newer one, from the Monitor tab (issue 18).

For a succeeded Agent Platform job whose base model retires within 90 days or has retired (the dates in
``models.json``), :func:`gemtune_desktop.services.rebase.rebase_offer` gives the notice and the newer bases; the
details panel shows them with "Move to a newer base model…". That asks first, then runs the exactly-once submit
the Tune tab runs (:class:`~gemtune_desktop.services.submit_flow.SubmitWorkflow`: the new job is recorded before
anything is sent, ``ServiceApi.submit`` sends the ``rebaseTunedModel`` request, the outcome is recorded after), so
a move is never started twice nor lost. The new job then shows in the list like any other, its lineage "Moved
from ‹job› (old base) onto the newer base model ‹new›".
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from functools import cache

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.model_catalog import ModelInfo, connection_models
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.rebase import RebaseOffer, plan_rebase, rebase_offer
from gemtune_desktop.services.submit_flow import SubmitPlan, SubmitReport, SubmitState, SubmitWorkflow, release
from gemtune_desktop.services.tuning import SubmitOutcome, SubmitResult
from gemtune_desktop.ui.widgets.status_line import Tone, error_text

log = logging.getLogger(__name__)

Confirm = Callable[[str, str, str], bool]  # (title, text, yes-button text) -> confirmed

CONFIRM_TEXT = ("Move the tuned model of “{name}” onto {new}?\n\nGoogle starts a new tuning job that trains the same "
                "model again on the newer base; it is billed like any tuning job. The old tuned model stays until "
                "you delete it, so you can compare the two in the Test tab before you switch.")


@cache
def _models(sandbox: bool) -> dict[str, ModelInfo]:
    from gemtune_desktop.resources import read_json

    try:
        return connection_models(read_json("models.json"), sandbox)
    except (OSError, ValueError):
        log.warning("models.json could not be read; no retirement notices")
        return {}


def offer_for(job: JobRecord, sandbox: bool) -> RebaseOffer | None:
    """The move to offer for ``job`` (None when its base does not retire soon, or it has no tuned model)."""
    return rebase_offer(job, _models(sandbox))


def moved_by(job: JobRecord, records: Sequence[JobRecord]) -> tuple[int, str] | None:
    """The job of the project that moves (or moved) ``job``'s tuned model, as (id, words), if there is one."""
    for other in records:
        if job.tuned_model and other.hyperparameters.get("rebased_from") == job.tuned_model \
                and other.state is not JobState.SUBMIT_FAILED:
            return other.id, f"“{other.display_name or 'the new job'}” ({other.state_words}, on {other.base_model})"
    return None


class RebaseActions(QObject):
    """Start the move of a tuned model onto a newer base.

    Signals:
        said(str, object): what happened and its :class:`Tone`, for the tab's status line.
        started(int): the project's id of the new job (recorded; it may still be being sent).
    """

    said = Signal(str, object)
    started = Signal(int)

    def __init__(self, ctx: AppContext, host: QWidget, confirm: Confirm) -> None:
        super().__init__(host)
        self.ctx = ctx
        self.confirm = confirm
        self._send = TaskSlot(self, ctx.executor, "rebase tuned model")

    @property
    def busy(self) -> bool:
        return self._send.running

    def move(self, job: JobRecord, new_base: str) -> None:
        project = self.ctx.project
        if project is None or self.busy or not new_base:
            return
        labels = {m.id: m.label for m in _models(self.ctx.connections.profile.is_sandbox).values()}
        if not self.confirm("Move to a newer base model", CONFIRM_TEXT.format(
                name=job.display_name or job.tuned_model, new=labels.get(new_base, new_base)), "Move the model"):
            return
        try:
            plan = plan_rebase(job, new_base, self.ctx.connections.profile)
            workflow = SubmitWorkflow(project.store)
            job_id = workflow.record(plan)  # on disk before anything is sent
        except UserError as err:
            self.said.emit(error_text(err, "The move was not started:", tone=Tone.PLAIN), Tone.ERROR)
            return
        self.ctx.jobs_changed.emit()
        self.started.emit(job_id)
        self.said.emit(f"Asking Google to move “{job.display_name}” onto {labels.get(new_base, new_base)}…",
                       Tone.PLAIN)
        outcome = SubmitOutcome()
        request = plan.request

        def finished(result: SubmitResult) -> None:
            self._report(plan, workflow, lambda: workflow.finished(job_id, result))

        def failed(err: UserError) -> None:
            self._report(plan, workflow, lambda: workflow.failed(job_id, err, outcome))

        def cancelled() -> None:
            self._report(plan, workflow, lambda: workflow.cancelled(job_id, outcome))

        self.ctx.connections.start(self._send, lambda token, api: api.submit(token, request, outcome),
                                   on_result=finished, on_error=failed, on_cancelled=cancelled)

    def _report(self, plan: SubmitPlan, workflow: SubmitWorkflow, record: Callable[[], SubmitReport]) -> None:
        try:
            report = record()
        except (sqlite3.Error, UserError, OSError) as exc:  # the project was closed or cannot be written meanwhile
            log.warning("the outcome of a rebase could not be recorded: %s", type(exc).__name__)
            release(plan.request.submit_key)  # its record is checked for when the project is open again
            self.said.emit("What became of the move could not be written to the project. GemTune looks the new job "
                           "up on the service the next time this project is open; do not start it again meanwhile.",
                           Tone.ERROR)
            return
        self.ctx.jobs_changed.emit()
        name = plan.record.display_name
        if report.state is SubmitState.STARTED:
            self.said.emit(f"The move of “{name}” has started as a new tuning job on the newer base model; "
                           "it is followed here.", Tone.OK)
        elif report.state is SubmitState.NOT_KNOWN_YET:
            self.said.emit(error_text(report, tone=Tone.PLAIN), Tone.WARNING)
        elif report.state is SubmitState.WITHDRAWN:
            self.said.emit("Cancelled. The tuned model was not moved.", Tone.PLAIN)
        else:
            self.said.emit(error_text(report, "The move was not started:", tone=Tone.PLAIN), Tone.ERROR)

    def shutdown(self) -> None:
        self._send.shutdown()

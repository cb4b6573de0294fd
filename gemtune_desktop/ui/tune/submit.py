"""The Tune tab's Start: pre-flight checks, then the exactly-once submit, and what became of it.

:meth:`SubmitFlow.start` checks the settings (:func:`~gemtune_desktop.core.job_spec.check_spec`) and
validates the dataset for the connection's service on a worker (errors block with links to the rows,
warnings ask). It then runs :class:`~gemtune_desktop.services.submit_flow.SubmitWorkflow`: the job is
recorded in the project before anything is sent, sent through the connection's service seam
(``api.submit``) on a worker with progress and Cancel, and its outcome recorded as one of the four
:class:`~gemtune_desktop.services.submit_flow.SubmitState` s, which :attr:`SubmitFlow.reported` hands to the
tab as a :class:`~gemtune_desktop.services.submit_flow.SubmitReport`. It speaks to the tab only through
its signals.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Target
from gemtune_desktop.core.preference import rules as PR
from gemtune_desktop.core.preference import spec as P
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.validation import Finding, Severity
from gemtune_desktop.core.validation.findings import VALIDATION_SIZE
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.connections import Backend, ConnectionProfile
from gemtune_desktop.services.submit_flow import (
    SubmitPlan,
    SubmitReport,
    SubmitWorkflow,
    plan_preference_submit,
    plan_submit,
    release,
)
from gemtune_desktop.services.tuning import SubmitOutcome, SubmitResult

log = logging.getLogger(__name__)

#: Added to the validation-set rule's words: the other way to meet it, on this tab.
WITHOUT_VALIDATION = " Or untick “Use the project's validation examples” to tune without them."


@dataclass(frozen=True)
class StartRequest:
    """The form's job as the user pressed Start."""

    spec: J.JobSpec
    model: J.ModelInfo | None
    price: float | None
    backend: Backend
    profile: ConnectionProfile
    start: P.StartingPoint | None = None  # a tuned model (and checkpoint) to continue from
    preference: P.PreferenceSpec | None = None  # the Preference method: this job instead of ``spec``
    supports_preference: bool | None = None  # what models.json says of the starting point's base model
    model_label: str = ""


def _validate_preferences(_token: CancelToken, examples: list[PreferenceExample],
                          settings: PreferenceSettings) -> list[Finding]:
    from gemtune_desktop.core.preference.validation import validate_preferences

    return validate_preferences(examples, settings)


def preference_problems(errors: list[Finding]) -> list[J.Problem]:
    """The preference examples' errors as problems of the training data (the estimate is marked)."""
    shown = [J.Problem("dataset", f"Preference example {f.row}: {f.message}" if f.row else f.message)
             for f in errors[:20]]
    if len(errors) > 20:
        shown.append(J.Problem("dataset", f"… and {len(errors) - 20:,} more problems in the preference examples "
                                          "(see them in the Dataset tab)."))
    return shown

def _validate(_token: CancelToken, examples: list[Example], settings: DatasetSettings, target: Target) -> list[Finding]:
    from gemtune_desktop.core.validation import validate

    return validate(examples, settings, target)


def blocking_findings(findings: list[Finding], spec: J.JobSpec) -> list[Finding]:
    """The errors that stop this job: the validation-set rule only when the validation set is sent."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if not spec.use_validation:
        return [f for f in errors if f.rule != VALIDATION_SIZE]
    return [dataclasses.replace(f, message=f.message + WITHOUT_VALIDATION) if f.rule == VALIDATION_SIZE else f
            for f in errors]


class SubmitFlow(QObject):
    """Starts one tuning job at a time.

    Args:
        confirm_warnings: asks the user whether to start despite these warnings (a modal question).

    Signals:
        busy_changed(bool): a job is being started (the form is locked, Cancel shows).
        said(str): what is happening, for the status line.
        failed(object): a :class:`UserError` that stopped Start before anything was sent.
        spec_problems(list): the :class:`~gemtune_desktop.core.job_spec.Problem` s of the settings.
        dataset_errors(list, list): the dataset's error findings and the examples they were found in.
        progressed(int, int, str): upload and submit progress.
        submit_began(): the job is recorded and is being sent (progress starts).
        reported(object): the :class:`SubmitReport` of a submit: started, not known yet, not started or withdrawn.
    """

    busy_changed = Signal(bool)
    said = Signal(str)
    failed = Signal(object)
    spec_problems = Signal(list)
    dataset_errors = Signal(list, list)
    progressed = Signal(int, int, str)
    submit_began = Signal()
    reported = Signal(object)

    def __init__(self, ctx: AppContext, confirm_warnings: Callable[[list[Finding]], bool],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._confirm_warnings = confirm_warnings
        self._preflight = TaskSlot(self, ctx.executor, "pre-flight")
        self._submit = TaskSlot(self, ctx.executor, "submit")
        self.busy = False

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.busy_changed.emit(busy)

    # -- pre-flight ---------------------------------------------------------------------------
    def start(self, request: StartRequest) -> None:
        """Pre-flight, record, submit. Ignored while a job is being started (double clicks)."""
        project = self.ctx.project
        if self.busy or project is None:
            return
        self._set_busy(True)
        if request.preference is not None:
            self._start_preference(request, request.preference)
            return
        spec, info = request.spec, request.model
        problems = J.check_spec(spec, adapter_sizes=info.adapter_sizes if info else J.DEFAULT_ADAPTER_SIZES,
                                full_tuning=bool(info and info.full_tuning))
        if problems:
            self.spec_problems.emit(problems)
            self._set_busy(False)
            return
        profile = request.profile
        if request.backend is Backend.AGENT_PLATFORM and not profile.is_sandbox and not profile.bucket:
            self._failed_early(UserError("No Cloud Storage bucket is set for this connection.",
                                         "Agent Platform reads the training data from a bucket. Open Settings → "
                                         "Connections and enter a bucket in your project."))
            return
        examples = [e.copy() for e in project.examples]
        settings = project.settings
        snapshot = DatasetSettings(settings.preamble, settings.system_instruction, settings.target,
                                   settings.split_seed, settings.split_ratios, dict(settings.extra))
        self.said.emit("Checking the dataset…")
        self._preflight.start(_validate, examples, snapshot, Target(request.backend.value),
                              on_result=lambda findings: self._after_preflight(request, examples, snapshot, findings),
                              on_error=self._failed_early, on_cancelled=self._preflight_cancelled)

    def _after_preflight(self, request: StartRequest, examples: list[Example], settings: DatasetSettings,
                         findings: list[Finding]) -> None:
        errors = blocking_findings(findings, request.spec)
        warnings = [f for f in findings if f.severity is Severity.WARNING]
        if errors:
            self.dataset_errors.emit(errors, examples)
            self.said.emit(f"Tuning was not started: the dataset has {len(errors)} problem"
                           f"{'s' if len(errors) != 1 else ''} that the service would refuse. Fix them first.")
            self._set_busy(False)
            return
        if warnings and not self._confirm_warnings(warnings):
            self.said.emit("Tuning was not started. Review the warnings in the Dataset tab.")
            self._set_busy(False)
            return
        self._record_and_send(request, examples, settings)

    def _start_preference(self, request: StartRequest, spec: P.PreferenceSpec) -> None:
        from gemtune_desktop.core.project import preference_repo

        project = self.ctx.project
        assert project is not None
        info = request.model
        sizes = tuple(s for s in (info.adapter_sizes if info else J.DEFAULT_ADAPTER_SIZES) if s in PR.ADAPTER_SIZES)
        problems = P.check_preference_spec(spec, adapter_sizes=sizes, supports_preference=request.supports_preference,
                                           model_label=request.model_label)
        if problems:
            self.spec_problems.emit(problems)
            self._set_busy(False)
            return
        try:
            examples = preference_repo.load(project.store)
        except (sqlite3.Error, UserError) as exc:
            log.warning("the preference examples could not be read: %s", type(exc).__name__)
            self._failed_early(UserError("The project's preference examples could not be read.",
                                         "Check that the project file is still there, then try again."))
            return
        settings = PreferenceSettings.from_dataset(project.settings)
        self.said.emit("Checking the preference examples…")
        self._preflight.start(_validate_preferences, examples, settings,
                              on_result=lambda findings: self._after_preference_preflight(request, spec, examples,
                                                                                          settings, findings),
                              on_error=self._failed_early, on_cancelled=self._preflight_cancelled)

    def _after_preference_preflight(self, request: StartRequest, spec: P.PreferenceSpec,
                                    examples: list[PreferenceExample], settings: PreferenceSettings,
                                    findings: list[Finding]) -> None:
        errors = [f for f in findings if f.severity is Severity.ERROR]
        if errors:
            self.spec_problems.emit(preference_problems(errors))
            self.said.emit(f"Tuning was not started: the preference examples have {len(errors)} problem"
                           f"{'s' if len(errors) != 1 else ''} that the service would refuse. Fix them in the "
                           "Dataset tab.")
            self._set_busy(False)
            return
        warnings = [f for f in findings if f.severity is Severity.WARNING]
        if warnings and not self._confirm_warnings(warnings):
            self.said.emit("Tuning was not started. Review the warnings in the Dataset tab.")
            self._set_busy(False)
            return
        project = self.ctx.project
        if project is None:
            self._set_busy(False)
            return
        self._send(plan_preference_submit(spec, examples, settings, request.profile,
                                          dataset_name=project.display_name))

    def _preflight_cancelled(self) -> None:
        self.said.emit("Cancelled. No tuning job was started.")
        self._set_busy(False)

    def _failed_early(self, err: UserError) -> None:
        self.failed.emit(err)
        self._set_busy(False)

    # -- the exactly-once submit --------------------------------------------------------------
    def _record_and_send(self, request: StartRequest, examples: list[Example], settings: DatasetSettings) -> None:
        project = self.ctx.project
        if project is None:
            self._set_busy(False)
            return
        self._send(plan_submit(request.spec, examples, settings, request.profile, dataset_name=project.display_name,
                               price_per_million=request.price, start=request.start))

    def _send(self, plan: SubmitPlan) -> None:
        """Record the job, then send it (exactly once) and record what became of it."""
        project = self.ctx.project
        if project is None:
            self._set_busy(False)
            return
        workflow = SubmitWorkflow(project.store)
        try:
            job_id = workflow.record(plan)  # on disk before anything is sent
        except UserError as err:
            self._failed_early(err)
            return
        self.ctx.jobs_changed.emit()
        outcome = SubmitOutcome()
        self.submit_began.emit()
        self.said.emit("Starting the tuning job…")

        def finished(result: SubmitResult) -> None:
            self._report(plan, workflow, lambda: workflow.finished(job_id, result))

        def failed(err: UserError) -> None:
            self._report(plan, workflow, lambda: workflow.failed(job_id, err, outcome))

        def cancelled() -> None:
            self._report(plan, workflow, lambda: workflow.cancelled(job_id, outcome))

        request_ = plan.request
        self.ctx.connections.start(self._submit, lambda token, api: api.submit(token, request_, outcome),
                                   on_result=finished, on_error=failed, on_cancelled=cancelled,
                                   on_progress=self.progressed.emit)

    def _report(self, plan: SubmitPlan, workflow: SubmitWorkflow, record_outcome: Callable[[], SubmitReport]) -> None:
        try:
            report = record_outcome()
        except (sqlite3.Error, UserError, OSError) as exc:  # the project was closed or cannot be written meanwhile
            log.warning("the outcome of a submit could not be recorded: %s", type(exc).__name__)
            release(plan.request.submit_key)  # its record is checked for when the project is open again
            self._failed_early(UserError(
                "What became of the tuning job could not be written to the project.",
                "GemTune looks the job up on the service the next time this project is open. Do not start it "
                "again meanwhile: that could start it twice."))
            return
        if report.result is not None:
            self.ctx.status_message.emit("Tuning job started.", 5000)
        project = self.ctx.project
        if project is None or project.store is not workflow.store:  # another project is open now
            self.said.emit(f"{report.message} (In the project “{plan.record.dataset_name}”.)")
            self._set_busy(False)
            return
        self.ctx.jobs_changed.emit()
        self._set_busy(False)
        self.reported.emit(report)

    def cancel(self) -> None:
        self.said.emit("Cancelling…")
        self._submit.cancel()
        self._preflight.cancel()

    def shutdown(self) -> None:
        self._submit.cancel()
        self._preflight.cancel()

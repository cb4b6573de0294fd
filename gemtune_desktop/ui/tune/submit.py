"""The Tune tab's Start flow: pre-flight checks, the job record, the submit on a worker, and its outcome.

:meth:`SubmitFlow.start` checks the settings (:func:`~gemtune_desktop.core.job_spec.check_spec`),
validates the dataset for the target on a worker (errors block with links to the rows, warnings
ask), records the job in the project with state SUBMITTING and a unique submit key *before* anything
is sent, then asks the connection's service to submit it on a worker with progress and Cancel, and
updates the record with what the service answered (or why it failed). It speaks to the tab only
through its signals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.jobs import JobRecord, JobState, now_iso
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.validation import Finding, Severity
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.qtcore.project_session import ProjectSession
from gemtune_desktop.qtcore.workers import TaskSlot
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.tuning import InvalidSetting, SubmitOutcome, SubmitRequest, SubmitResult


@dataclass(frozen=True)
class StartRequest:
    """The form's job as the user pressed Start."""

    spec: J.JobSpec
    model: J.ModelInfo | None
    price: float | None
    backend: Backend
    profile: ConnectionProfile


def connection_id(profile: ConnectionProfile) -> str:
    """Which account a job was started on (recorded with the job)."""
    if profile.kind is ConnectionKind.AGENT_PLATFORM:
        return f"{profile.project}/{profile.region}"
    if profile.kind is ConnectionKind.SANDBOX:
        return f"sandbox/{profile.sandbox_backend.value}"
    return "gemini-api"


def _validate(_token: CancelToken, examples: list[Example], settings: DatasetSettings, target: Target) -> list[Finding]:
    from gemtune_desktop.core.validation import validate

    return validate(examples, settings, target)


class SubmitFlow(QObject):
    """Starts one tuning job at a time.

    Args:
        confirm_warnings: asks the user whether to start despite these warnings (a modal question).

    Signals:
        busy_changed(bool): a job is being started (the form is locked, Cancel shows).
        said(str): what is happening, for the status line.
        failed(object): a :class:`UserError` for the status line.
        spec_problems(list): the :class:`~gemtune_desktop.core.job_spec.Problem` s of the settings.
        dataset_errors(list, list): the dataset's error findings and the examples they were found in.
        field_refused(str): the service refused this setting (mark it).
        progressed(int, int, str): upload and submit progress.
        submit_began(): the job is recorded and is being sent (progress starts).
        job_started(str): the job is on the service and in the project (the status text).
    """

    busy_changed = Signal(bool)
    said = Signal(str)
    failed = Signal(object)
    spec_problems = Signal(list)
    dataset_errors = Signal(list, list)
    field_refused = Signal(str)
    progressed = Signal(int, int, str)
    submit_began = Signal()
    job_started = Signal(str)

    def __init__(self, ctx: AppContext, confirm_warnings: Callable[[list[Finding]], bool],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._confirm_warnings = confirm_warnings
        self._preflight = TaskSlot(self, ctx.executor, "pre-flight")
        self._submit = TaskSlot(self, ctx.executor, "submit")
        self.busy = False
        self._job_id = 0
        self._name = ""
        self._outcome: SubmitOutcome | None = None

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.busy_changed.emit(busy)

    def _project(self) -> ProjectSession | None:
        return self.ctx.project

    # -- start --------------------------------------------------------------------------------
    def start(self, request: StartRequest) -> None:
        """Pre-flight, record, submit. Ignored while a job is being started (double clicks)."""
        project = self._project()
        if self.busy or project is None:
            return
        self._set_busy(True)
        spec, info = request.spec, request.model
        problems = J.check_spec(spec, adapter_sizes=info.adapter_sizes if info else J.DEFAULT_ADAPTER_SIZES,
                                full_tuning=bool(info and info.full_tuning))
        if problems:
            self.spec_problems.emit(problems)
            self._set_busy(False)
            return
        profile = request.profile
        if request.backend is Backend.AGENT_PLATFORM and not profile.is_sandbox and not profile.bucket:
            self.failed.emit(UserError("No Cloud Storage bucket is set for this connection.",
                                       "Agent Platform reads the training data from a bucket. Open Settings → "
                                       "Connections and enter a bucket in your project."))
            self._set_busy(False)
            return
        examples = [e.copy() for e in project.examples]
        settings = project.settings
        snapshot = DatasetSettings(settings.preamble, settings.system_instruction, settings.target,
                                   settings.split_seed, settings.split_ratios, dict(settings.extra))
        self.said.emit("Checking the dataset…")
        self._preflight.start(_validate, examples, snapshot, Target(request.backend.value),
                              on_result=lambda findings: self._after_preflight(request, examples, snapshot, findings),
                              on_error=self._failed_early, on_cancelled=lambda: self._set_busy(False))

    def _after_preflight(self, request: StartRequest, examples: list[Example], settings: DatasetSettings,
                         findings: list[Finding]) -> None:
        errors = [f for f in findings if f.severity is Severity.ERROR]
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
        self._record_and_submit(request, examples, settings)

    def _record_and_submit(self, request: StartRequest, examples: list[Example], settings: DatasetSettings) -> None:
        project = self._project()
        if project is None:
            self._set_busy(False)
            return
        spec = request.spec
        train = [e for e in examples if e.split is Split.TRAIN]
        validation = [e for e in examples if e.split is Split.VALIDATION]
        used_validation = validation if (spec.backend == J.AGENT_PLATFORM and spec.use_validation) else []
        submit_key = uuid.uuid4().hex
        record = self._record(request, project, train, validation, used_validation, settings, submit_key)
        try:
            self._job_id = jobs_repo.add_job(project.store, record)
        except Exception as exc:  # the project file could not be written: do not send anything
            from gemtune_desktop.services.errors import describe

            err = describe(exc)
            self.failed.emit(UserError("The job could not be recorded in the project file, so it was not started.",
                                       err.hint or "Check the disk and try again.", detail=err.detail))
            self._set_busy(False)
            return
        self.ctx.jobs_changed.emit()
        self._name = spec.display_name
        outcome = self._outcome = SubmitOutcome()
        submit = SubmitRequest(spec, submit_key, train, used_validation, settings)
        self.submit_began.emit()
        self.said.emit("Starting the tuning job…")
        self.ctx.connections.start(self._submit, lambda token, api: api.submit(token, submit, outcome),
                                   on_result=self._submitted, on_error=self._submit_failed,
                                   on_progress=self.progressed.emit, on_cancelled=self._cancelled)

    def _record(self, request: StartRequest, project: ProjectSession, train: list[Example],
                validation: list[Example], used_validation: list[Example], settings: DatasetSettings,
                submit_key: str) -> JobRecord:
        spec, profile = request.spec, request.profile
        est = J.estimate(spec, train, validation, settings, request.price)
        hyper = {**spec.hyperparameters(), "base_model": spec.base_model, "display_name": spec.display_name}
        if spec.backend == J.GEMINI_API:
            hyper["tuned_model_id"] = J.tuned_model_id(spec.display_name, submit_key)
        return JobRecord(
            connection_kind=profile.kind.value, backend=request.backend.value, connection_id=connection_id(profile),
            display_name=spec.display_name, base_model=spec.base_model, hyperparameters=hyper,
            dataset_hash=J.dataset_hash(train, used_validation, settings), dataset_name=project.display_name,
            train_count=len(train), validation_count=len(used_validation),
            train_tokens=int(est.training_tokens if est.training_tokens is not None else est.tokens_per_epoch),
            submit_key=submit_key, state=JobState.SUBMITTING)

    def cancel(self) -> None:
        self._submit.cancel()
        self._preflight.cancel()
        self.said.emit("Cancelling…")

    def shutdown(self) -> None:
        self._submit.cancel()
        self._preflight.cancel()

    # -- outcome ------------------------------------------------------------------------------
    def _store(self) -> ProjectSession | None:
        project = self._project()
        return project if project is not None and self._job_id else None

    def _submitted(self, result: SubmitResult, note: str = "") -> None:
        self._outcome = None
        project = self._store()
        if project is not None:
            jobs_repo.update_job(project.store, self._job_id, resource_name=result.resource_name,
                                 state=JobState.parse(result.state), total_steps=int(result.total_steps or 0),
                                 tuned_model=result.tuned_model, endpoint=result.endpoint,
                                 experiment=result.experiment, started_at=result.create_time or now_iso(), error="")
        self.ctx.jobs_changed.emit()
        retried = f" (after {result.attempts} attempts; the service was busy)" if result.attempts > 1 else ""
        self.job_started.emit(f"✔ The tuning job “{self._name}” has started{retried}. It is recorded in this "
                              f"project; follow it in the Monitor tab.{note}")
        self.ctx.status_message.emit("Tuning job started.", 5000)
        self._set_busy(False)

    def _submit_failed(self, err: UserError) -> None:
        outcome, self._outcome = self._outcome, None
        if outcome is not None and outcome.result is not None:
            self._submitted(outcome.result)
            return
        project = self._store()
        if project is not None:
            from gemtune_desktop.ui.widgets.status_line import Tone, error_text

            jobs_repo.update_job(project.store, self._job_id, state=JobState.SUBMIT_FAILED,
                                 error=error_text(err, tone=Tone.PLAIN))
            self.ctx.jobs_changed.emit()
        if isinstance(err, InvalidSetting) and err.field:
            self.field_refused.emit(err.field)
        self.failed.emit(err)
        self._set_busy(False)

    def _failed_early(self, err: UserError) -> None:
        self.failed.emit(err)
        self._set_busy(False)

    def _cancelled(self) -> None:
        outcome, self._outcome = self._outcome, None
        if outcome is not None and outcome.result is not None:  # the job was created before Cancel took effect
            self._submitted(outcome.result, " (Cancel came too late: the job had already been created. You can "
                                            "cancel the job itself in the Monitor tab.)")
            return
        project = self._store()
        if project is not None:
            if outcome is not None and outcome.create_sent:
                jobs_repo.update_job(project.store, self._job_id, state=JobState.SUBMIT_FAILED,
                                     error="Cancelled while the job was being created; if the service created it "
                                           "anyway, it appears in the Monitor tab's list of jobs on the service.")
            else:
                jobs_repo.mark_deleted(project.store, self._job_id)
            self.ctx.jobs_changed.emit()
        self.said.emit("Cancelled. No tuning job was started.")
        self._set_busy(False)

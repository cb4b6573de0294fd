"""Record-then-submit: the protocol that starts a tuning job exactly once and never loses it (Qt-free).

Used by the Tune tab and by the tests alike::

    flow = SubmitWorkflow(store)
    plan = plan_submit(spec, examples, settings, profile, dataset_name="Support tickets", price=None)
    # or plan_preference_submit(preference_spec, preference_examples, settings, profile, …) for preference
    # tuning, or plan_submit(…, start=StartingPoint(tuned_model, checkpoint, base_model, job_label)) to continue
    # supervised tuning from a tuned model's checkpoint, or rebase.plan_rebase(record, new_base, profile)
    job_id = flow.record(plan)                    # GUI thread: on disk before anything is sent
    # worker thread, with a CancelToken and a SubmitOutcome shared with the GUI thread:
    result = SubmitWorkflow.send(token, session, plan.request, outcome)
    report = flow.finished(job_id, result)        # or flow.failed(job_id, err, outcome)
                                                  # or flow.cancelled(job_id, outcome)
    show(report.message, report.hint)             # report.state says what happened

``flow.run(token, session, plan)`` does all of it on one thread (the tests, scripts).

The outcome is one of four :class:`SubmitState` s:

* ``STARTED``: the job exists; recorded with its resource name; the poller follows it.
* ``NOT_KNOWN_YET``: the create may have made a job that could not be confirmed. Recorded as
  ``SUBMIT_UNKNOWN`` ("checking whether it started…"), never as failed; :func:`check_submit`
  looks it up in the background (the poller, also after a restart) until it is known.
* ``NOT_STARTED``: certainly no job; recorded as ``SUBMIT_FAILED`` with the reason; the user
  may start again.
* ``WITHDRAWN``: cancelled before anything was sent; the record is withdrawn (marked deleted).
"""

from __future__ import annotations

import enum
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.jobs import JobRecord, JobState, now_iso, parse_time
from gemtune_desktop.core.preference import spec as P
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.retry import RetryPolicy
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.connections import ConnectionProfile
from gemtune_desktop.services.create_once import CHECKING_HINT, CHECKING_MESSAGE, SubmitNotConfirmed
from gemtune_desktop.services.errors import describe
from gemtune_desktop.services.preference_tuning import PreferenceSubmitRequest
from gemtune_desktop.services.tuning import (
    AnySubmit,
    SubmitOutcome,
    SubmitRequest,
    SubmitResult,
    find_submitted_job,
    submit_job,
)

#: A submit whose job a trustworthy look-up has not found this long after it was sent did not start.
NOT_STARTED_AFTER_S = 15 * 60.0
NEVER_STARTED = ("The service never created this job, so nothing was started. You can start it again.")


class SubmitState(enum.Enum):
    STARTED = "started"
    NOT_KNOWN_YET = "not known yet"
    NOT_STARTED = "not started"
    WITHDRAWN = "withdrawn"


@dataclass(slots=True)
class SubmitReport:
    """What became of a submit, in the words to show (``message`` and ``hint``)."""

    state: SubmitState
    job_id: int
    message: str
    hint: str = ""
    result: SubmitResult | None = None
    error: UserError | None = None
    field: str = ""  # the JobSpec field the service refused, to highlight

    @property
    def may_start_again(self) -> bool:
        """Whether the form may offer to start the job again (never while it may exist)."""
        return self.state in (SubmitState.NOT_STARTED, SubmitState.WITHDRAWN)


@dataclass(slots=True)
class SubmitPlan:
    """The job record to write and the request to send, prepared from the form (plain data)."""

    record: JobRecord
    request: AnySubmit


def start_hyperparameters(method: str, start: P.StartingPoint | None) -> dict[str, Any]:
    """What a job record keeps of its method and starting point (read back by
    :func:`gemtune_desktop.core.preference.lineage.lineage_of`)."""
    hyper: dict[str, Any] = {"method": method}
    if start is not None and start.continued:
        hyper.update({"start_model": start.model, "start_checkpoint": start.checkpoint_id,
                      "start_base": start.base_model, "start_job": start.job_label})
    return hyper


def plan_submit(spec: J.JobSpec, examples: list[Example], settings: DatasetSettings, profile: ConnectionProfile,
                dataset_name: str = "", price_per_million: float | None = None,
                submit_key: str | None = None, start: P.StartingPoint | None = None) -> SubmitPlan:
    """The record (state SUBMITTING, a new unique submit key) and the request for ``spec`` over ``examples``.

    ``start`` naming a tuned model (and checkpoint) continues supervised tuning from it; the record's base
    model is then the base model that chain of tuning started from."""
    train = [e for e in examples if e.split is Split.TRAIN]
    validation = [e for e in examples if e.split is Split.VALIDATION]
    used_validation = validation if (spec.backend == J.AGENT_PLATFORM and spec.use_validation) else []
    key = submit_key or uuid.uuid4().hex
    est = J.estimate(spec, train, validation, settings, price_per_million)
    continued = start is not None and start.continued
    base_model = start.root_model if start is not None and continued else spec.base_model
    hyper: dict[str, Any] = {**spec.hyperparameters(), "base_model": base_model,
                             "display_name": spec.display_name, **start_hyperparameters("supervised", start)}
    if spec.backend == J.GEMINI_API:
        hyper["tuned_model_id"] = J.tuned_model_id(spec.display_name, key)
    record = JobRecord(
        connection_kind=profile.kind.value, backend=profile.backend.value, connection_id=profile.connection_id,
        display_name=spec.display_name, base_model=base_model, hyperparameters=hyper,
        dataset_hash=J.dataset_hash(train, used_validation, settings), dataset_name=dataset_name,
        train_count=len(train), validation_count=len(used_validation),
        train_tokens=int(est.training_tokens if est.training_tokens is not None else est.tokens_per_epoch),
        submit_key=key, state=JobState.SUBMITTING)
    return SubmitPlan(record, SubmitRequest(spec, key, train, used_validation, settings,
                                            start if continued else None))


def plan_preference_submit(spec: P.PreferenceSpec, examples: list[PreferenceExample], settings: PreferenceSettings,
                           profile: ConnectionProfile, dataset_name: str = "",
                           submit_key: str | None = None) -> SubmitPlan:
    """The record (SUBMITTING) and the request for a preference-tuning job over the project's preference examples
    (train split; the validation split when ``spec.use_validation``), from ``spec.start``: a base model, or a
    tuned model and checkpoint."""
    train = [e for e in examples if e.split is Split.TRAIN]
    validation = [e for e in examples if e.split is Split.VALIDATION] if spec.use_validation else []
    key = submit_key or uuid.uuid4().hex
    est = P.estimate_preference(spec, train, validation, settings)
    start = spec.start
    hyper: dict[str, Any] = {**spec.hyperparameters(), **start_hyperparameters("preference", start),
                             "base_model": start.root_model, "display_name": spec.display_name}
    record = JobRecord(
        connection_kind=profile.kind.value, backend=profile.backend.value, connection_id=profile.connection_id,
        display_name=spec.display_name or start.job_label, base_model=start.root_model, hyperparameters=hyper,
        dataset_hash=P.preference_dataset_hash(train, validation, settings), dataset_name=dataset_name,
        train_count=len(train), validation_count=len(validation), train_tokens=est.billable_per_epoch,
        submit_key=key, state=JobState.SUBMITTING)
    return SubmitPlan(record, PreferenceSubmitRequest(spec, key, train, validation, settings))


# -- submits running in this process (the poller leaves their records alone) ----------------------
_lock = threading.Lock()
_in_flight: set[str] = set()


def submit_in_flight(submit_key: str) -> bool:
    with _lock:
        return submit_key in _in_flight


def _hold(key: str) -> None:
    with _lock:
        _in_flight.add(key)


def _release(key: str | None) -> None:
    if key:
        with _lock:
            _in_flight.discard(key)


def release(submit_key: str) -> None:
    """Stop treating a submit as running in this process, when its outcome could not be recorded (its
    project was closed meanwhile): its record is then checked in the background like any unknown submit."""
    _release(submit_key)


class SubmitWorkflow:
    """The record-then-submit protocol for one project store (see the module docstring)."""

    def __init__(self, store: jobs_repo.Store) -> None:
        self.store = store

    def record(self, plan: SubmitPlan) -> int:
        """Write the SUBMITTING record; raises :class:`UserError` if it cannot be written (then send nothing)."""
        try:
            job_id = jobs_repo.add_job(self.store, plan.record)
        except Exception as exc:  # the project file could not be written: do not send anything
            err = describe(exc)
            raise UserError("The job could not be recorded in the project file, so it was not started.",
                            err.hint or "Check the disk and try again.", detail=err.detail) from None
        _hold(plan.request.submit_key)
        return job_id

    @staticmethod
    def send(token: CancelToken | None, session: BackendSession, request: AnySubmit,
             outcome: SubmitOutcome | None = None, policy: RetryPolicy | None = None) -> SubmitResult:
        """The worker part: :func:`~gemtune_desktop.services.tuning.submit_job` (supervised, preference, rebase)."""
        return submit_job(token, session, request, outcome, policy)

    def finished(self, job_id: int, result: SubmitResult) -> SubmitReport:
        record = jobs_repo.get_job(self.store, job_id)
        jobs_repo.update_job(self.store, job_id, resource_name=result.resource_name,
                             state=JobState.parse(result.state), total_steps=int(result.total_steps or 0),
                             tuned_model=result.tuned_model, endpoint=result.endpoint, experiment=result.experiment,
                             started_at=result.create_time or now_iso(), error="")
        _release(record.submit_key if record else None)
        name = record.display_name if record else ""
        retried = f" (after {result.attempts} attempts; the service was busy)" if result.attempts > 1 else ""
        return SubmitReport(SubmitState.STARTED, job_id,
                            f"✔ The tuning job “{name}” has started{retried}. It is recorded in this project; "
                            "follow it in the Monitor tab.", result=result)

    def failed(self, job_id: int, err: UserError, outcome: SubmitOutcome | None) -> SubmitReport:
        if outcome is not None and outcome.result is not None:  # made before the failure (or Cancel) took effect
            return self.finished(job_id, outcome.result)
        record = jobs_repo.get_job(self.store, job_id)
        err = describe(err)
        if isinstance(err, SubmitNotConfirmed) or (outcome is not None and outcome.maybe_created):
            cause = err.cause if isinstance(err, SubmitNotConfirmed) else err
            jobs_repo.update_job(self.store, job_id, state=JobState.SUBMIT_UNKNOWN,
                                 error=f"The service did not confirm the new job ({cause.message.rstrip('.')}). "
                                       "GemTune keeps looking for it in the background.")
            _release(record.submit_key if record else None)
            return SubmitReport(SubmitState.NOT_KNOWN_YET, job_id, CHECKING_MESSAGE, CHECKING_HINT, error=err)
        jobs_repo.update_job(self.store, job_id, state=JobState.SUBMIT_FAILED,
                             error=f"{err.message} {err.hint}".strip())
        _release(record.submit_key if record else None)
        return SubmitReport(SubmitState.NOT_STARTED, job_id, f"✖ {err.message}", err.hint, error=err,
                            field=str(getattr(err, "field", "") or ""))

    def cancelled(self, job_id: int, outcome: SubmitOutcome | None) -> SubmitReport:
        if outcome is not None and outcome.result is not None:  # the job was made before Cancel took effect
            report = self.finished(job_id, outcome.result)
            report.message += (" (Cancel came too late: the job had already been created. You can cancel the job "
                               "itself in the Monitor tab.)")
            return report
        if outcome is not None and outcome.maybe_created:
            return self.failed(job_id, SubmitNotConfirmed(UserError("Cancelled while the job was being created.")),
                               outcome)
        record = jobs_repo.get_job(self.store, job_id)
        jobs_repo.mark_deleted(self.store, job_id)
        _release(record.submit_key if record else None)
        return SubmitReport(SubmitState.WITHDRAWN, job_id, "Cancelled. No tuning job was started.")

    def run(self, token: CancelToken | None, session: BackendSession, plan: SubmitPlan,
            policy: RetryPolicy | None = None) -> SubmitReport:
        """Record, send and record the outcome, all on this thread."""
        from gemtune_desktop.core.errors import Cancelled

        job_id = self.record(plan)
        outcome = SubmitOutcome()
        try:
            result = self.send(token, session, plan.request, outcome, policy)
        except Cancelled:
            return self.cancelled(job_id, outcome)
        except Exception as exc:  # every failure is recorded; none is lost
            return self.failed(job_id, describe(exc), outcome)
        return self.finished(job_id, result)


# -- the background check of submits whose outcome is not known -----------------------------------
def check_submit(token: CancelToken | None, session: BackendSession, record: JobRecord) -> SubmitResult | None:
    """Look up a submit whose outcome is not known (worker thread): its job, or None when the service
    shows it does not exist. Raises :class:`UserError` when the look-up failed (still not known)."""
    if token is not None:
        token.check()
    return find_submitted_job(session, record.submit_key or "", record.display_name)


def check_changes(record: JobRecord, found: SubmitResult | None, not_started_after_s: float = NOT_STARTED_AFTER_S,
                  now: datetime | None = None) -> dict[str, Any] | None:
    """What to write after :func:`check_submit`: the job's fields once found; ``SUBMIT_FAILED`` when a
    trustworthy look-up still shows nothing ``not_started_after_s`` after the submit; else None (look again)."""
    if found is not None:
        return {"resource_name": found.resource_name, "state": JobState.parse(found.state),
                "total_steps": int(found.total_steps or 0), "tuned_model": found.tuned_model,
                "endpoint": found.endpoint, "experiment": found.experiment,
                "started_at": found.create_time or now_iso(), "error": ""}
    sent = parse_time(record.updated_at or record.created_at) or parse_time(record.created_at)
    now = now or datetime.now(UTC)
    if sent is not None and (now - sent).total_seconds() < not_started_after_s:
        return None
    return {"state": JobState.SUBMIT_FAILED, "error": NEVER_STARTED}


def apply_check(store: jobs_repo.Store, job_id: int, found: SubmitResult | None,
                not_started_after_s: float = NOT_STARTED_AFTER_S) -> bool:
    """Record what a check found (GUI thread): returns whether the submit's outcome is known now."""
    record = jobs_repo.get_job(store, job_id)
    if record is None or not record.state.being_submitted or record.resource_name:
        return True
    changes = check_changes(record, found, not_started_after_s)
    if changes is None:
        return False
    if found is not None:
        _drop_listed_copies(store, job_id, found.resource_name)
    jobs_repo.update_job(store, job_id, **changes)
    return True


def _drop_listed_copies(store: jobs_repo.Store, job_id: int, resource_name: str) -> None:
    """The list of the service's jobs may have added the job before the check found it (as a job found on the
    service): the submit's own record, with what was sent, is the one kept."""
    for other in jobs_repo.list_jobs(store):
        if other.id != job_id and other.resource_name == resource_name and not other.from_project:
            jobs_repo.mark_deleted(store, other.id)


def pending_checks(store: jobs_repo.Store, connection_kind: str, backend: str) -> list[JobRecord]:
    """Submits of this connection whose outcome is not known, other than those being sent in this process."""
    return [r for r in jobs_repo.submits_to_check(store) if r.connection_kind == connection_kind
            and r.backend == backend and not submit_in_flight(r.submit_key or "")]

"""Moving a tuned model onto a newer base model before its base retires (``tuningJobs:rebaseTunedModel``).

* :func:`rebase_offer` — whether Monitor offers "Move to a newer base model" for a job: its tuned model exists
  and its base model retires within :data:`~gemtune_desktop.core.preference.catalog.RETIREMENT_NOTICE_DAYS`
  days (or has retired), per ``models.json``; with the notice in words and the newer bases to choose from.
* :func:`plan_rebase` — the job record (written before anything is sent) and the request, for the
  record-then-submit workflow of :mod:`gemtune_desktop.services.submit_flow` (``flow.record(plan)``,
  ``SubmitWorkflow.send``, ``flow.finished``/``failed``/``cancelled``), so a rebase is started exactly once
  and never lost, like any tuning job.
* :func:`send_rebase` (worker thread; what ``SubmitWorkflow.send`` runs for a :class:`RebaseRequest`) —
  ``POST {parent}/tuningJobs:rebaseTunedModel`` (REST: the SDK has no call for it), then polls the
  long-running operation (``Operation<TuningJob, RebaseTunedModelOperationMetadata>``, googleapis
  ``genai_tuning_service.proto``) with progress and cancel until it names the new tuning job; that job then
  shows in Monitor like any other.

UNCERTAIN, until tried on the service: which field names the new base (GemTune sends ``tuningJob.baseModel``,
:func:`gemtune_desktop.core.preference.spec.rebase_request`), and whether the service keeps ``tuningJob.labels``
(GemTune sends its submit label there, so that a rebase whose answer was lost can be found instead of sent
twice). When the operation has not named the job within :data:`REBASE_WAIT_S`, or a poll fails, the outcome is
"not known yet" and the job is looked up by that label in the background.
"""

from __future__ import annotations

import datetime as _dt
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, ErrorKind, UserError
from gemtune_desktop.core.job_spec import LABEL_KEY, label_value
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.model_catalog import ModelInfo
from gemtune_desktop.core.preference.catalog import facts_for, retirement_notice
from gemtune_desktop.core.preference.spec import parse_rebase_operation, rebase_request
from gemtune_desktop.core.retry import RetryPolicy
from gemtune_desktop.services.backend import BackendSession, ServiceError
from gemtune_desktop.services.connections import Backend, ConnectionProfile
from gemtune_desktop.services.errors import describe

TIMEOUT_S = 30.0
REBASE_WAIT_S = 10 * 60.0  # how long to wait for the operation to name the new job
FIRST_WAIT_S = 1.0
LONGEST_WAIT_S = 10.0
MODEL_DELETED = "tuned_model_deleted"  # services.monitor's marker in a record's data_stats
# google.rpc.Code of a failed operation → the HTTP status the same refusal has as an answer.
_HTTP_FOR_RPC = {3: 400, 9: 400, 11: 400, 5: 404, 6: 409, 7: 403, 16: 401, 8: 429, 4: 504, 14: 503}


@dataclass(slots=True)
class RebaseRequest:
    """A rebase to send (plain data, safe to hand to a worker)."""

    tuned_model: str  # projects/P/locations/L/models/ID[@version]
    new_base: str  # e.g. gemini-3.5-flash
    submit_key: str
    display_name: str = ""  # empty: the service names the new model


@dataclass(frozen=True, slots=True)
class RebaseOffer:
    """What Monitor shows for a tuned model whose base retires: the notice, and the bases to move to."""

    tuned_model: str
    base: ModelInfo
    notice: str
    choices: list[ModelInfo] = field(default_factory=list)  # the first is the one to suggest

    @property
    def suggested(self) -> str:
        return self.choices[0].id if self.choices else ""


def rebase_offer(record: JobRecord, models: Mapping[str, ModelInfo], today: _dt.date | None = None) -> \
        RebaseOffer | None:
    """The offer to move ``record``'s tuned model to a newer base, or None when there is nothing to offer.

    ``models`` are the connection's models by id, retired bases included
    (:func:`gemtune_desktop.core.model_catalog.connection_models`).
    """
    if record.state is not JobState.SUCCEEDED or not record.tuned_model or record.data_stats.get(MODEL_DELETED):
        return None
    if record.backend != Backend.AGENT_PLATFORM.value:
        return None
    base = facts_for(record.base_model, models)
    labels = {m.id: m.label for m in models.values()}
    notice = retirement_notice(base, today or _dt.date.today(), labels=labels)
    if base is None or notice is None:
        return None
    choices = [models[r] for r in base.replacements if r in models and models[r].tunable]
    return RebaseOffer(record.tuned_model, base, notice, choices)


def plan_rebase(record: JobRecord, new_base: str, profile: ConnectionProfile, display_name: str = "",
                submit_key: str | None = None) -> Any:
    """The SUBMITTING record of the new job and the :class:`RebaseRequest` (a ``SubmitPlan``)."""
    from gemtune_desktop.services.submit_flow import SubmitPlan

    if not record.tuned_model:
        raise UserError("This job has no tuned model to move.", "Choose a job that has finished successfully.")
    key = submit_key or uuid.uuid4().hex
    name = display_name or record.display_name
    hyper = {"method": str(record.hyperparameters.get("method") or "supervised"), "base_model": new_base,
             "display_name": name, "rebased_from": record.tuned_model, "rebased_from_job": record.id,
             "rebased_from_label": record.display_name, "rebased_from_base": record.base_model}
    new = JobRecord(connection_kind=profile.kind.value, backend=profile.backend.value,
                    connection_id=profile.connection_id, display_name=name, base_model=new_base,
                    hyperparameters=hyper, dataset_hash=record.dataset_hash, dataset_name=record.dataset_name,
                    train_count=record.train_count, validation_count=record.validation_count,
                    train_tokens=record.train_tokens, submit_key=key, state=JobState.SUBMITTING)
    return SubmitPlan(new, RebaseRequest(record.tuned_model, new_base, key, display_name))


def rebase_policy() -> RetryPolicy:
    """Like a create's policy, with room for waiting on the operation."""
    return RetryPolicy(max_attempts=4, initial_delay_s=1.0, max_delay_s=30.0, timeout_s=120.0,
                       deadline_s=REBASE_WAIT_S + 5 * 60.0)


class RebaseNotConfirmed(UserError):
    """The rebase was accepted, but its new job could not be confirmed (yet)."""

    def __init__(self, cause: UserError) -> None:
        super().__init__("Google accepted the move to the newer base model, but did not name the new tuning job "
                         "in time.", "GemTune keeps looking for it.", detail=f"{cause.message} {cause.detail}",
                         retryable=False, kind=ErrorKind.TIMEOUT)


class RebaseRefused(ServiceError):
    """The rebase operation ended with an error: nothing to look for, the user may try again."""


def _operation_failed(op: Mapping[str, Any]) -> RebaseRefused:
    error = op.get("error") if isinstance(op.get("error"), Mapping) else {}
    assert isinstance(error, Mapping)
    code = int(error.get("code") or 13) if str(error.get("code") or "").isdigit() else 13
    http = _HTTP_FOR_RPC.get(code, 500)
    message = str(error.get("message") or "no reason given")[:400]
    return RebaseRefused(http, "", f"Google could not move the tuned model to the newer base: {message}",
                        hint="Check the tuned model and the base model you chose, then try again.",
                        retryable=http in (429, 503))


def _follow(token: CancelToken | None, session: BackendSession, op: dict[str, Any], request: RebaseRequest) -> Any:
    """Poll the operation until it names the new job (or the job is found by its label)."""
    from gemtune_desktop.services import tuning as T

    deadline = time.monotonic() + REBASE_WAIT_S
    wait, polls = FIRST_WAIT_S, 0
    while True:
        parsed = parse_rebase_operation(op)
        if parsed.error or (op.get("done") and op.get("error")):
            raise _operation_failed(op)
        if parsed.tuning_job:
            return T.result_from_job(session.client(timeout_s=TIMEOUT_S).tunings.get(name=parsed.tuning_job))
        if polls and (found := T.find_agent_platform_job(session, request.submit_key)) is not None:
            found.recovered = False
            return found
        if parsed.done or time.monotonic() > deadline:
            raise RebaseNotConfirmed(UserError("The operation did not name the new tuning job."))
        T.report(token, None, "Waiting for Google to start the new tuning job…")
        if token is not None:
            token.wait(wait)
        else:
            time.sleep(wait)
        wait, polls = min(LONGEST_WAIT_S, wait * 1.5), polls + 1
        op = session.rest("GET", str(op["name"]), timeout_s=TIMEOUT_S)


def send_rebase(token: CancelToken | None, session: BackendSession, request: RebaseRequest, outcome: Any,
                policy: RetryPolicy | None = None) -> Any:
    """Ask for the rebase and wait until its new tuning job is known (see the module docstring)."""
    from gemtune_desktop.services import tuning as T

    if session.backend is not Backend.AGENT_PLATFORM:
        raise UserError("Moving a tuned model to a newer base works only on Google Cloud (Agent Platform).")
    policy = policy or rebase_policy()
    path, body = rebase_request(request.tuned_model, request.new_base)
    job = body.setdefault("tuningJob", {})
    job["labels"] = {LABEL_KEY: label_value(request.submit_key)}
    if request.display_name:
        job["tunedModelDisplayName"] = request.display_name
    T.report(token, 0.05, f"Asking Google to move the tuned model onto {request.new_base}…")

    def create() -> Any:
        op = session.rest("POST", path, body=body, timeout_s=policy.timeout_s)
        try:
            return _follow(token, session, op, request)
        except (Cancelled, RebaseRefused, RebaseNotConfirmed):
            raise
        except Exception as exc:  # accepted, but the new job could not be read: never send it again blindly
            raise RebaseNotConfirmed(describe(exc)) from None

    result = T.create_once(token, policy, outcome, create,
                           lambda: T.find_agent_platform_job(session, request.submit_key), idempotent=False,
                           where="Agent Platform")
    result.request = {"path": path, "body": body}
    T.report(token, 1.0, "The new tuning job has started on the newer base model.")
    return outcome.set_result(result)

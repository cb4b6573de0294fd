"""Watching tuning jobs on the service: status, new loss points, list, cancel, delete (Qt-free, blocking).

Both backends, as ``shared/docs/gemini-reference.md`` describes them:

* **Agent Platform** — ``client.tunings.get`` for the job (state, ``tuning_job_state`` phase,
  step counts, tuned model, checkpoints, data stats, error; supervised and preference jobs, from a
  base model or continued from a tuned model), and its curves from the job's experiment through
  TensorBoard REST: experiment context → backing tensorboard → runs → time series → every point with
  ``timeSeries:read?maxDataPoints=-1`` (or the paged export). Every series the run has is kept, under
  the key :func:`gemtune_desktop.core.series.series_key` gives it (``train`` and ``validation`` for the
  supervised losses; the preference loss and reward margin under their own names); the series are
  looked up again until those the job's method is expected to write are known, and once more when
  the job has ended (a series may be written late).
* **Gemini API** — raw ``GET v1beta/tunedModels/{id}`` (the SDK drops the snapshots):
  state CREATING/ACTIVE/FAILED and ``tuningTask.snapshots[{step, epoch, meanLoss}]``.

Every call has a timeout; errors surface as :class:`ServiceError` (with ``code`` and
``retry_after`` for the poller's back-off) or :class:`UserError`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.loss import TRAIN, Point
from gemtune_desktop.core.series import expected_series
from gemtune_desktop.services import tuned_models
from gemtune_desktop.services.backend import BackendSession, ServiceError
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.curves import (  # noqa: F401  (re-exported: the curve reading lived here)
    EVAL_SERIES,
    EXPORT_PAGE_SIZE,
    TRAIN_SERIES,
    find_series,
    read_experiment_loss,
    read_series_values,
)
from gemtune_desktop.services.errors import describe

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0
LIST_LIMIT = 500
MODEL_DELETED = "tuned_model_deleted"  # marker in a record's data_stats after "Delete tuned model"

# google.rpc.Code → plain words, for a job's ``error``.
_RPC_WORDS = {
    1: "it was cancelled",
    3: "the training data or the settings were refused",
    4: "it took too long",
    5: "something it needed was not found (the data file, bucket or base model)",
    7: "permission was denied (check the service account's access to the bucket)",
    8: "the project's tuning quota is used up",
    9: "the job was not in a state that allows this",
    13: "an internal error at Google",
    14: "the service was unavailable",
}


@dataclass(slots=True)
class JobStatus:
    """What the service says about one job now (fields named as in :class:`JobRecord`)."""

    resource_name: str
    state: JobState
    phase: str = ""
    display_name: str = ""
    base_model: str = ""
    created_at: str = ""
    started_at: str = ""
    ended_at: str = ""
    completed_steps: int = 0
    total_steps: int = 0
    tuned_model: str = ""
    endpoint: str = ""
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    data_stats: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    experiment: str = ""
    has_validation: bool = False  # a validation file was given, so a validation curve will appear
    method: str = "supervised"  # or "preference"
    start: dict[str, str] = field(default_factory=dict)  # continued tuning: tuned_model_name, checkpoint_id

    def record_changes(self, record: JobRecord) -> dict[str, Any]:
        """The fields of ``record`` that differ from this status (for ``jobs_repo.update_job``)."""
        wanted: dict[str, Any] = {
            "state": self.state, "phase": self.phase, "completed_steps": self.completed_steps,
            "tuned_model": self.tuned_model, "endpoint": self.endpoint, "checkpoints": self.checkpoints,
            "error": self.error, "experiment": self.experiment, "started_at": self.started_at,
            "ended_at": self.ended_at,
        }
        if self.total_steps:
            wanted["total_steps"] = self.total_steps
        if self.data_stats:
            wanted["data_stats"] = self.data_stats
        if record.data_stats.get(MODEL_DELETED):  # the service still names a model the user deleted
            for name in ("tuned_model", "endpoint", "checkpoints"):
                wanted.pop(name, None)
            if "data_stats" in wanted:
                wanted["data_stats"] = {**wanted["data_stats"], MODEL_DELETED: True}
        for name in ("display_name", "base_model"):
            if getattr(self, name) and not getattr(record, name):
                wanted[name] = getattr(self, name)
        if self.hyperparameters and not record.hyperparameters:
            wanted["hyperparameters"] = self.hyperparameters
        if self.created_at and not record.from_project:
            wanted["created_at"] = self.created_at
        return {k: v for k, v in wanted.items() if getattr(record, k) != v and (v or k in ("error", "phase"))}

    def to_record(self, connection_kind: str, backend: str) -> JobRecord:
        """A record for a job seen on the service but not started from this project."""
        rec = JobRecord(connection_kind=connection_kind, backend=backend, resource_name=self.resource_name,
                        from_project=False, created_at=self.created_at or "")
        for key, value in self.record_changes(rec).items():
            setattr(rec, key, value)
        if self.hyperparameters:
            rec.hyperparameters = dict(self.hyperparameters)
        return rec


@dataclass(slots=True)
class PollResult:
    """One poll: the job's status, loss points after the steps already known, and the loss source found.

    ``loss_error`` is set when the status was read but the curve could not be (the poller
    keeps the status and tries the curve again later).
    """

    status: JobStatus
    points: dict[str, list[Point]] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    loss_error: UserError | None = None


# -- polling ------------------------------------------------------------------------------
def _sdk(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the SDK; an API error becomes a :class:`ServiceError` that keeps ``Retry-After`` (for back-off)."""
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        if not isinstance(getattr(exc, "code", None), int) or not type(exc).__module__.startswith("google.genai"):
            raise
        err = describe(exc)
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        try:
            retry_after = float(headers.get("retry-after") or headers.get("Retry-After") or "")
        except (TypeError, ValueError, AttributeError):
            retry_after = None
        if isinstance(err, ServiceError):
            err.retry_after = retry_after
        raise err from None


def poll_job(token: CancelToken, session: BackendSession, record: JobRecord,
             last_steps: dict[str, int] | None = None, source: dict[str, Any] | None = None) -> PollResult:
    """Read one job's status and its loss points (per series, newer than ``last_steps``).

    The first read of a series in a watch (``source`` without it in ``"filled"``) returns every point,
    so a curve stored while the app was closed, or thinned by an older version, is filled in.
    """
    last = last_steps or {}
    if session.backend is Backend.GEMINI_API:
        raw = session.rest("GET", record.resource_name, timeout_s=TIMEOUT_S)
        token.check()
        status = status_from_tuned_model(raw, record)
        points = {TRAIN: [p for p in snapshot_points(raw) if p[0] > last.get(TRAIN, -1)]}
        return PollResult(status, points)
    client = session.client(timeout_s=TIMEOUT_S)
    job = _sdk(client.tunings.get, name=record.resource_name)
    token.check()
    status = status_from_tuning_job(job)
    result = PollResult(status, source=dict(source or {}))
    if not status.experiment:
        return result
    validation = status.has_validation or record.validation_count > 0
    try:
        result.points = read_experiment_loss(token, session, status.experiment, last, result.source,
                                             status.total_steps, _epoch_count(status),
                                             wanted=expected_series(status.method, validation),
                                             ended=status.state.ended)
    except UserError as err:
        if getattr(err, "code", 0) == 404:
            result.source = {}  # the run may not exist yet: look it up afresh next time
        result.loss_error = err
    return result


def _epoch_count(status: JobStatus) -> int:
    try:
        return int(status.hyperparameters.get("epoch_count") or 0)
    except (TypeError, ValueError):
        return 0


# -- parsing ------------------------------------------------------------------------------
def _get(obj: Any, *names: str) -> Any:
    for name in names:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def _enum_name(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _time(value: Any) -> str:
    if not value:
        return ""
    iso = getattr(value, "isoformat", None)
    text = iso() if callable(iso) else str(value)
    return text.replace("+00:00", "Z") if isinstance(text, str) else ""


def _dump(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    return obj


def error_in_words(error: Any) -> str:
    """A job's ``error`` (google.rpc.Status) as a sentence."""
    if not error:
        return ""
    code = _get(error, "code")
    message = str(_get(error, "message") or "").strip()
    try:
        words = _RPC_WORDS.get(int(code or 0), "")
    except (TypeError, ValueError):
        words = ""
    if words and message:
        return f"The job stopped because {words}. The service said: “{message[:400]}”"
    if words:
        return f"The job stopped because {words}."
    return f"The job stopped with an error: “{message[:400]}”" if message else "The job stopped with an error."


def _method(job: Any) -> tuple[str, str]:
    """("supervised" | "preference", the spec's field) of a TuningJob."""
    if _get(job, "preference_optimization_spec") is not None:
        return "preference", "preference_optimization_spec"
    return "supervised", "supervised_tuning_spec"


def _start(job: Any) -> dict[str, str]:
    """The tuned model (and checkpoint) a continued job started from, and the base model of that chain."""
    pre = _get(job, "pre_tuned_model")
    if pre is None:
        return {}
    out = {"tuned_model_name": str(_get(pre, "tuned_model_name") or ""),
           "checkpoint_id": str(_get(pre, "checkpoint_id") or ""), "base_model": str(_get(pre, "base_model") or "")}
    return {k: v for k, v in out.items() if v}


def status_from_tuning_job(job: Any) -> JobStatus:
    """A :class:`JobStatus` from an Agent Platform ``TuningJob`` (SDK object or its JSON as a dict)."""
    state = JobState.parse(_enum_name(_get(job, "state")))
    method, spec_field = _method(job)
    stats = _get(job, "tuning_data_stats", "supervised_tuning_data_stats") or \
        _get(job, "tuning_data_stats", "preference_optimization_data_stats")
    data_stats = dict(_dump(stats) or {}) if stats is not None else {}
    hyper = _dump(_get(job, spec_field, "hyper_parameters")) or {}
    if hyper:
        data_stats["hyper_parameters"] = dict(hyper)
    start = _start(job)
    described = dict(hyper)
    if method != "supervised" or start:
        described["method"] = method
    if start:
        described.update({"start_model": start.get("tuned_model_name", ""),
                          "start_checkpoint": start.get("checkpoint_id", "")})
    tuned = _get(job, "tuned_model")
    checkpoints = []
    for cp in _get(tuned, "checkpoints") or []:
        checkpoints.append({k: v for k, v in {
            "checkpoint_id": str(_get(cp, "checkpoint_id") or ""),
            "epoch": _int(_get(cp, "epoch")), "step": _int(_get(cp, "step")),
            "endpoint": str(_get(cp, "endpoint") or "")}.items()})
    total = _int(_get(stats, "tuning_step_count"))
    completed = _int(_get(job, "tuning_job_metadata", "completed_step_count"))
    if state is JobState.SUCCEEDED and total:
        completed = total
    return JobStatus(
        resource_name=str(_get(job, "name") or ""), state=state,
        phase=_enum_name(_get(job, "tuning_job_state")),
        display_name=str(_get(job, "tuned_model_display_name") or ""),
        base_model=str(_get(job, "base_model") or start.get("base_model") or ""),
        created_at=_time(_get(job, "create_time")), started_at=_time(_get(job, "start_time")),
        ended_at=_time(_get(job, "end_time")), completed_steps=completed, total_steps=total,
        tuned_model=str(_get(tuned, "model") or ""), endpoint=str(_get(tuned, "endpoint") or ""),
        checkpoints=checkpoints, data_stats=data_stats, hyperparameters=described,
        error=error_in_words(_dump(_get(job, "error"))) if state is not JobState.CANCELLED else "",
        experiment=str(_get(job, "experiment") or ""),
        has_validation=bool(_get(job, spec_field, "validation_dataset_uri")), method=method, start=start)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


_GEMINI_HYPER = {"epochCount": "epoch_count", "batchSize": "batch_size", "learningRate": "learning_rate",
                 "learningRateMultiplier": "learning_rate_multiplier"}


def snapshot_points(raw: dict[str, Any]) -> list[Point]:
    """The Gemini API curve: ``tuningTask.snapshots`` as (step, epoch, meanLoss)."""
    out: list[Point] = []
    for snap in _get(raw, "tuningTask", "snapshots") or []:
        try:
            step = int(snap.get("step", 0))
            value = float(snap["meanLoss"])
        except (KeyError, TypeError, ValueError):
            continue
        epoch = snap.get("epoch")
        out.append((step, float(epoch) if epoch is not None else None, value))
    out.sort()
    return out


def status_from_tuned_model(raw: dict[str, Any], record: JobRecord | None = None) -> JobStatus:
    """A :class:`JobStatus` from a Gemini API ``TunedModel`` JSON."""
    task = raw.get("tuningTask") or {}
    hyper = {_GEMINI_HYPER.get(k, k): v for k, v in (task.get("hyperparameters") or {}).items()}
    snaps = snapshot_points(raw)
    state = JobState.parse(str(raw.get("state", "")))
    completed = snaps[-1][0] if snaps else 0
    total = _int(raw.get("totalSteps") or task.get("totalSteps"))
    if not total and record is not None and record.train_count and hyper.get("epoch_count"):
        batch = _int(hyper.get("batch_size")) or 4
        total = int(hyper["epoch_count"]) * math.ceil(record.train_count / batch)
    if state is JobState.SUCCEEDED and total:
        completed = total
    name = str(raw.get("name", ""))
    data_stats = {"hyper_parameters": hyper} if hyper else {}
    return JobStatus(
        resource_name=name, state=state, display_name=str(raw.get("displayName", "")),
        base_model=str(raw.get("baseModel", "") or raw.get("tunedModelSource", {}).get("tunedModel", "")),
        created_at=str(raw.get("createTime", "")), started_at=str(task.get("startTime", "")),
        ended_at=str(task.get("completeTime", "")), completed_steps=completed, total_steps=total,
        tuned_model=name if state is JobState.SUCCEEDED else "",
        endpoint=name if state is JobState.SUCCEEDED else "", data_stats=data_stats,
        hyperparameters=hyper, error=error_in_words(raw.get("error")) if state is JobState.FAILED else "")


# -- list, cancel, delete -------------------------------------------------------------------
def list_jobs(token: CancelToken, session: BackendSession, limit: int = LIST_LIMIT) -> list[JobStatus]:
    """Every tuning job the service knows for this connection (newest first, up to ``limit``).

    An answer of the wrong shape (a field of the wrong type, nesting too deep, a job without a name)
    raises :class:`~gemtune_desktop.services.http_guard.UnreadableAnswer`, a plain and retryable error.
    """
    from gemtune_desktop.services.http_guard import UnreadableAnswer

    try:
        out = _list_jobs(token, session, limit)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError, RecursionError) as exc:
        raise UnreadableAnswer(f"unexpected answer shape ({type(exc).__name__})") from None
    if any(not status.resource_name for status in out):
        raise UnreadableAnswer("a listed job has no name")
    return out


def _list_jobs(token: CancelToken, session: BackendSession, limit: int) -> list[JobStatus]:
    out: list[JobStatus] = []
    if session.backend is Backend.GEMINI_API:
        page_token = ""
        while len(out) < limit:
            params: dict[str, Any] = {"pageSize": 50}
            if page_token:
                params["pageToken"] = page_token
            page = session.rest("GET", "tunedModels", params=params, timeout_s=TIMEOUT_S)
            token.check()
            out.extend(status_from_tuned_model(m) for m in page.get("tunedModels") or [])
            page_token = str(page.get("nextPageToken") or "")
            if not page_token:
                break
    else:
        client = session.client(timeout_s=TIMEOUT_S)
        for job in client.tunings.list(config={"page_size": 50}):
            token.check()
            out.append(status_from_tuning_job(job))
            if len(out) >= limit:
                break
    out.sort(key=lambda s: s.created_at, reverse=True)
    return out


def cancel_job(token: CancelToken, session: BackendSession, resource_name: str) -> None:
    """Ask the service to stop a running job."""
    if session.backend is Backend.GEMINI_API:
        raise UserError("The Gemini API cannot stop a tuning job once it has started.",
                        "Wait for it to finish, then delete the tuned model if you do not want it.")
    client = session.client(timeout_s=TIMEOUT_S)
    _sdk(client.tunings.cancel, name=resource_name)
    token.check()


def delete_tuned_model(token: CancelToken, session: BackendSession, record: JobRecord) -> None:
    """Delete a job's tuned model on the service (the job record and its curve stay in the project).

    Agent Platform: undeploy from every endpoint, then delete, with progress and cancel
    (:mod:`gemtune_desktop.services.tuned_models`).
    """
    if session.backend is Backend.GEMINI_API:
        name = record.tuned_model or record.resource_name
        session.rest("DELETE", name, timeout_s=TIMEOUT_S)
        return
    tuned_models.delete_tuned_model(token, session, record)

"""Watching tuning jobs on the service: status, new loss points, list, cancel, delete (Qt-free, blocking).

Both backends, as ``shared/docs/gemini-reference.md`` describes them:

* **Agent Platform** — ``client.tunings.get`` for the job (state, ``tuning_job_state`` phase,
  step counts, tuned model, checkpoints, data stats, error), and the loss curve from the
  job's experiment through TensorBoard REST: experiment context → backing tensorboard →
  runs → time series (``/train_total_loss``, ``/eval_total_loss``, looked up until both are
  known) → every point with ``timeSeries:read?maxDataPoints=-1`` (or the paged export).
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
from gemtune_desktop.core.loss import TRAIN, VALIDATION, Point
from gemtune_desktop.services import tuned_models
from gemtune_desktop.services.backend import BackendSession, ServiceError
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.errors import describe

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0
LIST_LIMIT = 500
MODEL_DELETED = "tuned_model_deleted"  # marker in a record's data_stats after "Delete tuned model"
TRAIN_SERIES = "/train_total_loss"
EVAL_SERIES = "/eval_total_loss"
EXPORT_PAGE_SIZE = 10_000  # the most exportTensorboardTimeSeries returns per page

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
    try:
        result.points = read_experiment_loss(token, session, status.experiment, last, result.source,
                                             status.total_steps, _epoch_count(status),
                                             expect_validation=status.has_validation or record.validation_count > 0)
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


def find_series(token: CancelToken, session: BackendSession, experiment: str) -> tuple[str, dict[str, str]]:
    """The job's TensorBoard and the series written so far: ``(tensorboard, {TRAIN|VALIDATION: series name})``.

    A series exists only once its first point is written (``/eval_total_loss`` after the first
    evaluation), so callers look again until every series they expect is known.
    """
    context = session.rest("GET", experiment, timeout_s=TIMEOUT_S)
    token.check()
    meta = context.get("metadata") or {}
    tensorboard = str(meta.get("backing_tensorboard_resource") or meta.get("backingTensorboardResource") or "")
    if not tensorboard:
        return "", {}
    experiment_id = experiment.rstrip("/").rsplit("/", 1)[-1]
    runs = session.rest("GET", f"{tensorboard}/experiments/{experiment_id}/runs", timeout_s=TIMEOUT_S)
    token.check()
    series: dict[str, str] = {}
    for run in runs.get("tensorboardRuns") or []:
        listing = session.rest("GET", f"{run['name']}/timeSeries", timeout_s=TIMEOUT_S)
        token.check()
        for ts in listing.get("tensorboardTimeSeries") or []:
            name = str(ts.get("displayName", ""))
            if name == TRAIN_SERIES:
                series.setdefault(TRAIN, ts["name"])
            elif name == EVAL_SERIES:
                series.setdefault(VALIDATION, ts["name"])
    return tensorboard, series


def read_series_values(token: CancelToken, session: BackendSession, series: str) -> list[dict[str, Any]]:
    """Every point of one time series: ``:read?maxDataPoints=-1``, else the paged export.

    ``tensorboards:batchRead`` is not used: it returns at most 1,000 points per series, chosen at
    random (corrections §2 in the team's reference), so a longer curve would come back thinned.
    """
    try:
        data = session.rest("GET", f"{series}:read", params={"maxDataPoints": -1}, timeout_s=TIMEOUT_S)
        token.check()
        return list((data.get("timeSeriesData") or {}).get("values") or [])
    except ServiceError as err:
        if err.code != 400:
            raise
        log.info("timeSeries.read refused maxDataPoints=-1 (%s); exporting instead", err.message)
    values: list[dict[str, Any]] = []
    page_token = ""
    while True:
        body: dict[str, Any] = {"pageSize": EXPORT_PAGE_SIZE}
        if page_token:
            body["pageToken"] = page_token
        page = session.rest("POST", f"{series}:exportTensorboardTimeSeries", body=body, timeout_s=TIMEOUT_S)
        token.check()
        values.extend(page.get("timeSeriesDataPoints") or [])
        page_token = str(page.get("nextPageToken") or "")
        if not page_token:
            return values


def read_experiment_loss(token: CancelToken, session: BackendSession, experiment: str, last: dict[str, int],
                         source: dict[str, Any], total_steps: int = 0, epochs: int = 0,
                         expect_validation: bool = False) -> dict[str, list[Point]]:
    """Loss points from an Agent Platform job's experiment (TensorBoard REST).

    ``source`` keeps, between polls, the tensorboard and series names found so far and which series
    were read in full (``"filled"``); it is replaced, never changed in place. Series are looked up
    again on every poll until the training series, and the validation series when ``expect_validation``,
    are both known.
    """
    series: dict[str, str] = dict(source.get("series") or {})
    wanted = {TRAIN, VALIDATION} if expect_validation else {TRAIN}
    if not wanted <= set(series):
        tensorboard, found = find_series(token, session, experiment)
        if tensorboard:
            source["tensorboard"] = tensorboard
        if found:
            series = {**found, **series}
            source["series"] = series
    filled = set(source.get("filled") or [])
    steps_per_epoch = total_steps / epochs if total_steps and epochs else 0.0
    out: dict[str, list[Point]] = {}
    for key, name in series.items():
        pts = _points(read_series_values(token, session, name), steps_per_epoch)
        out[key] = pts if key not in filled else [p for p in pts if p[0] > last.get(key, -1)]
        filled.add(key)
    source["filled"] = sorted(filled)
    return out


def _points(values: list[dict[str, Any]], steps_per_epoch: float) -> list[Point]:
    by_step: dict[int, Point] = {}
    for v in values:
        try:
            step = int(v.get("step", 0))
            raw = (v.get("scalar") or {}).get("value")
            value = float(raw) if raw is not None else math.nan
        except (TypeError, ValueError):
            continue
        if not math.isfinite(value):  # SQLite cannot store NaN
            continue
        by_step[step] = (step, step / steps_per_epoch if steps_per_epoch else None, value)
    return [by_step[s] for s in sorted(by_step)]


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


def status_from_tuning_job(job: Any) -> JobStatus:
    """A :class:`JobStatus` from an Agent Platform ``TuningJob`` (SDK object or its JSON as a dict)."""
    state = JobState.parse(_enum_name(_get(job, "state")))
    stats = _get(job, "tuning_data_stats", "supervised_tuning_data_stats")
    data_stats = dict(_dump(stats) or {}) if stats is not None else {}
    hyper = _dump(_get(job, "supervised_tuning_spec", "hyper_parameters")) or {}
    if hyper:
        data_stats["hyper_parameters"] = dict(hyper)
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
        base_model=str(_get(job, "base_model") or ""),
        created_at=_time(_get(job, "create_time")), started_at=_time(_get(job, "start_time")),
        ended_at=_time(_get(job, "end_time")), completed_steps=completed, total_steps=total,
        tuned_model=str(_get(tuned, "model") or ""), endpoint=str(_get(tuned, "endpoint") or ""),
        checkpoints=checkpoints, data_stats=data_stats, hyperparameters=dict(hyper),
        error=error_in_words(_dump(_get(job, "error"))) if state is not JobState.CANCELLED else "",
        experiment=str(_get(job, "experiment") or ""),
        has_validation=bool(_get(job, "supervised_tuning_spec", "validation_dataset_uri")))


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

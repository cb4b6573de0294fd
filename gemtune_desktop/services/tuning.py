"""Start a tuning job on the active connection: Agent Platform, the Gemini API, or the Sandbox posing as either.

``submit_job(token, session, request, outcome)`` runs on a worker thread:

* **Agent Platform**: writes the train (and validation) split as Agent Platform JSONL (preamble
  and system instruction applied), uploads it to the connection's bucket, then calls
  ``client.tunings.tune(...)``. Every job carries the label ``gemtune-submit=<submit key>``. A request
  with a tuned model as its starting point (``SubmitRequest.start``) continues tuning from that model's
  checkpoint (``preTunedModel``); a :class:`~gemtune_desktop.services.preference_tuning.PreferenceSubmitRequest`
  starts preference tuning (:mod:`gemtune_desktop.services.preference_tuning`), and a
  :class:`~gemtune_desktop.services.rebase.RebaseRequest` moves a tuned model onto a newer base
  (:mod:`gemtune_desktop.services.rebase`).
* **Gemini API**: ``POST v1beta/tunedModels?tunedModelId=ID`` with the examples inline, through
  ``BackendSession.rest`` (google-genai drops the examples in this mode). The id is fixed per
  submit, so a repeated create answers 409 rather than making a second model.

The create itself goes through :class:`~gemtune_desktop.services.create_once.CreateOnce`: busy
answers and network failures are retried only in ways that cannot start a second job, and when
whether the job exists cannot be told, :class:`SubmitNotConfirmed` says so ("Checking whether the
job started…") instead of an error that would invite a second start. :func:`find_submitted_job`
looks a submit's job up later (the background check of :mod:`.submit_flow`).

The create call cannot be interrupted once sent; :class:`SubmitOutcome` keeps its result even if
the user pressed Cancel meanwhile, so the caller can still record the job.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import ErrorKind, UserError
from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.job_spec import LABEL_KEY, JobSpec, field_for_error, label_value, tuned_model_id
from gemtune_desktop.core.preference.spec import StartingPoint, continued_config
from gemtune_desktop.core.retry import RETRYABLE_STATUS, RetryPolicy
from gemtune_desktop.services.backend import BackendSession, ServiceError
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.create_once import CreateOnce, Outcome, SubmitNotConfirmed
from gemtune_desktop.services.errors import describe
from gemtune_desktop.services.http_guard import UnreadableAnswer
from gemtune_desktop.services.upload import upload_bytes

__all__ = ["InvalidSetting", "SubmitNotConfirmed", "SubmitOutcome", "SubmitRequest", "SubmitResult",
           "agent_platform_files", "find_submitted_job", "gemini_api_body", "list_gemini_tunable_models",
           "submit_job", "submit_policy"]

log = logging.getLogger(__name__)
# google-genai warns on every tunings.tune() call that the API is experimental; the app knows.
warnings.filterwarnings("ignore", message=r".*tuning implementation is experimental.*")

CREATE_TIMEOUT_S = 120.0
LOOKUP_TIMEOUT_S = 30.0
SUBMIT_DEADLINE_S = 300.0  # the create with its retries and look-ups
SETTLE_S = 10.0  # after a dropped connection, how long before "no such job" is trusted
MAX_SCANNED_JOBS = 5000  # a look-up that would have to read more jobs than this cannot tell
RETRY_CODES = RETRYABLE_STATUS
PROGRESS_SCALE = 1000
UPLOAD_SHARE = 0.9  # of the progress bar, on Agent Platform


@dataclass(slots=True)
class SubmitRequest:
    """Everything a submit needs, prepared on the GUI thread (plain data, safe to hand to a worker)."""

    spec: JobSpec
    submit_key: str
    train: list[Example]
    validation: list[Example]
    settings: DatasetSettings
    start: StartingPoint | None = None  # a tuned model (and checkpoint) to continue from; None: spec.base_model


@dataclass(slots=True)
class SubmitResult:
    """The job the service created."""

    resource_name: str
    state: str
    create_time: str = ""
    total_steps: int = 0
    train_uri: str = ""
    validation_uri: str = ""
    tuned_model: str = ""
    endpoint: str = ""
    experiment: str = ""
    attempts: int = 1
    recovered: bool = False  # found after a failed attempt (409 / found by label) rather than created by the last call
    request: dict[str, Any] = field(default_factory=dict)


class SubmitOutcome(Outcome):
    """Shared between the GUI thread and the worker: whether the create was sent, whether it may have
    made a job, and the job once known (kept even if the user pressed Cancel meanwhile)."""

    @property
    def result(self) -> SubmitResult | None:
        value = super().result
        return value if isinstance(value, SubmitResult) else None

    def set_result(self, result: SubmitResult) -> SubmitResult:
        return self.store(result)


def submit_policy() -> RetryPolicy:
    """The retry policy of a create: 4 tries, 1 s doubling to 30 s, one create call at most
    ``CREATE_TIMEOUT_S``, everything within ``SUBMIT_DEADLINE_S``."""
    return RetryPolicy(max_attempts=4, initial_delay_s=1.0, max_delay_s=30.0, timeout_s=CREATE_TIMEOUT_S,
                       deadline_s=SUBMIT_DEADLINE_S)


if TYPE_CHECKING:
    from gemtune_desktop.services.preference_tuning import PreferenceSubmitRequest
    from gemtune_desktop.services.rebase import RebaseRequest

AnySubmit = Union[SubmitRequest, "PreferenceSubmitRequest", "RebaseRequest"]


class InvalidSetting(ServiceError):
    """The service refused one setting; ``field`` is the :class:`JobSpec` field to highlight."""

    def __init__(self, base: ServiceError, field_name: str, words: str) -> None:
        super().__init__(base.code, base.status, f"The service refused the setting “{words}”. {base.message}",
                         hint=f"Change “{words}” and try again.", retryable=False)
        self.field = field_name


class ScaledToken(CancelToken):
    """Shares the parent's cancel flag; maps a phase's progress onto part of the parent's bar."""

    def __init__(self, parent: CancelToken | None, start: float, span: float) -> None:
        super().__init__()
        self._parent = parent
        self._start = start
        self._span = span
        if parent is not None:
            self._event = parent._event

    def report(self, done: int, total: int, text: str = "") -> None:
        if self._parent is None:
            return
        frac = self._start + self._span * (done / total if total > 0 else 1.0)
        self._parent.report(int(frac * PROGRESS_SCALE), PROGRESS_SCALE, text)


def submit_job(token: CancelToken | None, session: BackendSession, request: AnySubmit,
               outcome: SubmitOutcome | None = None, policy: RetryPolicy | None = None) -> SubmitResult:
    """Create the tuning job; returns what the service answered.

    Raises :class:`SubmitNotConfirmed` when the create may have made a job that could not be
    confirmed (record it as not known yet, never as failed), and any other :class:`UserError`
    (plain words) when no job was started.
    """
    outcome = outcome or SubmitOutcome()
    if not isinstance(request, SubmitRequest):  # a preference submit or a rebase
        from gemtune_desktop.services.preference_tuning import PreferenceSubmitRequest, submit_preference
        from gemtune_desktop.services.rebase import RebaseRequest, send_rebase

        if isinstance(request, PreferenceSubmitRequest):
            return submit_preference(token, session, request, outcome, policy or submit_policy())
        if isinstance(request, RebaseRequest):
            return send_rebase(token, session, request, outcome, policy)  # its own policy waits longer
        raise TypeError(f"not a submit request: {type(request).__name__}")
    policy = policy or submit_policy()
    if session.backend is Backend.AGENT_PLATFORM:
        return _submit_agent_platform(token, session, request, outcome, policy)
    if request.start is not None and request.start.continued:
        raise UserError("Continuing from a tuned model works only on Google Cloud (Agent Platform).",
                        "Start from a base model, or use a Google Cloud connection.")
    return _submit_gemini_api(token, session, request, outcome, policy)


# -- Agent Platform -------------------------------------------------------------------------
def _jsonl_bytes(lines: Iterable[Any]) -> bytes:
    import json

    parts = []
    for line in lines:
        if isinstance(line, bytes):
            text = line.decode("utf-8")
        elif isinstance(line, str):
            text = line
        else:
            text = json.dumps(line, ensure_ascii=False)
        parts.append(text.rstrip("\n"))
    return ("\n".join(parts) + "\n").encode("utf-8") if parts else b""


def agent_platform_files(request: SubmitRequest) -> list[tuple[str, bytes]]:
    """(file name, JSONL bytes) for the train split and, if used, the validation split."""
    from gemtune_desktop.core.formats import upload_jsonl_lines

    files = [("train.jsonl", _jsonl_bytes(upload_jsonl_lines(request.train, request.settings,
                                                              Backend.AGENT_PLATFORM.value)))]
    if request.spec.use_validation and request.validation:
        files.append(("validation.jsonl", _jsonl_bytes(upload_jsonl_lines(request.validation, request.settings,
                                                                          Backend.AGENT_PLATFORM.value))))
    return files


def upload_training_files(token: CancelToken | None, session: BackendSession, submit_key: str,
                          files: list[tuple[str, bytes]]) -> dict[str, str]:
    """Upload each (name, bytes) to the connection's bucket under a folder of the day and the submit key, with
    the first :data:`UPLOAD_SHARE` of the progress bar shared by size; returns each name's ``gs://`` URI."""
    total = sum(len(data) for _, data in files) or 1
    prefix = f"gemtune/{time.strftime('%Y%m%d')}-{submit_key[:12]}"
    uris: dict[str, str] = {}
    start = 0.0
    for name, data in files:
        span = UPLOAD_SHARE * len(data) / total
        uris[name] = upload_bytes(ScaledToken(token, start, span), session, f"{prefix}/{name}", data,
                                  label="Uploading")
        start += span
    return uris


def tune_once(token: CancelToken | None, session: BackendSession, policy: RetryPolicy, outcome: SubmitOutcome,
              call: dict[str, Any], submit_key: str, explain: Callable[[BaseException], UserError]) -> SubmitResult:
    """Create the Agent Platform tuning job of ``call`` (:func:`agent_platform_call`, or a preference job's) once:
    a failed attempt is looked for by its submit label before anything is sent again."""
    from google.genai import types

    client = session.client(timeout_s=policy.timeout_s)
    config = types.CreateTuningJobConfig(**call["config"])  # an object: tune() reads the checkpoint with getattr
    dataset = types.TuningDataset(**call["training_dataset"])

    def create() -> SubmitResult:
        return result_from_job(client.tunings.tune(base_model=call["base_model"], training_dataset=dataset,
                                                   config=config))

    def find() -> SubmitResult | None:
        return find_agent_platform_job(session, submit_key)

    return create_once(token, policy, outcome, create, find, idempotent=False, where="Agent Platform",
                       explain=explain)


def _submit_agent_platform(token: CancelToken | None, session: BackendSession, request: SubmitRequest,
                           outcome: SubmitOutcome, policy: RetryPolicy) -> SubmitResult:
    uris = upload_training_files(token, session, request.submit_key, agent_platform_files(request))
    check(token)
    report(token, UPLOAD_SHARE, "Starting the tuning job…")
    call = agent_platform_call(request, uris["train.jsonl"], uris.get("validation.jsonl"))

    from gemtune_desktop.services.preference_tuning import not_found_start

    explain = not_found_start(request.start) if request.start is not None else explain_refusal
    result = tune_once(token, session, policy, outcome, call, request.submit_key, explain)
    result.train_uri = uris["train.jsonl"]
    result.validation_uri = uris.get("validation.jsonl", "")
    result.request = call
    report(token, 1.0, "The tuning job has started.")
    return outcome.set_result(result)


def agent_platform_call(request: SubmitRequest, train_uri: str, validation_uri: str | None) -> dict[str, Any]:
    """The ``client.tunings.tune`` arguments of a supervised submit; from a tuned model's checkpoint when
    ``request.start`` names one (an empty name then adds a version to that model instead of a new model)."""
    call = request.spec.agent_platform_call(train_uri, validation_uri, request.submit_key)
    start = request.start
    if start is not None and start.continued:
        call["base_model"] = start.model
        call["config"].update(continued_config(start))
        if not call["config"].get("tuned_model_display_name"):
            call["config"].pop("tuned_model_display_name", None)
    return call


def result_from_job(job: Any) -> SubmitResult:
    """A :class:`SubmitResult` from an Agent Platform ``TuningJob``; an answer without a job name is unreadable."""
    name = getattr(job, "name", None)
    if not isinstance(name, str) or "/tuningJobs/" not in name:
        raise UnreadableAnswer("tuning job without a name")
    state = getattr(job, "state", None)
    state_text = getattr(state, "value", None) or str(state or "JOB_STATE_QUEUED")
    tuned = getattr(job, "tuned_model", None)
    created: Any = getattr(job, "create_time", None)
    data_stats = getattr(job, "tuning_data_stats", None)
    stats = getattr(data_stats, "supervised_tuning_data_stats", None) or \
        getattr(data_stats, "preference_optimization_data_stats", None)
    try:
        steps = int(getattr(stats, "tuning_step_count", 0) or 0)
    except (TypeError, ValueError):
        steps = 0
    return SubmitResult(
        resource_name=name, state=str(state_text),
        create_time=created.isoformat() if hasattr(created, "isoformat") else str(created or ""),
        total_steps=steps, tuned_model=str(getattr(tuned, "model", "") or ""),
        endpoint=str(getattr(tuned, "endpoint", "") or ""), experiment=str(getattr(job, "experiment", "") or ""))


class LookupIncomplete(UserError):
    def __init__(self) -> None:
        super().__init__(f"More than {MAX_SCANNED_JOBS:,} tuning jobs are listed, so this job could not be "
                         "looked up.", "Delete old tuning jobs in the Cloud console.", detail="look-up incomplete",
                         retryable=True, kind=ErrorKind.GENERAL)


def find_agent_platform_job(session: BackendSession, submit_key: str) -> SubmitResult | None:
    """The Agent Platform job carrying this submit's label, or None when the whole job list shows none.

    Reads every page of the list (the service names no order); raises when the list could not be
    read to its end, since then the job may simply not have been seen.
    """
    client = session.client(timeout_s=LOOKUP_TIMEOUT_S)
    wanted = label_value(submit_key)
    for seen, job in enumerate(client.tunings.list(config={"page_size": 100}), start=1):
        labels = getattr(job, "labels", None) or {}
        if isinstance(labels, dict) and labels.get(LABEL_KEY) == wanted:
            found = result_from_job(job)
            found.recovered = True
            return found
        if seen >= MAX_SCANNED_JOBS:
            raise LookupIncomplete()
    return None


# -- Gemini API -----------------------------------------------------------------------------
def gemini_api_body(request: SubmitRequest) -> dict[str, Any]:
    from gemtune_desktop.core.formats import gemini_api_examples

    pairs = []
    for item in gemini_api_examples(request.train, request.settings):
        if isinstance(item, dict):
            text = item.get("textInput", item.get("text_input", ""))
            pairs.append({"textInput": text, "output": item.get("output", "")})
        else:  # (input, output)
            pairs.append({"textInput": item[0], "output": item[1]})
    return request.spec.gemini_api_body(pairs)


def _submit_gemini_api(token: CancelToken | None, session: BackendSession, request: SubmitRequest,
                       outcome: SubmitOutcome, policy: RetryPolicy) -> SubmitResult:
    report(token, 0.1, "Preparing the examples…")
    body = gemini_api_body(request)
    model_id = tuned_model_id(request.spec.display_name, request.submit_key)
    check(token)
    report(token, 0.3, f"Sending {len(request.train):,} examples to the Gemini API…")

    def create() -> SubmitResult:
        try:
            op = session.rest("POST", "tunedModels", body=body, params={"tunedModelId": model_id},
                              timeout_s=policy.timeout_s)
        except ServiceError as exc:
            if exc.code != 409:
                raise
            # An earlier attempt of this very submit made it (the id is this submit's own).
            try:
                found = find_gemini_model(session, model_id)
            except UserError:
                found = None
            return found or SubmitResult(resource_name=f"tunedModels/{model_id}", state="JOB_STATE_QUEUED",
                                         recovered=True)
        meta = op.get("metadata")
        steps = meta.get("totalSteps", 0) if isinstance(meta, dict) else 0
        return SubmitResult(resource_name=f"tunedModels/{model_id}", state="JOB_STATE_QUEUED",
                            total_steps=int(steps) if isinstance(steps, int | str) and str(steps).isdigit() else 0)

    result = create_once(token, policy, outcome, create, lambda: find_gemini_model(session, model_id),
                         idempotent=True, where="The Gemini API")
    result.request = {"tunedModelId": model_id, "body": {**body, "tuningTask": {
        **body["tuningTask"], "trainingData": {"examples": {"count": len(request.train)}}}}}
    report(token, 1.0, "The tuning job has started.")
    return outcome.set_result(result)


def find_gemini_model(session: BackendSession, model_id: str) -> SubmitResult | None:
    """The Gemini API tuned model with this submit's id, or None when the service says it does not exist."""
    try:
        model = session.rest("GET", f"tunedModels/{model_id}", timeout_s=LOOKUP_TIMEOUT_S)
    except ServiceError as exc:
        if exc.code == 404:
            return None
        raise
    name = model.get("name")
    if not isinstance(name, str) or not name.startswith("tunedModels/"):
        raise UnreadableAnswer("tuned model without a name")
    from gemtune_desktop.core.jobs import JobState

    state = JobState.parse(str(model.get("state", ""))).value
    return SubmitResult(resource_name=name, state=state, create_time=str(model.get("createTime", "")),
                        recovered=True)


def find_submitted_job(session: BackendSession, submit_key: str, display_name: str) -> SubmitResult | None:
    """Look a submit's job up on the connection: the job, or None when the service shows it does not exist.

    Raises a :class:`UserError` when the look-up itself failed (then nothing is known).
    """
    if session.backend is Backend.AGENT_PLATFORM:
        return find_agent_platform_job(session, submit_key)
    return find_gemini_model(session, tuned_model_id(display_name, submit_key))


# -- shared ---------------------------------------------------------------------------------
def create_once(token: CancelToken | None, policy: RetryPolicy, outcome: SubmitOutcome,
                create: Any, find: Any, *, idempotent: bool, where: str,
                explain: Callable[[BaseException], UserError] | None = None) -> SubmitResult:
    """Run one submit's create through :class:`CreateOnce` (at most one job), counting the attempts."""
    engine = CreateOnce(create=create, find=find, idempotent=idempotent, explain=explain or explain_refusal,
                        where=where, settle_s=SETTLE_S)
    attempts = [0]

    def counted_create() -> SubmitResult:
        attempts[0] += 1
        if attempts[0] > 1:
            report(token, None, f"The service did not answer clearly; trying again safely (attempt {attempts[0]} "
                                 f"of {policy.max_attempts})…")
        return create()

    engine.create = counted_create
    result = engine.run(token, policy, outcome)
    assert isinstance(result, SubmitResult)
    result.attempts = max(1, attempts[0])
    return result


def _violation_fields(exc: BaseException) -> list[str]:
    """The ``field`` of each ``google.rpc.BadRequest`` violation in a Google error answer."""
    details = getattr(exc, "details", None)
    error = details.get("error", details) if isinstance(details, dict) else None
    out: list[str] = []
    for item in (error or {}).get("details", []) if isinstance(error, dict) else []:
        for violation in item.get("fieldViolations", []) if isinstance(item, dict) else []:
            if isinstance(violation, dict) and isinstance(violation.get("field"), str):
                out.append(violation["field"])
    return out


def explain_refusal(exc: BaseException) -> UserError:
    """A failed create in plain words; a refused setting becomes :class:`InvalidSetting` naming its field."""
    err = describe(exc)
    if isinstance(err, ServiceError) and err.code == 400:
        raw = str(getattr(exc, "message", "") or "") + " " + err.message
        hit = field_for_error(raw, _violation_fields(exc))
        if hit is not None:
            return InvalidSetting(err, *hit)
    if isinstance(err, ServiceError) and err.code == 404 and "model" in err.message.lower():
        return ServiceError(404, err.status, "The base model was not found on this connection.",
                            hint="Choose another base model (the list shows the models this connection can tune).")
    return err


def check(token: CancelToken | None) -> None:
    if token is not None:
        token.check()


def report(token: CancelToken | None, fraction: float | None, text: str) -> None:
    if token is None:
        return
    if fraction is None:
        token.report(0, 0, text)  # busy, no known fraction
    else:
        token.report(int(fraction * PROGRESS_SCALE), PROGRESS_SCALE, text)


# -- listing tunable models -------------------------------------------------------------------
def list_gemini_tunable_models(token: CancelToken | None, session: BackendSession) -> list[tuple[str, str]]:
    """(name, label) of the Gemini API models whose supported actions include ``createTunedModel``."""
    client = session.client(timeout_s=30)
    found: list[tuple[str, str]] = []
    for model in client.models.list(config={"page_size": 100}):
        check(token)
        actions = [str(a) for a in (getattr(model, "supported_actions", None) or [])]
        if "createTunedModel" in actions:
            name = str(model.name or "")
            found.append((name, str(getattr(model, "display_name", "") or name.removeprefix("models/"))))
    return found

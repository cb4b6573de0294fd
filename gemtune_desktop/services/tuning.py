"""Start a tuning job on the active connection: Agent Platform, the Gemini API, or the Sandbox posing as either.

``submit_job(token, session, request, outcome)`` runs on a worker thread:

* **Agent Platform**: writes the train (and validation) split as Agent Platform JSONL (preamble
  and system instruction applied), uploads it to the connection's bucket, then calls
  ``client.tunings.tune(...)``.
* **Gemini API**: ``POST v1beta/tunedModels?tunedModelId=ID`` with the examples inline, through
  ``BackendSession.rest`` (google-genai 3.4.0 drops the examples in this mode).

Busy answers (429, 5xx) and dropped connections are retried with backoff, but only in ways that
cannot start a second job: on Agent Platform every job carries a label with the submit key and
the job list is searched for it before each retry; on the Gemini API the model id is fixed per
submit, so a repeated create answers 409 and the existing model is taken as the result.

The create call cannot be interrupted once sent; :class:`SubmitOutcome` keeps its result even if
the user pressed Cancel meanwhile, so the caller can still record the job.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, UserError
from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.job_spec import LABEL_KEY, JobSpec, label_value, tuned_model_id
from gemtune_desktop.services.backend import BackendSession, ServiceError
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.errors import describe
from gemtune_desktop.services.upload import upload_bytes

log = logging.getLogger(__name__)
# google-genai warns on every tunings.tune() call that the API is experimental; the app knows.
warnings.filterwarnings("ignore", message=r".*tuning implementation is experimental.*")

CREATE_TIMEOUT_S = 120.0
RETRY_CODES = frozenset({408, 429, 500, 502, 503, 504})
PROGRESS_SCALE = 1000
UPLOAD_SHARE = 0.9  # of the progress bar, on Agent Platform

# Wire names of the settings (as services quote them in errors) → the form's words and field.
FIELD_WORDS: dict[str, tuple[str, str]] = {
    "epochcount": ("epochs", "Epochs"), "epoch_count": ("epochs", "Epochs"),
    "learningratemultiplier": ("learning_rate_multiplier", "Learning-rate multiplier"),
    "learning_rate_multiplier": ("learning_rate_multiplier", "Learning-rate multiplier"),
    "learningrate": ("learning_rate", "Learning rate"), "learning_rate": ("learning_rate", "Learning rate"),
    "adaptersize": ("adapter_size", "Adapter size"), "adapter_size": ("adapter_size", "Adapter size"),
    "batchsize": ("batch_size", "Batch size"), "batch_size": ("batch_size", "Batch size"),
    "tunedmodeldisplayname": ("display_name", "Name"), "displayname": ("display_name", "Name"),
    "tuningmode": ("tuning_mode", "Tuning mode"), "basemodel": ("base_model", "Base model"),
    "base_model": ("base_model", "Base model"),
    "trainingdataseturi": ("dataset", "Training data"), "validationdataseturi": ("use_validation", "Validation set"),
}


@dataclass(slots=True)
class SubmitRequest:
    """Everything a submit needs, prepared on the GUI thread (plain data, safe to hand to a worker)."""

    spec: JobSpec
    submit_key: str
    train: list[Example]
    validation: list[Example]
    settings: DatasetSettings


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


class SubmitOutcome:
    """Shared between the GUI thread and the worker: whether the create was sent, and its result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._result: SubmitResult | None = None
        self._sent = False

    @property
    def result(self) -> SubmitResult | None:
        with self._lock:
            return self._result

    @property
    def create_sent(self) -> bool:
        with self._lock:
            return self._sent

    def mark_sent(self) -> None:
        with self._lock:
            self._sent = True

    def set_result(self, result: SubmitResult) -> SubmitResult:
        with self._lock:
            self._result = result
        return result


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(self.max_delay_s, retry_after)
        return min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))


class InvalidSetting(ServiceError):
    """The service refused one setting; ``field`` is the :class:`JobSpec` field to highlight."""

    def __init__(self, base: ServiceError, field_name: str, words: str) -> None:
        super().__init__(base.code, base.status, f"The service refused the setting “{words}”. {base.message}",
                         hint=f"Change “{words}” and try again.", retryable=False)
        self.field = field_name


class _ScaledToken(CancelToken):
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


def submit_job(token: CancelToken | None, session: BackendSession, request: SubmitRequest,
               outcome: SubmitOutcome | None = None, policy: RetryPolicy | None = None) -> SubmitResult:
    """Create the tuning job; returns what the service answered. Raises :class:`UserError` in plain words."""
    outcome = outcome or SubmitOutcome()
    policy = policy or RetryPolicy()
    if session.backend is Backend.AGENT_PLATFORM:
        return _submit_agent_platform(token, session, request, outcome, policy)
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


def _submit_agent_platform(token: CancelToken | None, session: BackendSession, request: SubmitRequest,
                           outcome: SubmitOutcome, policy: RetryPolicy) -> SubmitResult:
    files = agent_platform_files(request)
    total = sum(len(data) for _, data in files) or 1
    prefix = f"gemtune/{time.strftime('%Y%m%d')}-{request.submit_key[:12]}"
    uris: dict[str, str] = {}
    start = 0.0
    for name, data in files:
        span = UPLOAD_SHARE * len(data) / total
        uris[name] = upload_bytes(_ScaledToken(token, start, span), session, f"{prefix}/{name}", data,
                                  label="Uploading")
        start += span
    _check(token)
    _report(token, UPLOAD_SHARE, "Starting the tuning job…")
    call = request.spec.agent_platform_call(uris["train.jsonl"], uris.get("validation.jsonl"), request.submit_key)

    from google.genai import types

    client = session.client(timeout_s=CREATE_TIMEOUT_S)
    config = types.CreateTuningJobConfig(**call["config"])
    dataset = types.TuningDataset(**call["training_dataset"])
    started = time.time()

    def create() -> SubmitResult:
        job = client.tunings.tune(base_model=call["base_model"], training_dataset=dataset, config=config)
        return _result_from_job(job)

    def find() -> SubmitResult | None:
        return _find_agent_platform_job(client, request, started)

    # A create that timed out may still be carried out by the service, and Agent Platform has no
    # idempotency key: never send it again, only look for it (reliability fix, issue 7).
    result = _with_retries(token, policy, outcome, create, find, "Agent Platform", resend_after_timeout=False)
    result.train_uri = uris["train.jsonl"]
    result.validation_uri = uris.get("validation.jsonl", "")
    result.request = call
    _report(token, 1.0, "The tuning job has started.")
    return outcome.set_result(result)


def _result_from_job(job: Any, attempts: int = 1) -> SubmitResult:
    state = getattr(job, "state", None)
    state_text = getattr(state, "value", None) or str(state or "JOB_STATE_QUEUED")
    tuned = getattr(job, "tuned_model", None)
    created: Any = getattr(job, "create_time", None)
    stats = getattr(getattr(job, "tuning_data_stats", None), "supervised_tuning_data_stats", None)
    return SubmitResult(
        resource_name=str(job.name or ""), state=str(state_text),
        create_time=created.isoformat() if hasattr(created, "isoformat") else str(created or ""),
        total_steps=int(getattr(stats, "tuning_step_count", 0) or 0),
        tuned_model=str(getattr(tuned, "model", "") or ""), endpoint=str(getattr(tuned, "endpoint", "") or ""),
        experiment=str(getattr(job, "experiment", "") or ""), attempts=attempts)


def _find_agent_platform_job(client: Any, request: SubmitRequest, started: float) -> SubmitResult | None:
    """The job this submit created in an earlier attempt, if any (by label, else name and time)."""
    wanted = label_value(request.submit_key)
    for seen, job in enumerate(client.tunings.list(config={"page_size": 50}), start=1):
        labels = getattr(job, "labels", None) or {}
        if labels.get(LABEL_KEY) == wanted:
            return _result_from_job(job)
        created: Any = getattr(job, "create_time", None)
        if not labels and getattr(job, "tuned_model_display_name", None) == request.spec.display_name and \
                hasattr(created, "timestamp") and created.timestamp() >= started - 120:
            return _result_from_job(job)
        if seen >= 200:
            break
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
    _report(token, 0.1, "Preparing the examples…")
    body = gemini_api_body(request)
    model_id = tuned_model_id(request.spec.display_name, request.submit_key)
    _check(token)
    _report(token, 0.3, f"Sending {len(request.train):,} examples to the Gemini API…")

    def create() -> SubmitResult:
        try:
            op = session.rest("POST", "tunedModels", body=body, params={"tunedModelId": model_id},
                              timeout_s=CREATE_TIMEOUT_S)
        except ServiceError as exc:
            if exc.code == 409:  # an earlier attempt of this very submit created it
                found = find()
                if found is not None:
                    return found
            raise
        meta = op.get("metadata") or {}
        name = str(meta.get("tunedModel") or str(op.get("name", "")).partition("/operations/")[0]
                   or f"tunedModels/{model_id}")
        return SubmitResult(resource_name=name, state="JOB_STATE_QUEUED",
                            total_steps=int(meta.get("totalSteps", 0) or 0))

    def find() -> SubmitResult | None:
        try:
            model = session.rest("GET", f"tunedModels/{model_id}")
        except ServiceError as exc:
            if exc.code == 404:
                return None
            raise
        if model.get("displayName", request.spec.display_name) != request.spec.display_name:
            return None
        from gemtune_desktop.core.jobs import JobState

        state = JobState.parse(str(model.get("state", ""))).value
        result = SubmitResult(resource_name=str(model.get("name") or f"tunedModels/{model_id}"), state=state,
                              create_time=str(model.get("createTime", "")))
        result.recovered = True
        return result

    result = _with_retries(token, policy, outcome, create, find, "the Gemini API")
    result.request = {"tunedModelId": model_id, "body": {**body, "tuningTask": {
        **body["tuningTask"], "trainingData": {"examples": {"count": len(request.train)}}}}}
    _report(token, 1.0, "The tuning job has started.")
    return outcome.set_result(result)


# -- shared ---------------------------------------------------------------------------------
def _with_retries(token: CancelToken | None, policy: RetryPolicy, outcome: SubmitOutcome,
                  create: Callable[[], SubmitResult], find: Callable[[], SubmitResult | None],
                  where: str, resend_after_timeout: bool = True) -> SubmitResult:
    """Call ``create``; on a busy answer look for the job (``find``) before trying again.

    With ``resend_after_timeout=False`` a create that timed out is not sent again (the service may
    still be creating the job): the job is looked for a few times, else the user is told to check.
    """
    last: UserError | None = None
    for attempt in range(1, policy.attempts + 1):
        if attempt > 1:
            try:
                _sleep(token, policy.delay(attempt - 1, getattr(last, "retry_after", None)))
            except Cancelled:
                found = _safe_find(find)
                if found is not None:  # the earlier attempt did create it: keep it
                    outcome.set_result(found)
                raise
            found = _safe_find(find)
            if found is not None:
                found.attempts = attempt
                found.recovered = True
                return found
            _report(token, None, f"The service was busy; trying again (attempt {attempt} of {policy.attempts})…")
        _check(token)
        outcome.mark_sent()
        try:
            result = create()
            result.attempts = attempt
            return result
        except Exception as exc:
            err = _explain(exc)
            if not resend_after_timeout and _timed_out(err):
                return _find_after_timeout(token, policy, find, err, where)
            if not _retryable(err) or attempt == policy.attempts:
                if attempt > 1 and _retryable(err):
                    raise UserError(f"{where} stayed busy after {attempt} attempts. {err.message}",
                                    err.hint or "Try again in a few minutes.", detail=err.detail,
                                    retryable=True) from None
                raise err from None
            log.info("submit attempt %d failed (%s); retrying", attempt, err.detail or err.message)
            last = err
    raise AssertionError("unreachable")  # pragma: no cover


def _timed_out(err: UserError) -> bool:
    return "Timeout" in (err.detail or "") or err.message.startswith("The service did not answer in time")


def _find_after_timeout(token: CancelToken | None, policy: RetryPolicy, find: Callable[[], SubmitResult | None],
                        err: UserError, where: str) -> SubmitResult:
    """After a timed-out create: look for the job a few times; never send the create again."""
    for attempt in range(1, policy.attempts + 1):
        _sleep(token, policy.delay(attempt, None))
        found = _safe_find(find)
        if found is not None:
            found.attempts = attempt
            found.recovered = True
            return found
    raise UserError(f"{where} did not confirm the new tuning job in time; it may still start.",
                    "Look in the Monitor tab's list of jobs on the service before starting it again, so it "
                    "is not started twice.", detail=err.detail, retryable=False) from None


def _safe_find(find: Callable[[], SubmitResult | None]) -> SubmitResult | None:
    try:
        return find()
    except Exception as exc:  # a failed lookup just means "not known yet"
        log.info("looking for an earlier attempt's job failed: %s", type(exc).__name__)
        return None


def _retryable(err: UserError) -> bool:
    code = getattr(err, "code", None)
    if isinstance(code, int):
        return code in RETRY_CODES
    return bool(err.retryable)


def _explain(exc: BaseException) -> UserError:
    err = describe(exc)
    if isinstance(err, ServiceError) and err.code == 400:
        raw = str(getattr(exc, "message", "") or "") + " " + err.message
        low = raw.lower()
        for wire, (field_name, words) in FIELD_WORDS.items():
            if wire in low.replace(" ", ""):
                return InvalidSetting(err, field_name, words)
    if isinstance(err, ServiceError) and err.code == 404 and "model" in err.message.lower():
        return ServiceError(404, err.status, "The base model was not found on this connection.",
                            hint="Choose another base model (the list shows the models this connection can tune).")
    return err


def _sleep(token: CancelToken | None, seconds: float) -> None:
    if token is not None:
        token.wait(seconds)
    else:
        time.sleep(seconds)


def _check(token: CancelToken | None) -> None:
    if token is not None:
        token.check()


def _report(token: CancelToken | None, fraction: float | None, text: str) -> None:
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
        _check(token)
        actions = [str(a) for a in (getattr(model, "supported_actions", None) or [])]
        if "createTunedModel" in actions:
            name = str(model.name or "")
            found.append((name, str(getattr(model, "display_name", "") or name.removeprefix("models/"))))
    return found

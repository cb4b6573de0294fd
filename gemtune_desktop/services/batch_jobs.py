"""Large evaluation sets on Google's batch engine, at the batch price, with results in the same run.

* Agent Platform: the requests are written as JSONL (one ``{"request": GenerateContentRequest}``
  per line, the row's id in ``request.labels``), uploaded to the connection's Cloud Storage bucket
  with google-cloud-storage, and sent with google-genai's ``client.batches.create(model, src=gs://…,
  config={dest: gs://…})`` (``POST …/batchPredictionJobs``; method ids
  ``aiplatform.projects.locations.batchPredictionJobs.*`` in the aiplatform v1beta1 discovery
  document). Results are read from ``outputInfo.gcsOutputDirectory``: every ``predictions*.jsonl``
  and ``errors*.jsonl`` file there (Google's Gemini batch page shows ``predictions.jsonl``; the
  discovery document describes numbered files; which one 3.x jobs write is UNCERTAIN, so both are
  read), each line ``{"status", "request", "response"}``.
  https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage
* Gemini API: ``client.batches.create`` with inline requests for small sets (under the 20 MB
  limit) or a JSONL file of ``{"key", "request"}`` lines uploaded with ``client.files.upload``
  for larger ones; results inline (``dest.inlined_responses``) or in a generated file
  (``dest.file_name``, streamed to disk with ``client.files.download(destination=…)``).
  google-genai drops ``batchStats`` from the batch, so progress is read from the raw
  ``GET batches/ID`` (https://ai.google.dev/gemini-api/docs/batch-api).

Every job is recorded in the project before anything is sent (``batch_jobs``), so it survives
closing the app; :func:`refresh_open_jobs` polls the open ones and stores finished results.
Results are streamed from a temporary file line by line into the run's rows, so memory stays a
small multiple of the results file however large it is. Rows a job could not answer are stored
with the engine's error; rows without a result stay missing, and the run is marked stopped
(partial) so Resume can send them online.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled, UserError
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings, model_supports_thinking
from gemtune_desktop.core.project.batch_jobs_repo import BatchJobRecord
from gemtune_desktop.core.project.evals_repo import RowWriter
from gemtune_desktop.services.backend import BackendSession
from gemtune_desktop.services.batch_eval import EvalItem
from gemtune_desktop.services.connections import Backend

if TYPE_CHECKING:
    from google.genai.types import BatchJob

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 1000
INLINE_MAX_ROWS = 200
ROW_LABEL = "gemtune_row"
STATE_WORDS = {
    "SUBMITTING": "Being sent", "SUBMIT_FAILED": "Could not be sent", "JOB_STATE_QUEUED": "Queued",
    "JOB_STATE_PENDING": "Waiting to start", "JOB_STATE_RUNNING": "Running", "JOB_STATE_SUCCEEDED": "Finished",
    "JOB_STATE_FAILED": "Failed", "JOB_STATE_CANCELLING": "Cancelling", "JOB_STATE_CANCELLED": "Cancelled",
    "JOB_STATE_EXPIRED": "Expired (not finished in time)", "JOB_STATE_PARTIALLY_SUCCEEDED": "Partly finished",
}


def offer_batch(rows: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether to offer the batch engine for an evaluation of ``rows`` calls."""
    return rows > max(1, threshold)


def state_words(state: str) -> str:
    return STATE_WORDS.get(state, state.removeprefix("JOB_STATE_").replace("_", " ").capitalize())


# -- requests ----------------------------------------------------------------------------------
_WIRE = {"top_p": "topP", "top_k": "topK", "max_output_tokens": "maxOutputTokens",
         "candidate_count": "candidateCount", "stop_sequences": "stopSequences"}


def request_json(item: EvalItem, generation: GenerationSettings, safety: SafetySettings) -> dict[str, Any]:
    """One GenerateContentRequest in REST form (camelCase), as the online evaluation sends it."""
    from gemtune_desktop.core.examples import DatasetSettings

    config: dict[str, Any] = {}
    for key, value in generation.to_config(supports_thinking=model_supports_thinking(item.model)).items():
        if key == "thinking_config":
            config["thinkingConfig"] = {"thinkingLevel": value["thinking_level"]}
        else:
            config[_WIRE.get(key, key)] = value
    text = DatasetSettings(preamble=item.preamble).apply_preamble(item.prompt)
    request: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": text}]}], "generationConfig": config}
    if safety.to_config():
        request["safetySettings"] = safety.to_config()
    if item.system_instruction.strip():
        request["systemInstruction"] = {"parts": [{"text": item.system_instruction}]}
    return request


def write_requests(path: str, items: Iterable[EvalItem], generation: GenerationSettings, safety: SafetySettings,
                   backend: Backend) -> int:
    """The JSONL input file, written line by line; returns the number of lines."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for item in items:
            request = request_json(item, generation, safety)
            if backend is Backend.AGENT_PLATFORM:
                request["labels"] = {ROW_LABEL: str(item.example_id)}
                line: dict[str, Any] = {"request": request}
            else:
                line = {"key": str(item.example_id), "request": request}
            fh.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def _check_items(items: Sequence[EvalItem]) -> tuple[str, int]:
    if not items:
        raise UserError("There are no rows to send.", "Choose examples to evaluate.")
    models = {i.model for i in items}
    slots = {i.slot for i in items}
    if len(models) != 1 or len(slots) != 1:
        raise UserError("A batch job answers one model at a time.", "Send one job per model.")
    model = items[0].model
    if "/endpoints/" in model:
        raise UserError("Batch jobs take a tuned model's name (projects/…/models/…), not its endpoint.",
                        "Choose the tuned model itself for the batch job.")
    return model, items[0].slot


# -- submit ------------------------------------------------------------------------------------
def submit(token: CancelToken | None, session: BackendSession, db_path: str, run_id: int,
           items: Sequence[EvalItem], generation: GenerationSettings, safety: SafetySettings,
           display_name: str = "") -> BatchJobRecord:
    """Record, upload and start one batch job for ``items`` (one model slot of run ``run_id``)."""
    from gemtune_desktop.core.project import batch_jobs_repo, evals_repo

    model, slot = _check_items(items)
    name = (display_name or f"gemtune-eval-{run_id}-{slot}")[:120]
    record = BatchJobRecord(run_id=run_id, backend=session.backend.value, model=model, slot=slot,
                            connection_kind=session.profile.kind.value, rows=len(items))
    side = evals_repo.SideStore(db_path)
    try:
        batch_jobs_repo.create_job(side, record)
    finally:
        side.close()
    fd, path = tempfile.mkstemp(prefix="gemtune-batch-", suffix=".jsonl")
    os.close(fd)
    try:
        write_requests(path, items, generation, safety, session.backend)
        if token is not None:
            token.check()
        if session.backend is Backend.AGENT_PLATFORM:
            _submit_agent_platform(session, record, path, name)
        else:
            _submit_gemini_api(session, record, path, name, items, generation, safety)
    except BaseException as exc:
        from gemtune_desktop.services.errors import describe

        record.state = "SUBMIT_FAILED"
        record.error = describe(exc).message
        _save(db_path, record)
        if isinstance(exc, Exception) and not isinstance(exc, Cancelled):
            raise describe(exc) from exc
        raise
    finally:
        os.unlink(path)
    _save(db_path, record)
    return record


def _submit_agent_platform(session: BackendSession, record: BatchJobRecord, path: str, name: str) -> None:
    bucket = session.bucket
    if not bucket:
        raise UserError("No Cloud Storage bucket is set for this connection; batch jobs read and write JSONL there.",
                        "Choose a bucket in Settings → Connections.")
    folder = f"gemtune-batch/run-{record.run_id}-slot-{record.slot}-job-{record.id}"
    session.storage_client().bucket(bucket).blob(f"{folder}/input.jsonl").upload_from_filename(
        path, content_type="application/jsonl")
    record.input_ref = f"gs://{bucket}/{folder}/input.jsonl"
    job = session.client().batches.create(model=record.model, src=record.input_ref,
                                          config={"display_name": name, "dest": f"gs://{bucket}/{folder}/output"})
    record.resource_name = str(job.name or "")
    record.state = _state(job)


def _submit_gemini_api(session: BackendSession, record: BatchJobRecord, path: str, name: str,
                       items: Sequence[EvalItem], generation: GenerationSettings, safety: SafetySettings) -> None:
    from gemtune_desktop.services.console import ConsoleRequest

    client = session.client()
    if len(items) <= INLINE_MAX_ROWS:
        src: Any = []
        for item in items:
            req = ConsoleRequest(model=item.model, prompt=item.prompt, generation=generation, safety=safety,
                                 preamble=item.preamble, system_instruction=item.system_instruction)
            config = req.config()
            config.pop("http_options", None)
            src.append({"contents": req.contents, "config": config, "metadata": {"key": str(item.example_id)}})
        record.input_ref = "inline"
    else:
        uploaded = client.files.upload(file=path, config={"mime_type": "jsonl", "display_name": name})
        src = record.input_ref = str(uploaded.name)
    job = client.batches.create(model=record.model, src=src, config={"display_name": name})
    record.resource_name = str(job.name or "")
    record.state = _state(job)


def _state(job: BatchJob) -> str:
    state = getattr(job, "state", None)
    return str(getattr(state, "value", state) or "JOB_STATE_UNSPECIFIED")


def _save(db_path: str, record: BatchJobRecord) -> None:
    from gemtune_desktop.core.project import batch_jobs_repo, evals_repo

    side = evals_repo.SideStore(db_path)
    try:
        batch_jobs_repo.update_job(side, record)
    finally:
        side.close()


# -- poll and cancel ---------------------------------------------------------------------------
def refresh(session: BackendSession, db_path: str, record: BatchJobRecord) -> BatchJobRecord:
    """Read the job's state and counts from the service and store them."""
    if not record.resource_name:
        return record
    job = session.client().batches.get(name=record.resource_name)
    record.state = _state(job)
    error = getattr(job, "error", None)
    record.error = str(getattr(error, "message", "") or "") if error is not None else ""
    if session.backend is Backend.AGENT_PLATFORM:
        stats = getattr(job, "completion_stats", None)
        record.succeeded = int(getattr(stats, "successful_count", 0) or 0)
        record.failed = int(getattr(stats, "failed_count", 0) or 0)
        info = getattr(job, "output_info", None)
        record.output_ref = str(getattr(info, "gcs_output_directory", "") or record.output_ref)
    else:
        raw = session.rest("GET", record.resource_name)  # google-genai drops batchStats
        stats = (raw.get("metadata") or {}).get("batchStats") or {}
        record.succeeded = int(stats.get("successfulRequestCount", 0) or 0)
        record.failed = int(stats.get("failedRequestCount", 0) or 0)
        dest = getattr(job, "dest", None)
        if dest is not None:
            record.output_ref = str(getattr(dest, "file_name", "") or ("inline" if dest.inlined_responses
                                                                        else record.output_ref))
    _save(db_path, record)
    return record


def cancel(session: BackendSession, db_path: str, record: BatchJobRecord) -> BatchJobRecord:
    """Ask the service to stop the job; rows answered so far are kept and stored when it ends."""
    if record.resource_name and not record.ended:
        session.client().batches.cancel(name=record.resource_name)
    return refresh(session, db_path, record)


# -- results -----------------------------------------------------------------------------------
@dataclass(slots=True)
class IngestStats:
    stored: int = 0
    failed: int = 0
    missing: int = 0
    unknown: int = 0  # results for rows the run no longer has

    def words(self) -> str:
        text = f"{self.stored:,} answers stored"
        if self.failed:
            text += f", {self.failed:,} rows the batch engine could not answer (kept with its message)"
        if self.missing:
            text += f", {self.missing:,} rows without a result (partial: Resume sends them online)"
        return text + "."


def read_response(response: dict[str, Any]) -> tuple[str, str, str]:
    """(text, finish reason, blocked category) from a GenerateContentResponse in JSON form."""
    feedback = response.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        blocked = next((r.get("category", "") for r in feedback.get("safetyRatings") or [] if r.get("blocked")),
                       "")
        return "", "PROMPT_BLOCKED", blocked or str(feedback["blockReason"])
    candidates = response.get("candidates") or []
    if not candidates:
        return "", "", ""
    first = candidates[0]
    text = "".join(str(p.get("text", "")) for p in (first.get("content") or {}).get("parts") or []
                   if isinstance(p, dict) and not p.get("thought"))
    reason = str(first.get("finishReason") or "")
    blocked = ""
    if reason in ("SAFETY", "PROHIBITED_CONTENT", "SPII", "BLOCKLIST"):
        blocked = next((r.get("category", "") for r in first.get("safetyRatings") or [] if r.get("blocked")), reason)
    return text, reason, blocked


Result = tuple[int, str, str, str, str]  # (example id, text, finish reason, blocked, error)


def _vertex_results(path: str) -> Iterator[Result]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            request = rec.get("request") or {}
            key = ((request.get("labels") or {}).get(ROW_LABEL)) if isinstance(request, dict) else None
            if key is None or not str(key).isdigit():
                continue
            status = rec.get("status") or ""
            if isinstance(rec.get("error"), dict):
                status = status or str(rec["error"].get("message", ""))
            if rec.get("response") is not None and not status:
                yield (int(key), *read_response(rec["response"]), "")
            else:
                yield int(key), "", "", "", f"The batch engine could not answer this row: {status or 'no answer'}"


def _gemini_file_results(path: str) -> Iterator[Result]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            key = str(rec.get("key", ""))
            if not key.isdigit():
                continue
            if isinstance(rec.get("response"), dict):
                yield (int(key), *read_response(rec["response"]), "")
            else:
                message = str((rec.get("error") or {}).get("message") or rec.get("status") or "no answer")
                yield int(key), "", "", "", f"The batch engine could not answer this row: {message}"


def _gemini_inline_results(job: BatchJob) -> Iterator[Result]:
    for item in getattr(job.dest, "inlined_responses", None) or []:
        key = str((item.metadata or {}).get("key", ""))
        if not key.isdigit():
            continue
        if item.response is not None:
            yield (int(key), *read_response(item.response.model_dump(mode="json", by_alias=True, exclude_none=True)),
                   "")
        else:
            message = getattr(item.error, "message", "") or "no answer"
            yield int(key), "", "", "", f"The batch engine could not answer this row: {message}"


def _download(session: BackendSession, record: BatchJobRecord, folder: str) -> list[str]:
    """The job's result files, downloaded into ``folder`` (streamed, never whole in memory)."""
    paths: list[str] = []
    if session.backend is Backend.AGENT_PLATFORM:
        if not record.output_ref.startswith("gs://"):
            return paths
        bucket_name, _, prefix = record.output_ref[5:].partition("/")
        client = session.storage_client()
        for blob in client.list_blobs(bucket_name, prefix=prefix.rstrip("/") + "/"):
            base = blob.name.rsplit("/", 1)[-1]
            if base.endswith(".jsonl") and base.startswith(("predictions", "errors")):
                target = os.path.join(folder, f"{len(paths)}-{base}")
                blob.download_to_filename(target)
                paths.append(target)
    elif record.output_ref.startswith("files/"):
        target = os.path.join(folder, "responses.jsonl")
        session.client().files.download(file=record.output_ref, destination=target)
        paths.append(target)
    return paths


TextsFn = Callable[[Sequence[int]], dict[int, tuple[str, str]]]


def ingest(token: CancelToken | None, session: BackendSession, db_path: str, record: BatchJobRecord,
           texts: TextsFn | None = None, chunk: int = 2000) -> IngestStats:
    """Store the job's results as the run's rows (inputs and expected outputs from the project's
    examples, or ``texts``); marks the job ingested and the run done or stopped (partial)."""
    from gemtune_desktop.core.project import evals_repo, sweeps_repo

    side = evals_repo.SideStore(db_path)
    lookup = texts or (lambda ids: sweeps_repo.example_texts(side, ids))
    stats = IngestStats()
    writer = evals_repo.RowWriter(db_path)
    try:
        with tempfile.TemporaryDirectory(prefix="gemtune-batch-") as folder:
            if session.backend is Backend.GEMINI_API and record.output_ref == "inline":
                sources: list[Iterator[Result]] = [_gemini_inline_results(
                    session.client().batches.get(name=record.resource_name))]
            else:
                paths = _download(session, record, folder)
                read = _vertex_results if session.backend is Backend.AGENT_PLATFORM else _gemini_file_results
                sources = [read(p) for p in paths]
            batch: list[Result] = []
            for source in sources:
                for result in source:
                    batch.append(result)
                    if len(batch) >= chunk:
                        _store(writer, record, batch, lookup, stats, token)
                        batch = []
            _store(writer, record, batch, lookup, stats, token)
    finally:
        writer.close()
        try:
            stored = len(evals_repo.done_keys(side, record.run_id))
            run = evals_repo.get_run(side, record.run_id)
            expected = run.expected_rows if run is not None else 0
            stats.missing = max(0, record.rows - stats.stored - stats.failed)
            if run is not None:
                evals_repo.update_run(side, record.run_id,
                                      status=evals_repo.DONE if stored >= expected else evals_repo.STOPPED)
        finally:
            side.close()
    record.ingested = True
    _save(db_path, record)
    return stats


def _store(writer: RowWriter, record: BatchJobRecord, batch: list[Result], lookup: TextsFn, stats: IngestStats,
           token: CancelToken | None) -> None:
    from gemtune_desktop.core.project.evals_repo import EvalRow

    if not batch:
        return
    if token is not None:
        token.check()
    texts = lookup([r[0] for r in batch])
    for example_id, text, reason, blocked, error in batch:
        if example_id not in texts:
            stats.unknown += 1
            continue
        prompt, expected = texts[example_id]
        writer.put(EvalRow(record.run_id, example_id, record.slot, prompt, expected, text, reason, blocked, 0, error))
        if error:
            stats.failed += 1
        else:
            stats.stored += 1


def refresh_open_jobs(token: CancelToken | None, session: BackendSession, db_path: str) -> list[BatchJobRecord]:
    """Poll every open job of this connection and store the results of those that ended (the Monitor's
    poll, also right after start-up). Returns the jobs as they now stand."""
    from gemtune_desktop.core.project import batch_jobs_repo, evals_repo

    side = evals_repo.SideStore(db_path)
    try:
        jobs = [j for j in batch_jobs_repo.open_jobs(side) if j.connection_kind == session.profile.kind.value
                and j.backend == session.backend.value]
    finally:
        side.close()
    from gemtune_desktop.services.errors import describe

    out = []
    for record in jobs:
        if token is not None:
            token.check()
        try:
            if not record.ended:
                record = refresh(session, db_path, record)
            if record.ended and not record.ingested and record.state != "SUBMIT_FAILED":
                ingest(token, session, db_path, record)
        except Cancelled:
            raise
        except Exception as exc:  # one job's trouble must not hide the others; shown on that job
            record.error = f"Could not read this job just now: {describe(exc).message}"
            _save(db_path, record)
        out.append(record)
    return out

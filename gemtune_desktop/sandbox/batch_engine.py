"""The Sandbox's batch engine: jobs of many generateContent requests, answered on a background thread.

Both batch APIs share it (routes in :mod:`gemtune_desktop.sandbox.routes_batch`):

* Agent Platform ``batchPredictionJobs``: JSONL input in Sandbox storage, one ``{"request": …}``
  per line; output in the ``gcsDestination.outputUriPrefix`` folder, in a new
  ``prediction-model-<time>`` folder (``outputInfo.gcsOutputDirectory``) holding
  ``predictions.jsonl``: one line per input line ``{"status": "", "processed_time", "request",
  "response"}``, or with ``status`` holding the error and no ``response``. (The discovery
  document describes ``predictions_0001.<ext>`` / ``errors_0001.<ext>`` files for models in
  general; Google's Gemini batch pages show a single ``predictions.jsonl``: UNCERTAIN which one
  a 3.x job writes, so GemTune reads both namings.)
* Gemini API ``batches``: inline requests (answers inline in the batch's ``output``) or a JSONL
  file uploaded through the Files API, one ``{"key", "request"}`` per line, answered in a
  generated file of ``{"key", "response"}`` or ``{"key", "error"}`` lines.

Rows are answered by :func:`gemtune_desktop.sandbox.generation.generate` at ``rows_per_second``.
Row failures are injected with the server's faults on the pseudo path
``/batch-row/<job id>/<row>`` (e.g. ``faults.add(route="batch-row", kind="status", status=500,
share=0.1)``). Jobs are kept in ``<state dir>/batch``; a job unfinished when the Sandbox stopped
starts over when it starts again. Cancelling keeps the rows already answered in the output.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemtune_desktop.sandbox import persistence
from gemtune_desktop.sandbox.apierror import STATUS_BY_CODE, ApiError
from gemtune_desktop.sandbox.datasets import TrainingExample

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

log = logging.getLogger(__name__)

FILES_BUCKET = "sandbox-gemini-files"  # where the Gemini API Files live in Sandbox storage
PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLING, CANCELLED = (
    "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLING", "CANCELLED")
ENDED = (SUCCEEDED, FAILED, CANCELLED)
ROW_FAULT_MESSAGES = {429: "Resource has been exhausted (e.g. check quota).", 500: "Internal error encountered.",
                      503: "The service is currently unavailable.", 504: "Deadline exceeded."}


@dataclass
class Job:
    """One batch job; ``kind`` is "vertex" (batchPredictionJobs) or "gemini" (batches)."""

    kind: str
    id: str
    model: str
    display_name: str
    created: float
    source: dict[str, Any]  # vertex: {"uri"}; gemini: {"file"} or {"inline": [...]}
    dest: str = ""  # vertex: output prefix gs://…
    view: dict[str, Any] = field(default_factory=dict)  # what the create request said (echoed back)
    state: str = PENDING
    started: float | None = None
    ended: float | None = None
    rows: int = 0
    done: int = 0
    failed: int = 0
    output: str = ""  # vertex: gs://…/prediction-model-…; gemini: files/… (file input)
    inline_output: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    project: str = ""
    location: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Files:
    """The Gemini API's Files: bytes in Sandbox storage (bucket :data:`FILES_BUCKET`), metadata here."""

    def __init__(self, server: SandboxServer) -> None:
        self.state = server.state
        self.lock = threading.Lock()
        self.meta: dict[str, dict[str, Any]] = {}
        folder = self._dir()
        if folder is not None:
            for rec in persistence.read_json_dir(folder):
                self.meta[str(rec.get("id"))] = rec

    def _dir(self) -> Path | None:
        return self.state.state_dir / "gemini_files" if self.state.state_dir is not None else None

    def register(self, file_id: str, mime_type: str, size: int, generated: bool, display_name: str = "") -> \
            dict[str, Any]:
        now = time.time()
        rec = {"id": file_id, "mime_type": mime_type, "size": size, "created": now, "generated": generated,
               "display_name": display_name}
        with self.lock:
            self.meta[file_id] = rec
        folder = self._dir()
        if folder is not None:
            persistence.write_json(folder / f"{file_id}.json", rec)
        return rec

    def get(self, file_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.meta.get(file_id)

    def delete(self, file_id: str) -> None:
        with self.lock:
            self.meta.pop(file_id, None)
        self.state.delete_object(FILES_BUCKET, file_id)
        folder = self._dir()
        if folder is not None:
            persistence.remove(folder / f"{file_id}.json")


ModelResolver = Callable[[str], tuple[Sequence[TrainingExample] | None, str]]


class BatchEngine:
    """Holds the jobs and answers them on one daemon thread while the server runs.

    ``resolve(model)`` gives the training examples and label of a tuned model (None and "" for a
    base model), as the Sandbox's generation needs them.
    """

    def __init__(self, server: SandboxServer, files: Files, resolve: ModelResolver) -> None:
        self.server = server
        self.state = server.state
        self.files = files
        self.resolve = resolve
        self.rows_per_second = 2000.0
        self.pending_s = 0.2
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._load()

    # -- persistence ---------------------------------------------------------------------------
    def _dir(self) -> Path | None:
        return self.state.state_dir / "batch" if self.state.state_dir is not None else None

    def _load(self) -> None:
        folder = self._dir()
        if folder is None:
            return
        for rec in persistence.read_json_dir(folder):
            try:
                job = Job(**rec)
            except TypeError:
                continue
            if job.state not in ENDED:  # unfinished: start over
                job.state, job.done, job.failed, job.inline_output, job.started = PENDING, 0, 0, [], None
            self.jobs[job.id] = job
        if any(j.state not in ENDED for j in self.jobs.values()):
            self._wake.set()

    def save(self, job: Job) -> None:
        folder = self._dir()
        if folder is not None:
            persistence.write_json(folder / f"{job.id}.json", job.to_json())

    def delete(self, job_id: str) -> None:
        with self.lock:
            self.jobs.pop(job_id, None)
        folder = self._dir()
        if folder is not None:
            persistence.remove(folder / f"{job_id}.json")

    # -- jobs ----------------------------------------------------------------------------------
    def add(self, job: Job) -> None:
        with self.lock:
            self.jobs[job.id] = job
            self.save(job)
        self._ensure_thread()
        self._wake.set()

    def get(self, job_id: str, kind: str) -> Job | None:
        with self.lock:
            job = self.jobs.get(job_id)
            return job if job is not None and job.kind == kind else None

    def cancel(self, job: Job) -> None:
        with self.lock:
            if job.state in ENDED or job.state == CANCELLING:
                raise ApiError(400, f"Cannot cancel the batch job in state {job.state}.", "FAILED_PRECONDITION")
            job.state = CANCELLING if job.state == RUNNING else CANCELLED
            if job.state == CANCELLED:
                job.ended = time.time()
            self.save(job)
        self._wake.set()

    def ensure_running(self) -> None:
        """Start answering (after a restart, unfinished jobs wait for the first batch request)."""
        if any(j.state not in ENDED for j in list(self.jobs.values())):
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self.lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="sandbox-batch", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while self.server.running:
            job = self._next()
            if job is None:
                self._wake.wait(0.1)
                self._wake.clear()
                continue
            try:
                self._process(job)
            except Exception:  # a broken job must not stop the engine
                log.exception("Sandbox batch job %s failed", job.id)
                with self.lock:
                    job.state, job.ended = FAILED, time.time()
                    job.error = {"code": 13, "message": "Internal error in the Sandbox (see the app log)."}
                    self.save(job)

    def _next(self) -> Job | None:
        now = time.time()
        with self.lock:
            for job in sorted(self.jobs.values(), key=lambda j: j.created):
                if job.state == PENDING and now - job.created >= self.pending_s:
                    return job
        return None

    # -- answering -----------------------------------------------------------------------------
    def _lines(self, job: Job) -> list[dict[str, Any]] | None:
        """The job's requests as ``{"key", "request"}`` dicts (None after marking the job FAILED)."""
        if "inline" in job.source:
            return [{"key": str((item.get("metadata") or {}).get("key", i)), "request": item.get("request") or {},
                     "metadata": item.get("metadata")} for i, item in enumerate(job.source["inline"])]
        data = self._input_bytes(job)
        if data is None:
            return None
        out = []
        for number, raw in enumerate(data.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                line = {"request": None, "_invalid": f"Line {number} is not valid JSON."}
            out.append(line if isinstance(line, dict) else {"request": None, "_invalid": f"Line {number} is not "
                                                                                         "a JSON object."})
        return out

    def _input_bytes(self, job: Job) -> bytes | None:
        where = job.source.get("uri") or job.source.get("file", "")
        data = self.state.read_gcs_uri(where) if where.startswith("gs://") else None
        if job.kind == "gemini":
            obj = self.state.get_object(FILES_BUCKET, where.removeprefix("files/"))
            data = obj.data if obj is not None else None
        if data is None:
            self._finish(job, FAILED, {"code": 5, "message": f"The input {where} was not found."})
        return data

    def _process(self, job: Job) -> None:
        lines = self._lines(job)
        if lines is None:
            return
        with self.lock:
            job.rows, job.state, job.started = len(lines), RUNNING, time.time()
            self.save(job)
        out: list[bytes] = []
        started = time.monotonic()
        for index, line in enumerate(lines):
            with self.lock:
                if job.state == CANCELLING or not self.server.running:
                    break
            delay = started + index / self.rows_per_second - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            record, ok = self._answer(job, index, line)
            if job.kind == "gemini" and "inline" in job.source:
                job.inline_output.append(record)
            else:
                out.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            with self.lock:
                job.done += 1
                job.failed += 0 if ok else 1
        if not self.server.running:
            return
        self._write_output(job, out)
        with self.lock:
            cancelled = job.state == CANCELLING
        if cancelled:
            self._finish(job, CANCELLED, {"code": 1, "message": "CANCELED"})
        elif job.rows and job.failed == job.rows:
            self._finish(job, FAILED, {"code": 3, "message": f"All {job.rows} requests failed."})
        else:
            self._finish(job, SUCCEEDED, None)

    def _answer(self, job: Job, index: int, line: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The output record for one input line and whether it succeeded."""
        from gemtune_desktop.sandbox.generation import generate

        error: dict[str, Any] | None = None
        response: dict[str, Any] | None = None
        fault = next((r for r in self.server.faults.pick("POST", f"/batch-row/{job.id}/{index}")
                      if r.kind == "status"), None)
        if line.get("_invalid"):
            error = {"code": 400, "message": str(line["_invalid"]), "status": "INVALID_ARGUMENT"}
        elif fault is not None:
            error = {"code": fault.status, "message": ROW_FAULT_MESSAGES.get(fault.status, "Injected fault."),
                     "status": STATUS_BY_CODE.get(fault.status, "UNKNOWN")}
        elif not isinstance(line.get("request"), dict):
            error = {"code": 400, "message": "The line has no \"request\" object.", "status": "INVALID_ARGUMENT"}
        else:
            try:
                examples, label = self.resolve(job.model)
                response = generate(job.model, line["request"], examples, label)
            except ApiError as exc:
                error = {"code": exc.code, "message": exc.message, "status": exc.status}
        if job.kind == "vertex":
            record: dict[str, Any] = {"status": "" if error is None else f"{error['status']}: {error['message']}",
                                      "processed_time": datetime.now(UTC).isoformat(), "request": line.get("request")}
            if response is not None:
                record["response"] = response
            return record, error is None
        record = {"key": line.get("key", str(index))} if "inline" not in job.source else {}
        if line.get("metadata") is not None and "inline" in job.source:
            record["metadata"] = line["metadata"]
        record.update({"response": response} if error is None else {"error": error})
        return record, error is None

    def _write_output(self, job: Job, out: list[bytes]) -> None:
        if job.kind == "gemini" and "inline" in job.source:
            return
        data = b"\n".join(out) + (b"\n" if out else b"")
        if job.kind == "vertex":
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
            folder = f"{job.dest.rstrip('/')}/prediction-model-{stamp}"
            bucket, _, prefix = folder[5:].partition("/")
            self.state.put_object(bucket, f"{prefix}/predictions.jsonl", data, "application/jsonl")
            job.output = folder
        else:
            name = f"batch-{job.id}-responses"
            self.state.put_object(FILES_BUCKET, name, data, "application/jsonl")
            self.files.register(name, "application/jsonl", len(data), generated=True)
            job.output = f"files/{name}"

    def _finish(self, job: Job, state: str, error: dict[str, Any] | None) -> None:
        with self.lock:
            job.state, job.error, job.ended = state, error, time.time()
            self.save(job)


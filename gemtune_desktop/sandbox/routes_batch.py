"""Batch-engine routes: Agent Platform ``batchPredictionJobs``, the Gemini API's ``batches`` and Files.

Agent Platform (v1 and v1beta1; method ids ``aiplatform.projects.locations.batchPredictionJobs.create``,
``.get``, ``.list``, ``.cancel``, ``.delete`` in the aiplatform discovery documents, registered and held
to the published schema through :mod:`gemtune_desktop.sandbox.contract`): a
``BatchPredictionJob`` with ``model``, ``displayName``, ``inputConfig {instancesFormat: "jsonl",
gcsSource: {uris}}`` and ``outputConfig {predictionsFormat: "jsonl", gcsDestination:
{outputUriPrefix}}``; states ``JOB_STATE_PENDING`` → ``RUNNING`` → ``SUCCEEDED`` / ``FAILED`` /
``CANCELLING`` → ``CANCELLED``; ``completionStats {successfulCount, failedCount,
incompleteCount}`` (int64 as strings); ``outputInfo.gcsOutputDirectory``. Models: base models
(``publishers/google/models/…``) and tuned models (``projects/…/models/ID``), as Google's page
lists (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage).

Gemini API (v1beta; https://ai.google.dev/api/batch-mode): ``POST models/{model}:batchGenerateContent``
with ``{"batch": {displayName, inputConfig: {requests: {requests: [{request, metadata}]}} or
{fileName}}}`` answers an Operation named ``batches/ID`` whose ``metadata`` is the
``GenerateContentBatch`` (``state`` ``BATCH_STATE_*``, ``batchStats``, ``output``
``{inlinedResponses: {inlinedResponses: [...]}}`` or ``{responsesFile}``); ``GET batches/ID``,
``GET batches`` (``operations``), ``POST batches/ID:cancel``, ``DELETE batches/ID``. The
metadata's ``@type`` could not be confirmed offline. Inline requests are limited to 20 MB
(https://ai.google.dev/gemini-api/docs/batch-api). Files: the resumable upload google-genai
speaks (``POST upload/v1beta/files`` with ``X-Goog-Upload-Protocol: resumable``, then chunks to
the ``x-goog-upload-url``), ``GET files/ID`` and ``GET files/ID:download?alt=media`` for files the
service generated.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox import catalog, contract
from gemtune_desktop.sandbox.agent_views import find_model
from gemtune_desktop.sandbox.apierror import ApiError, bad_request, not_found, unknown_fields
from gemtune_desktop.sandbox.batch_engine import (
    CANCELLED,
    ENDED,
    FAILED,
    FILES_BUCKET,
    SUCCEEDED,
    BatchEngine,
    Files,
    Job,
)
from gemtune_desktop.sandbox.contract import enforced, request_body
from gemtune_desktop.sandbox.datasets import TrainingExample
from gemtune_desktop.sandbox.generation import tuned_label
from gemtune_desktop.sandbox.http import (
    body_json,
    json_response,
    list_response,
    require_api_key,
    require_bearer,
    rfc3339,
)
from gemtune_desktop.sandbox.state import new_numeric_id

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

JOBS = "projects.locations.batchPredictionJobs"
TABLE = {f"{JOBS}.create": "vertex_create", f"{JOBS}.list": "vertex_list", f"{JOBS}.get": "vertex_get",
         f"{JOBS}.delete": "vertex_delete", f"{JOBS}.cancel": "vertex_cancel"}
INLINE_LIMIT_BYTES = 20 * 1024 * 1024
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch"
OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput"
ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


class BatchRoutes:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = server.state
        self.files = Files(server)
        self.engine = BatchEngine(server, self.files, self.resolve_model)
        self._uploads: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def rules() -> list[Rule]:
        r = Rule
        return [
            *contract.rules("batch", TABLE),
            r("/v1beta/models/<seg:model>:batchGenerateContent", endpoint="batch.gemini_create", methods=["POST"]),
            r("/v1beta/batches", endpoint="batch.gemini_list", methods=["GET"]),
            r("/v1beta/batches/<seg:job_id>", endpoint="batch.gemini_get", methods=["GET"]),
            r("/v1beta/batches/<seg:job_id>", endpoint="batch.gemini_delete", methods=["DELETE"]),
            r("/v1beta/batches/<seg:job_id>:cancel", endpoint="batch.gemini_cancel", methods=["POST"]),
            r("/upload/v1beta/files", endpoint="batch.file_upload", methods=["POST"]),
            r("/v1beta/files/<seg:file_id>", endpoint="batch.file_get", methods=["GET"]),
            r("/v1beta/files/<seg:file_id>", endpoint="batch.file_delete", methods=["DELETE"]),
            r("/v1beta/files/<seg:file_id>:download", endpoint="batch.file_download", methods=["GET"]),
        ]

    # -- models ------------------------------------------------------------------------------------
    def resolve_model(self, model: str) -> tuple[Sequence[TrainingExample] | None, str]:
        """Training examples and label for a tuned model; (None, "") for a base model; 404 otherwise."""
        name = model.removeprefix("models/").rsplit("/", 1)[-1]
        if model.startswith("publishers/google/models/") and name in catalog.AP_MODELS:
            return None, ""
        if model.startswith("models/") and model in catalog.GEMINI_MODELS:
            return None, ""
        m = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)/models/([^/]+)", model)
        if m:
            run = find_model(self.state.find_runs("agent"), m.group(1), m.group(2), m.group(3))
            if run is not None:
                return run.examples, tuned_label(run.info["display_name"])
        raise not_found(f"Model {model} was not found or cannot be used for batch prediction.")

    # -- Agent Platform ----------------------------------------------------------------------------
    def _check(self, request: Request, project: str, location: str) -> None:
        require_bearer(request)
        self.engine.ensure_running()
        if project != catalog.PROJECT:
            raise ApiError(403, f"Permission denied on resource project {project}.")
        if location not in catalog.ALL_LOCATIONS:
            raise bad_request(f"Location '{location}' is not supported.")

    @enforced
    def vertex_create(self, request: Request, project: str, location: str) -> Response:
        self._check(request, project, location)
        body = request_body(request)
        if not str(body.get("displayName") or ""):
            raise bad_request("BatchPredictionJob.displayName is required.")
        model = str(body.get("model") or "")
        self.resolve_model(model)
        src = body.get("inputConfig") or {}
        dest = body.get("outputConfig") or {}
        uris = (src.get("gcsSource") or {}).get("uris") if isinstance(src, dict) else None
        if not isinstance(src, dict) or src.get("instancesFormat") != "jsonl" or not isinstance(uris, list) or \
                len(uris) != 1 or not str(uris[0]).startswith("gs://"):
            raise bad_request("inputConfig must be {instancesFormat: \"jsonl\", gcsSource: {uris: [one gs:// URI]}} "
                              "(BigQuery input is not simulated in the Sandbox).")
        prefix = (dest.get("gcsDestination") or {}).get("outputUriPrefix") if isinstance(dest, dict) else None
        if not isinstance(dest, dict) or dest.get("predictionsFormat") != "jsonl" or \
                not str(prefix or "").startswith("gs://"):
            raise bad_request("outputConfig must be {predictionsFormat: \"jsonl\", gcsDestination: "
                              "{outputUriPrefix: gs://…}} (BigQuery output is not simulated in the Sandbox).")
        bucket = str(prefix)[5:].split("/", 1)[0]
        if bucket not in self.state.buckets:
            raise bad_request(f"The output bucket {bucket} does not exist.")
        job = Job("vertex", new_numeric_id(), model, str(body["displayName"]), time.time(), {"uri": str(uris[0])},
                  str(prefix), view={"inputConfig": src, "outputConfig": dest, "labels": body.get("labels") or {}},
                  project=project, location=location)
        self.engine.add(job)
        return json_response(self.vertex_view(job))

    def _vertex_job(self, project: str, location: str, job_id: str) -> Job:
        job = self.engine.get(job_id, "vertex")
        if job is None or job.location != location:
            raise not_found(f"The BatchPredictionJob projects/{project}/locations/{location}/batchPredictionJobs/"
                            f"{job_id} does not exist.")
        return job

    def vertex_view(self, job: Job) -> dict[str, Any]:
        with self.engine.lock:
            state = {"PENDING": "JOB_STATE_PENDING"}.get(job.state, f"JOB_STATE_{job.state}")
            view: dict[str, Any] = {
                "name": f"projects/{job.project}/locations/{job.location}/batchPredictionJobs/{job.id}",
                "displayName": job.display_name, "model": job.model, "state": state,
                "inputConfig": job.view["inputConfig"], "outputConfig": job.view["outputConfig"],
                "createTime": rfc3339(job.created), "updateTime": rfc3339(job.ended or time.time()),
                "completionStats": {"successfulCount": str(job.done - job.failed), "failedCount": str(job.failed),
                                    "incompleteCount": str(max(0, job.rows - job.done))},
            }
            if job.view.get("labels"):
                view["labels"] = job.view["labels"]
            if job.started is not None:
                view["startTime"] = rfc3339(job.started)
            if job.state in ENDED and job.ended is not None:
                view["endTime"] = rfc3339(job.ended)
            if job.output:
                view["outputInfo"] = {"gcsOutputDirectory": job.output}
            if job.error and job.state in (FAILED, CANCELLED):
                view["error"] = dict(job.error)
            return view

    @enforced
    def vertex_list(self, request: Request, project: str, location: str) -> Response:
        self._check(request, project, location)
        with self.engine.lock:
            jobs = sorted((j for j in self.engine.jobs.values() if j.kind == "vertex" and j.location == location),
                          key=lambda j: -j.created)
        return list_response(request, "batchPredictionJobs", [self.vertex_view(j) for j in jobs])

    @enforced
    def vertex_get(self, request: Request, project: str, location: str, job_id: str) -> Response:
        self._check(request, project, location)
        return json_response(self.vertex_view(self._vertex_job(project, location, job_id)))

    @enforced
    def vertex_cancel(self, request: Request, project: str, location: str, job_id: str) -> Response:
        self._check(request, project, location)
        self.engine.cancel(self._vertex_job(project, location, job_id))
        return json_response({})

    @enforced
    def vertex_delete(self, request: Request, project: str, location: str, job_id: str) -> Response:
        self._check(request, project, location)
        job = self._vertex_job(project, location, job_id)
        if job.state not in ENDED:
            raise bad_request("A running batch job cannot be deleted; cancel it first.")
        self.engine.delete(job_id)
        return json_response({"name": f"projects/{project}/locations/{location}/operations/{new_numeric_id()}",
                              "done": True, "response": {"@type": "type.googleapis.com/google.protobuf.Empty"}})

    # -- Gemini API --------------------------------------------------------------------------------
    def gemini_create(self, request: Request, model: str) -> Response:
        require_api_key(request)
        if (request.content_length or 0) > INLINE_LIMIT_BYTES:
            raise bad_request("The request is larger than 20 MB; put the requests in a file (Files API) instead.")
        body = body_json(request)
        unknown_fields(body, {"batch"})
        batch = body.get("batch")
        if not isinstance(batch, dict):
            raise bad_request("batch is required.")
        unknown_fields(batch, {"displayName", "inputConfig", "priority", "model", "webhookConfig"}, "batch")
        self.resolve_model(f"models/{model}")
        config = batch.get("inputConfig") or {}
        requests = (config.get("requests") or {}).get("requests") if isinstance(config, dict) else None
        file_name = config.get("fileName") if isinstance(config, dict) else None
        if (requests is None) == (file_name is None):
            raise bad_request("batch.inputConfig needs exactly one of requests or fileName.")
        if file_name is not None:
            meta = self.files.get(str(file_name).removeprefix("files/"))
            if meta is None:
                raise not_found(f"File {file_name} does not exist.")
            source: dict[str, Any] = {"file": str(file_name)}
        else:
            if not isinstance(requests, list) or not requests:
                raise bad_request("batch.inputConfig.requests.requests must list at least one request.")
            source = {"inline": requests}
        job = Job("gemini", secrets.token_hex(8), f"models/{model}", str(batch.get("displayName") or ""),
                  time.time(), source, view={"fileName": file_name} if file_name else {})
        self.engine.add(job)
        return json_response(self.gemini_view(job))

    def gemini_view(self, job: Job) -> dict[str, Any]:
        with self.engine.lock:
            # BatchState has no "cancelling": the batch stays running until its answered rows are written.
            state = f"BATCH_STATE_{'RUNNING' if job.state == 'CANCELLING' else job.state}"
            meta: dict[str, Any] = {
                "@type": BATCH_TYPE, "model": job.model, "name": f"batches/{job.id}", "displayName": job.display_name,
                "createTime": rfc3339(job.created), "updateTime": rfc3339(job.ended or time.time()), "state": state,
                "batchStats": {"requestCount": str(job.rows or self._count(job)),
                               "successfulRequestCount": str(job.done - job.failed),
                               "failedRequestCount": str(job.failed),
                               "pendingRequestCount": str(max(0, (job.rows or self._count(job)) - job.done))},
            }
            if job.view.get("fileName"):
                meta["inputConfig"] = {"fileName": job.view["fileName"]}
            if job.state in ENDED:
                meta["endTime"] = rfc3339(job.ended or time.time())
                if job.state != FAILED or job.done:
                    meta["output"] = ({"responsesFile": job.output} if job.output else
                                      {"inlinedResponses": {"inlinedResponses": list(job.inline_output)}})
            op: dict[str, Any] = {"name": f"batches/{job.id}", "metadata": meta, "done": job.state in ENDED}
            if job.state == SUCCEEDED:
                op["response"] = {"@type": OUTPUT_TYPE, **meta["output"]}
            elif job.state in (FAILED, CANCELLED) and job.error:
                op["error"] = dict(job.error)
            return op

    @staticmethod
    def _count(job: Job) -> int:
        return len(job.source["inline"]) if "inline" in job.source else 0

    def _gemini_job(self, job_id: str) -> Job:
        self.engine.ensure_running()
        job = self.engine.get(job_id, "gemini")
        if job is None:
            raise not_found(f"Batch batches/{job_id} not found.")
        return job

    def gemini_get(self, request: Request, job_id: str) -> Response:
        require_api_key(request)
        return json_response(self.gemini_view(self._gemini_job(job_id)))

    def gemini_list(self, request: Request) -> Response:
        require_api_key(request)
        with self.engine.lock:
            jobs = sorted((j for j in self.engine.jobs.values() if j.kind == "gemini"), key=lambda j: -j.created)
        return list_response(request, "operations", [self.gemini_view(j) for j in jobs])

    def gemini_cancel(self, request: Request, job_id: str) -> Response:
        require_api_key(request)
        self.engine.cancel(self._gemini_job(job_id))
        return json_response({})

    def gemini_delete(self, request: Request, job_id: str) -> Response:
        require_api_key(request)
        self._gemini_job(job_id)
        self.engine.delete(job_id)
        return json_response({})

    # -- Files -------------------------------------------------------------------------------------
    def file_view(self, request: Request, meta: dict[str, Any]) -> dict[str, Any]:
        name = f"files/{meta['id']}"
        view = {"name": name, "displayName": meta.get("display_name") or meta["id"], "mimeType": meta["mime_type"],
                "sizeBytes": str(meta["size"]), "createTime": rfc3339(meta["created"]),
                "updateTime": rfc3339(meta["created"]), "expirationTime": rfc3339(meta["created"] + 48 * 3600),
                "uri": f"{request.host_url}v1beta/{name}", "state": "ACTIVE",
                "source": "GENERATED" if meta["generated"] else "UPLOADED"}
        if meta["generated"]:
            view["downloadUri"] = f"{request.host_url}v1beta/{name}:download?alt=media"
        return view

    def file_upload(self, request: Request) -> Response:
        upload_id = request.args.get("upload_id")
        if upload_id is None:  # the start needs the key; the chunks are authorized by the upload id
            require_api_key(request)
            return self._upload_start(request)
        with self._lock:
            session = self._uploads.get(upload_id)
        if session is None:
            raise not_found("No such upload session; start the upload again.")
        command = request.headers.get("X-Goog-Upload-Command", "")
        offset = int(request.headers.get("X-Goog-Upload-Offset", "0") or 0)
        buf: bytearray = session["data"]
        if offset != len(buf):
            raise bad_request(f"Upload offset {offset} does not match the {len(buf)} bytes received.")
        buf.extend(request.get_data())
        if "finalize" not in command:
            resp = json_response({})
            resp.headers["x-goog-upload-status"] = "active"
            return resp
        with self._lock:
            self._uploads.pop(upload_id, None)
        file_id = session["id"]
        self.state.put_object(FILES_BUCKET, file_id, bytes(buf), session["mime_type"])
        meta = self.files.register(file_id, session["mime_type"], len(buf), generated=False,
                                   display_name=session["display_name"])
        resp = json_response({"file": self.file_view(request, meta)})
        resp.headers["x-goog-upload-status"] = "final"
        return resp

    def _upload_start(self, request: Request) -> Response:
        if request.headers.get("X-Goog-Upload-Protocol") != "resumable" or \
                request.headers.get("X-Goog-Upload-Command") != "start":
            raise bad_request("The Sandbox takes resumable uploads (X-Goog-Upload-Protocol: resumable).")
        body = body_json(request)
        raw = body.get("file")
        info: dict[str, Any] = raw if isinstance(raw, dict) else {}
        wanted = str(info.get("name") or "").removeprefix("files/")
        if wanted and (not ID_RE.fullmatch(wanted) or self.files.get(wanted) is not None):
            raise bad_request(f"File name files/{wanted} is not valid or already used.")
        upload_id = secrets.token_hex(12)
        with self._lock:
            self._uploads[upload_id] = {
                "id": wanted or secrets.token_hex(6), "data": bytearray(),
                "mime_type": request.headers.get("X-Goog-Upload-Header-Content-Type") or str(info.get("mimeType") or
                                                                                              "application/octet-stream"),
                "display_name": str(info.get("displayName") or "")}
        resp = json_response({})
        resp.headers["x-goog-upload-url"] = f"{request.host_url}upload/v1beta/files?upload_id={upload_id}"
        resp.headers["x-goog-upload-status"] = "active"
        return resp

    def _file(self, file_id: str) -> dict[str, Any]:
        meta = self.files.get(file_id)
        if meta is None:
            raise ApiError(403, f"You do not have permission to access the File {file_id} or it may not exist.")
        return meta

    def file_get(self, request: Request, file_id: str) -> Response:
        require_api_key(request)
        return json_response(self.file_view(request, self._file(file_id)))

    def file_delete(self, request: Request, file_id: str) -> Response:
        require_api_key(request)
        self._file(file_id)
        self.files.delete(file_id)
        return json_response({})

    def file_download(self, request: Request, file_id: str) -> Response:
        require_api_key(request)
        meta = self._file(file_id)
        if not meta["generated"] or request.args.get("alt") != "media":
            raise bad_request("Only files the service generated can be downloaded (with alt=media).")
        obj = self.state.get_object(FILES_BUCKET, file_id)
        if obj is None:
            raise not_found(f"File {file_id} has no content.")
        return Response(obj.data, status=200, content_type=obj.content_type)

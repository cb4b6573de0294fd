"""Cloud Storage JSON API routes used by google-cloud-storage: buckets, object metadata, media
download, and uploads (``uploadType=multipart``, ``media`` and ``resumable`` with 308 chunking).

Checksums are real (MD5 and CRC32C) so the client library's integrity checks pass, and an
upload whose declared CRC32C does not match its bytes is refused like on GCS.

Upload bodies are streamed to disk as they arrive, never held whole in memory twice: a
resumable upload's bytes wait in a file (in the state folder's ``uploads/``, else a temporary
folder) until its last chunk. Unfinished resumable uploads expire ``upload_session_ttl_s`` after
their last chunk, and at most ``max_upload_sessions`` are kept (the least recently used goes
first); the body size limits are the server's (:class:`~gemtune_desktop.sandbox.serving.ServerLimits`).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox.apierror import ApiError, bad_request, not_found
from gemtune_desktop.sandbox.http import json_response, rfc3339
from gemtune_desktop.sandbox.state import StoredObject, crc32c_b64

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

RANGE_RE = re.compile(r"bytes (\*|(\d+)-(\d+))/(\*|\d+)")
READ_CHUNK = 1024 * 1024


@dataclass
class _Upload:
    """An unfinished resumable upload: its bytes so far wait in ``path``."""

    bucket: str
    meta: dict[str, Any]
    content_type: str
    path: Path
    size: int = 0
    touched: float = 0.0


class StorageRoutes:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = server.state
        self._lock = threading.Lock()
        self._uploads: dict[str, _Upload] = {}
        self._folder: Path | None = None
        if self.state.state_dir is not None:  # bytes of uploads a previous run left unfinished
            shutil.rmtree(self.state.state_dir / "uploads", ignore_errors=True)

    @property
    def unfinished_uploads(self) -> int:
        with self._lock:
            return len(self._uploads)

    def _upload_folder(self) -> Path:
        with self._lock:
            if self._folder is None:
                if self.state.state_dir is not None:
                    self._folder = self.state.state_dir / "uploads"
                    self._folder.mkdir(parents=True, exist_ok=True)
                else:
                    self._folder = Path(tempfile.mkdtemp(prefix="gemtune-sandbox-uploads-"))
            return self._folder

    def close(self) -> None:
        """Forget unfinished uploads and their files (the server is stopping)."""
        with self._lock:
            uploads, self._uploads = list(self._uploads.values()), {}
            folder, self._folder = self._folder, None
        for upload in uploads:
            upload.path.unlink(missing_ok=True)
        if folder is not None and self.state.state_dir is None:
            shutil.rmtree(folder, ignore_errors=True)

    def _expire(self) -> None:
        limits = self.server.limits
        now = time.monotonic()
        with self._lock:
            stale = [k for k, u in self._uploads.items() if now - u.touched > limits.upload_session_ttl_s]
            by_age = sorted(self._uploads, key=lambda k: self._uploads[k].touched)
            extra = max(0, len(self._uploads) - len(stale) - limits.max_upload_sessions + 1)
            stale += [k for k in by_age if k not in stale][:extra]
            gone = [self._uploads.pop(k) for k in stale]
        for upload in gone:
            upload.path.unlink(missing_ok=True)

    @staticmethod
    def rules() -> list[Rule]:
        return [
            Rule("/storage/v1/b", endpoint="storage.create_bucket", methods=["POST"]),
            Rule("/storage/v1/b/<bucket>", endpoint="storage.get_bucket", methods=["GET"]),
            Rule("/storage/v1/b/<bucket>/o", endpoint="storage.list_objects", methods=["GET"]),
            Rule("/storage/v1/b/<bucket>/o/<path:name>", endpoint="storage.get_object", methods=["GET"]),
            Rule("/storage/v1/b/<bucket>/o/<path:name>", endpoint="storage.delete_object", methods=["DELETE"]),
            Rule("/download/storage/v1/b/<bucket>/o/<path:name>", endpoint="storage.download", methods=["GET"]),
            Rule("/upload/storage/v1/b/<bucket>/o", endpoint="storage.upload", methods=["POST"]),
            Rule("/upload/storage/v1/b/<bucket>/o", endpoint="storage.upload_chunk", methods=["PUT"]),
        ]

    # -- views ------------------------------------------------------------------------------------
    def _base(self, request: Request) -> str:
        return request.host_url.rstrip("/")

    def object_view(self, request: Request, obj: StoredObject) -> dict[str, Any]:
        quoted = quote(obj.name, safe="")
        return {
            "kind": "storage#object", "id": f"{obj.bucket}/{obj.name}/{obj.generation}", "name": obj.name,
            "bucket": obj.bucket, "generation": str(obj.generation), "metageneration": "1",
            "contentType": obj.content_type, "size": str(len(obj.data)), "md5Hash": obj.md5, "crc32c": obj.crc32c,
            "etag": obj.md5, "storageClass": "STANDARD", "timeCreated": rfc3339(obj.created),
            "updated": rfc3339(obj.created),
            "selfLink": f"{self._base(request)}/storage/v1/b/{obj.bucket}/o/{quoted}",
            "mediaLink": f"{self._base(request)}/download/storage/v1/b/{obj.bucket}/o/{quoted}"
                         f"?generation={obj.generation}&alt=media",
        }

    def _bucket_view(self, name: str) -> dict[str, Any]:
        created = self.state.buckets[name]
        return {"kind": "storage#bucket", "id": name, "name": name, "location": "US-CENTRAL1",
                "storageClass": "STANDARD", "timeCreated": rfc3339(created), "updated": rfc3339(created),
                "metageneration": "1", "projectNumber": "123456789012", "etag": "CAE="}

    def _need_bucket(self, bucket: str) -> None:
        if bucket not in self.state.buckets:
            raise not_found("The specified bucket does not exist.")

    # -- buckets ----------------------------------------------------------------------------------
    def create_bucket(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise bad_request("Invalid JSON payload.") from None
        name = str(body.get("name") or "")
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]", name):
            raise bad_request(f"Invalid bucket name: '{name}'")
        if name in self.state.buckets:
            raise ApiError(409, "Your previous request to create the named bucket succeeded and you already own it.",
                           "CONFLICT")
        self.state.add_bucket(name)
        return json_response(self._bucket_view(name))

    def get_bucket(self, request: Request, bucket: str) -> Response:
        self._need_bucket(bucket)
        return json_response(self._bucket_view(bucket))

    # -- objects ----------------------------------------------------------------------------------
    def list_objects(self, request: Request, bucket: str) -> Response:
        self._need_bucket(bucket)
        prefix = request.args.get("prefix", "")
        with self.state.lock:
            objs = sorted((o for (b, n), o in self.state.objects.items() if b == bucket and n.startswith(prefix)),
                          key=lambda o: o.name)
        return json_response({"kind": "storage#objects", "items": [self.object_view(request, o) for o in objs]})

    def _object(self, bucket: str, name: str) -> StoredObject:
        self._need_bucket(bucket)
        obj = self.state.get_object(bucket, name)
        if obj is None:
            raise not_found(f"No such object: {bucket}/{name}")
        return obj

    def get_object(self, request: Request, bucket: str, name: str) -> Response:
        obj = self._object(bucket, name)
        if request.args.get("alt") == "media":
            return self._media(request, obj)
        view = self.object_view(request, obj)
        fields = request.args.get("fields")
        if fields:
            keep = {f.strip() for f in fields.split(",")}
            view = {k: v for k, v in view.items() if k in keep}
        return json_response(view)

    def delete_object(self, request: Request, bucket: str, name: str) -> Response:
        self._object(bucket, name)
        self.state.delete_object(bucket, name)
        return Response(status=204)

    def download(self, request: Request, bucket: str, name: str) -> Response:
        return self._media(request, self._object(bucket, name))

    def _media(self, request: Request, obj: StoredObject) -> Response:
        data = obj.data
        status = 200
        headers = {"x-goog-hash": f"crc32c={obj.crc32c},md5={obj.md5}", "x-goog-generation": str(obj.generation),
                   "x-goog-stored-content-length": str(len(data))}
        rng = request.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if m:
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else len(data) - 1
            end = min(end, len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data = data[start:end + 1]
            status = 206
            headers.pop("x-goog-hash")
        resp = Response(data, status=status, content_type=obj.content_type)
        for k, v in headers.items():
            resp.headers[k] = v
        return resp

    # -- uploads ----------------------------------------------------------------------------------
    def _store(self, request: Request, bucket: str, meta: dict[str, Any], data: bytes, content_type: str) -> Response:
        name = str(meta.get("name") or request.args.get("name") or "")
        if not name:
            raise bad_request("Required parameter: name")
        declared = meta.get("crc32c")
        if declared and declared != crc32c_b64(data):
            raise bad_request(f"Provided CRC32C \"{declared}\" doesn't match calculated CRC32C "
                              f"\"{crc32c_b64(data)}\".")
        obj = self.state.put_object(bucket, name, data, meta.get("contentType") or content_type)
        return json_response(self.object_view(request, obj))

    def upload(self, request: Request, bucket: str) -> Response:
        self._need_bucket(bucket)
        kind = request.args.get("uploadType", "")
        if kind == "media":
            with self._spool(request) as body:
                return self._store(request, bucket, {}, body.read(), request.content_type or "")
        if kind == "multipart":
            with self._spool(request) as body:
                meta, data, ctype = _parse_multipart(request.headers.get("Content-Type", ""), body.read())
            return self._store(request, bucket, meta, data, ctype)
        if kind == "resumable":
            return self._start_resumable(request, bucket)
        raise bad_request(f"Unsupported uploadType {kind!r}.")

    def _spool(self, request: Request) -> IO[bytes]:
        """The request body, copied to a file as it arrives (the server's size limit applies while reading)."""
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - returned open, closed by the caller
            max_size=8 * 1024 * 1024, mode="w+b", dir=str(self._upload_folder()))
        try:
            while chunk := request.stream.read(READ_CHUNK):
                spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    def _start_resumable(self, request: Request, bucket: str) -> Response:
        try:
            meta = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise bad_request("Invalid JSON payload.") from None
        if not isinstance(meta, dict) or not (meta.get("name") or request.args.get("name")):
            raise bad_request("Required parameter: name")
        self._expire()
        upload_id = secrets.token_hex(12)
        path = self._upload_folder() / f"{upload_id}.part"
        path.write_bytes(b"")
        with self._lock:
            self._uploads[upload_id] = _Upload(
                bucket, meta, request.headers.get("X-Upload-Content-Type", "application/octet-stream"), path,
                touched=time.monotonic())
        location = f"{self._base(request)}/upload/storage/v1/b/{bucket}/o?uploadType=resumable&upload_id={upload_id}"
        resp = json_response({})
        resp.headers["Location"] = location
        return resp

    def upload_chunk(self, request: Request, bucket: str) -> Response:
        upload_id = request.args.get("upload_id", "")
        self._expire()
        with self._lock:
            upload = self._uploads.get(upload_id)
        if upload is None or upload.bucket != bucket:
            raise not_found("No such upload session (it may have expired); start the upload again.")
        crange = request.headers.get("Content-Range", "")
        if not crange and request.content_length:
            crange = f"bytes 0-{request.content_length - 1}/{request.content_length}"
        m = RANGE_RE.fullmatch(crange.strip())
        if not m:
            raise bad_request(f"Invalid Content-Range header: {crange!r}")
        start = int(m.group(2)) if m.group(2) is not None else upload.size
        if start > upload.size:
            raise bad_request(f"Chunk starts at byte {start} but only {upload.size} bytes were received.")
        limit = self.server.limits.max_upload_body
        with upload.path.open("r+b") as fh:
            fh.seek(start)
            fh.truncate()
            size = start
            while chunk := request.stream.read(READ_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, f"The upload is larger than the Sandbox takes ({limit // 2**20} MB).")
                fh.write(chunk)
        upload.size = size
        upload.touched = time.monotonic()
        total = m.group(4)
        if total != "*" and int(total) == upload.size:
            with self._lock:
                self._uploads.pop(upload_id, None)
            try:
                data = upload.path.read_bytes()
            finally:
                upload.path.unlink(missing_ok=True)
            return self._store(request, bucket, upload.meta, data, upload.content_type)
        resp = Response(b"", status=308)
        if upload.size:
            resp.headers["Range"] = f"bytes=0-{upload.size - 1}"
        return resp


def _parse_multipart(ctype: str, body: bytes) -> tuple[dict[str, Any], bytes, str]:
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not m or not ctype.startswith("multipart/related"):
        raise bad_request("Multipart upload needs a multipart/related body with a boundary.")
    delim = b"--" + m.group(1).encode()
    parts = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, _, content = chunk.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        parts.append((headers, content.removesuffix(b"\r\n")))
    if len(parts) != 2:
        raise bad_request("Multipart upload must have exactly two parts (metadata and media).")
    try:
        meta = json.loads(parts[0][1] or b"{}")
    except ValueError:
        raise bad_request("The metadata part is not valid JSON.") from None
    if not isinstance(meta, dict):
        raise bad_request("The metadata part must be a JSON object.")
    return meta, parts[1][1], parts[1][0].get("content-type", "application/octet-stream")

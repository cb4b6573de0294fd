"""Cloud Storage JSON API routes used by google-cloud-storage: buckets, object metadata, media
download, and uploads (``uploadType=multipart``, ``media`` and ``resumable`` with 308 chunking).

Checksums are real (MD5 and CRC32C) so the client library's integrity checks pass, and an
upload whose declared CRC32C does not match its bytes is refused like on GCS.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from gemtune_desktop.sandbox.apierror import ApiError, bad_request, not_found
from gemtune_desktop.sandbox.http import json_response, rfc3339
from gemtune_desktop.sandbox.state import StoredObject, crc32c_b64

if TYPE_CHECKING:
    from gemtune_desktop.sandbox.server import SandboxServer

RANGE_RE = re.compile(r"bytes (\*|(\d+)-(\d+))/(\*|\d+)")


class StorageRoutes:
    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = server.state

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
            return self._store(request, bucket, {}, request.get_data(), request.content_type or "")
        if kind == "multipart":
            meta, data, ctype = _parse_multipart(request)
            return self._store(request, bucket, meta, data, ctype)
        if kind == "resumable":
            try:
                meta = json.loads(request.get_data() or b"{}")
            except ValueError:
                raise bad_request("Invalid JSON payload.") from None
            if not (meta.get("name") or request.args.get("name")):
                raise bad_request("Required parameter: name")
            upload_id = secrets.token_hex(12)
            with self.state.lock:
                self.state.uploads[upload_id] = {
                    "bucket": bucket, "meta": meta, "data": bytearray(),
                    "content_type": request.headers.get("X-Upload-Content-Type", "application/octet-stream")}
            location = (f"{self._base(request)}/upload/storage/v1/b/{bucket}/o"
                        f"?uploadType=resumable&upload_id={upload_id}")
            resp = json_response({})
            resp.headers["Location"] = location
            return resp
        raise bad_request(f"Unsupported uploadType {kind!r}.")

    def upload_chunk(self, request: Request, bucket: str) -> Response:
        upload_id = request.args.get("upload_id", "")
        with self.state.lock:
            session = self.state.uploads.get(upload_id)
        if session is None or session["bucket"] != bucket:
            raise not_found("No such upload session (it may have expired); start the upload again.")
        data = request.get_data()
        crange = request.headers.get("Content-Range", f"bytes 0-{len(data) - 1}/{len(data)}" if data else "")
        m = RANGE_RE.fullmatch(crange.strip())
        if not m:
            raise bad_request(f"Invalid Content-Range header: {crange!r}")
        buf: bytearray = session["data"]
        if m.group(2) is not None:
            start = int(m.group(2))
            if start > len(buf):
                raise bad_request(f"Chunk starts at byte {start} but only {len(buf)} bytes were received.")
            del buf[start:]
            buf.extend(data)
        total = m.group(4)
        if total != "*" and int(total) == len(buf):
            with self.state.lock:
                self.state.uploads.pop(upload_id, None)
            return self._store(request, bucket, session["meta"], bytes(buf), session["content_type"])
        resp = Response(b"", status=308)
        if buf:
            resp.headers["Range"] = f"bytes=0-{len(buf) - 1}"
        return resp


def _parse_multipart(request: Request) -> tuple[dict[str, Any], bytes, str]:
    ctype = request.headers.get("Content-Type", "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not m or not ctype.startswith("multipart/related"):
        raise bad_request("Multipart upload needs a multipart/related body with a boundary.")
    delim = b"--" + m.group(1).encode()
    body = request.get_data()
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
    return meta, parts[1][1], parts[1][0].get("content-type", "application/octet-stream")

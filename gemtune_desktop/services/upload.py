"""Upload a training file to the connection's Cloud Storage bucket, with progress and cancel.

Agent Platform reads tuning data only from Cloud Storage (``gs://bucket/object.jsonl``).
Small files go up in one request; larger ones as a resumable upload in ``chunk_size`` pieces,
so a dropped connection costs one chunk, and the progress bar moves chunk by chunk. Cancel
is checked before every chunk. A missing bucket or missing permission becomes a
:class:`UserError` that says which bucket and what to do.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from gemtune_desktop.core.cancel import CancelToken, check, report
from gemtune_desktop.core.errors import UserError
from gemtune_desktop.services.backend import BackendSession

log = logging.getLogger(__name__)

CHUNK_SIZE = 8 * 256 * 1024  # 2 MiB; resumable chunks must be a multiple of 256 KiB
RESUMABLE_THRESHOLD = 8 * 1024 * 1024  # files above this go up as a resumable upload
UPLOAD_TIMEOUT_S = 120.0


class _ProgressReader(io.RawIOBase):
    """A read-only stream over ``data`` that reports progress and honours cancel on each read."""

    def __init__(self, data: bytes, token: CancelToken | None, text: str) -> None:
        super().__init__()
        self._data = memoryview(data)
        self._pos = 0
        self._token = token
        self._text = text

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._data)}[whence]
        self._pos = max(0, min(len(self._data), base + offset))
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        check(self._token)
        end = len(self._data) if size is None or size < 0 else min(len(self._data), self._pos + size)
        chunk = bytes(self._data[self._pos:end])
        self._pos = end
        report(self._token, self._pos, len(self._data), self._text)
        return chunk

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def gcs_uri(bucket: str, name: str) -> str:
    return f"gs://{bucket}/{name}"


def upload_bytes(token: CancelToken | None, session: BackendSession, object_name: str, data: bytes, *,
                 content_type: str = "application/jsonl", chunk_size: int = CHUNK_SIZE,
                 resumable_threshold: int = RESUMABLE_THRESHOLD, label: str = "Uploading") -> str:
    """Upload ``data`` to ``gs://<session.bucket>/<object_name>``; returns that URI.

    Progress is reported as (bytes sent, total bytes, text). Raises :class:`UserError` in plain
    words for a missing bucket, missing permission, or an unreachable service.
    """
    bucket_name = session.bucket
    if not bucket_name:
        raise UserError("No Cloud Storage bucket is set for this connection.",
                        "Agent Platform reads training data from a bucket. Open Settings → Connections and "
                        "enter the name of a bucket in your project (for example my-project-tuning).")
    if chunk_size % (256 * 1024):
        raise ValueError("chunk_size must be a multiple of 256 KiB")
    check(token)
    text = f"{label} {object_name.rsplit('/', 1)[-1]} ({_size_words(len(data))})"
    report(token, 0, len(data), text)
    try:
        client = session.storage_client()
        blob = client.bucket(bucket_name).blob(object_name)
        resumable = len(data) > resumable_threshold
        if resumable:
            blob.chunk_size = chunk_size
        stream = _ProgressReader(data, token, text)
        # Without a size, google-cloud-storage always uses a resumable upload in chunk_size pieces.
        blob.upload_from_file(stream, size=None if resumable else len(data), content_type=content_type,
                              timeout=UPLOAD_TIMEOUT_S)
    except UserError:
        raise
    except Exception as exc:  # storage raises api_core, resumable-media and transport errors
        from gemtune_desktop.core.errors import Cancelled

        if isinstance(exc, Cancelled):
            raise
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, Cancelled) or (token is not None and token.cancelled):
            raise Cancelled() from None
        raise storage_error(exc, bucket_name) from None
    report(token, len(data), len(data), text)
    return gcs_uri(bucket_name, object_name)


def storage_error(exc: BaseException, bucket: str) -> UserError:
    """A Cloud Storage failure in plain words."""
    code = _status_code(exc)
    name = type(exc).__name__
    if code == 404:
        return UserError(f"The Cloud Storage bucket “{bucket}” does not exist (or is in another project).",
                         "Create the bucket in the Cloud console (Cloud Storage → Buckets), or correct its name "
                         "in Settings → Connections.", detail=f"HTTP 404 {name}")
    if code in (401, 403):
        return UserError(f"Permission denied on the Cloud Storage bucket “{bucket}”.",
                         "Ask your Cloud administrator for the Storage Object Creator role on this bucket "
                         "(or Storage Object Admin), then try again.", detail=f"HTTP {code} {name}")
    if code == 429 or (code is not None and code >= 500):
        return UserError("Cloud Storage is busy or temporarily unavailable.", "Try again in a minute.",
                         detail=f"HTTP {code} {name}", retryable=True)
    if code is not None:
        return UserError(f"Cloud Storage refused the upload (HTTP {code}).",
                         "Check the bucket name in Settings → Connections.", detail=name)
    from gemtune_desktop.services.errors import describe

    return describe(exc)


def _status_code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        return status
    return None


def _size_words(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"

"""Cloud Storage uploads and reads through the real google-cloud-storage client."""

from __future__ import annotations

import io

import pytest
from google.api_core import exceptions as gexc

from gemtune_desktop.services.connections import Backend


@pytest.fixture
def bucket(sandbox_session):
    session = sandbox_session(Backend.AGENT_PLATFORM)
    return session.storage_client().bucket(session.bucket)


def test_default_bucket_exists(sandbox_session):
    session = sandbox_session(Backend.AGENT_PLATFORM)
    assert session.storage_client().get_bucket("sandbox-bucket").name == "sandbox-bucket"
    with pytest.raises(gexc.NotFound):
        session.storage_client().get_bucket("no-such-bucket")


def test_multipart_upload_round_trip(bucket, sandbox):
    data = "première ligne\n".encode() * 10
    blob = bucket.blob("data/train.jsonl")
    blob.upload_from_string(data, content_type="application/jsonl")
    assert sandbox.requests.matching("/upload/storage/v1/b/sandbox-bucket/o")[-1].query["uploadType"] == "multipart"
    again = bucket.get_blob("data/train.jsonl")
    assert again.size == len(data) and again.content_type == "application/jsonl"
    assert again.download_as_bytes() == data  # the client checks the CRC32C we send


def test_resumable_upload_in_small_chunks(bucket, sandbox):
    data = bytes(range(256)) * 2100  # 537,600 bytes: three chunks of 256 KiB
    blob = bucket.blob("big.jsonl", chunk_size=256 * 1024)
    blob.upload_from_file(io.BytesIO(data))
    puts = sandbox.requests.matching("/upload/storage/v1/b/sandbox-bucket/o", "PUT")
    assert len(puts) == 3
    assert bucket.blob("big.jsonl").download_as_bytes() == data
    assert [b.name for b in bucket.client.list_blobs("sandbox-bucket")] == ["big.jsonl"]


def test_delete_and_missing_object(bucket):
    bucket.blob("x.txt").upload_from_string(b"x")
    assert bucket.blob("x.txt").exists()
    bucket.blob("x.txt").delete()
    assert not bucket.blob("x.txt").exists()
    with pytest.raises(gexc.NotFound):
        bucket.blob("x.txt").download_as_bytes()


def test_checksum_mismatch_is_refused(sandbox):
    import requests

    body = (b'--b\r\ncontent-type: application/json\r\n\r\n{"name": "c.txt", "crc32c": "AAAAAA=="}\r\n'
            b"--b\r\ncontent-type: text/plain\r\n\r\nhello\r\n--b--")
    resp = requests.post(f"{sandbox.base_url}upload/storage/v1/b/sandbox-bucket/o?uploadType=multipart", data=body,
                         headers={"Content-Type": 'multipart/related; boundary="b"'}, timeout=5)
    assert resp.status_code == 400 and "CRC32C" in resp.json()["error"]["message"]

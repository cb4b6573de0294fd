"""The Sandbox trusts no web page and cannot exhaust the app it runs in (issue 14, items 4 and 5).

Raw HTTP where a browser or a hostile local program would send it; the app's own clients
(``BackendSession``, the storage client) where the app would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.sandbox.server import TOKEN_HEADER, SandboxServer
from gemtune_desktop.sandbox.serving import ServerLimits
from gemtune_desktop.services import upload
from gemtune_desktop.services.backend import SANDBOX_TOKEN_HEADER, BackendSession
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.errors import describe
from gemtune_desktop.services.secrets import SecretStore
from gemtune_desktop.services.submit_flow import SubmitState, SubmitWorkflow
from tests.reliability.submit_helpers import FAST, plan

pytestmark = pytest.mark.filterwarnings("ignore:.*tuning implementation is experimental")

ROOT = Path(__file__).resolve().parents[2]
KEY = {"x-goog-api-key": "k"}
TUNED_BODY = {"displayName": "from a web page", "baseModel": "models/sandbox-flash-001-tuning",
              "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "q", "output": "a"}]}}}}


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[SandboxServer]:
    """A Sandbox with a token, small limits and short timeouts."""
    limits = ServerLimits(max_workers=4, max_waiting=64, header_timeout_s=0.5, idle_timeout_s=1.0,
                          max_json_body=64 * 1024, max_upload_body=4 * 1024 * 1024, max_multipart_body=1024 * 1024,
                          upload_session_ttl_s=0.3, max_upload_sessions=3)
    server = SandboxServer(state_dir=tmp_path / "guarded", steps_per_second=200, token="per-run-secret",
                           limits=limits).start()
    try:
        yield server
    finally:
        server.stop()


def _session(server: SandboxServer, backend: Backend = Backend.AGENT_PLATFORM) -> BackendSession:
    return BackendSession(ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=backend), SecretStore(),
                          sandbox_url=lambda: server.base_url)


# -- web pages -----------------------------------------------------------------------------------------------
def test_a_foreign_host_name_is_refused(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}v1beta/models"
    assert requests.get(url, headers=KEY, timeout=5).status_code == 200
    assert requests.get(url, headers={**KEY, "Host": f"localhost:{sandbox.port}"}, timeout=5).status_code == 200
    rebound = requests.get(url, headers={**KEY, "Host": f"attacker.example:{sandbox.port}"}, timeout=5)
    assert rebound.status_code == 403 and "127.0.0.1" in rebound.json()["error"]["message"]
    assert requests.get(url, headers={**KEY, "Host": "127.0.0.1:1"}, timeout=5).status_code == 403


def test_a_foreign_origin_and_cross_site_fetches_are_refused(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}v1beta/tunedModels"
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        resp = requests.post(url, json=TUNED_BODY, headers={**KEY, **headers}, timeout=5)
        assert resp.status_code == 403, headers
    assert requests.options(url, headers={"Origin": "https://evil.example"}, timeout=5).status_code == 403
    same = requests.get(url, headers={**KEY, "Origin": f"http://127.0.0.1:{sandbox.port}"}, timeout=5)
    assert same.status_code == 200 and not same.json().get("tunedModels")  # the refused requests made nothing


@pytest.mark.off_contract_requests("a web page's text/plain POST, refused before any route sees it")
def test_json_routes_want_json_content_types(sandbox: SandboxServer) -> None:
    import json

    for path in ("v1beta/tunedModels", "v1beta1/projects/sandbox-project/locations/us-central1/tuningJobs",
                 "storage/v1/b"):
        resp = requests.post(f"{sandbox.base_url}{path}", data=json.dumps(TUNED_BODY),
                             headers={**KEY, "Authorization": "Bearer x", "Content-Type": "text/plain"}, timeout=5)
        assert resp.status_code == 415, path
    assert not requests.get(f"{sandbox.base_url}v1beta/tunedModels", headers=KEY, timeout=5).json().get("tunedModels")


def test_every_route_needs_the_per_run_token(guarded: SandboxServer) -> None:
    base = guarded.base_url
    calls = [("GET", "v1beta/models", {}), ("POST", "v1beta/tunedModels", {"json": TUNED_BODY}),
             ("GET", "v1beta1/projects/sandbox-project/locations/us-central1/tuningJobs", {}),
             ("GET", "storage/v1/b/sandbox-bucket", {}), ("GET", "storage/v1/b/sandbox-bucket/o", {}),
             ("POST", "upload/storage/v1/b/sandbox-bucket/o?uploadType=media&name=x.txt",
              {"data": b"hello", "headers": {"Content-Type": "text/plain"}}),
             ("POST", "upload/storage/v1/b/sandbox-bucket/o?uploadType=resumable", {"json": {"name": "y.txt"}}),
             ("GET", "download/storage/v1/b/sandbox-bucket/o/x.txt", {})]
    for method, path, kw in calls:
        headers = {**KEY, "Authorization": "Bearer x", **kw.pop("headers", {})}
        resp = requests.request(method, f"{base}{path}", headers=headers, timeout=5, **kw)
        assert resp.status_code == 401, (method, path, resp.status_code)
        wrong = requests.request(method, f"{base}{path}", headers={**headers, TOKEN_HEADER: "guess"}, timeout=5, **kw)
        assert wrong.status_code == 401, (method, path)
    assert not guarded.state.objects.get(("sandbox-bucket", "x.txt")) and not guarded.state.runs
    assert TOKEN_HEADER == SANDBOX_TOKEN_HEADER


def test_the_apps_session_and_storage_client_send_the_token(guarded: SandboxServer, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    session = _session(guarded)
    store = ProjectStore.create(tmp_path / "token.gemtune")
    try:
        report = SubmitWorkflow(store).run(CancelToken(), session, plan(Backend.AGENT_PLATFORM), FAST)
        assert report.state is SubmitState.STARTED, report.message  # upload + create + nothing refused
        assert all(r.path for r in guarded.requests)
        assert not any(TOKEN_HEADER.lower() in {k.lower() for k in r.headers} for r in guarded.requests)  # not logged
    finally:
        store.close()
        session.close()


def test_listening_beyond_loopback_needs_an_explicit_flag(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        SandboxServer(state_dir=None, host="0.0.0.0")
    env = {**os.environ, "GEMTUNE_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    refused = subprocess.run([sys.executable, "-m", "gemtune_desktop", "sandbox", "--host", "0.0.0.0", "--port", "0"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--allow-remote" in refused.stderr
    proc = subprocess.Popen([sys.executable, "-m", "gemtune_desktop", "sandbox", "--host", "0.0.0.0", "--port", "0",
                             "--allow-remote"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
        assert lines[0].startswith("Sandbox running at http://")
        assert lines[1].startswith("WARNING:") and "any machine" in lines[1]
        assert lines[2].strip().startswith("reachable at http://") and ":0/" not in lines[2]
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=20)  # waits and closes the pipes
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError("the Sandbox did not stop on a plain `kill` (SIGTERM)") from None


# -- bounded --------------------------------------------------------------------------------------------------
def test_bodies_are_capped(guarded: SandboxServer) -> None:
    headers = {**KEY, TOKEN_HEADER: guarded.token}
    big_json = {**TUNED_BODY, "description": "x" * (100 * 1024)}
    resp = requests.post(f"{guarded.base_url}v1beta/tunedModels", json=big_json, headers=headers, timeout=5)
    assert resp.status_code == 413 and "too large" in resp.json()["error"]["message"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: the cap holds while reading
        for _ in range(200):
            yield b"y" * 1024

    resp = requests.post(f"{guarded.base_url}v1beta/tunedModels", data=chunked(), timeout=5,
                         headers={**headers, "Content-Type": "application/json"})
    assert resp.status_code == 413
    assert not guarded.state.runs


def test_an_upload_past_the_cap_is_a_plain_error(guarded: SandboxServer) -> None:
    session = _session(guarded)
    try:
        with pytest.raises(Exception) as info:
            upload.upload_bytes(None, session, "big/train.jsonl", b"z" * (5 * 1024 * 1024), chunk_size=1024 * 1024,
                                resumable_threshold=1024)
        err = describe(info.value)
        assert "refused the upload (HTTP 413)" in err.message or "too large" in err.message.lower(), err.message
        assert upload.upload_bytes(None, session, "small/train.jsonl", b"ok\n" * 1000) == \
            "gs://sandbox-bucket/small/train.jsonl"
    finally:
        session.close()


def _start_resumable(server: SandboxServer, name: str) -> str:
    resp = requests.post(f"{server.base_url}upload/storage/v1/b/sandbox-bucket/o?uploadType=resumable",
                         json={"name": name}, headers={TOKEN_HEADER: server.token}, timeout=5)
    assert resp.status_code == 200
    return str(resp.headers["Location"])


def test_unfinished_uploads_go_to_disk_and_expire(guarded: SandboxServer) -> None:
    location = _start_resumable(guarded, "held.bin")
    chunk = b"q" * (1024 * 1024)
    tracemalloc.start()
    try:
        for i in range(3):  # 3 MB sent, never finished
            resp = requests.put(location, data=chunk, timeout=5, headers={
                TOKEN_HEADER: guarded.token, "Content-Range": f"bytes {i * len(chunk)}-{(i + 1) * len(chunk) - 1}/*"})
            assert resp.status_code == 308
        held = guarded.storage.unfinished_uploads
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held == 1
    parts = list((guarded.state.state_dir / "uploads").glob("*.part"))  # type: ignore[operator]
    assert len(parts) == 1 and parts[0].stat().st_size == 3 * len(chunk)
    assert peak < 3 * len(chunk) + 2 * 1024 * 1024  # the client's chunk and a read buffer, not the upload
    time.sleep(0.4)  # past the 0.3 s the guarded server keeps an unfinished upload
    _start_resumable(guarded, "other.bin")  # any upload request sweeps the expired ones
    resp = requests.put(location, data=chunk, timeout=5, headers={
        TOKEN_HEADER: guarded.token, "Content-Range": f"bytes {3 * len(chunk)}-{4 * len(chunk) - 1}/*"})
    assert resp.status_code == 404 and "expired" in resp.json()["error"]["message"]
    assert not parts[0].exists()
    for i in range(5):  # at most three unfinished uploads are kept
        _start_resumable(guarded, f"many-{i}.bin")
    assert guarded.storage.unfinished_uploads <= 3


def _worker_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("gemtune-sandbox-worker"))


def test_half_open_connections_cost_no_threads_and_are_closed(guarded: SandboxServer) -> None:
    before = _worker_threads()
    idle = [socket.create_connection(("127.0.0.1", guarded.port)) for _ in range(300)]
    try:
        resp = requests.get(f"{guarded.base_url}v1beta/models", headers={**KEY, TOKEN_HEADER: guarded.token},
                            timeout=10)
        assert resp.status_code == 200  # answered while 300 connections sit there saying nothing
        assert _worker_threads() - before <= guarded.limits.max_workers
        httpd = guarded.httpd
        assert httpd is not None and httpd.waiting <= guarded.limits.max_waiting
        for sock in idle[:5]:  # the server closes them after the header timeout
            sock.settimeout(5)
            assert sock.recv(1) == b""
    finally:
        for sock in idle:
            sock.close()


def test_headers_trickled_byte_by_byte_are_cut_off(guarded: SandboxServer) -> None:
    sock = socket.create_connection(("127.0.0.1", guarded.port))
    sock.settimeout(5)
    request = f"GET /v1beta/models HTTP/1.1\r\nHost: 127.0.0.1:{guarded.port}\r\nx-goog-api-key: k\r\n".encode()
    closed = False
    try:
        for byte in request * 10:  # each byte well within the idle timeout, the whole far beyond 0.5 s
            sock.sendall(bytes([byte]))
            time.sleep(0.05)
    except OSError:
        closed = True
    if not closed:
        data = sock.recv(4096)
        closed = data == b"" or b"408" in data
    sock.close()
    assert closed, "a client sending its headers one byte at a time kept the connection open"


EMFILE_SCRIPT = r"""
import resource, socket, sys, time, urllib.request
sys.path.insert(0, sys.argv[1])
from gemtune_desktop.sandbox.server import SandboxServer
server = SandboxServer(state_dir=None, steps_per_second=10).start()
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (96, hard))
held = []
try:
    while True:
        held.append(socket.create_connection(("127.0.0.1", server.port), timeout=1))
except OSError:
    pass
time.sleep(0.2)
start_failures = server.httpd.accept_failures
cpu = time.process_time()
time.sleep(1.0)
print("failures", server.httpd.accept_failures - start_failures, "cpu", round(time.process_time() - cpu, 3))
for s in held:
    s.close()
time.sleep(1.0)
print("status", urllib.request.urlopen(urllib.request.Request(server.base_url + "v1beta/models",
                                                              headers={"x-goog-api-key": "k"}), timeout=10).status)
server.stop()
"""


def test_out_of_file_descriptors_the_server_backs_off_then_recovers(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", EMFILE_SCRIPT, str(ROOT)], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    words = result.stdout.split()
    failures = int(words[words.index("failures") + 1])
    assert failures <= 20, f"accept() was retried {failures} times in one second with no file descriptors left"
    assert words[words.index("status") + 1] == "200"  # answers again once descriptors are free


def test_the_sandbox_stops_with_no_worker_left(tmp_path: Path) -> None:
    server = SandboxServer(state_dir=tmp_path / "s", steps_per_second=10).start()
    requests.get(f"{server.base_url}v1beta/models", headers=KEY, timeout=5)
    server.stop()
    for _ in range(100):
        if not any(t.name == "gemtune-sandbox-gate" and t.is_alive() for t in threading.enumerate()):
            break
        time.sleep(0.02)
    assert not any(t.name == "gemtune-sandbox-gate" and t.is_alive() for t in threading.enumerate())

"""The in-app singleton (lazy, thread-safe, replaceable by tests) and ``gemtune-desktop sandbox``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from gemtune_desktop.sandbox import runtime
from gemtune_desktop.sandbox.server import TOKEN_HEADER, SandboxServer

ROOT = Path(__file__).resolve().parents[2]


def test_ensure_running_starts_one_server_for_all_threads(tmp_path: Path):
    previous = runtime.current()
    runtime.use_server(None)
    urls: list[str] = []
    try:
        threads = [threading.Thread(target=lambda: urls.append(runtime.ensure_running(tmp_path / "s", 50.0)))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(urls)) == 1
        server = runtime.current()
        assert server is not None and server.base_url == urls[0]
        token = getattr(urls[0], "token", "")
        assert len(token) >= 24  # the in-app Sandbox needs its per-run token on every request
        assert requests.get(f"{urls[0]}v1beta/models", headers={"x-goog-api-key": "k"}, timeout=5).status_code == 401
        assert requests.get(f"{urls[0]}v1beta/models", headers={"x-goog-api-key": "k", TOKEN_HEADER: token},
                            timeout=5).status_code == 200
        runtime.ensure_running(tmp_path / "s", 80.0)
        assert server.steps_per_second == 80.0
        moved = runtime.ensure_running(tmp_path / "other", 80.0)
        assert runtime.current() is not server and not server.running
        assert runtime.current().state.state_dir == tmp_path / "other" and moved == runtime.current().base_url
    finally:
        runtime.shutdown()
        runtime.use_server(previous)


def test_fixture_server_is_the_in_app_one(sandbox: SandboxServer, tmp_path: Path):
    assert runtime.current() is sandbox
    sandbox.steps_per_second = 15.0
    assert runtime.ensure_running(tmp_path / "ignored", 4.0) == sandbox.base_url
    assert sandbox.steps_per_second == 15.0  # the app's pace setting does not slow the test's server


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_cli_prints_the_url_and_stops_cleanly(tmp_path: Path, stop_signal: int):
    env = {**os.environ, "GEMTUNE_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "gemtune_desktop", "sandbox", "--port", "0",
                             "--steps-per-second", "50"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("Sandbox running at http://127.0.0.1:")
        url = first.split(" at ", 1)[1].strip()
        rest = [proc.stdout.readline() for _ in range(5)]
        assert any("api_version': 'v1beta1'" in line for line in rest)
        resp = requests.get(f"{url}v1beta/models", headers={"x-goog-api-key": "k"}, timeout=10)
        assert resp.status_code == 200 and resp.json()["models"]
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=20) == 0
        assert (tmp_path / "home" / "data" / "sandbox" / "buckets").is_dir()  # default state folder
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_cli_stopped_while_it_prints_its_banner_exits_cleanly(tmp_path: Path, stop_signal: int):
    """A user who presses Ctrl+C as soon as the URL appears gets a clean stop, not a traceback."""
    env = {**os.environ, "GEMTUNE_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "gemtune_desktop", "sandbox", "--port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("Sandbox running at")
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "Stopping the Sandbox." in out and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_app_connection_manager_uses_the_fixture_server(ctx, sandbox: SandboxServer):
    from gemtune_desktop.services.connections import ConnectionKind

    assert ctx.connections.sandbox_url() == sandbox.base_url
    session = ctx.connections.session_for(ctx.connections.profiles()[ConnectionKind.SANDBOX])
    try:
        assert [m.name for m in session.client().models.list()]
        assert sandbox.requests.matching("/models", "GET")
    finally:
        session.close()


def test_stopping_the_server_cuts_a_stream_in_flight():
    server = SandboxServer(state_dir=None, steps_per_second=10).start()
    server.stream_delay_s = 0.05
    resp = requests.post(f"{server.base_url}v1beta/models/gemini-3.5-flash:streamGenerateContent?alt=sse",
                         json={"contents": [{"parts": [{"text": "hi"}]}]}, headers={"x-goog-api-key": "k"},
                         stream=True, timeout=5)
    lines = resp.iter_lines()
    assert next(lines).startswith(b"data: ")
    server.stop()
    received = 0
    with pytest.raises(requests.exceptions.RequestException):
        for line in lines:
            received += bool(line)
    assert received < 6  # the rest of the answer never arrived: the Sandbox really went away


def test_the_app_talks_to_its_own_token_protected_sandbox(ctx, tmp_path: Path):
    """No test server installed: the app starts its own Sandbox, which wants the per-run token, and its session
    (SDK calls, REST and storage) sends it."""
    from gemtune_desktop.services.connections import ConnectionKind

    previous = runtime.current()
    runtime.use_server(None)
    try:
        session = ctx.connections.session_for(ctx.connections.profiles()[ConnectionKind.SANDBOX])
        try:
            assert [m.name for m in session.client().models.list()]
            assert isinstance(session.rest("GET", f"{session.parent}/tuningJobs"), dict)
            session.storage_client().bucket(session.bucket).blob("t.txt").upload_from_string(b"hello")
            server = runtime.current()
            assert server is not None and server.token and server.state.get_object(session.bucket, "t.txt")
        finally:
            session.close()
    finally:
        runtime.shutdown()
        runtime.use_server(previous)

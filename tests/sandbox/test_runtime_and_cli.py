"""The in-app singleton (lazy, thread-safe, replaceable by tests) and ``gemtune-desktop sandbox``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import requests

from gemtune_desktop.sandbox import runtime
from gemtune_desktop.sandbox.server import SandboxServer

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
        assert requests.get(f"{urls[0]}v1beta/models", headers={"x-goog-api-key": "k"}, timeout=5).status_code == 200
        runtime.ensure_running(tmp_path / "s", 80.0)
        assert server.steps_per_second == 80.0
    finally:
        runtime.shutdown()
        runtime.use_server(previous)


def test_fixture_server_is_the_in_app_one(sandbox: SandboxServer, tmp_path: Path):
    assert runtime.current() is sandbox
    assert runtime.ensure_running(tmp_path / "ignored", 200.0) == sandbox.base_url


def test_cli_prints_the_url_and_stops_on_ctrl_c(tmp_path: Path):
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
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert (tmp_path / "home" / "data" / "sandbox" / "buckets").is_dir()  # default state folder
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_app_connection_manager_uses_the_fixture_server(ctx, sandbox: SandboxServer):
    from gemtune_desktop.services.connections import ConnectionKind

    assert ctx.connections.sandbox_url() == sandbox.base_url
    session = ctx.connections.session_for(ctx.connections.profiles()[ConnectionKind.SANDBOX])
    try:
        assert [m.name for m in session.client().models.list()]
        assert sandbox.requests.matching("/models", "GET")
    finally:
        session.close()

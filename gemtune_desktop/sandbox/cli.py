"""``gemtune-desktop sandbox``: run the emulator in a terminal until Ctrl+C."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from pathlib import Path

from gemtune_desktop.sandbox.catalog import PROJECT


def run_sandbox(host: str = "127.0.0.1", port: int = 0, steps_per_second: float = 4.0,
                state_dir: str | Path | None = None, allow_remote: bool = False) -> int:
    from gemtune_desktop import paths
    from gemtune_desktop.sandbox.guard import is_loopback
    from gemtune_desktop.sandbox.server import SandboxServer

    if steps_per_second <= 0:
        print("--steps-per-second must be greater than 0.", file=sys.stderr)
        return 2
    remote = not is_loopback(host)
    if remote and not allow_remote:
        print(f"--host {host} would let other machines reach the Sandbox, which has no real authentication. "
              "Add --allow-remote if that is what you want.", file=sys.stderr)
        return 2
    folder = Path(state_dir) if state_dir else paths.data_dir() / "sandbox"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stop_requested = _install_stop_handlers()
    server = SandboxServer(state_dir=folder, steps_per_second=steps_per_second, host=host, port=port,
                           allow_remote=allow_remote)
    try:
        server.start()
    except OSError as exc:
        print(f"Could not listen on {host}:{port}: {exc.strerror or exc}. Choose another --port.", file=sys.stderr)
        return 1
    url = server.base_url
    print(f"Sandbox running at {url}", flush=True)
    if remote:
        print(f"WARNING: listening on {host}: any machine that can reach this one can use the Sandbox, "
              "without a password.", flush=True)
        for address in _addresses(host, server.port):
            print(f"  reachable at {address}", flush=True)
    print(f"  state folder: {folder}   pace: {steps_per_second:g} training steps per second")
    print("  Gemini API:     genai.Client(api_key='any', "
          f"http_options={{'base_url': '{url}', 'api_version': 'v1beta'}})")
    print(f"  Agent Platform: genai.Client(vertexai=True, project='{PROJECT}', location='us-central1', "
          "credentials=google.oauth2.credentials.Credentials(token='any'), "
          f"http_options={{'base_url': '{url}', 'api_version': 'v1beta1'}})")
    print(f"  Cloud Storage:  storage.Client(project='{PROJECT}', credentials=AnonymousCredentials(), "
          f"client_options={{'api_endpoint': '{url.rstrip('/')}'}})  (bucket: sandbox-bucket)")
    print("Press Ctrl+C to stop.", flush=True)
    try:
        # Wait in short slices: the handlers only set a flag, which the loop sees within a slice.
        while not stop_requested:
            time.sleep(0.25)
    except KeyboardInterrupt:  # run off the main thread, where no handler could be installed
        pass
    finally:
        print("\nStopping the Sandbox.", flush=True)
        server.stop()
    return 0


def _install_stop_handlers() -> list[int]:
    """Make Ctrl+C and a plain `kill` ask the wait loop to stop; the returned list fills when they do.

    Installed before the URL is printed, so a signal that arrives at any moment after it (even
    while the banner is still being written) is a clean stop, never an uncaught KeyboardInterrupt.
    The handlers only append to a list: taking a lock inside a handler could deadlock the thread
    it interrupted.
    """
    received: list[int] = []
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda number, _frame: received.append(number))
    return received


def _addresses(host: str, port: int) -> list[str]:
    """The URLs under which other machines can reach a server listening on ``host``."""
    import socket

    if host not in ("0.0.0.0", "::", ""):
        shown = f"[{host}]" if ":" in host else host
        return [f"http://{shown}:{port}/"]
    found: list[str] = []
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        found = sorted({str(info[4][0]) for info in infos if not str(info[4][0]).startswith("127.")})
    except OSError:
        pass
    return [f"http://{ip}:{port}/" for ip in found] or [f"http://<this machine's address>:{port}/"]

"""``gemtune-desktop sandbox``: run the emulator in a terminal until Ctrl+C."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

from gemtune_desktop.sandbox.catalog import PROJECT


def run_sandbox(host: str = "127.0.0.1", port: int = 0, steps_per_second: float = 4.0,
                state_dir: str | Path | None = None) -> int:
    from gemtune_desktop import paths
    from gemtune_desktop.sandbox.server import SandboxServer

    if steps_per_second <= 0:
        print("--steps-per-second must be greater than 0.", file=sys.stderr)
        return 2
    folder = Path(state_dir) if state_dir else paths.data_dir() / "sandbox"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = SandboxServer(state_dir=folder, steps_per_second=steps_per_second, host=host, port=port)
    try:
        server.start()
    except OSError as exc:
        print(f"Could not listen on {host}:{port}: {exc.strerror or exc}. Choose another --port.", file=sys.stderr)
        return 1
    url = server.base_url
    print(f"Sandbox running at {url}", flush=True)
    print(f"  state folder: {folder}   pace: {steps_per_second:g} training steps per second")
    print("  Gemini API:     genai.Client(api_key='any', "
          f"http_options={{'base_url': '{url}', 'api_version': 'v1beta'}})")
    print(f"  Agent Platform: genai.Client(vertexai=True, project='{PROJECT}', location='us-central1', "
          "credentials=google.oauth2.credentials.Credentials(token='any'), "
          f"http_options={{'base_url': '{url}', 'api_version': 'v1beta1'}})")
    print(f"  Cloud Storage:  storage.Client(project='{PROJECT}', credentials=AnonymousCredentials(), "
          f"client_options={{'api_endpoint': '{url.rstrip('/')}'}})  (bucket: sandbox-bucket)")
    print("Press Ctrl+C to stop.", flush=True)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # a plain `kill` stops it as cleanly as Ctrl+C
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nStopping the Sandbox.", flush=True)
    finally:
        server.stop()
    return 0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt

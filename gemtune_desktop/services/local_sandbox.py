"""Where the in-app Sandbox answers: the offline emulator, started in this process on first use.

The Qt layers reach the Sandbox only through this function (they never import ``sandbox``).
"""

from __future__ import annotations

from pathlib import Path


def local_sandbox_url(state_dir: Path, steps_per_second: float) -> str:
    """Base URL of the in-app Sandbox, starting it if needed (thread-safe; its state kept in ``state_dir``)."""
    from gemtune_desktop.sandbox.runtime import ensure_running

    return ensure_running(state_dir, steps_per_second=steps_per_second)

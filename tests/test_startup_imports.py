"""Start-up stays light: google-genai and pyqtgraph are not imported when the window first paints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("google.genai", "pyqtgraph", "google.cloud.storage")


def test_heavy_sdks_are_not_imported_before_the_first_paint(app_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update({"QT_QPA_PLATFORM": "offscreen", "GEMTUNE_HOME": str(app_home), "GEMTUNE_NO_WELCOME": "1",
                "GEMTUNE_EXIT_AFTER_SHOW": "200", "GEMTUNE_REPORT_FIRST_PAINT": "modules"})
    proc = subprocess.run([sys.executable, "-m", "gemtune_desktop"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("GEMTUNE_MODULES ")]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(lines) == 1, f"the app did not report its first paint:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    modules = set(json.loads(lines[0].split(" ", 1)[1]))
    assert "gemtune_desktop.ui.main_window" in modules  # the report really came from the window
    loaded = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert loaded == []

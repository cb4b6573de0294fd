"""Start-up stays light: google-genai and pyqtgraph are not imported when the window first paints.

(Nor ``logging.handlers``: the log file is opened just after the first paint, and what was
logged before it is written then.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("google.genai", "pyqtgraph", "google.cloud.storage", "logging.handlers")


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


def test_records_logged_before_the_first_paint_reach_the_log_file(app_home: Path) -> None:
    import logging

    from gemtune_desktop import app, logging_setup

    root = logging.getLogger()
    saved = [h for h in root.handlers if getattr(h, "_gemtune", False)]
    for handler in saved:
        root.removeHandler(handler)
    level = root.level
    buffer = app._buffer_early_logging()
    try:
        logging.getLogger("gemtune_desktop.startup").warning("logged before the window was painted")
        app._start_file_logging(buffer)
        app._start_file_logging(buffer)  # a second call (at exit) writes nothing twice
        for handler in root.handlers:
            handler.flush()
        text = Path(logging_setup.log_file()).read_text(encoding="utf-8")
        assert text.count("logged before the window was painted") == 1
        assert buffer not in root.handlers
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_gemtune", False) or h is buffer]:
            root.removeHandler(handler)
            handler.close()
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)

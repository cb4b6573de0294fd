"""scripts/screenshots.py: the README pictures come from the real app on the sample project, with a job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ("dataset", "tune", "monitor", "test", "welcome", "guide", "minimum-dataset", "minimum-tune",
            "minimum-monitor", "minimum-test", "import-choice", "tune-api-key")


@pytest.mark.slow
def test_screenshot_script_captures_every_tab_with_content(tmp_path: Path, qapp) -> None:
    from PySide6.QtGui import QImage

    out = tmp_path / "shots"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--platform", "offscreen", "--no-guide",
         "--out", str(out), "--steps-per-second", "40", "--train-seconds", "1"],
        capture_output=True, text=True, timeout=240, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Every step worked: the sample opened, a Sandbox job started and finished, the Test tab got an answer.
    problems = [line for line in proc.stderr.splitlines() if "note:" in line]
    assert problems == [], proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    for name in EXPECTED:
        image = QImage(str(out / f"{name}.png"))
        assert not image.isNull(), name
        assert image.width() >= 300 and image.height() >= 150, name
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 20, f"{name}.png looks blank"
    # Nothing was written into the repository's own folders.
    assert not (out.parent / "docs").exists()

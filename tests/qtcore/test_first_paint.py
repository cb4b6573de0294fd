"""Deferred start-up work runs once, right after the window's first paint (or after a fallback delay)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMainWindow

from gemtune_desktop.qtcore.first_paint import FirstPaintWatcher, qt_namespace_enums

ROOT = Path(__file__).resolve().parents[2]


def test_callbacks_run_once_after_the_first_paint(qtbot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    calls: list[str] = []
    watcher = FirstPaintWatcher(window, [lambda: calls.append("a"), lambda: calls.append("b")], fallback_ms=60000)
    assert calls == []
    window.show()
    qtbot.waitUntil(lambda: calls == ["a", "b"], timeout=5000)
    assert watcher.painted
    window.repaint()  # a second paint, delivered now
    QApplication.processEvents()  # and any single-shot it could have queued
    assert calls == ["a", "b"]


def test_a_window_never_painted_still_runs_the_callbacks(qtbot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    calls: list[str] = []
    FirstPaintWatcher(window, [lambda: calls.append("late")], fallback_ms=10)
    qtbot.waitUntil(lambda: calls == ["late"], timeout=5000)


def test_the_first_paint_does_not_create_the_qt_namespace_enums(app_home: Path) -> None:
    """``from PySide6.QtCore import Qt`` builds ~90 Python enums (~15 ms); the start-up path leaves it for later."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update({"QT_QPA_PLATFORM": "offscreen", "GEMTUNE_HOME": str(app_home), "GEMTUNE_NO_WELCOME": "1",
                "GEMTUNE_EXIT_AFTER_SHOW": "200", "GEMTUNE_REPORT_FIRST_PAINT": "modules"})
    proc = subprocess.run([sys.executable, "-m", "gemtune_desktop"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("GEMTUNE_QT_NAMESPACE_ENUMS ")]
    assert counts == ["0"], f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"


def test_the_qt_namespace_enums_are_counted() -> None:
    from PySide6.QtCore import Qt

    assert Qt.ConnectionType.QueuedConnection is not None
    assert qt_namespace_enums() > 50

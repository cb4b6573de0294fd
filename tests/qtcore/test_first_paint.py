"""Deferred start-up work runs once, right after the window's first paint (or after a fallback delay)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMainWindow

from gemtune_desktop.qtcore.first_paint import FirstPaintWatcher


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

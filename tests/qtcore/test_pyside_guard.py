"""Guard against PySide6 builds that leak references to None (6.12.0 on Python 3.11).

Such a build aborts the process after a few thousand Qt calls that return nothing; an
upgrade that brings the bug back must fail here, not crash users' sessions.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget


def test_void_qt_calls_do_not_consume_references_to_none(qapp: object) -> None:
    widget = QWidget()
    before = sys.getrefcount(None)
    for _ in range(20_000):
        widget.resize(10, 10)
        widget.setWindowTitle("x")
    after = sys.getrefcount(None)
    # Immortal None (3.12+) reports a constant; on 3.11 a leaking build drops by 40,000.
    assert after >= before - 100, f"PySide6 lost {before - after} references to None"

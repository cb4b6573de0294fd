"""Two windows, one project (issue 7): a second process cannot open the project for editing or corrupt it.

``tests/core/test_project_store.py`` already shows a second ``ProjectStore.open`` is refused and that the
lock dies with its process. Here the first process keeps *writing* (through ``ProjectSession`` and the undo
commands, as the window does) while a second process tries what a second window would — open it for
editing through ``ProjectSession``, open it read-only and try to write — and then the real window tries to
open it. The second one is refused in plain words, and every row the writer committed is in the file.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.project import examples_repo
from gemtune_desktop.core.project.store import ProjectStore

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QCoreApplication
    from gemtune_desktop.core.examples import Example
    from gemtune_desktop.qtcore.project_session import ProjectSession
    from gemtune_desktop.qtcore.undo import InsertRowsCommand

    app = QCoreApplication([])
    session = ProjectSession.open(sys.argv[1])
    print("READY", flush=True)
    for k in range(1_000_000):
        rows = [Example(f"writer row {{k}}-{{j}}", "answer " * 20) for j in range(5)]
        session.undo_stack.push(InsertRowsCommand(session, len(session.examples), rows, "insert"))
        print("OK", k, flush=True)
        if k == 20:
            print("BUSY", flush=True)
""")

INTRUDER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QCoreApplication
    from gemtune_desktop.core.errors import ProjectLockedError, UserError
    from gemtune_desktop.core.examples import Example
    from gemtune_desktop.core.project import examples_repo
    from gemtune_desktop.core.project.store import ProjectStore
    from gemtune_desktop.qtcore.project_session import ProjectSession

    app = QCoreApplication([])
    try:
        ProjectSession.open(sys.argv[1])
    except ProjectLockedError as exc:
        print("LOCKED", exc.message, "|", exc.hint, flush=True)
    else:
        print("OPENED FOR EDITING", flush=True)
    reader = ProjectStore.open(sys.argv[1], read_only=True)
    print("READ", examples_repo.count(reader), flush=True)
    try:
        with reader.transaction():
            examples_repo.insert(reader, [Example("intruder", "row")], [0.5])
    except UserError as exc:
        print("WRITE REFUSED", exc.message, flush=True)
    except Exception as exc:
        print("WRITE FAILED", type(exc).__name__, flush=True)
    else:
        print("WROTE", flush=True)
    reader.close()
""")


class Writer:
    """The first window's process, inserting rows until killed."""

    def __init__(self, tmp_path: Path, project: Path) -> None:
        script = tmp_path / "writer.py"
        script.write_text(WRITER.format(root=str(ROOT)))
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        self.proc = subprocess.Popen([sys.executable, str(script), str(project)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, bufsize=0)
        assert self.proc.stdout is not None
        for wanted in ("READY", "BUSY"):  # it is open and busy writing
            line = ""
            while line != wanted:
                raw = self.proc.stdout.readline().decode()
                assert raw, self.proc.communicate(timeout=30)[1].decode()[-2000:]
                line = raw.split()[0] if raw.split()[0] in ("READY", "BUSY") else ""

    def kill(self) -> int:
        """Kill it; returns how many inserts it reported committed after BUSY (plus the 21 before)."""
        self.proc.send_signal(signal.SIGKILL)
        out, _err = self.proc.communicate(timeout=30)
        # Only whole lines count: the kill may cut the last one short ("OK " or "OK 1" of "OK 12").
        lines = out.decode().split("\n")[:-1]
        oks = [int(line.split()[1]) for line in lines if re.fullmatch(r"OK \d+", line)]
        return (max(oks) + 1) if oks else 21

    def alive(self) -> bool:
        return self.proc.poll() is None


def _check_file(project: Path, committed: int) -> None:
    conn = sqlite3.connect(project)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    store = ProjectStore.open(project)
    try:
        rows = [e.input for e in examples_repo.load_examples(store)]
    finally:
        store.close()
    assert "intruder" not in rows
    assert len(rows) in (committed * 5, committed * 5 + 5), f"{len(rows)} rows for {committed} committed inserts"
    assert rows[:5] == [f"writer row 0-{j}" for j in range(5)]


def test_second_process_is_refused_while_the_first_keeps_writing(tmp_path: Path) -> None:
    project = tmp_path / "shared.gemtune"
    ProjectStore.create(project).close()
    writer = Writer(tmp_path, project)
    try:
        script = tmp_path / "intruder.py"
        script.write_text(INTRUDER.format(root=str(ROOT)))
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        out = subprocess.run([sys.executable, str(script), str(project)], capture_output=True, text=True,
                             timeout=60, env=env)
        assert writer.alive()  # the first window kept going throughout
    finally:
        committed = writer.kill()
    lines = out.stdout.splitlines()
    assert lines and lines[0].startswith("LOCKED"), out.stdout + out.stderr[-2000:]
    assert "shared.gemtune" in lines[0] and "another window" in lines[0] and "Close it" in lines[0]
    assert lines[1].startswith("READ ")  # looking is allowed…
    assert lines[2].startswith("WRITE REFUSED"), out.stdout  # …writing is not
    _check_file(project, committed)


def test_second_window_shows_a_plain_message_and_leaves_the_project_alone(tmp_path: Path, main_window: Any,
                                                                          qtbot: Any) -> None:
    from PySide6.QtWidgets import QMessageBox

    project = tmp_path / "Busy Project.gemtune"
    ProjectStore.create(project).close()
    writer = Writer(tmp_path, project)
    try:
        main_window.open_path(str(project))

        def message() -> QMessageBox | None:
            boxes = [b for b in main_window.findChildren(QMessageBox) if b.isVisible()]
            return boxes[0] if boxes else None

        qtbot.waitUntil(lambda: message() is not None, timeout=10000)
        box = message()
        assert box is not None
        assert "Busy Project.gemtune" in box.text() and "another window" in box.text()
        assert "Close it in the other window" in box.informativeText()
        project_now = main_window.ctx.project
        assert project_now is None or Path(project_now.path).resolve() != project.resolve()
        box.close()
        assert writer.alive()
    finally:
        committed = writer.kill()
    _check_file(project, committed)


def test_closing_right_after_a_commit_ends_the_flush_thread(tmp_path: Path) -> None:
    """Closing a project just after an edit (switching projects, quitting) must not leave the disk-flush thread
    waiting: it used to miss the stop signal and make ``close()`` wait 5 s on the GUI thread. The edit is in the
    main file afterwards (close folds the log in)."""
    from gemtune_desktop.core.examples import Example

    store = ProjectStore.create(tmp_path / "quick.gemtune")
    for i in range(3):
        with store.transaction():
            examples_repo.insert(store, [Example(f"q{i}", "a")], [float(i)])
        checkpointer = store._checkpointer
        store.close()  # within the flush delay of the commit
        assert checkpointer is None or not checkpointer._thread.is_alive()
        conn = sqlite3.connect(tmp_path / "quick.gemtune")  # the main file alone
        assert conn.execute("SELECT COUNT(*) FROM examples").fetchone()[0] == i + 1
        conn.close()
        store = ProjectStore.open(tmp_path / "quick.gemtune")
        assert examples_repo.count(store) == i + 1
    store.close()

"""Writes that fail for real — a full disk, another program's write lock, a read-only file (issue 13).

A failed write must never look like a success: the user gets one plain message ("The project could not be
saved: the disk is full. Your last change was not kept."), the undo history holds no change that did not
happen, and the screen and the file agree. The disk is filled for real on a small tmpfs (skipped, with the
reason, where this machine does not allow mounting one); the write lock is held by a separate process, as a
database browser or a backup tool would.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from gemtune_desktop.core.examples import Example
from gemtune_desktop.qtcore.dataset_model import Column, DatasetModel
from gemtune_desktop.qtcore.project_session import ProjectSession, SaveState
from gemtune_desktop.qtcore.undo import EditCellCommand, InsertRowsCommand, RemoveRowsCommand, SettingsCommand
from tests.reliability.helpers import ForeignWriteLock, fill_disk, read_only, small_disk

ROOT = Path(__file__).resolve().parents[2]


def _state(s: ProjectSession) -> list[tuple[int, str, str]]:
    return [(e.id, e.input, e.output) for e in s.examples]


def _file(path: Path) -> list[tuple[int, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return [tuple(r) for r in conn.execute("SELECT id, input, output FROM examples ORDER BY pos, id")]
    finally:
        conn.close()


class Recorder:
    def __init__(self, s: ProjectSession) -> None:
        self.errors: list[Any] = []
        s.write_failed.connect(self.errors.append)


@pytest.fixture
def on_small_disk(qapp: object, tmp_path: Path) -> Iterator[tuple[ProjectSession, Path]]:
    with small_disk(tmp_path, "3m") as disk:
        s = ProjectSession.create(disk / "Full.gemtune")
        assert s.push(InsertRowsCommand(s, 0, [Example(f"q{i}", f"a{i}") for i in range(50)], "seed"))
        assert s.flush()
        try:
            yield s, disk
        finally:
            s.close()


def test_an_edit_on_a_full_disk_is_refused_plainly_and_kept_out_of_the_history(
        on_small_disk: tuple[ProjectSession, Path]) -> None:
    s, disk = on_small_disk
    rec = Recorder(s)
    before, history = _state(s), s.undo_stack.count()
    filler = fill_disk(disk)
    for text in ("t", "ty", "typ", "typed " * 4000):  # typing into a cell: each keystroke is an edit
        assert not s.push(EditCellCommand(s, s.examples[3], "output", text))
    err = rec.errors[0]
    assert err.message == "The project could not be saved: the disk is full. Your last change was not kept."
    assert "Free some space" in err.hint and err.reason == "disk-full"
    assert s.save_state is SaveState.WRITE_FAILED and s.save_state_label == "Not saved: the last change failed"
    assert s.undo_stack.count() == history and _state(s) == before
    filler.unlink()
    assert _file(s.store.real_path) == before
    assert s.push(EditCellCommand(s, s.examples[3], "output", "kept"))  # room again: the next edit is saved
    assert s.save_state is SaveState.PENDING and s.last_error is not None  # the message stays readable
    assert s.flush() and s.save_state is SaveState.SAVED_IN_FILE
    assert _file(s.store.real_path)[3][2] == "kept"


def test_an_import_on_a_full_disk_says_it_added_nothing(on_small_disk: tuple[ProjectSession, Path]) -> None:
    s, disk = on_small_disk
    rec = Recorder(s)
    before, history = _state(s), s.undo_stack.count()
    filler = fill_disk(disk)
    imported = [Example(f"imported question {i} " * 3, f"answer {i}") for i in range(20_000)]
    assert not s.import_examples(imported, "Import big.csv")
    err = rec.errors[-1]
    assert err.message == "The examples could not be added: the disk is full. No examples were added."
    assert "savepoint" not in err.message + err.hint + err.detail  # the real reason, not SQLite's follow-up error
    assert _state(s) == before and s.undo_stack.count() == history
    filler.unlink()
    assert _file(s.store.real_path) == before
    assert s.import_examples(imported[:10], "Import small.csv") and len(s.examples) == 60


def test_a_delete_whose_redo_fails_keeps_its_rows(on_small_disk: tuple[ProjectSession, Path]) -> None:
    s, disk = on_small_disk
    rec = Recorder(s)
    assert s.push(RemoveRowsCommand(s, s.examples[10:20]))
    assert s.undo() and len(s.examples) == 50
    before = _state(s)
    filler = fill_disk(disk)
    assert not s.redo()  # the delete cannot be written again
    assert _state(s) == before and not s.undo_stack.canRedo()
    assert "Nothing was redone" in rec.errors[-1].message
    filler.unlink()
    assert _file(s.store.real_path) == before
    assert s.undo() and s.examples == []  # the seed insert is still undoable…
    assert s.redo() and _state(s) == before  # …and redoable


def test_an_undo_that_fails_leaves_the_change_and_says_so(on_small_disk: tuple[ProjectSession, Path]) -> None:
    s, disk = on_small_disk
    rec = Recorder(s)
    assert s.push(EditCellCommand(s, s.examples[0], "output", "x" * 20_000))
    assert s.flush()
    filler = fill_disk(disk)
    assert not s.undo()
    assert s.examples[0].output == "x" * 20_000 and "Nothing was undone" in rec.errors[-1].message
    filler.unlink()
    assert _file(s.store.real_path)[0][2] == "x" * 20_000


@pytest.fixture
def session(qapp: object, tmp_path: Path) -> Iterator[ProjectSession]:
    s = ProjectSession.create(tmp_path / "Locked.gemtune")
    assert s.push(InsertRowsCommand(s, 0, [Example(f"q{i}", f"a{i}") for i in range(20)], "seed"))
    s.store.set_busy_timeout(50)
    yield s
    s.close()


def test_another_programs_write_lock_is_named_and_nothing_half_happens(session: ProjectSession) -> None:
    rec = Recorder(session)
    model = DatasetModel(session)
    before, history = _state(session), session.undo_stack.count()
    with ForeignWriteLock(session.store.real_path):
        assert not model.setData(model.index(2, Column.OUTPUT), "typed in the table")
        assert not session.push(RemoveRowsCommand(session, session.examples[:5]))
        new = SettingsCommand(session, session.settings, "Edit preamble", merge_key="preamble")
        new.new.preamble = "Classify:"
        assert not session.push(new)
        assert not session.push(InsertRowsCommand(session, 0, [Example("new", "row")], "Add row"))
    assert len(rec.errors) == 4
    assert rec.errors[0].message.startswith("The project could not be saved: another program is using "
                                            "“Locked.gemtune”.")
    assert "Close the other program" in rec.errors[0].hint
    assert "dataset settings was not kept" in rec.errors[2].message
    assert _state(session) == before and session.undo_stack.count() == history
    assert session.settings.preamble == "" and model.data(model.index(2, Column.OUTPUT)) == "a2"
    assert model.setData(model.index(2, Column.OUTPUT), "typed again")  # the lock is gone
    assert _file(session.store.real_path)[2][2] == "typed again"


def test_a_read_only_project_opens_read_only_and_says_so(qapp: object, tmp_path: Path) -> None:
    path = tmp_path / "Shared.gemtune"
    s = ProjectSession.create(path)
    assert s.push(InsertRowsCommand(s, 0, [Example("q", "a")], "seed"))
    s.close()
    with read_only(path):
        ro = ProjectSession.open(path)
        try:
            assert ro.save_state is SaveState.READ_ONLY and not ro.can_edit
            assert ro.save_state_label == "Read-only: save a copy to edit"
            assert "read-only (the file cannot be written)" in ro.save_state_text
            model = DatasetModel(ro)
            assert not model.flags(model.index(0, Column.INPUT)) & Qt.ItemFlag.ItemIsEditable
            rec = Recorder(ro)
            assert not ro.push(EditCellCommand(ro, ro.examples[0], "output", "x"))
            assert "open read-only" in rec.errors[-1].message and ro.undo_stack.count() == 0
            copy = ro.save_to(tmp_path / "Mine.gemtune")  # a copy to edit, and keep going there
            assert ro.can_edit and copy.name == "Mine.gemtune"
            assert ro.push(EditCellCommand(ro, ro.examples[0], "output", "x"))
        finally:
            ro.close()


SEGFAULT_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QCoreApplication, QTimer
    from gemtune_desktop.core.examples import Example
    from gemtune_desktop.qtcore.project_session import ProjectSession
    from gemtune_desktop.qtcore.undo import EditCellCommand, InsertRowsCommand

    app = QCoreApplication([])
    s = ProjectSession.open(sys.argv[1])
    s.store.conn.execute("PRAGMA busy_timeout=50")
    print("READY", flush=True)
    sys.stdin.readline()  # the other program now holds the write lock
    steps = []

    def step():
        # A slot (a timer here; a key press in the window) typing into a cell, as the detail editor does.
        k = len(steps)
        try:
            s.undo_stack.push(EditCellCommand(s, s.examples[k % 3], "output", "typed " + str(k)))
        except Exception as exc:  # what the Dataset tab's push() did
            print("CAUGHT", type(exc).__name__, flush=True)
        steps.append(s.undo_stack.count())
        if len(steps) < 12:
            QTimer.singleShot(0, step)
        else:
            app.quit()

    QTimer.singleShot(0, step)
    app.exec()
    print("COUNTS", *steps, flush=True)
    print("OUTPUTS", *(e.output for e in s.examples[:3]), flush=True)
""")


def test_failed_edits_from_a_slot_no_longer_crash_inside_the_undo_stack(tmp_path: Path) -> None:
    """The crash of issue 13: PySide6 sent the exception from redo() to sys.excepthook, QUndoStack kept the
    failed command, whose C++ object was then freed under it; two failed edits later, a segfault."""
    path = tmp_path / "Typed.gemtune"
    s = ProjectSession.create(path)
    s.undo_stack.push(InsertRowsCommand(s, 0, [Example(f"q{i}", f"a{i}") for i in range(5)], "seed"))
    s.close()
    script = tmp_path / "child.py"
    script.write_text(SEGFAULT_CHILD.format(root=str(ROOT)))
    child = subprocess.Popen([sys.executable, str(script), str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "READY"
    with ForeignWriteLock(path):
        child.stdin.write("go\n")
        child.stdin.flush()
        out, err = child.communicate(timeout=120)
    assert child.returncode == 0, f"exit {child.returncode}: {err[-3000:]}"
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    assert lines["COUNTS"].split() == ["0"] * 12  # no failed edit entered the history
    assert lines["OUTPUTS"].split() == ["a0", "a1", "a2"]
    assert "CAUGHT" not in out and "Traceback" not in err

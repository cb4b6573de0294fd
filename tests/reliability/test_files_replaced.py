"""The project file deleted, replaced, overwritten or renamed while the app has it open (issue 13).

Cloud sync clients replace files, users copy over them, another program saves over them. The app keeps its
SQLite connection to the file it opened; these tests change the file under a real session the way those
programs do and check what the user would see: the session stops claiming "saved" at the next write or
focus check, refuses to write anywhere, keeps every example on screen, and Save As puts all of it — edits
made before the loss included — into a new file. Whatever now sits at the old path is left untouched, even
after the session closes (SQLite would otherwise copy its log into it, or leave the log beside it).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.core.project.identity import FileProblem
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.qtcore.project_session import ProjectSession, SaveState
from gemtune_desktop.qtcore.undo import EditCellCommand, InsertRowsCommand, RemoveRowsCommand


@pytest.fixture
def session(qapp: object, tmp_path: Path) -> Iterator[ProjectSession]:
    s = ProjectSession.create(tmp_path / "Claims.gemtune")
    assert s.push(InsertRowsCommand(s, 0, [Example(f"question {i}", f"answer {i}") for i in range(300)], "seed"))
    yield s
    s.close()


def _other_project(path: Path, rows: list[str]) -> None:
    store = ProjectStore.create(path)
    repo.insert(store, [Example(t, "theirs") for t in rows], [float(i + 1) for i in range(len(rows))])
    store.close()


def _rows(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT input FROM examples ORDER BY pos")]
    finally:
        conn.close()


def _delete(path: Path, tmp: Path) -> None:
    path.unlink()


def _rename_away(path: Path, tmp: Path) -> None:
    path.rename(tmp / "renamed by a sync client.gemtune")


def _replace(path: Path, tmp: Path) -> None:  # a sync client or `mv` puts another file in its place
    _other_project(tmp / "incoming.gemtune", ["their row"])
    os.replace(tmp / "incoming.gemtune", path)


def _overwrite(path: Path, tmp: Path) -> None:  # `cp other.gemtune Claims.gemtune`: same file, new bytes
    _other_project(tmp / "incoming.gemtune", ["their row"])
    shutil.copyfile(tmp / "incoming.gemtune", path)


CHANGES: dict[str, tuple[Callable[[Path, Path], None], str]] = {  # values of FileProblem
    "deleted": (_delete, "deleted"),
    "renamed away": (_rename_away, "deleted"),
    "replaced": (_replace, "replaced"),
    "overwritten in place": (_overwrite, "changed"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_next_edit_is_refused_plainly_and_save_as_keeps_everything(session: ProjectSession, tmp_path: Path,
                                                                       change: str) -> None:
    how, problem = CHANGES[change]
    failures: list[Any] = []
    session.write_failed.connect(failures.append)
    assert session.push(EditCellCommand(session, session.examples[5], "output", "edited before"))
    path = session.path
    how(path, tmp_path)
    snapshot = path.read_bytes() if path.exists() else None
    history = session.undo_stack.count()

    assert not session.push(EditCellCommand(session, session.examples[6], "output", "edited after"))
    assert session.save_state is SaveState.NOT_SAVED_FILE_LOST and session.store.lost == FileProblem(problem)
    assert not session.can_edit
    err = failures[-1]
    assert err.message.startswith("Not saved: “Claims.gemtune”") and "Your last change was not kept." in err.message
    assert "Save Project As" in err.hint and "nothing you typed is lost" in err.hint
    assert session.save_state_label.startswith("Not saved")
    assert session.undo_stack.count() == history  # the refused edit is not in the history
    assert session.examples[6].output == "answer 6"  # …nor on screen
    assert not session.push(RemoveRowsCommand(session, session.examples[:3]))
    assert len(session.examples) == 300

    rescued = session.save_to(tmp_path / "Claims (rescued).gemtune")
    assert session.save_state in (SaveState.SAVED_IN_FILE, SaveState.PENDING) and session.can_edit
    assert session.push(EditCellCommand(session, session.examples[6], "output", "edited in the copy"))
    assert session.undo() and session.examples[6].output == "answer 6"  # the history came along
    session.close()
    rows = _rows(rescued)
    assert len(rows) == 300
    conn = sqlite3.connect(rescued)
    assert conn.execute("SELECT output FROM examples WHERE input = 'question 5'").fetchone()[0] == "edited before"
    conn.close()
    # whatever now has the old name was not written to, now or when the session closed
    assert (path.read_bytes() if path.exists() else None) == snapshot
    if path.exists():
        assert _rows(path) == ["their row"]
    assert not path.with_name(path.name + "-wal").exists()


def test_a_focus_check_finds_the_loss_before_any_edit(session: ProjectSession, tmp_path: Path) -> None:
    lost: list[Any] = []
    states: list[SaveState] = []
    session.file_lost.connect(lost.append)
    session.save_state_changed.connect(states.append)
    assert session.check_file() is not SaveState.NOT_SAVED_FILE_LOST
    _replace(session.path, tmp_path)
    assert session.check_file() is SaveState.NOT_SAVED_FILE_LOST
    assert session.check_file() is SaveState.NOT_SAVED_FILE_LOST
    assert len(lost) == 1 and "replaced by another file" in lost[0].message  # said once, not on every focus
    assert states[-1] is SaveState.NOT_SAVED_FILE_LOST
    assert "Not saved" in session.save_state_text and "Save Project As" in session.save_state_text


def test_the_checkpoint_thread_notices_and_never_writes_the_new_file(session: ProjectSession, tmp_path: Path,
                                                                     qtbot: Any) -> None:
    assert session.push(EditCellCommand(session, session.examples[0], "note", "pending in the log"))
    _overwrite(session.path, tmp_path)
    before = session.path.read_bytes()
    session.flush_soon()  # what a focus loss asks for: the thread finds the file is not ours any more
    qtbot.waitUntil(lambda: session.save_state is SaveState.NOT_SAVED_FILE_LOST, timeout=10000)
    assert session.path.read_bytes() == before
    assert not session.flush()


def test_save_as_to_the_same_name_after_the_file_was_deleted(session: ProjectSession, tmp_path: Path) -> None:
    path = session.path
    assert session.push(EditCellCommand(session, session.examples[0], "output", "latest"))
    path.unlink()
    session.check_file()
    assert session.save_to(path) == path
    assert session.push(EditCellCommand(session, session.examples[1], "output", "after"))
    assert session.flush()
    copy = tmp_path / "copy.gemtune"
    shutil.copyfile(path, copy)  # the main file alone holds everything
    rows = sqlite3.connect(copy).execute("SELECT output FROM examples ORDER BY pos LIMIT 2").fetchall()
    assert rows == [("latest",), ("after",)]


def test_save_as_onto_a_replacement_open_in_another_window_is_refused(session: ProjectSession,
                                                                      tmp_path: Path) -> None:
    from gemtune_desktop.core.errors import ProjectLockedError

    path = session.path
    _replace(path, tmp_path)
    session.check_file()
    # another window opens the file that replaced ours under another name (a hard link to it)
    os.link(path, tmp_path / "their window.gemtune")
    other = ProjectStore.open(tmp_path / "their window.gemtune")
    try:
        before = path.read_bytes()
        with pytest.raises(ProjectLockedError):
            session.save_to(path)
        assert path.read_bytes() == before and session.save_state is SaveState.NOT_SAVED_FILE_LOST
    finally:
        other.close()


def test_save_as_writes_a_closed_copy_that_holds_the_lost_work(session: ProjectSession, tmp_path: Path) -> None:
    """What the window's Save As does: write the copy, then open it as the project (the session stays lost)."""
    assert session.push(EditCellCommand(session, session.examples[0], "output", "only in the log"))
    _overwrite(session.path, tmp_path)
    session.check_file()
    copy = session.save_as(tmp_path / "copy.gemtune")
    assert session.save_state is SaveState.NOT_SAVED_FILE_LOST  # this session still has no file
    reopened = ProjectSession.open(copy)  # closed and unlocked: the window opens it next
    try:
        assert len(reopened.examples) == 300 and reopened.examples[0].output == "only in the log"
    finally:
        reopened.close()

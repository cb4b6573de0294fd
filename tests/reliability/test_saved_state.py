""""Saved" means the .gemtune file alone holds the work (issue 13).

A user who e-mails, backs up or syncs the project file must get their work, also while the app is open and
after a crash. These tests copy the main file *alone* (no ``-wal`` beside it) at the moments the app says
"saved", open the copy, and count what is in it; and they follow the save state the window shows through a
burst of edits, an idle moment and a flush.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.project.checkpoint import CHECKPOINT_DELAY_S
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.qtcore.project_session import ProjectSession, SaveState
from gemtune_desktop.qtcore.undo import EditCellCommand

ROOT = Path(__file__).resolve().parents[2]


def copy_alone(path: Path, dest: Path) -> list[tuple[str, str]]:
    """What a copy of the main file alone (as an e-mail attachment or a backup gets it) holds."""
    shutil.copyfile(path, dest)
    assert not dest.with_name(dest.name + "-wal").exists()
    conn = sqlite3.connect(f"file:{dest}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in conn.execute("SELECT input, output FROM examples ORDER BY pos")]
    finally:
        conn.close()


def test_a_copy_of_the_file_after_a_20k_row_import_and_a_flush_holds_every_row(qapp: object, tmp_path: Path) -> None:
    s = ProjectSession.create(tmp_path / "Big.gemtune")
    try:
        rows = [Example(f"question {i}", f"answer {i}") for i in range(20_000)]
        assert s.import_examples(rows, "Import big.csv")
        assert s.save_state is SaveState.PENDING  # committed, in the log: the title must not say "saved" yet
        assert s.flush()
        assert s.save_state is SaveState.SAVED_IN_FILE
        got = copy_alone(s.path, tmp_path / "attachment.gemtune")
        assert len(got) == 20_000 and got[-1] == ("question 19999", "answer 19999")
    finally:
        s.close()


def test_the_file_catches_up_by_itself_after_a_burst_of_edits(qapp: object, qtbot: Any, tmp_path: Path) -> None:
    s = ProjectSession.create(tmp_path / "Typing.gemtune")
    states: list[SaveState] = []
    s.save_state_changed.connect(states.append)
    try:
        assert s.import_examples([Example(f"q{i}", f"a{i}") for i in range(50)], "seed")
        for k in range(30):  # a burst of typing
            assert s.push(EditCellCommand(s, s.examples[k % 5], "output", f"typed {k}"))
        assert s.save_state is SaveState.PENDING
        # nobody calls flush(): the checkpoint thread folds the log in once the edits pause
        qtbot.waitUntil(lambda: s.save_state is SaveState.SAVED_IN_FILE, timeout=int(CHECKPOINT_DELAY_S * 1000 * 5))
        got = copy_alone(s.path, tmp_path / "backup.gemtune")
        assert [o for _i, o in got[:5]] == ["typed 25", "typed 26", "typed 27", "typed 28", "typed 29"]
        assert states[0] is SaveState.PENDING and states[-1] is SaveState.SAVED_IN_FILE
        assert s.save_state_label == "Saved" and "Every change is saved in “Typing.gemtune”" in s.save_state_text
    finally:
        s.close()


def test_focus_loss_asks_for_the_file_to_catch_up_at_once(qapp: object, qtbot: Any, tmp_path: Path) -> None:
    s = ProjectSession.create(tmp_path / "Focus.gemtune")
    try:
        assert s.import_examples([Example("q", "a")], "seed")
        s.flush_soon()  # returns at once; the thread does it now, not after the idle delay
        qtbot.waitUntil(lambda: s.save_state is SaveState.SAVED_IN_FILE, timeout=int(CHECKPOINT_DELAY_S * 1000))
    finally:
        s.close()


CRASHER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QCoreApplication
    from gemtune_desktop.core.examples import Example
    from gemtune_desktop.qtcore.project_session import ProjectSession

    app = QCoreApplication([])
    s = ProjectSession.open(sys.argv[1])
    s.import_examples([Example("row " + str(i), "answer") for i in range(5000)], "Import")
    deadline = time.monotonic() + 30
    while s.save_state.value != "saved" and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    print("STATE", s.save_state.value, flush=True)
    time.sleep(60)  # killed here, with the project open
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_once_it_says_saved_a_crash_leaves_the_work_in_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "Crash.gemtune"
    ProjectStore.create(path).close()
    script = tmp_path / "crasher.py"
    script.write_text(CRASHER.format(root=str(ROOT)))
    child = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert child.stdout is not None
    line = child.stdout.readline()
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert line.strip() == "STATE saved"
    assert len(copy_alone(path, tmp_path / "synced by the cloud.gemtune")) == 5000


def test_before_an_export_the_file_catches_up_and_excels_limits_are_named(qapp: object, tmp_path: Path) -> None:
    s = ProjectSession.create(tmp_path / "Export.gemtune")
    try:
        assert s.import_examples([Example("fine", "ok"), Example("a bell\x07", "ok"), Example("x" * 40_000, "y")],
                                 "seed")
        assert s.prepare_export("csv", "out.csv") is None  # CSV holds everything
        assert s.save_state is SaveState.SAVED_IN_FILE  # and the project file is current before the export
        refused = s.prepare_export("xlsx", "out.xlsx")
        assert refused is not None
        assert refused.message.startswith("2 examples cannot be written to an Excel workbook, so out.xlsx was not "
                                          "written: row 2 (input): a control character (U+0007)")
        assert "row 3 (input): 40,000 characters; an Excel cell holds at most 32,767" in refused.message
        assert "export to CSV or JSON Lines" in refused.hint
    finally:
        s.close()

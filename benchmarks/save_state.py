"""Keeping the .gemtune file current costs the editor nothing: edit commits in a 1,000,000-row project.

Each figure is a ratio against one 60 Hz frame (16.7 ms), measured in the same run:

* edit_commit_1m_vs_frame: ``session.push(EditCellCommand)`` and the event-loop turn after it — the file
  identity check, the SQLite commit into the log, the checkpoint scheduling and the save-state signal;
  median of 60 edits (goal: under one frame);
* edit_commit_during_checkpoint_vs_frame: the same while the checkpoint thread folds a 50,000-row insert
  (tens of MB of log) into the main file — the worst moment for the GUI thread (goal: under one frame);
* saved_in_file_after_edits_vs_delay: seconds from the last edit of a burst until the session says
  SAVED_IN_FILE, against the promised idle delay (``CHECKPOINT_DELAY_S``; goal: 1.5).

Usage: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/save_state.py [--rows N]``
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import FRAME_S, make_project, result

FRAME_MS = FRAME_S * 1000
WORDS = ("refund", "order", "parcel", "Zahlung", "élève", "配送", "account", "invoice", "late", "cancel")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication([])
    tmp = Path(tempfile.mkdtemp())
    os.environ["GEMTUNE_HOME"] = str(tmp / "home")
    path = tmp / "big.gemtune"
    t0 = time.perf_counter()
    make_project(path, args.rows, WORDS)
    print(f"# built {args.rows:,} rows in {time.perf_counter() - t0:.1f} s")

    from gemtune_desktop.core.examples import Example
    from gemtune_desktop.core.project.checkpoint import CHECKPOINT_DELAY_S
    from gemtune_desktop.qtcore.project_session import ProjectSession, SaveState
    from gemtune_desktop.qtcore.undo import EditCellCommand

    session = ProjectSession.open(path, background_above=20_000)  # as the window opens it
    rng = random.Random(5)

    def timed_edits(n: int) -> list[float]:
        out = []
        for k in range(n):
            e = session.examples[rng.randrange(len(session.examples))]
            t = time.perf_counter()
            ok = session.push(EditCellCommand(session, e, "output", f"edited {k} {rng.random()}"))
            app.processEvents()
            out.append((time.perf_counter() - t) * 1000)
            assert ok
        return out

    timed_edits(5)  # warm-up
    plain = timed_edits(60)
    result("edit_commit_1m_vs_frame", statistics.median(plain), FRAME_MS, 1.0)
    print(f"# edit commit: median {statistics.median(plain):.2f} ms, worst {max(plain):.2f} ms")

    # a burst ends: how long until the file alone holds it?
    t = time.perf_counter()
    while session.save_state is not SaveState.SAVED_IN_FILE and time.perf_counter() - t < 60:
        app.processEvents()
        time.sleep(0.005)
    result("saved_in_file_after_edits_vs_delay", time.perf_counter() - t, CHECKPOINT_DELAY_S, 1.5, unit="s")

    assert session.import_examples([Example(f"bulk {i} " * 20, "answer " * 10) for i in range(50_000)], "bulk")
    session.flush_soon()  # the checkpoint thread now copies the whole insert into the main file
    time.sleep(0.05)
    during = timed_edits(40)
    result("edit_commit_during_checkpoint_vs_frame", statistics.median(during), FRAME_MS, 1.0)
    print(f"# during a checkpoint: median {statistics.median(during):.2f} ms, worst {max(during):.2f} ms")
    session.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())

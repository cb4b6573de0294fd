"""Crash safety: a separate process editing a project through the undo commands is killed with SIGKILL
at random moments; every edit it reported as committed must be in the file, and the file must be intact.

The child uses the same code path as the window (ProjectSession + the QUndoCommands of qtcore/undo.py),
with the checkpoint thread folding the log into the file behind it (and now and then asked to do it at
once, as a focus loss does). Before each command it prints ``TRY <op>`` and after ``OK <op>``; the parent
replays the reported operations on a plain list and checks the reopened file equals the state after the
last ``OK`` (or, if the kill hit between the commit and the print, after the pending ``TRY``). Reopening
also checks that the log the crash left beside the file is recognised as the project's own.

A quick run (:data:`QUICK_TRIALS`) is part of every test run; the full run of :data:`TRIALS` kills is marked
``slow`` and runs when asked for: ``pytest -m slow tests/reliability/test_crash_safety.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.qtcore.undo import move_pairs

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 200
QUICK_TRIALS = 8

CHILD = textwrap.dedent("""
    import json, random, sys
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QCoreApplication
    from gemtune_desktop.core.examples import Example
    from gemtune_desktop.qtcore.project_session import ProjectSession
    from gemtune_desktop.qtcore.undo import (EditCellCommand, InsertRowsCommand, MoveRowsCommand,
                                             RemoveRowsCommand)

    app = QCoreApplication([])
    session = ProjectSession.open(sys.argv[1])
    rng = random.Random(int(sys.argv[2]))
    stack = session.undo_stack
    print("READY", flush=True)
    k = 0
    while True:
        k += 1
        n = len(session.examples)
        kind = rng.choice("IIEEEDMURF" if n > 3 else "I")
        if kind == "F":
            session.flush_soon()  # what a focus loss asks for: the checkpoint thread runs right now
            continue
        if kind == "I":
            op = {{"op": "I", "at": rng.randint(0, n), "count": rng.randint(1, 3), "k": k}}
            exs = [Example(f"in-{{k}}-{{j}}", f"out-{{k}}-{{j}}") for j in range(op["count"])]
            cmd = InsertRowsCommand(session, op["at"], exs, "insert")
        elif kind == "E":
            at = rng.randrange(n)
            field = rng.choice(["input", "output", "note"])
            top = stack.command(stack.index() - 1) if stack.index() > 0 else None
            if isinstance(top, EditCellCommand) and top.example is session.examples[at] and top.field == field:
                continue  # would merge with the previous step; keep the replay simple
            op = {{"op": "E", "at": at, "field": field, "value": f"v{{k}}\\n{{'x' * rng.randint(0, 300)}}"}}
            cmd = EditCellCommand(session, session.examples[at], field, op["value"])
        elif kind == "D":
            rows = sorted(rng.sample(range(n), rng.randint(1, min(4, n - 1))))
            op = {{"op": "D", "rows": rows}}
            cmd = RemoveRowsCommand(session, [session.examples[i] for i in rows])
        elif kind == "M":
            rows = sorted(rng.sample(range(n), rng.randint(1, 3)))
            op = {{"op": "M", "rows": rows, "delta": rng.choice([-1, 1])}}
            cmd = MoveRowsCommand(session, rows, op["delta"])
        elif kind == "U":
            if not stack.canUndo():
                continue
            op = {{"op": "U"}}
            cmd = None
        else:
            if not stack.canRedo():
                continue
            op = {{"op": "R"}}
            cmd = None
        line = json.dumps(op)
        print("TRY " + line, flush=True)
        if cmd is not None:
            stack.push(cmd)
        elif op["op"] == "U":
            stack.undo()
        else:
            stack.redo()
        print("OK " + line, flush=True)
""")

State = tuple[tuple[str, str, str], ...]


class Replay:
    """The child's undo stack, replayed on plain tuples."""

    def __init__(self, start: State) -> None:
        self.history: list[State] = [start]
        self.idx = 0

    @property
    def state(self) -> State:
        return self.history[self.idx]

    def apply(self, op: dict) -> None:
        kind = op["op"]
        if kind == "U":
            self.idx -= 1
            return
        if kind == "R":
            self.idx += 1
            return
        rows = list(self.state)
        if kind == "I":
            k = op["k"]
            new = [(f"in-{k}-{j}", f"out-{k}-{j}", "") for j in range(op["count"])]
            rows[op["at"]:op["at"]] = new
        elif kind == "E":
            i, o, note = rows[op["at"]]
            value = op["value"]
            rows[op["at"]] = (value if op["field"] == "input" else i, value if op["field"] == "output" else o,
                              value if op["field"] == "note" else note)
        elif kind == "D":
            rows = [r for j, r in enumerate(rows) if j not in set(op["rows"])]
        elif kind == "M":
            for a, b in move_pairs(op["rows"], op["delta"], len(rows)):
                rows[a], rows[b] = rows[b], rows[a]
        self.history = [*self.history[:self.idx + 1], tuple(rows)]
        self.idx += 1


def _diff(on_disk: State, allowed: list[State]) -> str:
    out = []
    for want in allowed:
        first = next((i for i, (a, b) in enumerate(zip(on_disk, want, strict=False)) if a != b),
                     min(len(on_disk), len(want)))
        out.append(f"{len(on_disk)} vs {len(want)} rows, first difference at row {first}: "
                   f"{on_disk[first:first + 2]!r:.300} vs {want[first:first + 2]!r:.300}")
    return "; ".join(out)


def read_state(path: Path) -> State:
    store = ProjectStore.open(path)
    try:
        assert store.integrity_ok(), "the project file is damaged"
        return tuple((e.input, e.output, e.note) for e in repo.load_examples(store))
    finally:
        store.close()


def _full_run_requested(config: pytest.Config) -> bool:
    return "slow" in (config.getoption("markexpr") or "") or os.environ.get("GEMTUNE_SLOW_TESTS") == "1"


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_editor_never_loses_committed_edits(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if not _full_run_requested(request.config):
        pytest.skip(f"the {TRIALS}-kill run takes minutes: run it with -m slow (a {QUICK_TRIALS}-kill run is part "
                    f"of every test run)")
    _kill_trials(tmp_path, TRIALS)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_editor_never_loses_committed_edits_quick(tmp_path: Path) -> None:
    _kill_trials(tmp_path, QUICK_TRIALS)


def _kill_trials(tmp_path: Path, trials: int) -> None:
    path = tmp_path / "crash.gemtune"
    ProjectStore.create(path).close()
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(root=str(ROOT)))
    rng = random.Random(1234)
    total_ok = 0
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for trial in range(trials):
        start = read_state(path)
        # bufsize=0: readline() must not buffer lines past READY, or communicate() (which reads the raw pipe)
        # would never see them.
        child = subprocess.Popen([sys.executable, str(script), str(path), str(trial)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env, bufsize=0)
        assert child.stdout is not None
        first = child.stdout.readline().decode()
        assert first.strip() == "READY", first + child.stderr.read().decode() if child.stderr else ""
        time.sleep(rng.uniform(0.02, 1.2))  # let it edit for a random while, then pull the plug
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
        replay = Replay(start)
        pending: dict | None = None
        for raw in out.decode().splitlines():
            if raw.startswith("TRY "):
                pending = json.loads(raw[4:])
            elif raw.startswith("OK "):
                replay.apply(json.loads(raw[3:]))
                total_ok += 1
                pending = None
        committed = replay.state
        allowed = [committed]
        if pending is not None:
            extra = Replay(committed)
            extra.history, extra.idx = list(replay.history), replay.idx
            extra.apply(pending)
            allowed.append(extra.state)
        on_disk = read_state(path)
        assert on_disk in allowed, f"trial {trial}: file does not match the committed edits: {_diff(on_disk, allowed)}"
        # the file is a valid SQLite database with no leftover half-transaction
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    assert total_ok > trials  # the children really did edit

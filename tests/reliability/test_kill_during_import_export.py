"""An import and an export killed with SIGKILL midway (issue 7): the project and the existing export file are intact.

* **Import**: a child process imports large CSV files into a project the way the Dataset tab does
  (``core.formats.read_dataset`` on the file, then one ``InsertRowsCommand`` on the session's undo stack
  inside an "Import" macro), again and again, printing ``TRY k`` before and ``OK k`` after each import. It is
  killed at a random moment; the reopened project must pass ``PRAGMA integrity_check`` and hold every
  import reported ``OK``, plus either none or all of the pending one — never part of it.
* **Export**: a child process exports two different datasets over the same file in turn with
  ``core.formats.write_dataset`` (CSV, JSONL and XLSX). After the kill the file must be exactly the old
  content or one complete export — never half of one.
"""

from __future__ import annotations

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

from gemtune_desktop.core.examples import DatasetSettings, Example
from gemtune_desktop.core.formats import read_dataset, write_dataset
from gemtune_desktop.core.project import examples_repo
from gemtune_desktop.core.project.store import ProjectStore

ROOT = Path(__file__).resolve().parents[2]
IMPORT_TRIALS = 5
EXPORT_TRIALS = 3
ROWS_PER_FILE = 4000

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")]

IMPORT_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QCoreApplication
    from gemtune_desktop.core.formats import read_dataset
    from gemtune_desktop.qtcore.project_session import ProjectSession
    from gemtune_desktop.qtcore.undo import InsertRowsCommand

    app = QCoreApplication([])
    session = ProjectSession.open(sys.argv[1])
    files = sys.argv[2:]
    print("READY", flush=True)
    for k in range(10000):
        path = files[k % len(files)]
        result = read_dataset(path)
        examples = list(result.examples)
        for e in examples:
            e.id = 0  # new rows of this project, as the Dataset tab does
        print("TRY", k, flush=True)
        stack = session.undo_stack
        stack.beginMacro("Import " + path)
        try:
            stack.push(InsertRowsCommand(session, len(session.examples), examples, "Import " + path))
        finally:
            stack.endMacro()
        print("OK", k, flush=True)
""")

EXPORT_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from gemtune_desktop.core.examples import DatasetSettings, Example
    from gemtune_desktop.core.formats import write_dataset
    {make}
    path, fmt, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sets = [make("A", n), make("B", n)]
    settings = DatasetSettings(preamble="Answer briefly:")
    print("READY", flush=True)
    for k in range(10000):
        print("TRY", k % 2, flush=True)
        write_dataset(path, sets[k % 2], settings, fmt)
        print("OK", k % 2, flush=True)
""")

MAKE = ("def make(tag, n):\n"
        "        return [Example(f'{tag} question {i}: ' + 'w' * (i % 40), f'{tag} answer {i} ' + '✓' * (i % 3))"
        " for i in range(n)]")


def make(tag: str, n: int) -> list[Example]:
    namespace: dict[str, object] = {"Example": Example}
    exec(MAKE, namespace)  # the very generator the child runs
    return namespace["make"](tag, n)  # type: ignore[operator]


def _run_and_kill(args: list[str], delay: float, after_first_ok: bool = False) -> list[str]:
    """Start the child, wait for READY (and its first OK if asked), let it work for ``delay`` seconds, SIGKILL
    it; returns its stdout lines."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             bufsize=0)
    try:
        assert child.stdout is not None
        first = child.stdout.readline().decode()
        if first.strip() != "READY":
            child.kill()
            raise AssertionError(first + child.communicate(timeout=30)[1].decode()[-2000:])
        seen: list[str] = []
        while after_first_ok and not (seen and seen[-1].startswith("OK")):
            line = child.stdout.readline().decode()
            if not line:
                break
            seen.append(line.strip())
        time.sleep(delay)  # work for a random while, then pull the plug
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
    return seen + out.decode().splitlines()


def _last(lines: list[str]) -> tuple[int | None, int | None]:
    """(last k reported OK, k of a TRY not yet followed by its OK)."""
    ok: int | None = None
    pending: int | None = None
    for line in lines:
        word, _, k = line.partition(" ")
        if word == "TRY":
            pending = int(k)
        elif word == "OK":
            ok, pending = int(k), None
    return ok, pending


def test_killed_import_leaves_all_or_nothing_of_each_import(tmp_path: Path) -> None:
    files = []
    for tag in ("A", "B"):
        f = tmp_path / f"import_{tag}.csv"
        write_dataset(f, make(tag, ROWS_PER_FILE), DatasetSettings(), "csv")
        files.append(f)
    blocks = [[(e.input, e.output) for e in read_dataset(f).examples] for f in files]
    assert all(len(b) == ROWS_PER_FILE for b in blocks)
    script = tmp_path / "import_child.py"
    script.write_text(IMPORT_CHILD.format(root=str(ROOT)))
    rng = random.Random(7)
    imports_seen = 0
    interrupted = 0
    for trial in range(IMPORT_TRIALS):
        path = tmp_path / f"trial{trial}.gemtune"
        store = ProjectStore.create(path)
        examples_repo.insert(store, [Example("kept question", "kept answer")], [1.0])
        store.close()
        lines = _run_and_kill([str(script), str(path), *map(str, files)], rng.uniform(0.02, 0.8),
                              after_first_ok=trial == 0)
        ok, pending = _last(lines)
        committed = 0 if ok is None else ok + 1

        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"trial {trial}: damaged file"
        conn.close()
        store = ProjectStore.open(path)  # opens (the dead child's lock is gone) and reads
        try:
            rows = [(e.input, e.output) for e in examples_repo.load_examples(store)]
        finally:
            store.close()
        assert rows[0] == ("kept question", "kept answer")
        imported = rows[1:]
        whole, part = divmod(len(imported), ROWS_PER_FILE)
        assert part == 0, f"trial {trial}: {part} rows of a half-finished import are in the project"
        allowed = {committed, committed + 1} if pending is not None else {committed}
        assert whole in allowed, f"trial {trial}: {whole} imports on disk, {committed} reported (pending {pending})"
        for k in range(whole):
            assert imported[k * ROWS_PER_FILE:(k + 1) * ROWS_PER_FILE] == blocks[k % 2], f"import {k} differs"
        imports_seen += whole
        interrupted += pending is not None
    print(f"import: {imports_seen} whole imports on disk, {interrupted} of {IMPORT_TRIALS} kills during an import")
    assert imports_seen > 0 and interrupted > 0  # the children really imported, and were cut off mid-import


@pytest.mark.parametrize(("fmt", "rows"), [("csv", 10000), ("jsonl", 10000), ("xlsx", 1500)])
def test_killed_export_leaves_the_old_file_or_a_complete_new_one(tmp_path: Path, fmt: str, rows: int) -> None:
    settings = DatasetSettings(preamble="Answer briefly:")
    target = tmp_path / f"export.{fmt}"
    versions: dict[str, list[tuple[str, str]]] = {}
    for tag in ("OLD", "A", "B"):
        ref = tmp_path / f"ref_{tag}.{fmt}"
        write_dataset(ref, make(tag, rows if tag != "OLD" else 50), settings, fmt)
        versions[tag] = [(e.input, e.output) for e in read_dataset(ref).examples]
    script = tmp_path / "export_child.py"
    script.write_text(EXPORT_CHILD.format(root=str(ROOT), make=MAKE))
    rng = random.Random(fmt)
    finished = 0
    interrupted = 0
    for trial in range(EXPORT_TRIALS):
        write_dataset(target, make("OLD", 50), settings, fmt)  # the user's existing export
        lines = _run_and_kill([str(script), str(target), fmt, str(rows)], rng.uniform(0.02, 0.6),
                              after_first_ok=trial == 0)
        ok, pending = _last(lines)
        allowed = {"OLD" if ok is None else "AB"[ok]}
        if pending is not None:
            allowed.add("AB"[pending])
        on_disk = [(e.input, e.output) for e in read_dataset(target).examples]  # reads whole, or raises
        matches = [tag for tag, content in versions.items() if content == on_disk]
        assert matches and matches[0] in allowed, \
            f"trial {trial}: the export file holds {len(on_disk)} rows, matching {matches or 'no version'}; " \
            f"expected one of {sorted(allowed)}"
        finished += ok is not None
        interrupted += pending is not None
    print(f"export {fmt}: {finished} trials with a finished export, {interrupted} kills during an export")
    assert finished > 0 and interrupted > 0  # exports completed, and kills hit exports in progress

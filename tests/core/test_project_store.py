"""The project file: create/open, the one-editor lock, transactions, migration with backup, examples storage."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gemtune_desktop.core.errors import ProjectLockedError, UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.core.project import schema
from gemtune_desktop.core.project.store import ProjectOpenError, ProjectStore

ROOT = Path(__file__).resolve().parents[2]


def test_create_then_reopen_keeps_examples_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "Claims.gemtune"
    store = ProjectStore.create(path)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # NORMAL: commits don't wait for the disk; the store's flusher thread syncs the log right after.
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert store._flusher is not None and store._flusher.wait_idle(5.0)
    exs = [Example("q1", "a1"), Example("q2", "a2", Split.TEST, "t", "n")]
    repo.insert(store, exs, repo.positions_before(store, None, 2))
    settings = DatasetSettings(preamble="Classify:", system_instruction="Be brief", target=Target.AGENT_PLATFORM,
                               split_seed=7, split_ratios=(0.7, 0.2, 0.1))
    repo.save_settings(store, settings)
    store.close()
    assert not (tmp_path / "Claims.gemtune-wal").exists() or (tmp_path / "Claims.gemtune-wal").stat().st_size == 0

    again = ProjectStore.open(path)
    loaded = repo.load_examples(again)
    assert [(e.input, e.output, e.split, e.tags, e.note) for e in loaded] == [
        ("q1", "a1", Split.TRAIN, "", ""), ("q2", "a2", Split.TEST, "t", "n")]
    s = repo.load_settings(again)
    assert (s.preamble, s.system_instruction, s.target, s.split_seed, s.split_ratios) == (
        "Classify:", "Be brief", Target.AGENT_PLATFORM, 7, (0.7, 0.2, 0.1))
    assert again.integrity_ok()
    again.close()


def test_second_open_in_same_process_is_refused_until_closed(tmp_path: Path) -> None:
    path = tmp_path / "p.gemtune"
    first = ProjectStore.create(path)
    with pytest.raises(ProjectLockedError) as info:
        ProjectStore.open(path)
    assert "p.gemtune" in info.value.message
    assert "other window" in info.value.hint.lower()
    reader = ProjectStore.open(path, read_only=True)  # reading is allowed, writing is not
    with pytest.raises(UserError), reader.transaction():
        pass
    reader.close()
    first.close()
    ProjectStore.open(path).close()


def test_lock_refuses_another_process_and_is_freed_when_it_dies(tmp_path: Path) -> None:
    path = tmp_path / "shared.gemtune"
    ProjectStore.create(path).close()
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from gemtune_desktop.core.project.store import ProjectStore
        s = ProjectStore.open({str(path)!r})
        print("open", flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "open"
        with pytest.raises(ProjectLockedError):
            ProjectStore.open(path)
    finally:
        child.kill()
        child.communicate()
    # The OS released the dead process's lock: no stale lock blocks the user.
    store = ProjectStore.open(path)
    assert store.integrity_ok()
    store.close()


def test_second_process_gets_locked_error(tmp_path: Path) -> None:
    path = tmp_path / "mine.gemtune"
    store = ProjectStore.create(path)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from gemtune_desktop.core.errors import ProjectLockedError
        from gemtune_desktop.core.project.store import ProjectStore
        try:
            ProjectStore.open({str(path)!r})
        except ProjectLockedError as exc:
            print("LOCKED", exc.message)
        else:
            print("OPENED")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    store.close()
    assert out.stdout.startswith("LOCKED"), out.stdout + out.stderr
    assert "mine.gemtune" in out.stdout


def _write_v0(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '0');
        CREATE TABLE examples (id INTEGER PRIMARY KEY, pos REAL NOT NULL, input TEXT NOT NULL, output TEXT NOT NULL);
        INSERT INTO examples VALUES (1, 1.0, 'old question', 'old answer');
        INSERT INTO examples VALUES (2, 2.0, 'second', 'reply');
    """)
    conn.commit()
    conn.close()


def test_older_project_is_backed_up_then_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.gemtune"
    _write_v0(path)
    step = """
        ALTER TABLE examples ADD COLUMN split TEXT NOT NULL DEFAULT 'train';
        ALTER TABLE examples ADD COLUMN tags TEXT NOT NULL DEFAULT '';
        ALTER TABLE examples ADD COLUMN note TEXT NOT NULL DEFAULT '';
    """
    monkeypatch.setitem(schema.MIGRATIONS, 0, step)
    store = ProjectStore.open(path)
    try:
        assert store.schema_version == schema.SCHEMA_VERSION
        assert [(e.input, e.output, e.split) for e in repo.load_examples(store)] == [
            ("old question", "old answer", Split.TRAIN), ("second", "reply", Split.TRAIN)]
        # tables added since version 0 exist now
        store.conn.execute("SELECT COUNT(*) FROM jobs").fetchone()
        backup = store.backup_path
        assert backup is not None and backup.parent == tmp_path
        assert backup.name.startswith("old.gemtune.bak-v0-")
    finally:
        store.close()
    old = sqlite3.connect(backup)
    assert old.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "0"
    assert [r[1] for r in old.execute("PRAGMA table_info(examples)")] == ["id", "pos", "input", "output"]
    old.close()
    # Reopening does not migrate (or back up) again.
    again = ProjectStore.open(path)
    assert again.backup_path is None
    again.close()


def test_failed_migration_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.gemtune"
    _write_v0(path)
    monkeypatch.setitem(schema.MIGRATIONS, 0, "ALTER TABLE examples ADD COLUMN split TEXT; SELECT * FROM nowhere;")
    with pytest.raises(sqlite3.Error):
        ProjectStore.open(path)
    conn = sqlite3.connect(path)
    assert [r[1] for r in conn.execute("PRAGMA table_info(examples)")] == ["id", "pos", "input", "output"]
    conn.close()
    with pytest.raises(sqlite3.Error):  # not ProjectLockedError: the failed open released its lock
        ProjectStore.open(path)


def test_newer_or_foreign_files_are_refused_plainly(tmp_path: Path) -> None:
    newer = tmp_path / "new.gemtune"
    ProjectStore.create(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(schema.SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(ProjectOpenError, match="newer version"):
        ProjectStore.open(newer)
    text = tmp_path / "notes.gemtune"
    text.write_text("input,output\nhello,world\n")
    with pytest.raises(ProjectOpenError, match="not a GemTune project"):
        ProjectStore.open(text)
    with pytest.raises(ProjectOpenError, match="not found"):
        ProjectStore.open(tmp_path / "missing.gemtune")
    # a refused open does not leave the lock behind
    assert not (tmp_path / "notes.gemtune.lock").exists()


def test_transaction_rolls_back_on_error_and_nests(tmp_path: Path) -> None:
    store = ProjectStore.create(tmp_path / "t.gemtune")
    with pytest.raises(RuntimeError), store.transaction():
        repo.insert(store, [Example("a", "b")], [1.0])
        raise RuntimeError("boom")
    assert repo.count(store) == 0
    with store.transaction():
        repo.insert(store, [Example("a", "b")], [1.0])
        with pytest.raises(ValueError), store.transaction():
            repo.insert(store, [Example("c", "d")], [2.0])
            raise ValueError
    assert [e.input for e in repo.load_examples(store)] == ["a"]
    store.close()


def test_save_as_copy_is_complete_and_independent(tmp_path: Path) -> None:
    store = ProjectStore.create(tmp_path / "a.gemtune")
    repo.insert(store, [Example(f"q{i}", f"a{i}") for i in range(50)], repo.positions_before(store, None, 50))
    copy_path = store.backup_to(tmp_path / "b.gemtune")
    repo.delete(store, [1, 2, 3])
    store.close()
    copy = ProjectStore.open(copy_path)
    assert repo.count(copy) == 50 and copy.integrity_ok()
    copy.close()


def test_positions_insert_move_delete_keep_order(tmp_path: Path) -> None:
    store = ProjectStore.create(tmp_path / "o.gemtune")
    exs = [Example(str(i), "x") for i in range(3)]
    repo.insert(store, exs, repo.positions_before(store, None, 3))
    # insert many times at the same spot: gaps run out and the rows are renumbered, order kept
    for n in range(80):
        new = [Example(f"m{n}", "y")]
        repo.insert(store, new, repo.positions_before(store, exs[1].id, 1))
    order = [e.input for e in repo.load_examples(store)]
    assert order[0] == "0" and order[-1] == "2" and order[-2] == "1" and order[-3] == "m79" and order[1] == "m0"
    pos = repo.positions(store, [exs[0].id, exs[2].id])
    repo.set_positions(store, [(exs[0].id, pos[exs[2].id]), (exs[2].id, pos[exs[0].id])])
    order = [e.input for e in repo.load_examples(store)]
    assert order[0] == "2" and order[-1] == "0"
    repo.update_fields(store, [(exs[1].id, "output", "changed"), (exs[1].id, "split", "validation")])
    got = repo.get_example(store, exs[1].id)
    assert got is not None and got.output == "changed" and got.split is Split.VALIDATION
    repo.delete(store, [exs[1].id])
    assert repo.get_example(store, exs[1].id) is None
    store.close()

"""The project file: create/open, the one-editor lock, transactions, migration with backup, examples storage."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from gemtune_desktop.core.errors import ProjectLockedError, UserError
from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.project import examples_repo as repo
from gemtune_desktop.core.project import schema
from gemtune_desktop.core.project.store import ProjectOpenError, ProjectStore
from gemtune_desktop.core.project.write_errors import RowsMissingError

ROOT = Path(__file__).resolve().parents[2]


def test_create_then_reopen_keeps_examples_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "Claims.gemtune"
    store = ProjectStore.create(path)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # NORMAL: commits don't wait for the disk; the store's checkpoint thread syncs the log right after.
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert store.wait_idle(5.0)
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
    before = path.read_bytes()
    with pytest.raises(ProjectOpenError, match="could not be upgraded") as info:
        ProjectStore.open(path)
    assert "not changed" in info.value.hint
    conn = sqlite3.connect(path)
    assert [r[1] for r in conn.execute("PRAGMA table_info(examples)")] == ["id", "pos", "input", "output"]
    conn.close()
    for _ in range(3):  # not ProjectLockedError: the failed open released its lock
        with pytest.raises(ProjectOpenError, match="could not be upgraded"):
            ProjectStore.open(path)
    # the file is byte for byte as it was, and the failed attempts left no backups behind (issue 13)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "gemtune-home") == ["old.gemtune"]


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


# -- one file, one editor, whatever its name (issue 13) -------------------------------------------------------
def test_a_symlink_or_a_hard_link_to_an_open_project_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "real.gemtune"
    first = ProjectStore.create(path)
    (tmp_path / "other-folder").mkdir()
    link = tmp_path / "other-folder" / "shortcut.gemtune"
    link.symlink_to(path)
    hard = tmp_path / "other-folder" / "second-name.gemtune"
    os.link(path, hard)
    for name in (link, hard):
        with pytest.raises(ProjectLockedError) as info:
            ProjectStore.open(name)
        assert name.name in info.value.message and "another window" in info.value.message
    first.close()
    for name in (link, hard):  # once it is closed, any name opens it (and only one at a time)
        store = ProjectStore.open(name)
        with pytest.raises(ProjectLockedError):
            ProjectStore.open(path)
        store.close()


def test_an_update_that_touches_no_row_is_an_error_not_a_success(tmp_path: Path) -> None:
    store = ProjectStore.create(tmp_path / "p.gemtune")
    exs = [Example("q", "a"), Example("q2", "a2")]
    repo.insert(store, exs, [1.0, 2.0])
    other = sqlite3.connect(tmp_path / "p.gemtune")  # another program deletes a row behind the app's back
    other.execute("DELETE FROM examples WHERE id = ?", (exs[0].id,))
    other.commit()
    other.close()
    with pytest.raises(RowsMissingError, match="no longer in the project file"):
        repo.update_fields(store, [(exs[0].id, "output", "changed")])
    with pytest.raises(RowsMissingError):
        repo.delete(store, [exs[0].id, exs[1].id])
    with pytest.raises(RowsMissingError):
        repo.set_positions(store, [(exs[0].id, 5.0)])
    assert [e.output for e in repo.load_examples(store)] == ["a2"]  # the failed delete changed nothing
    store.close()


def test_save_as_over_a_project_open_elsewhere_is_refused_before_anything_is_replaced(tmp_path: Path) -> None:
    mine = ProjectStore.create(tmp_path / "mine.gemtune")
    repo.insert(mine, [Example("mine", "a")], [1.0])
    theirs_path = tmp_path / "theirs.gemtune"
    theirs = ProjectStore.create(theirs_path)
    repo.insert(theirs, [Example("theirs", "b")], [1.0])
    theirs.flush()
    before = theirs_path.read_bytes()
    with pytest.raises(ProjectLockedError, match="another window"):
        mine.save_as(theirs_path)
    assert theirs_path.read_bytes() == before
    assert [e.input for e in repo.load_examples(theirs)] == ["theirs"]
    with pytest.raises(UserError, match="the project itself"):
        mine.save_as(tmp_path / "mine.gemtune")
    theirs.close()
    copy = mine.save_as(theirs_path)  # closed there: now it may be replaced
    assert [e.input for e in repo.load_examples(copy)] == ["mine"]
    with pytest.raises(ProjectLockedError):
        ProjectStore.open(theirs_path)  # the copy is open, under its locks
    copy.close()
    mine.close()


# -- a refused open changes nothing (issue 13) ----------------------------------------------------------------
def _folder(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.parent.iterdir()) if p.is_file()}


def test_a_zero_byte_file_is_refused_and_stays_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.gemtune"
    path.write_bytes(b"")
    with pytest.raises(ProjectOpenError, match="empty"):
        ProjectStore.open(path)
    assert _folder(path) == {"empty.gemtune": b""}


def test_another_programs_database_is_refused_and_not_converted_to_wal(tmp_path: Path) -> None:
    path = tmp_path / "browser-history.gemtune"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE urls (url TEXT); INSERT INTO urls VALUES ('https://example.com');")
    conn.commit()
    conn.close()
    before = _folder(path)
    with pytest.raises(ProjectOpenError, match="not a GemTune project"):
        ProjectStore.open(path)
    assert _folder(path) == before  # still in its own journal mode, byte for byte
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_a_corrupted_page_that_breaks_a_pragma_is_a_plain_message(tmp_path: Path) -> None:
    """A damaged schema page makes SQLite's error text invalid UTF-8, which used to escape as UnicodeDecodeError."""
    good = tmp_path / "good.gemtune"
    ProjectStore.create(good).close()
    data = bytearray(good.read_bytes())
    at = data.find(b"CREATE TABLE jobs")
    data[at + 4] = 0xFF  # "CREA\xffE TABLE jobs": the schema no longer parses
    path = tmp_path / "damaged.gemtune"
    path.write_bytes(bytes(data))
    with pytest.raises(sqlite3.DatabaseError):  # what SQLite itself says, in bytes Python cannot decode…
        try:
            sqlite3.connect(path).execute("PRAGMA journal_mode=WAL")
        except UnicodeDecodeError as exc:
            raise sqlite3.DatabaseError(str(exc)) from exc
    before = _folder(path)
    for _ in range(3):
        with pytest.raises(ProjectOpenError, match="damaged") as info:
            ProjectStore.open(path)
        assert "backup" in info.value.hint
    assert _folder(path) == before


def test_a_symlink_loop_is_a_plain_message(tmp_path: Path) -> None:
    (tmp_path / "a.gemtune").symlink_to(tmp_path / "b.gemtune")
    (tmp_path / "b.gemtune").symlink_to(tmp_path / "a.gemtune")
    with pytest.raises(ProjectOpenError, match="leads back to itself"):
        ProjectStore.open(tmp_path / "a.gemtune")
    with pytest.raises(ProjectOpenError):
        ProjectStore.create(tmp_path / "a.gemtune", overwrite=True)


def _crash_leaving_a_log(path: Path, rows: list[str]) -> None:
    """A process that commits ``rows`` into ``path`` and dies before checkpointing (its -wal stays)."""
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from gemtune_desktop.core.examples import Example
        from gemtune_desktop.core.project import examples_repo as repo
        from gemtune_desktop.core.project.store import ProjectStore
        s = ProjectStore.open({str(path)!r})
        repo.insert(s, [Example(t, "a") for t in {rows!r}], [float(i + 10) for i in range({len(rows)})])
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_a_log_left_by_another_project_is_not_replayed_into_this_one(tmp_path: Path) -> None:
    a, b = tmp_path / "a.gemtune", tmp_path / "b.gemtune"
    for p in (a, b):
        ProjectStore.create(p).close()
    _crash_leaving_a_log(a, ["from a"])
    assert (tmp_path / "a.gemtune-wal").stat().st_size > 32
    (tmp_path / "a.gemtune-wal").rename(tmp_path / "b.gemtune-wal")  # a sync client or a user moved it
    before = b.read_bytes()
    with pytest.raises(ProjectOpenError, match="change log") as info:
        ProjectStore.open(b)
    assert "b.gemtune-wal" in info.value.hint and "not changed" in info.value.hint
    with pytest.raises(ProjectOpenError, match="change log"):
        ProjectStore.open(b, read_only=True)
    assert b.read_bytes() == before
    (tmp_path / "b.gemtune-wal").unlink()
    store = ProjectStore.open(b)
    assert repo.count(store) == 0
    store.close()


def test_the_log_a_crash_left_is_recognised_as_the_projects_own(tmp_path: Path) -> None:
    path = tmp_path / "crashed.gemtune"
    ProjectStore.create(path).close()
    _crash_leaving_a_log(path, ["kept 1", "kept 2"])
    store = ProjectStore.open(path)
    assert [e.input for e in repo.load_examples(store)] == ["kept 1", "kept 2"]
    assert store.flush() and store.saved_in_file
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM examples").fetchone()[0] == 2
    conn.close()


def test_a_new_project_does_not_pick_up_a_stale_log_left_at_its_name(tmp_path: Path) -> None:
    old = tmp_path / "old.gemtune"
    ProjectStore.create(old).close()
    _crash_leaving_a_log(old, ["stale"])
    old.unlink()  # the file was deleted; its log stayed behind
    fresh = ProjectStore.create(old)
    assert repo.count(fresh) == 0 and fresh.integrity_ok()
    fresh.close()


def test_a_read_only_file_or_folder_opens_read_only(tmp_path: Path) -> None:
    from tests.reliability.helpers import read_only

    for what in ("file", "folder"):
        folder = tmp_path / what
        folder.mkdir()
        path = folder / "p.gemtune"
        store = ProjectStore.create(path)
        repo.insert(store, [Example("q", "a")], [1.0])
        store.close()
        target = path if what == "file" else folder
        with read_only(target):
            ro = ProjectStore.open(path)
            try:
                assert ro.read_only and ro.read_only_reason == what
                assert [e.input for e in repo.load_examples(ro)] == ["q"]
                with pytest.raises(UserError, match="read-only"), ro.transaction():
                    pass
            finally:
                ro.close()


def test_cells_that_are_not_text_are_read_as_text_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "hand-edited.gemtune"
    store = ProjectStore.create(path)
    repo.insert(store, [Example(f"q{i}", f"a{i}") for i in range(5)], [1.0, 2.0, 3.0, 4.0, 5.0])
    store.close()
    conn = sqlite3.connect(path)  # another tool wrote values of the wrong kind (no NOT NULL in its copy)
    conn.executescript("""
        PRAGMA writable_schema = ON;
        UPDATE sqlite_master SET sql = replace(replace(sql, 'NOT NULL', ''), 'TEXT', '') WHERE name = 'examples';
    """)
    conn.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE examples SET input = NULL WHERE id = 1")
    conn.execute("UPDATE examples SET output = 42 WHERE id = 2")
    conn.execute("UPDATE examples SET output = 2.5 WHERE id = 3")
    conn.execute("UPDATE examples SET note = ? WHERE id = 4", (b"\xff\xfebinary",))
    conn.execute("UPDATE examples SET tags = CAST(x'C328' AS TEXT) WHERE id = 5")  # not valid UTF-8
    conn.commit()
    conn.close()
    store = ProjectStore.open(path)
    repairs: Counter[str] = Counter()
    loaded = repo.load_examples(store, repairs)
    store.close()
    assert [(e.input, e.output) for e in loaded][:3] == [("", "a0"), ("q1", "42"), ("q2", "2.5")]
    assert all(isinstance(getattr(e, f), str) for e in loaded for f in ("input", "output", "tags", "note"))
    assert "\ufffd" in loaded[3].note and "\ufffd" in loaded[4].tags
    assert repairs == Counter({"empty": 1, "number": 2, "binary": 1, "undecodable": 1})

"""Preference examples in a real project file: order, edits, ids, durability, and the upgrade of older files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.core.project import examples_repo, schema
from gemtune_desktop.core.project import preference_repo as repo
from gemtune_desktop.core.project.store import ProjectStore


def texts(store: ProjectStore) -> list[str]:
    return [e.prompt for e in repo.load(store)]


def test_every_field_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "keep.gemtune"
    store = ProjectStore.create(path)
    examples = [PreferenceExample("Prompt “1”\n", "Bevorzugt ✓", "Rejected 🎉", "Own instruction", Split.VALIDATION,
                                  "t1, t2", "a note", "review:3:17"),
                PreferenceExample("Q2", "A", "B")]
    ids = repo.insert(store, examples, repo.positions_before(store, None, 2))
    assert ids == [1, 2] and [e.id for e in examples] == ids
    store.close()
    again = ProjectStore.open(path)
    try:
        assert repo.load(again) == examples
        assert repo.get(again, 1) == examples[0] and repo.get(again, 99) is None
        assert repo.count(again) == 2
    finally:
        again.close()


def test_insert_before_move_edit_and_delete_keep_the_users_order(store: ProjectStore) -> None:
    repo.insert(store, [PreferenceExample(t, "a", "b") for t in "ACE"], repo.positions_before(store, None, 3))
    ids = {e.prompt: e.id for e in repo.load(store)}
    repo.insert(store, [PreferenceExample("B", "a", "b")], repo.positions_before(store, ids["C"], 1))
    repo.insert(store, [PreferenceExample("D", "a", "b")], repo.positions_before(store, ids["E"], 1))
    assert texts(store) == list("ABCDE")
    repo.set_positions(store, [(ids["A"], 100.0)])
    assert texts(store) == list("BCDEA")
    repo.update_fields(store, [(ids["C"], "preferred", "better"), (ids["C"], "split", "test")])
    changed = repo.get(store, ids["C"])
    assert changed is not None and changed.preferred == "better" and changed.split is Split.TEST
    with pytest.raises(KeyError):
        repo.update_fields(store, [(ids["C"], "source", "sneaky")])  # where an example came from is not editable
    repo.delete(store, [ids["C"], ids["E"]])
    assert texts(store) == list("BDA")


def test_many_inserts_at_one_place_renumber_instead_of_running_out_of_room(store: ProjectStore) -> None:
    repo.insert(store, [PreferenceExample("first", "a", "b"), PreferenceExample("last", "a", "b")],
                repo.positions_before(store, None, 2))
    last = repo.load(store)[-1].id
    for n in range(80):  # halving the gap 80 times leaves no room in a double
        repo.insert(store, [PreferenceExample(f"m{n}", "a", "b")], repo.positions_before(store, last, 1))
    prompts = texts(store)
    assert prompts[0] == "first" and prompts[-1] == "last" and prompts[1:-1] == [f"m{n}" for n in range(80)]


def test_ids_are_never_reused_and_undo_can_restore_an_id(store: ProjectStore) -> None:
    repo.insert(store, [PreferenceExample("a", "x", "y"), PreferenceExample("b", "x", "y")],
                repo.positions_before(store, None, 2))
    removed = repo.get(store, 2)
    assert removed is not None
    repo.delete(store, [2])
    [new] = [PreferenceExample("c", "x", "y")]
    repo.insert(store, [new], repo.positions_before(store, None, 1))
    assert new.id == 3  # id 2 may still be referred to by the undo history
    repo.insert(store, [removed], repo.positions_before(store, 3, 1))  # undo of the delete
    assert [e.id for e in repo.load(store)] == [1, 2, 3]


def test_a_failed_insert_stores_nothing_and_gives_no_ids(store: ProjectStore) -> None:
    repo.insert(store, [PreferenceExample("a", "x", "y")], [1.0])
    clash = PreferenceExample("dup", "x", "y", id=1)  # an id already stored
    fresh = PreferenceExample("fresh", "x", "y")
    with pytest.raises(sqlite3.IntegrityError):
        repo.insert(store, [fresh, clash], [2.0, 3.0])
    assert fresh.id == 0 and texts(store) == ["a"]


def test_sources_find_the_votes_already_converted(store: ProjectStore) -> None:
    repo.insert(store, [PreferenceExample("a", "x", "y", source="review:3:1"),
                        PreferenceExample("b", "x", "y", source="correction:3:2:0"),
                        PreferenceExample("c", "x", "y", source="review:31:1"),
                        PreferenceExample("d", "x", "y")], repo.positions_before(store, None, 4))
    assert repo.sources(store) == {"review:3:1", "correction:3:2:0", "review:31:1"}
    assert repo.sources(store, "review:3:") == {"review:3:1"}


def test_preference_and_supervised_examples_live_side_by_side(store: ProjectStore) -> None:
    from gemtune_desktop.core.examples import Example

    examples_repo.insert(store, [Example("in", "out")], [1.0])
    repo.insert(store, [PreferenceExample("p", "a", "b")], [1.0])
    assert [e.input for e in examples_repo.load_examples(store)] == ["in"] and texts(store) == ["p"]


def _as_version_1(path: Path) -> None:
    """Turn a current project into one written by the previous version (no preference table, version 1)."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE preference_examples")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


def test_a_version_1_project_is_backed_up_then_gains_the_preference_table(tmp_path: Path) -> None:
    from gemtune_desktop.core.examples import Example

    path = tmp_path / "old.gemtune"
    first = ProjectStore.create(path)
    examples_repo.insert(first, [Example("kept", "as is")], [1.0])
    first.close()
    _as_version_1(path)
    store = ProjectStore.open(path)
    try:
        assert store.schema_version == schema.SCHEMA_VERSION == 3
        assert store.backup_path is not None and store.backup_path.name.startswith("old.gemtune.bak-v1-")
        assert [e.input for e in examples_repo.load_examples(store)] == ["kept"]
        repo.insert(store, [PreferenceExample("p", "a", "b")], [1.0])
        assert texts(store) == ["p"]
    finally:
        store.close()
    backup = sqlite3.connect(store.backup_path)
    assert backup.execute("SELECT name FROM sqlite_master WHERE name = 'preference_examples'").fetchone() is None
    backup.close()


def test_the_migration_is_plain_create_if_not_exists() -> None:
    """Renumbering the step when branches merge must be trivial, and running it twice harmless."""
    step = schema.MIGRATIONS[1]
    assert isinstance(step, str)
    code = "\n".join(line for line in step.splitlines() if not line.strip().startswith("--"))
    statements = [s.strip() for s in code.split(";") if s.strip()]
    assert len(statements) == 3 and all(s.startswith("CREATE") and "IF NOT EXISTS" in s for s in statements)
    conn = sqlite3.connect(":memory:")
    conn.executescript(step)
    conn.executescript(step)
    conn.close()

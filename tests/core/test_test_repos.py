"""Console history and evaluation runs in a real project file (SQLite), including the side-thread writer."""

from __future__ import annotations

import threading

import pytest

from gemtune_desktop.core.project import evals_repo, history_repo
from gemtune_desktop.core.project.evals_repo import EvalRow, EvalRun, RowWriter, SideStore
from gemtune_desktop.core.project.store import ProjectStore


def test_history_search_is_case_insensitive_and_literal(store: ProjectStore) -> None:
    for prompt in ("What is a LEASE?", "100% rent increase?", "Deposit rules"):
        history_repo.add_entry(store, history_repo.HistoryEntry(model="gemini-3.5-flash", prompt=prompt,
                                                                response={"candidates": [{"text": "ok"}]}))
    assert [e.prompt for e in history_repo.list_entries(store, "lease")] == ["What is a LEASE?"]
    assert [e.prompt for e in history_repo.list_entries(store, "100%")] == ["100% rent increase?"]
    assert len(history_repo.list_entries(store, "%")) == 1  # % is matched literally, not as a wildcard
    newest = history_repo.list_entries(store)[0]
    assert newest.prompt == "Deposit rules" and newest.answer_text == "ok"
    history_repo.delete_entry(store, newest.id)
    assert history_repo.count(store) == 2


def test_runs_rows_reviews_and_resume_keys(store: ProjectStore) -> None:
    run = EvalRun(models=["a", "b"], settings={"example_ids": [1, 2], "labels": ["Base", ""]})
    run_id = evals_repo.create_run(store, run)
    assert run.labels == ["Base", "b"] and run.expected_rows == 4
    evals_repo.store_rows(store, [EvalRow(run_id, 1, 0, "q", "x", "x"), EvalRow(run_id, 1, 1, "q", "x", "", error="e")])
    assert evals_repo.done_keys(store, run_id) == {(1, 0)}  # the failed answer is sent again on resume
    evals_repo.set_review(store, run_id, 1, "b")
    with pytest.raises(ValueError):
        evals_repo.set_review(store, run_id, 1, "maybe")
    evals_repo.update_run(store, run_id, status=evals_repo.DONE, metrics={"models": []})
    again = evals_repo.get_run(store, run_id)
    assert again is not None and again.status == "done" and again.metrics == {"models": []}
    assert evals_repo.reviews(store, run_id) == {1: "b"}
    evals_repo.delete_run(store, run_id)
    assert evals_repo.list_runs(store) == [] and evals_repo.list_rows(store, run_id) == []


def test_row_writer_commits_from_threads_beside_the_main_connection(store: ProjectStore) -> None:
    run_id = evals_repo.create_run(store, EvalRun(models=["a"], settings={"example_ids": list(range(200))}))
    writer = RowWriter(store.path, flush_every_s=0.01)

    def produce(start: int) -> None:
        for i in range(start, start + 50):
            writer.put(EvalRow(run_id, i, 0, f"q{i}", "x", "x"))

    threads = [threading.Thread(target=produce, args=(n * 50,)) for n in range(4)]
    for t in threads:
        t.start()
    # The GUI's connection keeps writing meanwhile (busy_timeout covers the overlap).
    history_repo.add_entry(store, history_repo.HistoryEntry(model="m", prompt="p"))
    for t in threads:
        t.join()
    assert writer.close() == 200
    assert len(evals_repo.done_keys(store, run_id)) == 200
    side = SideStore(store.path)
    try:
        evals_repo.update_run(side, run_id, status=evals_repo.STOPPED)
    finally:
        side.close()
    assert evals_repo.get_run(store, run_id).status == "stopped"

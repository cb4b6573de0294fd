"""From review to data: blind-review votes and typed corrections become preference examples, and the review
stays blind (nothing on screen says which model answered, over real HTTP against the Sandbox too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QPlainTextEdit

from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import evals_repo, jobs_repo, preference_repo
from tests.ui.test_test_tab import BASE, FAST, make_examples, open_project
from tests.ui.test_test_tab_judge import evaluate

ENDPOINT = "projects/sandbox-project/locations/us/endpoints/tuned"
LABEL = "lease-bot (tuned from gemini-3.5-flash)"


@pytest.fixture
def review_env(fake_window: Any, cloud: Any, qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    examples = make_examples(6)
    learned = {e.input: e.output for e in examples}
    cloud.answer = lambda request: learned[request.prompt] if request.model == ENDPOINT else "It depends."
    project = open_project(fake_window, tmp_path / "review.gemtune", examples)
    jobs_repo.add_job(project.store, JobRecord(connection_kind="sandbox", backend="agent-platform",
                                               display_name="lease-bot", base_model=BASE, state=JobState.SUCCEEDED,
                                               resource_name="fake/tuningJobs/1", endpoint=ENDPOINT))
    fake_window.ctx.jobs_changed.emit()
    fake_window.show_tab("test")
    tab = fake_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models))
    run = evaluate(qtbot, tab, [BASE, ENDPOINT])
    yield tab, project, run
    fake_window.close()
    project.close()


def picked_slot(dialog: Any, key: str) -> int:
    return dialog.shown_order(dialog.current())[int(key) - 1]


def test_each_vote_or_all_votes_become_preference_examples(review_env: Any, qtbot: Any) -> None:
    tab, project, run = review_env
    answers = {(r.example_id, r.slot): r.actual for r in evals_repo.list_rows(project.store, run.id)}
    dialog = tab.evaluation.open_review()
    assert dialog is not None
    first = dialog.current().example_id
    slot = picked_slot(dialog, "2")
    dialog.vote("2")
    assert preference_repo.count(project.store) == 0, "a vote alone changes no data"
    dialog.back.click()
    assert dialog.current().example_id == first and dialog.vote_to_preference.isEnabled()
    with qtbot.waitSignal(tab.ctx.preference_examples_changed):
        dialog.vote_to_preference.click()
    stored = preference_repo.load(project.store)
    assert len(stored) == 1
    assert (stored[0].prompt, stored[0].preferred, stored[0].dispreferred) == (
        dialog.current().input, answers[(first, slot)], answers[(first, 1 - slot)])
    assert dialog.preference_status.text().startswith("✔ 1 new preference example.")
    assert "Preference examples from this review: 1." in dialog.tally.text()
    # Each vote at once, with the switch on; a tie makes none.
    dialog.skip.click()
    dialog.auto_preference.setChecked(True)
    dialog.vote("1")
    assert preference_repo.count(project.store) == 2
    dialog.vote("tie")
    assert preference_repo.count(project.store) == 2
    dialog.auto_preference.setChecked(False)
    dialog.vote("1")
    dialog.vote("2")
    # All votes at once: those already made and the tie are skipped.
    with qtbot.waitSignal(tab.ctx.preference_examples_changed):
        dialog.all_to_preference.click()
    assert preference_repo.count(project.store) == 4
    assert dialog.preference_status.text().startswith("✔ 2 new preference examples; skipped: 1 tie, 2 already added.")
    assert "validation or test examples" in dialog.preference_status.text()
    dialog.accept()
    qtbot.waitUntil(lambda: "4 preference examples made from this run's review." in
                    tab.evaluation.results.summary.text())


def test_votes_reach_the_pairs_view_already_open_and_its_undo_takes_them_back(review_env: Any, qtbot: Any) -> None:
    tab, project, _run = review_env
    window = tab.window()
    page = window.ensure_tab("dataset").preferences
    window.show_tab("dataset")
    page.show_pairs(True)  # the expert looked at the (empty) pairs before reviewing
    pairs = page.view
    assert pairs.ensure_session() is not None and pairs.model.rowCount() == 0
    assert page.switch.pairs.text().endswith("(0)")
    window.show_tab("test")
    dialog = tab.evaluation.open_review()
    assert dialog is not None
    dialog.auto_preference.setChecked(True)
    dialog.vote("1")
    dialog.vote("2")
    dialog.accept()
    assert pairs.model.rowCount() == 2 and page.switch.pairs.text().endswith("(2)")
    assert preference_repo.count(project.store) == 2
    session = pairs.ensure_session()
    assert session is not None and session.undo_stack.undoText() == "Add 1 preference example from the review"
    assert session.undo() and pairs.model.rowCount() == 1 and preference_repo.count(project.store) == 1


def test_votes_made_before_the_pairs_view_is_built_are_counted_on_its_switch(review_env: Any, qtbot: Any) -> None:
    tab, project, _run = review_env
    window = tab.window()
    page = window.ensure_tab("dataset").preferences
    dialog = tab.evaluation.open_review()
    assert dialog is not None
    dialog.auto_preference.setChecked(True)
    dialog.vote("1")
    dialog.accept()
    assert preference_repo.count(project.store) == 1 and page.switch.pairs.text().endswith("(1)")
    window.show_tab("dataset")
    page.show_pairs(True)
    assert page.view.model.rowCount() == 1


def test_a_typed_correction_becomes_the_preferred_answer(review_env: Any, qtbot: Any) -> None:
    tab, project, run = review_env
    dialog = tab.evaluation.open_review()
    assert dialog is not None
    dialog.prefer_correction.click()
    assert dialog.preference_status.text().startswith("✖ Type the answer")
    dialog.correction.setPlainText("Clause 0 is enforceable only with the landlord's written consent.")
    dialog.prefer_correction.click()
    stored = preference_repo.load(project.store)
    assert len(stored) == 2, "preferred over each model's answer"
    assert {e.preferred for e in stored} == {"Clause 0 is enforceable only with the landlord's written consent."}
    assert {e.dispreferred for e in stored} == {r.actual for r in evals_repo.list_rows(project.store, run.id)
                                                if r.example_id == dialog.current().example_id}
    dialog.prefer_correction.click()
    assert preference_repo.count(project.store) == 2
    assert "2 already added" in dialog.preference_status.text()
    dialog.accept()


def dialog_texts(dialog: Any) -> list[str]:
    texts = [dialog.windowTitle()]
    texts += [w.text() for w in dialog.findChildren(QLabel)]
    texts += [w.text() + w.toolTip() for w in dialog.findChildren(QAbstractButton)]
    texts += [w.toPlainText() for w in dialog.findChildren(QPlainTextEdit)]
    return texts


def test_the_review_never_says_which_model_answered(main_window: Any, sandbox: Any, qtbot: Any,
                                                    tmp_path: Path) -> None:
    from tests.services.test_console import _tuned_endpoint

    session = main_window.ctx.connections.session()
    tuned = _tuned_endpoint(sandbox, session, "Capitals")
    examples = [Example(f"What is the capital of {c}?", a, Split.TEST) for c, a in
                (("France", "Paris"), ("Peru", "Lima"), ("Kenya", "Nairobi"), ("Japan", "Tokyo"))]
    project = open_project(main_window, tmp_path / "blind.gemtune", examples)
    jobs_repo.add_job(project.store, JobRecord(connection_kind="sandbox", backend="agent-platform",
                                               connection_id="sandbox/agent-platform", display_name="Capitals",
                                               base_model=BASE, state=JobState.SUCCEEDED, resource_name="x/1",
                                               endpoint=tuned.endpoint, tuned_model=tuned.model))
    main_window.ctx.jobs_changed.emit()
    main_window.show_tab("test")
    tab = main_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models), timeout=20000)
    tab.evaluation.retry_policy = FAST
    tab.evaluation.source.setCurrentIndex(tab.evaluation.source.findData("test"))
    run = evaluate(qtbot, tab, [BASE, tuned.endpoint])
    assert len(evals_repo.done_keys(project.store, run.id)) == 8
    dialog = tab.evaluation.open_review()
    assert dialog is not None and len(dialog.groups) == 4
    forbidden = ["gemini", "Capitals", "tuned", "base model", "Model A", "Model B", *run.labels, *run.models]
    for key in ("1", "2", "tie", "1"):
        for text in dialog_texts(dialog):
            assert not any(word.lower() in text.lower() for word in forbidden), (text, forbidden)
        dialog.vote(key)
    # The verdicts on answers that came over HTTP become preference examples: the three votes (the tie makes
    # none), and a correction typed for the first prompt, preferred over both answers to it.
    with qtbot.waitSignal(tab.ctx.preference_examples_changed):
        dialog.all_to_preference.click()
    assert preference_repo.count(project.store) == 3
    answers = {(r.example_id, r.slot): r.actual for r in evals_repo.list_rows(project.store, run.id)}
    assert all((p.preferred, p.dispreferred) in {(answers[(e, a)], answers[(e, 1 - a)]) for e, a in answers}
               for p in preference_repo.load(project.store))
    for _ in range(len(dialog.groups)):
        if dialog.current().input == "What is the capital of France?":
            break
        dialog.back.click()
    assert dialog.current().input == "What is the capital of France?"
    dialog.correction.setPlainText("Paris, since 987.")
    dialog.prefer_correction.click()
    made = [p for p in preference_repo.load(project.store) if p.preferred == "Paris, since 987."]
    assert len(made) == 2 and "Preference examples from this review: 5." in dialog.tally.text()
    dialog.accept()
    main_window.close()
    project.close()

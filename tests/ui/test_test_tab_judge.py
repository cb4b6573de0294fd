"""The judge and Google's evaluation service in the Test tab: a rubric checked as it is typed, verdicts with
explanations, the expert's ratings and the agreement (share and Cohen's κ) with a warning when low, partial
results marked, and the evaluation service on Agent Platform connections only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core import rubric as rb
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import evals_repo, jobs_repo, judge_repo
from gemtune_desktop.services.connections import ConnectionKind
from tests.ui.test_test_tab import BASE, FAST, make_examples, open_project

ENDPOINT = "projects/sandbox-project/locations/us/endpoints/tuned"
RUBRIC = "Says whether the clause is enforceable\nNames the clause"


def evaluate(qtbot: Any, tab: Any, models: list[str]) -> Any:
    panel = tab.evaluation
    tab.pages.setCurrentWidget(panel)
    panel.two_models.setChecked(len(models) == 2)
    assert panel.picker_a.select_model(models[0])
    if len(models) == 2:
        assert panel.picker_b.select_model(models[1])
    with qtbot.waitSignal(panel.run_finished, timeout=60000):
        panel.start_button.click()
    with qtbot.waitSignal(panel.summary_shown, timeout=60000):
        pass  # the scores of the finished run
    return panel.selected_run()


@pytest.fixture
def judged_env(fake_window: Any, cloud: Any, qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    examples = make_examples(12)
    learned = {e.input: e.output for e in examples}
    cloud.answer = lambda request: learned[request.prompt] if request.model == ENDPOINT else "It depends."
    project = open_project(fake_window, tmp_path / "judge.gemtune", examples)
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


def test_the_rubric_is_checked_as_it_is_typed(judged_env: Any, cloud: Any) -> None:
    tab, _project, _run = judged_env
    judge = tab.evaluation.judge
    assert rb.EXAMPLE_RUBRIC in judge.rubric.placeholderText()
    assert "The rubric is empty." in judge.rubric_check.text()
    judge.judge_button.click()
    assert "The judge cannot start: The rubric is empty." in judge.status.text()
    judge.rubric.setPlainText("x" * (rb.MAX_RUBRIC_CHARS + 1))
    assert judge.rubric_check.text().startswith("✖ The rubric is 2,001 characters long; the limit is 2,000.")
    judge.rubric.setPlainText("- Names the risky party\n- gives one reason; no legal advice")
    assert judge.rubric_check.text() == ("✔ 3 points: 1. Names the risky party; 2. gives one reason; "
                                         "3. no legal advice")
    assert "judge_run" not in cloud.calls


def test_verdicts_ratings_and_agreement_with_a_low_agreement_warning(judged_env: Any, cloud: Any, qtbot: Any) -> None:
    tab, project, run = judged_env
    judge = tab.evaluation.judge
    tab.evaluation.views.setCurrentWidget(judge)
    judge.rubric.setPlainText(RUBRIC)
    with qtbot.waitSignal(judge.judged, timeout=20000):
        judge.judge_button.click()
    assert judge.rows_model.rowCount() == 24
    first = judge.rows_model.row_at(0)
    assert first.verdict_words in ("✔ pass", "✖ fail") and first.explanation.startswith("Fake judge")
    assert first.score_words in ("2 of 2", "0 of 2")
    assert "Model A (gemini-3.5-flash): 0% pass" in judge.figures.text()
    assert "Model B (lease-bot (tuned from gemini-3.5-flash)): 100% pass (12 of 12 judged)" in judge.figures.text()
    # The expert disagrees with the judge on every answer they rate: the agreement is low and said so.
    for row in range(12):
        judge.table.selectRow(row)
        judged = judge.rows_model.row_at(row)
        judge.rate("fail" if judged.judgement.verdict == "pass" else "pass")
    with qtbot.waitSignal(judge.judged, timeout=20000):
        judge.reload()
    assert "Judge and expert agree on 0 of 12 rows (0%)" in judge.agreement.text()
    assert "Cohen's κ" in judge.agreement.text()
    assert "Low agreement" in judge.warning.text()
    assert len(judge_repo.ratings(project.store, run.id)) == 12
    # Now the expert agrees: no warning, κ shown with its band.
    for row in range(12):
        judge.table.selectRow(row)
        judge.rate(judge.rows_model.row_at(row).judgement.verdict)
    with qtbot.waitSignal(judge.judged, timeout=20000):
        judge.reload()
    assert "agree on 12 of 12 rows (100%)" in judge.agreement.text()
    assert "Low agreement" not in judge.warning.text()


def test_a_judge_that_fails_on_some_rows_keeps_partial_results(judged_env: Any, cloud: Any, qtbot: Any) -> None:
    tab, project, run = judged_env
    judge = tab.evaluation.judge
    cloud.evaluation.judge_errors = {run.example_ids[0], run.example_ids[1]}
    judge.rubric.setPlainText(RUBRIC)
    with qtbot.waitSignal(judge.judged, timeout=20000):
        judge.judge_button.click()
    assert "Partial: 20 of 24 answers have a verdict" in judge.warning.text()
    assert "The judge did not answer in the required JSON form." in judge.warning.text()
    unread = [judge.rows_model.row_at(r) for r in range(judge.rows_model.rowCount())
              if not judge.rows_model.row_at(r).judgement.verdict]
    assert len(unread) == 4 and unread[0].explanation.startswith("⚠ The judge did not answer")
    # Judging again with the same rubric asks only about the rows still without a verdict.
    cloud.evaluation.judge_errors = set()
    with qtbot.waitSignal(judge.judged, timeout=20000):
        judge.judge_button.click()
    assert len(judge_repo.judged_keys(project.store, run.id)) == 24
    assert "Partial" not in judge.warning.text()


def test_google_evaluation_service_only_on_agent_platform(judged_env: Any, cloud: Any, qtbot: Any) -> None:
    tab, _project, _run = judged_env
    service = tab.evaluation.service
    qtbot.waitUntil(lambda: service.table.rowCount() == 0)
    assert not service.body.isHidden() and service.note.isHidden()
    service.metric_boxes["pairwise"].setChecked(True)
    service.start_button.click()
    qtbot.waitUntil(lambda: service.table.rowCount() == 3)
    texts = {service.table.verticalHeaderItem(r).text(): service.table.item(r, 0).text()
             for r in range(service.table.rowCount())}
    assert texts["Fluency (1–5)"] == "4.00 (12 scored)"
    assert texts["A vs B (Google's pairwise judge)"].startswith(
        "lease-bot (tuned from gemini-3.5-flash) better on 12, gemini-3.5-flash on 0, ties 0")
    assert "Google's judge model" in service.findChild(type(service.note), "serviceProvenance").text()
    tab.ctx.connections.set_active(ConnectionKind.GEMINI_API)
    assert service.body.isHidden() and not service.note.isHidden()
    assert "Use the Judge tab" in service.note.text() and "Gemini API key" in service.note.text()


def test_judge_over_real_http_against_the_sandbox(main_window: Any, sandbox: Any, qtbot: Any, tmp_path: Path) -> None:
    project = open_project(main_window, tmp_path / "judge-http.gemtune", make_examples(4))
    main_window.show_tab("test")
    tab = main_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models), timeout=20000)
    tab.evaluation.retry_policy = FAST
    run = evaluate(qtbot, tab, [BASE])
    judge = tab.evaluation.judge
    judge.retry_policy = FAST
    judge.rubric.setPlainText(RUBRIC)
    judge.model.setCurrentText(BASE)
    with qtbot.waitSignal(judge.judged, timeout=60000):
        judge.judge_button.click()
    assert judge.rows_model.rowCount() == 4, (judge.status.text(), judge.figures.text(), judge.warning.text())
    assert all(judge.rows_model.row_at(r).explanation.startswith("Sandbox simulation") for r in range(4))
    bodies = [r.json for r in sandbox.requests.matching("generateContent") if r.json is not None]
    assert bodies[-1]["generationConfig"]["responseMimeType"] == "application/json"
    assert evals_repo.get_run(project.store, run.id) is not None
    # Google's evaluation service, as the Sandbox's Agent Platform emulates evaluateInstances.
    service = tab.evaluation.service
    service.retry_policy = FAST
    service.metric_boxes["coherence"].setChecked(False)
    service.start_button.click()
    qtbot.waitUntil(lambda: service.table.rowCount() == 1 and service.table.item(0, 0) is not None, timeout=60000)
    assert service.table.item(0, 0).text().endswith("(4 scored)")
    assert len(sandbox.requests.matching(":evaluateInstances")) == 4
    main_window.close()
    project.close()

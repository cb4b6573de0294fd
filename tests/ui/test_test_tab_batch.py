"""Large evaluations on Google's batch engine from the Test tab: offered above a threshold (a setting) with its
price, one job per model (a tuned model by its model name), progress, and the answers in the same evaluation
view as an online run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import batch_jobs_repo, evals_repo, jobs_repo
from gemtune_desktop.qtcore import settings as S
from tests.ui.test_test_tab import BASE, make_examples, open_project

ENDPOINT = "projects/sandbox-project/locations/us/endpoints/55"
TUNED_MODEL = "projects/sandbox-project/locations/us-central1/models/55@1"


@pytest.fixture
def batch_env(fake_window: Any, cloud: Any, qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    project = open_project(fake_window, tmp_path / "batch.gemtune", make_examples(12))
    jobs_repo.add_job(project.store, JobRecord(
        connection_kind="sandbox", backend="agent-platform", display_name="lease-bot", base_model=BASE,
        state=JobState.SUCCEEDED, resource_name="fake/tuningJobs/1", endpoint=ENDPOINT, tuned_model=TUNED_MODEL,
        checkpoints=[{"checkpoint_id": "1", "epoch": 1, "endpoint": "projects/sandbox-project/locations/us/"
                                                                    "endpoints/56"}]))
    fake_window.ctx.jobs_changed.emit()
    fake_window.show_tab("test")
    tab = fake_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models))
    tab.pages.setCurrentWidget(tab.evaluation)
    yield fake_window, tab, project
    fake_window.close()
    project.close()


def test_the_batch_engine_is_offered_above_the_threshold_with_its_price(batch_env: Any) -> None:
    _window, tab, _project = batch_env
    panel = tab.evaluation
    batch = panel.batch
    assert batch.threshold.value() == 1000 and tab.ctx.settings.get(S.BATCH_ENGINE_THRESHOLD) == 1000
    assert panel.picker_a.select_model(BASE)
    panel.update_plan()
    assert batch.offer.isHidden(), "12 answers are sent online"
    batch.threshold.setValue(10)
    assert tab.ctx.settings.get(S.BATCH_ENGINE_THRESHOLD) == 10
    assert not batch.offer.isHidden()
    text = batch.offer_text.text()
    assert text.startswith("This evaluation makes 12 answers, more than 10: Google's batch engine runs them as "
                           "batch jobs at half the online price")
    assert "No price is known for this model" in text
    tab.ctx.settings.write(S.ANSWER_PRICES, {BASE: (1.0, 4.0)})
    panel.update_plan()
    assert "online, $" in batch.offer_text.text() and "on the batch engine (half price)" in batch.offer_text.text()
    panel.two_models.setChecked(True)
    assert panel.picker_b.select_model("projects/sandbox-project/locations/us/endpoints/56")
    assert "makes 24 answers" in batch.offer_text.text()
    batch.submit_button.click()
    assert "is a checkpoint; the batch engine takes a tuned model itself" in panel.status.text()
    assert panel.runs.count() == 0, "nothing was stored or sent"


def test_batch_jobs_answer_in_the_same_evaluation_view(batch_env: Any, cloud: Any, qtbot: Any) -> None:
    _window, tab, project = batch_env
    panel = tab.evaluation
    batch = panel.batch
    batch.threshold.setValue(10)
    panel.two_models.setChecked(True)
    assert panel.picker_a.select_model(BASE) and panel.picker_b.select_model(ENDPOINT)
    with qtbot.waitSignal(batch.run_updated, timeout=10000):
        batch.submit_button.click()
    run = panel.selected_run()
    assert run is not None and run.models == [BASE, ENDPOINT]
    jobs = sorted(batch_jobs_repo.list_jobs(project.store, run.id), key=lambda j: j.slot)
    assert [(j.slot, j.model, j.rows) for j in jobs] == [(0, BASE, 12), (1, TUNED_MODEL, 12)]
    # The Monitor lists the new jobs and checks them at once; what it learns shows here too.
    qtbot.waitUntil(lambda: "Running, 6 of 12 answered" in batch.jobs_text.text())
    assert not panel.resume_button.isEnabled(), "the batch engine is answering; nothing to send online"
    batch.check_button.click()
    qtbot.waitUntil(lambda: "answers stored in this run" in batch.jobs_text.text())
    assert len(evals_repo.done_keys(project.store, run.id)) == 24
    qtbot.waitUntil(lambda: "All 24 answers received." in panel.results.summary.text())
    summary = panel.results.summary.text()
    assert "All 24 answers received." in summary and "Batch engine — gemini-3.5-flash: Finished" in summary
    assert panel.results.rows_model.rowCount() == 12 and panel.results.metrics_table.columnCount() == 2
    assert evals_repo.get_run(project.store, run.id).status == evals_repo.DONE


def submit_over_http(main_window: Any, qtbot: Any, path: Path, validation_examples: int) -> tuple[Any, Any, Any]:
    """A project evaluated on the batch engine from the real window over HTTP: (project, panel, run)."""
    project = open_project(main_window, path, make_examples(validation_examples))
    main_window.show_tab("test")
    tab = main_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models), timeout=20000)
    panel = tab.evaluation
    tab.pages.setCurrentWidget(panel)
    assert panel.picker_a.select_model(BASE)
    panel.batch.threshold.setValue(3)
    assert not panel.batch.offer.isHidden()
    with qtbot.waitSignal(panel.batch.run_updated, timeout=30000):
        panel.batch.submit_button.click()
    return project, panel, panel.selected_run()


def test_the_batch_engine_over_real_http_against_the_sandbox(main_window: Any, sandbox: Any, qtbot: Any,
                                                             tmp_path: Path) -> None:
    project, panel, run = submit_over_http(main_window, qtbot, tmp_path / "batch-http.gemtune", 5)
    assert sandbox.requests.matching("/batchPredictionJobs", "POST")

    def checked_and_stored() -> bool:
        panel.batch.check_now()
        return len(evals_repo.done_keys(project.store, run.id)) == 5

    qtbot.waitUntil(checked_and_stored, timeout=60000)
    qtbot.waitUntil(lambda: "All 5 answers received." in panel.results.summary.text(), timeout=30000)
    assert "answers stored in this run" in panel.batch.jobs_text.text()
    main_window.close()
    project.close()


def test_a_batch_job_is_cancelled_from_the_monitor_over_real_http(main_window: Any, sandbox: Any, qtbot: Any,
                                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    sandbox.batch.engine.rows_per_second = 2  # 20 s for the whole job: the cancel comes well before its end
    project, _panel, run = submit_over_http(main_window, qtbot, tmp_path / "batch-cancel.gemtune", 40)
    main_window.show_tab("monitor")
    monitor = main_window.tab_widgets["monitor"]
    batch = monitor.batch
    qtbot.waitUntil(lambda: batch.model.rowCount() == 1, timeout=20000)

    def some_answered() -> bool:
        batch.refresh()
        return batch.model.jobs()[0].succeeded > 0

    qtbot.waitUntil(some_answered, timeout=30000)  # the user cancels once the job is under way
    batch.table.selectRow(0)
    qtbot.waitUntil(batch.cancel_button.isEnabled, timeout=20000)
    asked: list[str] = []
    monkeypatch.setattr(monitor, "_confirm", lambda title, _text, _yes: asked.append(title) or True)
    said: list[str] = []
    batch.said.connect(said.append)
    batch.cancel_button.click()
    assert asked == ["Cancel batch job"] and not batch.cancel_button.isEnabled()  # one cancel at a time
    qtbot.waitUntil(lambda: any(s.startswith("Cancel requested") for s in said), timeout=30000)

    def stopped() -> bool:
        batch.refresh()
        return batch.model.jobs()[0].state == "JOB_STATE_CANCELLED" and batch.model.jobs()[0].ingested

    qtbot.waitUntil(stopped, timeout=60000)
    answered = len(evals_repo.done_keys(project.store, run.id))
    assert 0 < answered < 40, "what was answered before the cancel is kept in the evaluation run"
    assert sandbox.requests.matching(":cancel", "POST")
    main_window.close()
    project.close()


def test_results_the_monitor_stores_show_in_the_test_tab_at_once(batch_env: Any, cloud: Any, qtbot: Any) -> None:
    window, tab, project = batch_env
    panel = tab.evaluation
    batch = panel.batch
    batch.threshold.setValue(10)
    assert panel.picker_a.select_model(BASE)
    with qtbot.waitSignal(batch.run_updated, timeout=10000):
        batch.submit_button.click()
    run = panel.selected_run()
    assert run is not None
    monitor = window.ensure_tab("monitor")
    assert monitor.batch.model.rowCount() == 1, "the Monitor lists the job sent from the Test tab"
    qtbot.waitUntil(lambda: "Running, 6 of 12 answered" in batch.jobs_text.text())  # the Monitor's first check
    with qtbot.waitSignal(tab.ctx.batch_jobs_changed, timeout=10000):
        monitor.batch.refresh()  # its next check: the job ended, the results are stored
    assert len(evals_repo.done_keys(project.store, run.id)) == 12
    qtbot.waitUntil(lambda: "All 12 answers received." in panel.results.summary.text())
    assert "answers stored in this run" in batch.jobs_text.text()

"""The Monitor tab's actions and facts over the fake service: deleting a tuned model step by step (with Cancel),
what an ended job cost, evaluation jobs on the batch engine, and closing the window while jobs run (issues 14,
15 and 19)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from gemtune_desktop.core.jobs import JobState
from gemtune_desktop.core.project import batch_jobs_repo, evals_repo, jobs_repo
from gemtune_desktop.core.project.batch_jobs_repo import BatchJobRecord
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.services.batch_eval import EvalItem
from gemtune_desktop.ui.monitor.actions import DELETE_STOPPED
from gemtune_desktop.ui.monitor.closing import NO_NOTICE_ENV, STAY
from tests.ui.monitor_helpers import _monitor, _overfit_job, _record


@pytest.fixture
def fake_project(fake_window: Any) -> Any:
    return fake_window.ctx.project


def _finished_job(store: Any) -> int:
    return _overfit_job(store)


def test_deleting_a_model_shows_each_step_and_can_be_stopped(fake_window: Any, qtbot: Any, fake_project: Any,
                                                             cloud: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = _finished_job(fake_project.store)
    tab = _monitor(fake_window, qtbot)
    fake_window.ctx.jobs_changed.emit()
    tab.select_job(job_id)
    monkeypatch.setattr(tab, "_confirm", lambda title, text, yes: True)
    progress = tab.job_actions.progress
    seen: list[str] = []

    def slow_service(step: int) -> None:  # the user clicks Cancel while the first endpoint is being emptied
        seen.append(progress.label.text())
        if step == 0:
            progress.cancel_button.click()
            seen.append(progress.label.text())

    cloud.during_delete = slow_service
    said: list[str] = []
    tab.job_actions.said.connect(said.append)
    tab.jobs.delete_button.click()
    assert seen == ["Deleting the tuned model of “support-v1”…", "Stopping after the step in progress…"]
    qtbot.waitUntil(lambda: DELETE_STOPPED in said, timeout=10000)
    qtbot.waitUntil(lambda: not progress.isVisible(), timeout=10000)
    record = jobs_repo.get_job(fake_project.store, job_id)
    assert record.tuned_model == "projects/p/locations/l/models/9@1"  # not deleted: the user stopped it
    assert tab.jobs.delete_button.isEnabled()  # and can delete it again
    seen.clear()
    tab.job_actions.progress.bar.valueChanged.connect(lambda _v: seen.append(progress.label.text()))
    cloud.during_delete = lambda step: None
    tab.jobs.delete_button.click()
    qtbot.waitUntil(lambda: jobs_repo.get_job(fake_project.store, job_id).tuned_model == "", timeout=10000)
    qtbot.waitUntil(lambda: not progress.isVisible(), timeout=10000)
    assert "The tuned model was deleted on the service." in said
    assert "Deleting the tuned model…" in seen
    assert progress.bar.maximum() == 3


def _shown(tab: Any, name: str) -> str | None:
    shown = [w.text() for w in tab.details.findChildren(QLabel, name) if not w.isHidden()]
    return shown[0] if shown else None


def _cost(tab: Any) -> str | None:
    return _shown(tab, "jobCost")


def test_an_ended_job_says_what_it_cost_with_the_price_it_used(fake_window: Any, qtbot: Any,
                                                               fake_project: Any, cloud: Any) -> None:
    job_id = _finished_job(fake_project.store)  # 12,345 billable tokens on gemini-3.5-flash
    cloud.add_job("fake/tuningJobs/running", total_steps=10_000)
    running = jobs_repo.add_job(fake_project.store, _record(display_name="still-running",
                                                            resource_name="fake/tuningJobs/running",
                                                            data_stats={"total_billable_token_count": 10}))
    tab = _monitor(fake_window, qtbot)
    fake_window.ctx.jobs_changed.emit()
    tab.select_job(job_id)
    qtbot.waitUntil(lambda: _cost(tab) is not None)
    cost = str(_cost(tab))
    assert cost.startswith("Cost: 12,345 billable tokens, as the service counted them;")
    assert "Price field" in cost  # no price is shipped for this model: where to enter one, not a guess
    fake_window.ctx.settings.write(S.MODEL_PRICES, {"gemini-3.5-flash": 4.0})
    tab.select_job(running)
    qtbot.waitUntil(lambda: str(_shown(tab, "jobState")).startswith("State: training"))
    assert _cost(tab) is None  # no cost while it runs
    tab.select_job(job_id)
    qtbot.waitUntil(lambda: _cost(tab) is not None)
    cost = str(_cost(tab))
    assert cost.startswith("Cost: $0.05: 12,345 billable tokens, as the service counted them, × $4 per 1M")


def test_batch_evaluation_jobs_show_their_progress_and_results(fake_window: Any, qtbot: Any, fake_project: Any,
                                                               cloud: Any) -> None:
    store = fake_project.store
    tab = _monitor(fake_window, qtbot)
    assert tab.lists.count() == 1 and not tab.batch.isVisibleTo(tab)  # no batch jobs: no second list
    assert not tab.lists.tabBar().isVisibleTo(tab)
    run_id = evals_repo.create_run(store, evals_repo.EvalRun(models=["gemini-3.5-flash"], name="Big check",
                                                             settings={"example_ids": [1, 2, 3]}))
    job_id = batch_jobs_repo.create_job(store, BatchJobRecord(run_id, "agent-platform", "gemini-3.5-flash",
                                                              connection_kind="sandbox", state="JOB_STATE_PENDING",
                                                              resource_name="fake/batchPredictionJobs/1", rows=3))
    items = [EvalItem(i, 0, "gemini-3.5-flash", f"q{i}", f"a{i}") for i in (1, 2, 3)]
    cloud.evaluation.batch[job_id] = (items, 1)  # running at the first check, ended at the second
    changed: list[bool] = []
    fake_window.ctx.batch_jobs_changed.connect(lambda: changed.append(True))
    tab.batch.use_store(store)
    assert tab.lists.tabText(1) == "Batch evaluations (1)" and tab.lists.tabBar().isVisibleTo(tab)
    qtbot.waitUntil(lambda: tab.batch.model.jobs()[0].ingested, timeout=20000)
    model = tab.batch.model
    assert model.index(0, 0).data() == "Big check"
    assert (model.index(0, 4).data(), model.index(0, 7).data()) == ("3", "stored in the evaluation")
    assert len(evals_repo.list_rows(store, run_id)) == 3  # the answers are in the evaluation run
    assert changed  # views of the run reload
    assert tab.batch.count_label.text() == "1 batch job"


def test_closing_while_a_job_runs_says_it_keeps_running(fake_window: Any, qtbot: Any, fake_project: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    jobs_repo.add_job(fake_project.store, _record(display_name="contracts-v3", state=JobState.RUNNING))
    tab = _monitor(fake_window, qtbot)
    monkeypatch.delenv(NO_NOTICE_ENV, raising=False)
    shown: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        shown.append(box.text())
        next(b for b in box.buttons() if b.text() == STAY).click()

    QTimer.singleShot(0, answer)
    assert tab.can_close() is False  # the user chose to keep it open
    assert shown and shown[0].startswith("“contracts-v3” is still running.")
    assert "Closing GemTune does not stop them" in shown[0] and "picks them up again" in shown[0]
    jobs_repo.update_job(fake_project.store, jobs_repo.list_jobs(fake_project.store)[0].id, state=JobState.SUCCEEDED)
    assert tab.can_close() is True  # nothing runs: no question


def test_after_save_as_the_monitor_works_in_the_copy_and_closing_asks_about_its_jobs(
        fake_window: Any, qtbot: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    tab = _monitor(fake_window, qtbot)
    dataset = fake_window.tab_widgets["dataset"]
    assert dataset.files.save_copy(tmp_path / "Leases.gemtune")  # continues in the copy: a new project file
    store = fake_window.ctx.project.store
    assert tab.store is store
    job_id = jobs_repo.add_job(store, _record(display_name="in-the-copy", state=JobState.RUNNING))
    fake_window.ctx.jobs_changed.emit()
    assert tab.jobs.model.job(job_id) is not None
    monkeypatch.delenv(NO_NOTICE_ENV, raising=False)
    shown: list[str] = []
    monkeypatch.setattr("gemtune_desktop.ui.monitor.tab.running_jobs_notice",
                        lambda parent, jobs, batch: shown.append(", ".join(j.display_name for j in jobs)) or True)
    assert tab.can_close()
    assert shown == ["in-the-copy"]

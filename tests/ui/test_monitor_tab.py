"""The Monitor tab in the real window: jobs list, cached curves, advice, actions, and live Sandbox jobs."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from gemtune_desktop.core.jobs import JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.qtcore.context import ModelRequest
from gemtune_desktop.ui.monitor.jobs_model import COLUMNS, JobsFilterModel, JobsTableModel
from tests.ui.monitor_helpers import _monitor, _overfit_job, _record, _submit, _track


@pytest.fixture
def project(main_window: Any, qtbot: Any) -> Any:
    """The project the window opens at start (the Untitled one), as the Monitor tab sees it."""
    qtbot.waitUntil(lambda: main_window.ctx.project is not None, timeout=30000)
    return main_window.ctx.project


@pytest.fixture
def fake_project(fake_window: Any) -> Any:
    """The project the window over the fake service opens at start (the Untitled one)."""
    return fake_window.ctx.project


def test_jobs_model_is_a_valid_item_model(qtmodeltester: Any, qapp: Any) -> None:
    model = JobsTableModel()
    model.set_jobs([_record(id=1), _record(id=2, display_name="", state=JobState.FAILED, error="bad data",
                                            from_project=False), _record(id=3, state=JobState.SUCCEEDED)])
    qtmodeltester.check(model)
    proxy = JobsFilterModel()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    assert model.columnCount() == len(COLUMNS)
    assert model.index(0, 3).data() == "training 41%"
    assert model.index(0, 4).data() == "41 / 100"
    assert model.index(1, 5).data() == "Service" and model.index(0, 5).data() == "This project"
    assert model.index(1, 3).data() == "failed ⚠"
    proxy.set_only_project(True)
    assert proxy.rowCount() == 2
    proxy.set_only_project(False)
    proxy.set_text("succeeded")
    assert proxy.rowCount() == 1


def test_remaining_time_from_the_pace(qapp: Any) -> None:
    from datetime import UTC, datetime

    model = JobsTableModel()
    model.now = datetime(2026, 11, 21, 10, 10, tzinfo=UTC)  # 10 min in, 40% done → about 15 min left
    model.set_jobs([_record(id=1, completed_steps=40)])
    assert model.index(0, 6).data() == "10 min"
    assert model.index(0, 7).data() == "about 15 min"


def test_empty_state_says_what_to_do(fake_window: Any, qtbot: Any) -> None:
    tab = fake_window.tab_widgets["monitor"]
    assert tab.jobs.model.rowCount() == 0
    assert tab.jobs.empty_label.text() == "No tuning jobs yet — start one in the Tune tab."
    assert tab.jobs.table_stack.currentWidget() is tab.jobs.empty_label


def test_cached_overfitting_curve_shows_offline_with_advice(fake_window: Any, qtbot: Any, fake_project: Any,
                                                            tmp_path: Path) -> None:
    ctx = fake_window.ctx
    job_id = _overfit_job(fake_project.store)
    ctx.jobs_changed.emit()
    tab = fake_window.tab_widgets["monitor"]
    fake_window.show_tab("monitor")
    assert tab.plot_area.plot is not None
    tab.select_job(job_id)
    assert tab.selected_ids() == [job_id]
    qtbot.waitUntil(lambda: tab.plot_area.plot.curve_points(job_id) == 160)
    assert tab.plot_area.plot.curve_points(job_id, "validation") == 8
    assert tab.plot_area.plot.epoch_line_positions()[:3] == [20.0, 40.0, 60.0]
    assert "epoch 3" in tab.plot_area.plot.readout_at(61)
    kinds = [a.kind for a in tab.advice_panel.advice]
    assert "overfitting" in kinds
    with qtbot.waitSignal(ctx.tune_prefill_requested) as prefill:
        tab.advice_panel.findChild(type(tab.jobs.rerun_button), "adviceTune_overfitting").click()
    assert prefill.args[0]["epochs"] == 3 and prefill.args[0]["base_model"] == "gemini-3.5-flash"
    assert fake_window.tabs.currentWidget() is fake_window.tab_widgets["tune"]
    with qtbot.waitSignal(ctx.test_model_requested) as test:
        tab.advice_panel.findChild(type(tab.jobs.rerun_button), "adviceTestCheckpoint").click()
    assert test.args[0].model == "projects/p/locations/us/endpoints/9-3"
    # Details: service-reported numbers, copyable names, a Test button per checkpoint.
    assert tab.details.findChild(type(tab.jobs.filter_edit), "copyField_endpoint").text() == \
        "projects/p/locations/us/endpoints/9"
    with qtbot.waitSignal(ctx.test_model_requested) as cp:
        tab.details.findChild(type(tab.jobs.rerun_button), "testCheckpoint_5").click()
    assert cp.args[0].model.endswith("9-5")
    # Export: CSV has every point of both series; PNG is an image.
    with tab.plot_area.plot.export_csv(tmp_path / "loss.csv").open(encoding="utf-8") as exported:
        rows = list(csv.reader(exported))
    assert rows[0] == ["job", "series", "step", "epoch", "loss"] and len(rows) == 1 + 160 + 8
    png = tab.plot_area.plot.export_png(tmp_path / "loss")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- live jobs on the Sandbox ------------------------------------------------------------------
def test_live_job_curve_grows_and_states_change_in_order(fake_window: Any, qtbot: Any, fake_project: Any,
                                                         cloud: Any) -> None:
    cloud.add_job("fake/tuningJobs/live", total_steps=30, epochs=3, validation=lambda step: 1.0 - step / 100)
    tab = _monitor(fake_window, qtbot)
    job_id = _submit(fake_window.ctx, fake_project.store, "fake/tuningJobs/live", hyperparameters={"epoch_count": 3})
    seen = _track(fake_window, job_id, fake_project.store)
    tab.select_job(job_id)
    tab.notifier.window_is_active = lambda: False  # as if the user had switched to another window
    qtbot.waitUntil(lambda: tab.plot_area.plot.curve_points(job_id) > 0, timeout=10000)
    first = tab.plot_area.plot.curve_points(job_id)
    qtbot.waitUntil(lambda: tab.plot_area.plot.curve_points(job_id) > first, timeout=10000)  # it grows while it runs
    assert tab.jobs.model.job(job_id).state is JobState.RUNNING
    assert tab.jobs.model.index(tab.jobs.model.row_of(job_id), 3).data().startswith("training")
    with qtbot.waitSignal(tab.poller.job_ended, timeout=10000):
        pass
    assert seen == [JobState.PENDING, JobState.RUNNING, JobState.SUCCEEDED]  # recorded as QUEUED, then polled
    job = jobs_repo.get_job(fake_project.store, job_id)
    qtbot.waitUntil(lambda: job_id not in tab.poller.watched(), timeout=10000)
    assert [p[0] for p in jobs_repo.loss_points(fake_project.store, job_id)] == list(range(1, job.total_steps + 1))
    assert jobs_repo.loss_points(fake_project.store, job_id, "validation")
    assert tab.jobs.model.index(tab.jobs.model.row_of(job_id), 3).data() == "succeeded"
    assert tab.notifier.sent and "support-v1 succeeded" in tab.notifier.sent[-1][1]
    assert tab.jobs.test_button.isEnabled()
    with qtbot.waitSignal(fake_window.ctx.test_model_requested) as req:
        tab.jobs.test_button.click()
    assert req.args[0] == ModelRequest(job.endpoint, "support-v1", job_id)


def test_cancel_from_the_window(fake_window: Any, qtbot: Any, fake_project: Any, cloud: Any,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    cloud.add_job("fake/tuningJobs/long", total_steps=10_000)
    tab = _monitor(fake_window, qtbot)
    job_id = _submit(fake_window.ctx, fake_project.store, "fake/tuningJobs/long")
    tab.select_job(job_id)
    qtbot.waitUntil(lambda: tab.jobs.cancel_button.isEnabled(), timeout=10000)
    asked: list[str] = []
    monkeypatch.setattr(tab, "_confirm", lambda title, text, yes: asked.append(text) or True)
    tab.jobs.cancel_button.click()
    assert "unpredictable" in asked[0] and "fewer epochs" in asked[0]
    qtbot.waitUntil(lambda: jobs_repo.get_job(fake_project.store, job_id).state is JobState.CANCELLED,
                    timeout=10000)
    assert tab.jobs.model.index(tab.jobs.model.row_of(job_id), 3).data() == "cancelled"
    assert not tab.jobs.cancel_button.isEnabled()
    assert "cancel_job" in cloud.calls


def test_restart_mid_job_resumes_polling_and_keeps_the_curve(qtbot: Any, cloud: Any) -> None:
    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.qtcore.settings import Settings
    from gemtune_desktop.qtcore.workers import InlineExecutor
    from gemtune_desktop.ui.main_window import MainWindow

    def start_app() -> tuple[Any, Any]:
        context = AppContext(Settings(), executor=InlineExecutor(), service_factory=cloud.factory)
        window = MainWindow(context)
        qtbot.addWidget(window)
        window.show()
        return context, window

    cloud.add_job("fake/tuningJobs/restart", total_steps=80)
    ctx1, win1 = start_app()
    _monitor(win1, qtbot)
    store = ctx1.project.store
    path = Path(store.path)
    job_id = _submit(ctx1, store, "fake/tuningJobs/restart")
    qtbot.waitUntil(lambda: len(jobs_repo.loss_points(store, job_id)) >= 5, timeout=10000)
    win1.close()  # the app quits mid-job
    ctx1.shutdown()
    with ProjectStore.open(path, read_only=True) as peek:
        cached = len(jobs_repo.loss_points(peek, job_id))
        assert jobs_repo.get_job(peek, job_id).state.active

    ctx2, win2 = start_app()  # a new start of the app on the same project
    tab2 = _monitor(win2, qtbot)
    store2 = ctx2.project.store
    assert Path(store2.path) == path
    assert job_id in tab2.poller.watched()  # picked up again without any click
    tab2.select_job(job_id)
    assert len(tab2.curves.curves(job_id)["train"]) >= cached  # the cached curve shows at once
    qtbot.waitUntil(lambda: tab2.plot_area.plot.curve_points(job_id) >= cached, timeout=10000)
    qtbot.waitUntil(lambda: jobs_repo.get_job(store2, job_id).state is JobState.SUCCEEDED, timeout=10000)
    qtbot.waitUntil(lambda: job_id not in tab2.poller.watched(), timeout=10000)
    total = jobs_repo.get_job(store2, job_id).total_steps
    assert [p[0] for p in jobs_repo.loss_points(store2, job_id)] == list(range(1, total + 1))
    win2.close()
    ctx2.shutdown()


def test_429_and_503_while_polling_lose_nothing(main_window: Any, qtbot: Any, project: Any, sandbox: Any,
                                                sandbox_session: Any) -> None:
    from tests.services.test_monitor import start_agent_job

    sandbox.steps_per_second = 10.0
    tab = _monitor(main_window, qtbot)
    name = start_agent_job(sandbox_session(), examples=80, epochs=3, validation=False)
    job_id = _submit(main_window.ctx, project.store, name)
    qtbot.waitUntil(lambda: len(jobs_repo.loss_points(project.store, job_id)) > 0, timeout=60000)
    failures: list[str] = []
    waits: list[float] = []

    def failed(_job: int, text: str) -> None:
        failures.append(text)
        if "too many requests" in text:
            waits.append(tab.poller.interval_of(job_id) or 0.0)

    tab.poller.poll_failed.connect(failed)
    sandbox.faults.add(route=r"tuningJobs/", kind="status", status=429, retry_after=1, count=2)
    sandbox.faults.add(route=r":read$", kind="status", status=503, count=2)
    ticks: list[int] = []
    clock = main_window.startTimer(50)  # the GUI thread keeps running while polls fail
    main_window.timerEvent = lambda _e: ticks.append(1)
    qtbot.waitUntil(lambda: len(failures) >= 4, timeout=60000)
    assert waits and min(waits) >= 1.0  # Retry-After: 1 was honoured (the normal interval is 0.1 s)
    assert any("temporarily unavailable" in f for f in failures)  # the 503 was explained, then retried
    qtbot.waitUntil(lambda: jobs_repo.get_job(project.store, job_id).state is JobState.SUCCEEDED, timeout=90000)
    qtbot.waitUntil(lambda: job_id not in tab.poller.watched(), timeout=30000)
    main_window.killTimer(clock)
    assert len(ticks) > 5
    total = jobs_repo.get_job(project.store, job_id).total_steps
    assert [p[0] for p in jobs_repo.loss_points(project.store, job_id)] == list(range(1, total + 1))
    assert sum(1 for r in sandbox.requests if "tuningJobs/" in r.path) > 4


def test_advice_for_an_overfitting_job_and_a_plateau(main_window: Any, qtbot: Any, project: Any, sandbox: Any,
                                                     sandbox_session: Any) -> None:
    from tests.services.test_monitor import start_agent_job, start_gemini_job

    sandbox.steps_per_second = 200.0
    tab = _monitor(main_window, qtbot)
    over = start_agent_job(sandbox_session(), examples=20, epochs=12, validation=True, name="overfit")
    over_id = _submit(main_window.ctx, project.store, over, display="overfit", train_count=20,
                      hyperparameters={"epoch_count": 12})
    qtbot.waitUntil(lambda: jobs_repo.get_job(project.store, over_id).state.ended, timeout=60000)
    qtbot.waitUntil(lambda: over_id not in tab.poller.watched(), timeout=30000)
    tab.select_job(over_id)
    # Both curves, read from the Sandbox's time series over HTTP: every training step, and the validation points
    # (that series appears only at the first evaluation, after the training one, as on Google's service).
    total = jobs_repo.get_job(project.store, over_id).total_steps
    qtbot.waitUntil(lambda: tab.plot_area.plot.curve_points(over_id) == total, timeout=30000)
    assert tab.plot_area.plot.curve_points(over_id, "validation") == len(
        jobs_repo.loss_points(project.store, over_id, "validation")) > 0
    kinds = [a.kind for a in tab.advice_panel.advice]
    assert "overfitting" in kinds, [a.text for a in tab.advice_panel.advice]
    over_advice = tab.advice_panel.advice[kinds.index("overfitting")]
    assert over_advice.epoch is not None and over_advice.epoch < 12
    assert tab.advice_panel.findChild(type(tab.jobs.rerun_button), "adviceTestCheckpoint") is not None
    with qtbot.waitSignal(main_window.ctx.tune_prefill_requested) as prefill:
        tab.advice_panel.findChild(type(tab.jobs.rerun_button), "adviceTune_overfitting").click()
    assert prefill.args[0]["epochs"] == over_advice.epoch

    # A Gemini API job: many epochs, no validation → the training loss levels off.
    main_window.ctx.connections.save_profile(_gemini_profile())
    gem = start_gemini_job(sandbox_session(_gemini_backend()), examples=400, epochs=6, name="plateau", batch_size=16)
    gem_id = _submit(main_window.ctx, project.store, gem, display="plateau", backend="gemini-api", train_count=400)
    qtbot.waitUntil(lambda: jobs_repo.get_job(project.store, gem_id).state.ended, timeout=60000)
    qtbot.waitUntil(lambda: gem_id not in tab.poller.watched(), timeout=30000)
    tab.select_job(gem_id)
    kinds = [a.kind for a in tab.advice_panel.advice]
    assert kinds == ["plateau"], [a.text for a in tab.advice_panel.advice]
    plateau = tab.advice_panel.advice[0]
    assert plateau.settings == {"epochs": plateau.epoch} and plateau.epoch < 6
    assert not tab.jobs.cancel_button.isEnabled()  # the Gemini API cannot cancel


def _gemini_backend() -> Any:
    from gemtune_desktop.services.connections import Backend

    return Backend.GEMINI_API


def _gemini_profile() -> Any:
    from gemtune_desktop.services.connections import ConnectionKind, ConnectionProfile

    return ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=_gemini_backend())


def test_plot_options_smoothing_log_scale_and_hover(fake_window: Any, qtbot: Any, fake_project: Any) -> None:
    job_id = _overfit_job(fake_project.store)
    fake_window.ctx.jobs_changed.emit()
    tab = _monitor(fake_window, qtbot)
    tab.select_job(job_id)
    curve = tab.plot_area.plot._jobs[job_id].curves["train"]
    assert curve.smooth_item is None
    tab.plot_area.smoothing.setValue(0.8)
    assert curve.smooth_item is not None and len(curve.smooth_item.xData) == 160
    assert curve.smooth_item.yData[-1] != curve.item.yData[-1]  # smoothed, not the raw values
    tab.plot_area.smoothing.setValue(0.0)
    assert curve.smooth_item is None
    tab.plot_area.log_scale.setChecked(True)
    assert tab.plot_area.plot.plot_item.ctrl.logYCheck.isChecked()
    tab.plot_area.log_scale.setChecked(False)
    text = tab.plot_area.plot.readout_at(100)
    assert "step 100" in text and "epoch 5" in text and "training loss" in text and "validation loss" in text


def test_dropped_examples_say_why_and_link_to_their_rows(fake_window: Any, qtbot: Any, fake_project: Any) -> None:
    from gemtune_desktop.core.examples import Example
    from gemtune_desktop.core.project import examples_repo

    ids = examples_repo.insert(fake_project.store, [Example(input=f"q{i}", output=f"a{i}") for i in range(3)],
                               [1.0, 2.0, 3.0])
    job_id = jobs_repo.add_job(fake_project.store, _record(
        state=JobState.SUCCEEDED, train_count=3,
        data_stats={"tuning_dataset_example_count": 3, "truncated_example_indices": [2],
                    "total_truncated_example_count": 1,
                    "dropped_example_reasons": ["Example has too many tokens (70,123 > 65,536)."]}))
    fake_window.ctx.jobs_changed.emit()
    tab = _monitor(fake_window, qtbot)
    tab.select_job(job_id)
    label = tab.details.findChild(QLabel, "droppedRows")
    text = label.text()
    assert "The service dropped 1 training example: they were left out of training." in text
    assert "Training example 2: Example has too many tokens (70,123 &gt; 65,536)." in text  # 1-based, with why
    with qtbot.waitSignal(fake_window.ctx.rows_focus_requested) as focus:
        label.linkActivated.emit("dropped:0")
    assert focus.args[0] == [ids[1]]
    assert fake_window.tabs.currentWidget() is fake_window.tab_widgets["dataset"]


def test_service_jobs_are_listed_and_marked_and_a_model_can_be_deleted(
        fake_window: Any, qtbot: Any, fake_project: Any, cloud: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cloud.add_job("fake/tuningJobs/elsewhere", "made-elsewhere", total_steps=10)
    tab = _monitor(fake_window, qtbot)
    tab.refresh()
    qtbot.waitUntil(lambda: any(j.resource_name == "fake/tuningJobs/elsewhere" for j in tab.jobs.model.jobs()),
                    timeout=10000)
    job = next(j for j in tab.jobs.model.jobs() if j.resource_name == "fake/tuningJobs/elsewhere")
    row = tab.jobs.model.row_of(job.id)
    assert not job.from_project and tab.jobs.model.index(row, 5).data() == "Service"
    assert "1 job on the service, 1 new to this list." in tab.status_label.text()
    tab.jobs.only_project.setChecked(True)
    assert tab.jobs.table_stack.currentWidget() is tab.jobs.empty_label
    assert tab.jobs.empty_label.text() == "No jobs match the filter."
    tab.jobs.only_project.setChecked(False)
    qtbot.waitUntil(lambda: jobs_repo.get_job(fake_project.store, job.id).state is JobState.SUCCEEDED, timeout=10000)
    tab.select_job(job.id)
    qtbot.waitUntil(lambda: tab.jobs.delete_button.isEnabled(), timeout=10000)
    asked: list[str] = []
    monkeypatch.setattr(tab, "_confirm", lambda title, text, yes: asked.append(text) or True)
    tab.jobs.delete_button.click()
    qtbot.waitUntil(lambda: jobs_repo.get_job(fake_project.store, job.id).tuned_model == "", timeout=10000)
    assert "cannot be undone" in asked[0]
    assert "delete_tuned_model" in cloud.calls
    assert not tab.jobs.test_button.isEnabled()
    tab.poller.watch(job.id)  # the service still names the model in the job; the deletion is remembered
    qtbot.waitUntil(lambda: job.id not in tab.poller.watched(), timeout=10000)
    assert jobs_repo.get_job(fake_project.store, job.id).tuned_model == ""


def test_pyqtgraph_is_not_imported_until_the_tab_is_shown() -> None:
    import subprocess
    import sys

    code = ("import sys; import gemtune_desktop.ui.monitor.tab, gemtune_desktop.qtcore.poller; "
            "assert 'pyqtgraph' not in sys.modules and 'google.genai' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_advice_for_a_loss_that_rises_from_the_start(main_window: Any, qtbot: Any, project: Any, sandbox: Any,
                                                     sandbox_session: Any) -> None:
    from tests.services.test_monitor import start_agent_job

    tab = _monitor(main_window, qtbot)
    name = start_agent_job(sandbox_session(), examples=40, epochs=3, validation=False, multiplier=10.0, name="hot")
    job_id = _submit(main_window.ctx, project.store, name, display="hot",
                     hyperparameters={"epoch_count": 3, "learning_rate_multiplier": 10.0})
    qtbot.waitUntil(lambda: jobs_repo.get_job(project.store, job_id).state.ended, timeout=60000)
    qtbot.waitUntil(lambda: job_id not in tab.poller.watched(), timeout=30000)
    tab.select_job(job_id)
    assert [a.kind for a in tab.advice_panel.advice] == ["flat"]
    with qtbot.waitSignal(main_window.ctx.tune_prefill_requested) as prefill:
        tab.advice_panel.findChild(type(tab.jobs.rerun_button), "adviceTune_flat").click()
    assert prefill.args[0]["learning_rate_multiplier"] == 5.0


def test_failed_job_explained_in_plain_words_and_rerun(fake_window: Any, qtbot: Any, fake_project: Any,
                                                       cloud: Any) -> None:
    cloud.add_job("fake/tuningJobs/doomed", "doomed", fail_with="The job stopped because an internal error at Google.")
    tab = _monitor(fake_window, qtbot)
    job_id = _submit(fake_window.ctx, fake_project.store, "fake/tuningJobs/doomed", display="doomed",
                     hyperparameters={"epochs": 2, "base_model": "gemini-3.5-flash", "display_name": "doomed"})
    tab.select_job(job_id)
    qtbot.waitUntil(lambda: jobs_repo.get_job(fake_project.store, job_id).state is JobState.FAILED, timeout=10000)
    qtbot.waitUntil(lambda: tab.details.findChild(QLabel, "jobError") is not None, timeout=10000)
    error = tab.details.findChild(QLabel, "jobError").text()
    assert error.startswith("⚠ The job stopped because an internal error at Google")
    assert tab.jobs.model.index(tab.jobs.model.row_of(job_id), 3).data() == "failed ⚠"
    with qtbot.waitSignal(fake_window.ctx.tune_prefill_requested) as prefill:
        tab.jobs.rerun_button.click()
    assert prefill.args[0]["epochs"] == 2 and prefill.args[0]["display_name"] == "doomed"


def test_hover_over_the_plot_reads_out_the_point(fake_window: Any, qtbot: Any, fake_project: Any) -> None:
    from PySide6.QtCore import QPointF

    job_id = _overfit_job(fake_project.store)
    fake_window.ctx.jobs_changed.emit()
    tab = _monitor(fake_window, qtbot)
    tab.select_job(job_id)
    qtbot.waitUntil(lambda: tab.plot_area.plot.curve_points(job_id) == 160)
    vb = tab.plot_area.plot.plot_item.getViewBox()
    tab.plot_area.plot.reset_zoom()
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] >= 150)  # the whole curve is in view

    def hover() -> str:
        tab.plot_area.plot.plot_widget.scene().sigMouseMoved.emit(vb.mapViewToScene(QPointF(81.0, 0.5)))
        return tab.plot_area.plot.readout.text()

    qtbot.waitUntil(lambda: "step 81" in hover())
    text = hover()
    assert "epoch 4.05" in text and "training loss" in text
    assert "validation loss" not in text  # only the curve under the pointer is read out

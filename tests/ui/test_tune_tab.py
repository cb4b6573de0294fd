"""The Tune tab end to end in the real window, on the Sandbox: configure, pre-flight, submit, record, errors."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.examples import Example, Split, Target
from gemtune_desktop.core.jobs import JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.services.connections import Backend
from tests.ui.tune_helpers import (
    answer_question,
    jobs,
    make_project,
    models_ready,
    open_project,
    ready_tab,
    shot,
    tune_tab,
    use_sandbox,
    wait_idle,
)


def test_submit_on_agent_platform_sandbox_records_the_job(sandbox, main_window, qtbot, tmp_path) -> None:
    ctx = main_window.ctx
    tab = ready_tab(main_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Support.gemtune", 120, 12))
    assert [tab.form.model_combo.itemData(i) for i in range(tab.form.model_combo.count())] == \
        ["gemini-3.5-flash", "gemini-3.5-flash-lite", "gemini-3.1-flash-lite",
         "gemini-2.5-flash", "gemini-2.5-flash-lite"]  # the Sandbox still tunes the retired 2.5 Flash models
    assert tab.form.hyper_pages.currentIndex() == 0  # Agent Platform settings
    assert tab.form.ap_epochs.value() is None and tab.form.ap_adapter.currentData() is None  # Automatic by default
    tab.form.model_combo.setCurrentIndex(1)
    tab.form.name_edit.setText("Ticket router v1")
    tab.form.ap_epochs.set_value(4)
    tab.form.ap_multiplier.set_value(0.5)
    tab.form.ap_adapter.setCurrentIndex(tab.form.ap_adapter.findData(8))
    est = tab.estimate()
    assert est.train_examples == 120 and est.validation_examples == 12 and est.epochs == 4
    assert est.training_tokens == est.tokens_per_epoch * 4
    assert "Training tokens" in tab.estimate_box.estimate_label.text()
    shot(main_window, "agent_platform_form")

    with qtbot.waitSignal(ctx.jobs_changed, timeout=30000):
        qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)  # a double click starts one job
    wait_idle(qtbot, tab)
    shot(main_window, "agent_platform_submitted")

    assert "has started" in tab.run.status_label.text()
    assert tab.run.monitor_button.isVisible()
    posts = sandbox.requests.matching("/tuningJobs", "POST")
    assert len(posts) == 1
    body = posts[0].json
    assert body["baseModel"] == "gemini-3.5-flash-lite" and body["tunedModelDisplayName"] == "Ticket router v1"
    hp = body["supervisedTuningSpec"]["hyperParameters"]
    assert int(hp["epochCount"]) == 4 and hp["learningRateMultiplier"] == 0.5
    assert hp["adapterSize"] == "ADAPTER_SIZE_EIGHT"
    assert body["supervisedTuningSpec"]["validationDatasetUri"].endswith("validation.jsonl")

    recorded = jobs(ctx)
    assert len(recorded) == 1
    job = recorded[0]
    assert job.resource_name.startswith("projects/sandbox-project/locations/us-central1/tuningJobs/")
    assert job.state is not JobState.SUBMITTING and job.state.active
    assert job.connection_kind == "sandbox" and job.backend == "agent-platform"
    assert job.base_model == "gemini-3.5-flash-lite" and job.display_name == "Ticket router v1"
    assert job.hyperparameters["epochs"] == 4 and job.hyperparameters["adapter_size"] == 8
    assert job.train_count == 120 and job.validation_count == 12 and len(job.dataset_hash) == 16
    assert job.submit_key and job.train_tokens > 0

    with qtbot.waitSignal(ctx.show_tab_requested) as sig:
        qtbot.mouseClick(tab.run.monitor_button, Qt.MouseButton.LeftButton)
    assert sig.args == ["monitor"]


def test_submit_on_gemini_api_sandbox_sends_examples_inline(sandbox, main_window, qtbot, tmp_path) -> None:
    ctx = main_window.ctx
    tab = ready_tab(main_window, qtbot, Backend.GEMINI_API, make_project(tmp_path / "Gemini.gemtune", 110, 0))
    assert tab.form.model_combo.currentData() == "models/sandbox-flash-001-tuning"
    assert tab.form.hyper_pages.currentIndex() == 1  # Gemini API settings
    assert (tab.form.ga_epochs.value(), tab.form.ga_batch.value(), tab.form.ga_rate.value()) == (5, 4, 0.001)
    tab.form.name_edit.setText("x" * 41)
    assert "too long" in tab.form.name_count.text()
    tab.form.name_edit.setText("Router on Gemini API")
    tab.form.ga_epochs.setValue(3)
    tab.form.ga_batch.setValue(8)
    tab.form.ga_mult_radio.setChecked(True)
    tab.form.ga_mult.setValue(2.0)
    assert tab.estimate().steps == 14 * 3  # ceil(110 / 8) × 3
    shot(main_window, "gemini_api_form")

    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tab)
    assert "has started" in tab.run.status_label.text(), tab.run.status_label.text()
    posts = sandbox.requests.matching("/tunedModels", "POST")
    assert len(posts) == 1
    task = posts[0].json["tuningTask"]
    assert task["hyperparameters"] == {"epochCount": 3, "batchSize": 8, "learningRateMultiplier": 2.0}
    examples = task["trainingData"]["examples"]["examples"]
    assert len(examples) == 110 and examples[0]["textInput"].startswith("Route this ticket:")
    job = jobs(ctx)[0]
    assert job.resource_name == f"tunedModels/{posts[0].query['tunedModelId']}"
    assert job.backend == "gemini-api" and job.hyperparameters["learning_rate_multiplier"] == 2.0


def test_validation_errors_block_and_link_to_the_rows(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    use_sandbox(ctx, Backend.GEMINI_API)
    bad = [Example("an input with no answer", "", Split.TRAIN)]
    open_project(fake_window, qtbot, make_project(tmp_path / "Few.gemtune", 10, 0, extra=bad))
    tab = tune_tab(fake_window)
    models_ready(qtbot, tab)
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tab)
    shot(fake_window, "validation_blocked")
    assert tab.problems.isVisible()
    texts = [tab.problems.list.item(i).text() for i in range(tab.problems.list.count())]
    assert any("at least 20" in t for t in texts)
    assert any("row 11" in t for t in texts)
    assert "not started" in tab.run.status_label.text()
    assert "submit" not in cloud.calls and not jobs(ctx)

    empty_row_id = ctx.project.examples[10].id
    item = next(tab.problems.list.item(i) for i in range(tab.problems.list.count())
                if "row 11" in tab.problems.list.item(i).text())
    with qtbot.waitSignal(ctx.rows_focus_requested) as sig:
        tab.problems.activate(item)
    assert sig.args == [[empty_row_id]]
    assert fake_window.tabs.currentWidget() is fake_window.tab_widgets["dataset"]


def test_warnings_ask_before_starting(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Small.gemtune", 30, 0))
    seen = answer_question(qtbot, "Go back")
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tab)
    assert seen and "warning" in seen[0] and "100" in seen[0]
    assert "submit" not in cloud.calls and not jobs(ctx)

    answer_question(qtbot, "Start anyway")
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tab)
    assert cloud.calls.count("submit") == 1
    assert len(jobs(ctx)) == 1


def test_permission_denied_is_explained_and_recorded(sandbox, main_window, qtbot, tmp_path) -> None:
    ctx = main_window.ctx
    tab = ready_tab(main_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Denied.gemtune", 120, 0))
    sandbox.faults.add(route=r"tuningJobs$", kind="status", status=403, method="POST")
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tab)
    shot(main_window, "permission_denied")
    assert "Permission denied" in tab.run.status_label.text()
    assert "Vertex AI User" in tab.run.status_label.text()
    assert len(sandbox.requests.matching("/tuningJobs", "POST")) == 1  # a 403 is not retried
    (job,) = jobs(ctx)
    assert job.state is JobState.SUBMIT_FAILED and "Permission denied" in job.error
    assert tab.run.start_button.isEnabled()


def test_busy_answer_is_retried_without_a_duplicate_job(sandbox, main_window, qtbot, tmp_path) -> None:
    ctx = main_window.ctx
    tab = ready_tab(main_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Busy.gemtune", 120, 0))
    sandbox.faults.add(route=r"tuningJobs$", kind="status", status=429, count=1, method="POST")
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tab)
    assert "after 2 attempts" in tab.run.status_label.text(), tab.run.status_label.text()
    assert len(sandbox.requests.matching("/tuningJobs", "POST")) == 2
    (job,) = jobs(ctx)
    assert job.resource_name and job.state.active
    # A 429 is a refusal: nothing was made, so the retry makes the one and only job.
    on_service = list(ctx.connections.session().client().tunings.list(config={"page_size": 100}))
    assert [j.name for j in on_service] == [job.resource_name]


def test_missing_bucket_is_explained(sandbox, main_window, qtbot, tmp_path) -> None:
    ctx = main_window.ctx
    tab = ready_tab(main_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Bucket.gemtune", 120, 0),
                    bucket="typo-bucket")
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tab)
    shot(main_window, "bucket_missing")
    assert "“typo-bucket” does not exist" in tab.run.status_label.text()
    assert not sandbox.requests.matching("/tuningJobs", "POST")
    (job,) = jobs(ctx)
    assert job.state is JobState.SUBMIT_FAILED


def test_settings_the_service_would_refuse_block_with_the_field_named(cloud, fake_window, qtbot,
                                                                    tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Name.gemtune", 120, 0))
    tab.form.name_edit.setText("n" * 129)
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    assert tab.problems.isVisible()
    assert "at most 128" in tab.problems.list.item(0).text()
    assert tab.form.name_edit.property("problem") is True
    assert not jobs(ctx)


def test_no_tunable_model_explains_and_offers_a_way_out(cloud, fake_window, qtbot) -> None:
    """The Gemini API lists no model with createTunedModel (as Google's has since 2025)."""
    cloud.tunable_models = []
    ctx = fake_window.ctx
    use_sandbox(ctx, Backend.GEMINI_API)
    tab = tune_tab(fake_window)
    qtbot.waitUntil(lambda: tab.unavailable.isVisible(), timeout=30000)
    shot(fake_window, "no_tunable_model")
    assert not tab.form_area.isVisible()
    assert "list_tunable_models" in cloud.calls  # the service was asked
    assert "May 2025" in tab.unavailable.text.text()
    assert tab.unavailable.setup_cloud_button.isVisible() and tab.unavailable.use_sandbox_button.isVisible()
    assert not tab.run.start_button.isEnabled()
    qtbot.mouseClick(tab.unavailable.use_sandbox_button, Qt.MouseButton.LeftButton)
    assert ctx.connections.profile.backend is Backend.AGENT_PLATFORM
    models_ready(qtbot, tab)
    assert tab.form_area.isVisible() and not tab.unavailable.isVisible()


def test_presets_and_rerun_prefill(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM)
    tab.form.ap_epochs.set_value(7)
    tab.form.ap_adapter.setCurrentIndex(tab.form.ap_adapter.findData(16))
    tab.form.presets.set_name("long run")
    tab.form.presets.save_button.click()
    assert ctx.settings.read(S.TUNE_PRESETS)["long run"].values["epochs"] == 7
    tab.form.ap_epochs.set_value(None)
    tab.form.ap_adapter.setCurrentIndex(0)
    tab.form.presets.set_name("long run")
    tab.form.presets.load_button.click()
    assert tab.form.ap_epochs.value() == 7 and tab.form.ap_adapter.currentData() == 16

    fake_window.show_tab("monitor")
    with qtbot.waitSignal(ctx.show_tab_requested):
        ctx.tune_prefill_requested.emit({"base_model": "gemini-3.1-flash-lite", "epochs": 2,
                                         "learning_rate_multiplier": 0.25, "adapter_size": 4,
                                         "display_name": "re-run of router"})
    assert fake_window.tabs.currentWidget() is tab
    assert tab.form.model_combo.currentData() == "gemini-3.1-flash-lite"
    assert tab.form.ap_epochs.value() == 2 and tab.form.ap_multiplier.value() == pytest.approx(0.25)
    assert tab.form.ap_adapter.currentData() == 4 and tab.form.name_edit.text() == "re-run of router"


def test_price_is_unknown_until_you_enter_yours(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Price.gemtune", 120, 0))
    tab.form.ap_epochs.set_value(2)
    # No sourced tuning price is shipped for these models: no made-up cost, and the note asks for the user's.
    assert tab.estimate().cost is None and "enter" in tab.estimate_box.price_note.text()
    tab.estimate_box.price_spin.setValue(10.0)
    est = tab.estimate()
    assert est.cost == pytest.approx(est.training_tokens / 1_000_000 * 10.0)
    assert ctx.settings.read(S.MODEL_PRICES)["gemini-3.5-flash"] == 10.0
    assert "your price" in tab.estimate_box.price_note.text()
    tab.reset_price()
    assert tab.estimate().cost is None


def test_no_project_means_no_start_with_a_reason(cloud, qtbot, fake_ctx) -> None:
    from gemtune_desktop.ui.tune.tab import TuneTab

    use_sandbox(fake_ctx, Backend.AGENT_PLATFORM)
    tab = TuneTab(fake_ctx)
    qtbot.addWidget(tab)
    assert not tab.run.start_button.isEnabled()
    assert "project" in tab.run.start_reason.text()


def test_target_matches_backend_values() -> None:
    assert Target(J.AGENT_PLATFORM) is Target.AGENT_PLATFORM and Target(J.GEMINI_API) is Target.GEMINI_API


def test_cancel_during_upload_starts_no_job(sandbox, main_window, qtbot, tmp_path) -> None:
    ctx = main_window.ctx
    tab = ready_tab(main_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Cancel.gemtune", 120, 0))
    sandbox.faults.add(route=r"/upload/storage", kind="latency", latency_s=3.0)
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.run.cancel_button.isVisible() and tab.run.progress.isVisible(), timeout=30000)
    assert not tab.run.start_button.isEnabled()
    qtbot.mouseClick(tab.run.cancel_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tab)
    assert "No tuning job was started" in tab.run.status_label.text()
    assert not sandbox.requests.matching("/tuningJobs", "POST")
    (job,) = jobs(ctx)
    assert job.deleted  # the SUBMITTING record is withdrawn, so Monitor does not list a job that never existed
    assert not jobs_repo.list_jobs(ctx.project.store)


def test_set_up_cloud_opens_the_connections_dialog(cloud, fake_window, qtbot) -> None:
    cloud.tunable_models = []
    use_sandbox(fake_window.ctx, Backend.GEMINI_API)
    tab = tune_tab(fake_window)
    qtbot.waitUntil(lambda: tab.unavailable.isVisible(), timeout=30000)
    seen: list[str] = []

    def close_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, close_dialog)
            return
        seen.append(type(dialog).__name__)
        dialog.reject()

    QTimer.singleShot(20, close_dialog)
    qtbot.mouseClick(tab.unavailable.setup_cloud_button, Qt.MouseButton.LeftButton)
    assert seen == ["ConnectionsDialog"]


def test_edited_model_list_is_offered(cloud, fake_window, qtbot) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM)
    ctx.settings.set(S.TUNABLE_MODELS_AP, "gemini-3.1-flash-lite, gemini-4-flash")
    assert [tab.form.model_combo.itemData(i) for i in range(tab.form.model_combo.count())] == \
        ["gemini-3.1-flash-lite", "gemini-4-flash", "gemini-2.5-flash", "gemini-2.5-flash-lite"]  # + the Sandbox's
    tab.form.model_combo.setCurrentIndex(1)
    assert tab.current_price() is None and tab.estimate_box.price_note.text().startswith(J.PRICE_UNKNOWN)
    ctx.settings.set(S.TUNABLE_MODELS_AP, "")
    assert tab.form.model_combo.count() == 5


def test_job_is_on_disk_before_the_create_call_answers(sandbox, main_window, qtbot, tmp_path) -> None:
    """Closing the app a second after Start loses nothing: the SUBMITTING record is already in the file."""
    import sqlite3

    ctx = main_window.ctx
    use_sandbox(ctx, Backend.GEMINI_API)
    path = make_project(tmp_path / "Early.gemtune", 120, 0)
    open_project(main_window, qtbot, path)
    tab = tune_tab(main_window)
    models_ready(qtbot, tab)
    sandbox.faults.add(route=r"tunedModels$", kind="latency", latency_s=3.0, method="POST")
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.run.cancel_button.isVisible() and tab.run.progress.isVisible(), timeout=30000)
    shot(main_window, "submitting")
    with sqlite3.connect(path) as other:  # another reader of the project file, as after a crash
        rows = other.execute("SELECT state, submit_key, display_name, resource_name FROM jobs").fetchall()
    assert len(rows) == 1 and rows[0][0] == "SUBMITTING" and rows[0][1] and rows[0][3] == ""
    wait_idle(qtbot, tab)
    (job,) = jobs(ctx)
    assert job.resource_name.startswith("tunedModels/") and job.submit_key == rows[0][1]


def test_estimate_follows_dataset_edits(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Grow.gemtune", 120, 0))
    assert "<b>120</b>" in tab.estimate_box.estimate_label.text()
    ctx.project.insert(len(ctx.project.examples), [Example("one more ticket about a refund", "billing")])
    qtbot.waitUntil(lambda: "<b>121</b>" in tab.estimate_box.estimate_label.text(), timeout=30000)


def test_tab_key_follows_the_layout_top_to_bottom(cloud, qtbot, fake_ctx) -> None:
    from gemtune_desktop.ui.tune.tab import TuneTab

    use_sandbox(fake_ctx, Backend.AGENT_PLATFORM)
    tab = TuneTab(fake_ctx)
    qtbot.addWidget(tab)
    form = tab.form
    expected = [form.model_combo, form.edit_models_button, form.name_edit, form.presets.combo,
                form.ap_epochs.spin, form.ap_epochs.auto, form.ap_multiplier.spin, form.ap_multiplier.auto,
                form.ap_adapter, form.ap_mode, form.ap_validation, form.ap_export_last,
                tab.estimate_box.price_spin, tab.estimate_box.price_reset, tab.run.start_button]
    wanted = set(map(id, expected))
    seen: list[Any] = []
    w = tab.form.model_combo
    for _ in range(500):
        if id(w) in wanted and w not in seen:
            seen.append(w)
        w = w.nextInFocusChain()
        if w is tab.form.model_combo:
            break
    assert [x.objectName() or x.text() for x in seen] == [x.objectName() or x.text() for x in expected]
    # In particular: after "Keep only the final model" Tab goes on down (to the price), not back up to Epochs.
    assert seen.index(tab.form.ap_export_last) + 1 == seen.index(tab.estimate_box.price_spin)

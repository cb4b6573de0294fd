"""The Tune tab's method and starting point (issue 18): supervised or preference tuning, from a base model or a
tuned model's checkpoint, Google's recommended order with the supervised set built in one click, and the
preference estimate.

One journey runs in the real window over real HTTP against the Sandbox (the real SDK): supervised tuning on the
preferred answers, then preference tuning from its checkpoint. The rest use the fake service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from gemtune_desktop.core.examples import DatasetSettings, Split
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.preference.lineage import lineage_of
from gemtune_desktop.core.preference.model import PreferenceExample
from gemtune_desktop.core.preference.spec import EXPLAIN, PreferenceSpec, StartingPoint
from gemtune_desktop.core.project import jobs_repo, preference_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.services.backend import ServiceError
from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile
from gemtune_desktop.services.tuning import InvalidSetting
from tests.ui.monitor_helpers import _monitor
from tests.ui.test_test_tab import send_and_wait
from tests.ui.tune_helpers import WORDS, answer_question, jobs, make_project, ready_tab, shot, wait_idle

SANDBOX_MODEL = "projects/sandbox-project/locations/us-central1/models/"


def preference_project(path: Path, n: int = 24, *, supervised: int = 0) -> Path:
    """A project with ``n`` preference examples (3 of them in validation) and ``supervised`` ordinary examples."""
    make_project(path, supervised, 0, settings=DatasetSettings(preamble="Answer the customer:"))
    examples = [PreferenceExample(f"{WORDS[i % len(WORDS)]} question number {i}: what now?",
                                  f"Sorry about the {WORDS[i % len(WORDS)]}; here is what we do next ({i}).",
                                  f"Not our problem ({i}).", split=Split.VALIDATION if i % 8 == 7 else Split.TRAIN)
                for i in range(n)]
    with ProjectStore.open(path) as store:
        preference_repo.insert(store, examples, [float(i) for i in range(n)])
    return path


def start(qtbot: Any, tab: Any) -> None:
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tab)


def click(qtbot: Any, widget: Any) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def use_cloud(ctx: Any, override: str = "") -> None:
    """A Google Cloud (Agent Platform) connection: its models come from models.json, nothing is called."""
    ctx.connections.save_profile(ConnectionProfile(kind=ConnectionKind.AGENT_PLATFORM, project="my-project",
                                                   region="us-central1", bucket="my-bucket"))
    ctx.connections.set_active(ConnectionKind.AGENT_PLATFORM)
    if override:
        ctx.settings.set(S.TUNABLE_MODELS_AP, override)


def choose_model(tab: Any, model: str) -> None:
    combo = tab.form.model_combo
    combo.setCurrentIndex(combo.findData(model))


def succeeded_job(store: Any, name: str, model_id: str, checkpoints: int = 2, base: str = "gemini-3.5-flash") -> int:
    return jobs_repo.add_job(store, JobRecord(
        connection_kind="sandbox", backend="agent-platform", connection_id="sandbox/agent-platform",
        display_name=name, base_model=base, state=JobState.SUCCEEDED, resource_name=f"fake/tuningJobs/{name}",
        tuned_model=f"{SANDBOX_MODEL}{model_id}@1", created_at=f"2026-11-2{model_id[-1]}T10:00:00+00:00",
        checkpoints=[{"checkpoint_id": str(i), "epoch": i, "step": 10 * i} for i in range(1, checkpoints + 1)]))


# -- the journey over real HTTP -----------------------------------------------------------------------------
def test_supervised_then_preference_from_its_checkpoint_over_http(sandbox, main_window, qtbot, tmp_path) -> None:
    """Issue 18's whole journey in the real window: 24 pairs imported from the expert's spreadsheet, supervised
    tuning on the preferred answers, preference tuning from its checkpoint, both watched in the Monitor, and the
    base, supervised and preference-tuned models compared in the Test tab, all through the SDK over HTTP."""
    import csv

    ctx = main_window.ctx
    sandbox.steps_per_second = 2000.0
    texts = DatasetSettings(preamble="Answer the customer:")
    tab = ready_tab(main_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Lease desk.gemtune", 0, 0,
                                                                              settings=texts))
    pairs = tmp_path / "verdicts.csv"
    with open(pairs, "w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(["prompt", "chosen", "rejected", "split"])
        for i in range(24):
            w = WORDS[i % len(WORDS)]
            writer.writerow([f"{w} question number {i}: what now?", f"Sorry about the {w}; here is what we do next "
                             f"({i}).", f"Not our problem ({i}).", "validation" if i % 8 == 7 else "train"])
    main_window.show_tab("dataset")
    main_window.dataset_tab().open_path(pairs)  # recognised as preference pairs by its columns
    qtbot.waitUntil(lambda: preference_repo.count(ctx.project.store) == 24, timeout=30000)
    main_window.show_tab("tune")
    method = tab.form.method
    assert not ctx.project.examples

    # Google's order: first the supervised set from the preferred answers, in one click.
    click(qtbot, method.build_button)
    assert len(ctx.project.examples) == 24 and not method.preference
    assert tab.form.ap_epochs.value() == 2
    tab.form.name_edit.setText("Lease desk SFT")
    answer_question(qtbot, "Start anyway")  # fewer than 100 examples: a warning
    start(qtbot, tab)
    assert "has started" in tab.run.status_label.text()
    (first,) = jobs(ctx)
    qtbot.waitUntil(lambda: jobs_repo.get_job(ctx.project.store, first.id).state is JobState.SUCCEEDED,
                    timeout=90000)
    qtbot.waitUntil(lambda: method.start_combo.count() > 2, timeout=30000)  # its model and checkpoints are offered
    first = jobs_repo.get_job(ctx.project.store, first.id)
    assert first.checkpoints
    checkpoint = str(first.checkpoints[0]["checkpoint_id"])
    labels = [method.start_combo.itemText(i) for i in range(method.start_combo.count())]
    assert f"“Lease desk SFT” — checkpoint {checkpoint}" in labels

    # Then preference tuning from that checkpoint.
    method.start_combo.setCurrentIndex(labels.index(f"“Lease desk SFT” — checkpoint {checkpoint}"))
    click(qtbot, method.preference_radio)
    assert method.preference and tab.form.hyper_pages.currentWidget() is tab.form.pref_page
    assert not tab.form.model_combo.isEnabled()  # the tuned model's base is used
    tab.form.name_edit.setText("Lease desk preferred")
    tab.form.pref_page.beta.set_value(0.2)
    shot(main_window, "preference_from_checkpoint")
    answer_question(qtbot, "Start anyway")
    start(qtbot, tab)
    assert "has started" in tab.run.status_label.text(), tab.run.status_label.text()

    second = next(j for j in jobs(ctx) if j.id != first.id)
    assert second.hyperparameters["method"] == "preference"
    assert second.hyperparameters["start_checkpoint"] == checkpoint
    assert second.hyperparameters["start_model"] == first.tuned_model
    assert second.base_model == first.base_model and second.train_count == 21 and second.validation_count == 3
    assert lineage_of(second, jobs(ctx)) == f"Preference-tuned from checkpoint {checkpoint} of “Lease desk SFT”"
    (post,) = [r for r in sandbox.requests.matching("/tuningJobs", "POST")
               if "preferenceOptimizationSpec" in (r.json or {})]
    body = post.json
    pre = body.get("preTunedModel") or body["pre_tuned_model"]  # google-genai 3.6.1 sends snake_case here
    assert (pre.get("checkpointId") or pre.get("checkpoint_id")) == checkpoint and "baseModel" not in body
    assert body["preferenceOptimizationSpec"]["hyperParameters"]["beta"] == 0.2
    qtbot.waitUntil(lambda: jobs_repo.get_job(ctx.project.store, second.id).state is JobState.SUCCEEDED,
                    timeout=90000)
    second = jobs_repo.get_job(ctx.project.store, second.id)

    # Both are watched in the Monitor: the preference job with its own curves and where it came from.
    monitor = _monitor(main_window, qtbot)
    qtbot.waitUntil(lambda: {j.id for j in monitor.jobs.model.jobs()} >= {first.id, second.id}, timeout=30000)
    monitor.select_job(second.id)
    plot = monitor.plot_area.plot
    qtbot.waitUntil(lambda: plot.curve_points(second.id, "train_preference_loss") > 0, timeout=30000)
    assert plot.curve_points(second.id, "train_reward_margin") > 0
    names = [label.text for _sample, label in plot.legend.items]
    assert "Lease desk preferred — preference loss (training)" in names
    qtbot.waitUntil(lambda: "Preference-tuned from checkpoint" in " ".join(
        w.text() for w in monitor.details.findChildren(QLabel, "jobLineage") if not w.isHidden()), timeout=10000)

    # Base, supervised and preference-tuned answer the same prompt side by side in the Test tab.
    main_window.show_tab("test")
    test_tab = main_window.tab_widgets["test"]
    console = test_tab.console
    qtbot.waitUntil(lambda: console.picker_a.select_model(first.endpoint) and console.picker_b.select_model(
        second.endpoint), timeout=30000)
    console.compare.setChecked(True)
    assert console.picker_b.select_model(second.endpoint)
    prompt = f"{WORDS[1]} question number 1: what now?"
    send_and_wait(qtbot, test_tab, prompt, slots=2)
    supervised_answer, preferred_answer = (v.texts()[0] for v in console.views)
    assert f"Sorry about the {WORDS[1]}" in preferred_answer, "the preference-tuned model gives the preferred answer"
    assert console.picker_a.select_model("gemini-3.5-flash")
    send_and_wait(qtbot, test_tab, prompt, slots=2)
    base_answer = console.views[0].texts()[0]
    assert base_answer and base_answer != preferred_answer and supervised_answer
    asked = {r.path.split(":")[0].rsplit("/", 1)[-1] for r in sandbox.requests.matching("enerateContent", "POST")}
    assert {"gemini-3.5-flash", first.endpoint.rsplit("/", 1)[-1], second.endpoint.rsplit("/", 1)[-1]} <= asked


# -- the widgets, on the fake service -----------------------------------------------------------------------
def test_method_switch_shows_the_preference_settings_and_sends_a_preference_job(cloud, fake_window, qtbot,
                                                                               tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, preference_project(tmp_path / "P.gemtune"))
    form = tab.form
    assert form.hyper_pages.currentWidget() is form.ap_page and not form.method.preference
    click(qtbot, form.method.preference_radio)
    assert form.hyper_pages.currentWidget() is form.pref_page and form.pref_page.isVisible()
    assert "preferred and a dispreferred answer" in form.method.method_words.text()
    for number in (form.pref_page.epochs, form.pref_page.multiplier, form.pref_page.beta):
        assert number.value() is None  # each on Automatic
    form.pref_page.epochs.set_value(3)
    answer_question(qtbot, "Start anyway")
    start(qtbot, tab)
    request = cloud.submitted[-1]
    assert isinstance(request.spec, PreferenceSpec) and request.spec.epochs == 3 and request.spec.beta is None
    assert len(request.train) == 21 and len(request.validation) == 3
    (job,) = jobs(ctx)
    assert job.hyperparameters["method"] == "preference" and job.base_model == form.model_combo.currentData()

    click(qtbot, form.method.supervised_radio)
    assert form.hyper_pages.currentWidget() is form.ap_page


def test_beta_is_explained_in_plain_words_and_refusals_mark_it(cloud, fake_window, qtbot, tmp_path) -> None:
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, preference_project(tmp_path / "Beta.gemtune"))
    form = tab.form
    click(qtbot, form.method.preference_radio)
    page = form.pref_page
    explain = page.findChild(type(form.name_count), "pref_beta_explain")
    assert explain is not None and explain.isVisible() and explain.text() == EXPLAIN["beta"]
    assert "stays to where it started" in explain.text() and "Automatic" in explain.text()
    for key in ("epochs", "learning_rate_multiplier", "adapter_size"):
        label = page.findChild(type(form.name_count), f"pref_{key}_explain")
        assert label is not None and label.text() == EXPLAIN[key]
    page.beta.set_value(0.25)
    assert form.preference_spec().beta == 0.25
    message = "Invalid value at 'tuning_job.preference_optimization_spec.hyper_parameters.beta'."
    cloud.failures["submit"] = InvalidSetting(ServiceError(400, "INVALID_ARGUMENT", message), "beta", "β")
    answer_question(qtbot, "Start anyway")
    start(qtbot, tab)
    assert tab.run.status_label.text().startswith("✖ The service refused the setting “β”")
    assert page.beta.spin.property("problem") is True


def test_availability_says_what_is_known_and_never_claims_support(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, preference_project(tmp_path / "Avail.gemtune"))
    method = tab.form.method
    words = method.availability.text()  # on the Sandbox: simulated, and what Google says
    assert "The Sandbox simulates preference tuning" in words and "On Google Cloud it is not known" in words

    use_cloud(ctx, "gemini-3.5-flash, gemini-2.5-flash, gemini-2.5-pro")
    choose_model(tab, "gemini-3.5-flash")
    words = method.availability.text()
    assert "does not say whether Gemini 3.5 Flash takes preference tuning" in words
    assert "the service will say" in words and "supports" not in words.lower()
    assert method.preference_radio.isEnabled()
    choose_model(tab, "gemini-2.5-pro")
    assert not method.preference_radio.isEnabled()
    assert "Gemini 2.5 Pro does not take preference tuning" in method.availability.text()
    choose_model(tab, "gemini-2.5-flash")
    assert method.preference_radio.isEnabled() and method.availability.text() == ""  # documented by Google

    use_sandbox_gemini = ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=Backend.GEMINI_API)
    ctx.connections.save_profile(use_sandbox_gemini)
    ctx.connections.set_active(ConnectionKind.SANDBOX)
    assert not method.preference_radio.isEnabled()
    assert "only on Google Cloud" in method.availability.text()


def test_start_from_lists_tuned_models_and_checkpoints_and_continues_from_one(cloud, fake_window, qtbot,
                                                                              tmp_path) -> None:
    ctx = fake_window.ctx
    path = preference_project(tmp_path / "Starts.gemtune", supervised=30)
    with ProjectStore.open(path) as store:
        succeeded_job(store, "Lease desk", "101", checkpoints=2)
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, path)
    combo = tab.form.method.start_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "The base model chosen above", "“Lease desk” — its final model", "“Lease desk” — checkpoint 1",
        "“Lease desk” — checkpoint 2"]
    assert tab.form.model_combo.isEnabled()
    combo.setCurrentIndex(3)
    assert not tab.form.model_combo.isEnabled() and "continues from this tuned model" in \
        tab.form.method.start_words.text()
    answer_question(qtbot, "Start anyway")
    start(qtbot, tab)
    request = cloud.submitted[-1]
    assert request.start == StartingPoint(f"{SANDBOX_MODEL}101@1", "2", "gemini-3.5-flash", "“Lease desk”")
    new = next(j for j in jobs(ctx) if j.display_name != "Lease desk")
    assert new.hyperparameters["start_checkpoint"] == "2" and new.hyperparameters["method"] == "supervised"
    assert lineage_of(new, jobs(ctx)) == "Tuned from checkpoint 2 of “Lease desk”"
    combo.setCurrentIndex(0)
    assert tab.form.model_combo.isEnabled()


def test_one_click_supervised_set_is_one_undo_step(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, preference_project(tmp_path / "Build.gemtune", 22))
    method, project = tab.form.method, ctx.project
    assert "Google recommends" in method.order_words.text() and "1–2 epochs" in method.order_words.text()
    assert method.build_button.isEnabled() and "Adds 22 supervised examples" in method.build_words.text()
    click(qtbot, method.preference_radio)
    steps = project.undo_stack.count()
    click(qtbot, method.build_button)
    assert project.undo_stack.count() == steps + 1
    added = project.examples
    assert len(added) == 22 and added[0].output.startswith("Sorry about the")
    assert sum(e.split is Split.VALIDATION for e in added) == 2  # each keeps its split
    assert not method.preference and tab.form.ap_epochs.value() == 2  # set for Google's first step
    assert "Added 22 supervised examples" in tab.run.status_label.text()
    assert not method.build_button.isEnabled() and "already among" in method.build_words.text()
    project.undo_stack.undo()
    assert project.examples == [] and method.build_button.isEnabled()


def test_preference_estimate_counts_prompts_twice_and_says_price_unknown(cloud, fake_window, qtbot,
                                                                        tmp_path) -> None:
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, preference_project(tmp_path / "Est.gemtune"))
    click(qtbot, tab.form.method.preference_radio)
    tab.form.pref_page.epochs.set_value(2)
    qtbot.waitUntil(lambda: "× 2 (prompts)" in tab.estimate_box.estimate_label.text())
    text = tab.estimate_box.estimate_label.text()
    est = tab.method.estimate(None)
    assert est.billable_per_epoch == est.prompt_tokens * 2 + est.answer_tokens > 0
    assert f"= {est.billable_per_epoch:,}" in text and f"× 2 epochs = {est.billable_per_epoch * 2:,}" in text
    assert "Training examples:" in text and "<b>21</b>" in text
    assert "price unknown" in text
    assert "prompt&#x27;s tokens twice" in text or "prompt's tokens twice" in text


def test_settings_keep_the_full_width_when_the_projects_jobs_change(cloud, fake_window, qtbot, tmp_path) -> None:
    """The explanations stay readable: re-listing the starting points does not shrink the settings page."""
    from PySide6.QtWidgets import QApplication

    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, preference_project(tmp_path / "Wide.gemtune"))
    form = tab.form
    click(qtbot, form.method.preference_radio)
    QApplication.processEvents()
    page, stack = form.pref_page, form.hyper_pages
    wide = stack.width()
    assert page.width() == wide and page.height() >= page.heightForWidth(page.width())
    succeeded_job(ctx.project.store, "Lease desk", "101")
    ctx.jobs_changed.emit()
    QApplication.processEvents()
    assert form.method.start_combo.count() == 4
    assert stack.width() == wide and page.width() == wide
    assert page.height() >= page.heightForWidth(page.width())


def test_rerun_of_a_preference_job_fills_method_start_and_beta(cloud, fake_window, qtbot, tmp_path) -> None:
    from gemtune_desktop.core.job_facts import rerun_settings

    ctx = fake_window.ctx
    path = preference_project(tmp_path / "Rerun.gemtune")
    with ProjectStore.open(path) as store:
        succeeded_job(store, "Lease desk", "101", checkpoints=2)
        pref_id = jobs_repo.add_job(store, JobRecord(
            connection_kind="sandbox", backend="agent-platform", display_name="Lease desk preferred",
            base_model="gemini-3.5-flash", state=JobState.SUCCEEDED,
            hyperparameters={**PreferenceSpec(StartingPoint(f"{SANDBOX_MODEL}101@1", "1"), "Lease desk preferred",
                                              epochs=2, beta=0.3, adapter_size=4).hyperparameters(),
                             "start_model": f"{SANDBOX_MODEL}101@1", "start_checkpoint": "1"}))
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, path)
    form = tab.form
    assert not form.method.preference
    record = jobs_repo.get_job(ctx.project.store, pref_id)
    ctx.tune_prefill_requested.emit(rerun_settings(record))
    assert form.method.preference and form.hyper_pages.currentWidget() is form.pref_page
    assert form.method.start_combo.currentText() == "“Lease desk” — checkpoint 1"
    spec = form.preference_spec()
    assert (spec.epochs, spec.beta, spec.adapter_size, spec.learning_rate_multiplier) == (2, 0.3, 4, None)
    assert spec.start.checkpoint_id == "1"

    ctx.tune_prefill_requested.emit({"method": "supervised", "epochs": 5})  # a supervised job from the base model
    assert not form.method.preference and form.method.start() is None and form.ap_epochs.value() == 5
    assert not form.method.start_words.text().startswith("⚠")

    # A job that continued from a model the project no longer has: from the base model, and the tab says so.
    gone = {**rerun_settings(record), "start_model": f"{SANDBOX_MODEL}999@1"}
    ctx.tune_prefill_requested.emit(gone)
    assert form.method.start() is None
    assert form.method.start_words.text().startswith("⚠ The job you are re-running continued from a tuned model")


def test_a_preset_keeps_the_method_and_beta(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, preference_project(tmp_path / "Preset.gemtune"))
    form = tab.form
    click(qtbot, form.method.preference_radio)
    form.pref_page.beta.set_value(0.4)
    form.presets.set_name("gentle preference")
    click(qtbot, form.presets.save_button)
    saved = ctx.settings.read(S.TUNE_PRESETS)["gentle preference"].values
    assert saved["method"] == "preference" and saved["beta"] == 0.4
    click(qtbot, form.method.supervised_radio)
    form.pref_page.beta.set_value(None)
    form.presets.set_name("gentle preference")
    click(qtbot, form.presets.load_button)
    assert form.method.preference and form.preference_spec().beta == 0.4


def test_a_supervised_first_job_is_not_told_about_preference_tuning(cloud, fake_window, qtbot, tmp_path) -> None:
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "First.gemtune", 20, 4))
    method = tab.form.method
    assert not method.preference and method.preference_radio.isEnabled()
    assert not method.availability.isVisible() and not method.order_words.isVisible()
    assert not method.build_button.isVisible()
    click(qtbot, method.preference_radio)  # asked for: what is known about it, and Google's recommended order
    assert method.availability.isVisible() and method.order_words.isVisible()
    click(qtbot, method.supervised_radio)
    assert not method.order_words.isVisible()


def test_with_preference_examples_the_recommended_order_shows_for_supervised_too(cloud, fake_window, qtbot,
                                                                                 tmp_path) -> None:
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, preference_project(tmp_path / "Pairs.gemtune"))
    method = tab.form.method
    assert not method.preference and method.order_words.isVisible() and method.build_button.isEnabled()
    assert not method.availability.isVisible()

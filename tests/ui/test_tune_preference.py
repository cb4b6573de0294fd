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
    ctx = main_window.ctx
    sandbox.steps_per_second = 2000.0
    tab = ready_tab(main_window, qtbot, Backend.AGENT_PLATFORM, preference_project(tmp_path / "Lease desk.gemtune"))
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

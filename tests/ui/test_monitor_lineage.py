"""The Monitor tab for the jobs of issue 18 over the fake service: every series a job stored is plotted and named
in plain words, a job says what it was tuned from, and a tuned model on a retiring base is offered a move to a
newer one."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.jobs import JobState
from gemtune_desktop.core.project import evals_repo, jobs_repo
from gemtune_desktop.qtcore.undo import InsertRowsCommand
from tests.ui.monitor_helpers import _monitor, _overfit_job, _record


@pytest.fixture
def fake_project(fake_window: Any) -> Any:
    return fake_window.ctx.project


def _shown(tab: Any, name: str) -> QLabel | None:
    shown = [w for w in tab.details.findChildren(QLabel, name) if not w.isHidden()]
    return shown[0] if shown else None


def _preference_job(store: Any, start: str = "projects/p/locations/l/models/9@1", checkpoint: str = "2") -> int:
    """A finished preference job continued from ``start`` (a checkpoint of it), with the Sandbox's four series."""
    job_id = jobs_repo.add_job(store, _record(
        display_name="support-pref", state=JobState.SUCCEEDED, total_steps=40, completed_steps=40,
        resource_name="projects/p/locations/l/tuningJobs/2", ended_at="2026-11-21T12:00:00+00:00",
        hyperparameters={"method": "preference", "epoch_count": 2, "start_model": start,
                         "start_checkpoint": checkpoint}))
    train_loss = [(s, s / 20, 0.69 - 0.01 * s) for s in range(1, 41)]
    margin = [(s, s / 20, 0.05 * s) for s in range(1, 41)]
    jobs_repo.append_loss_points(store, job_id, "train_preference_loss", train_loss)
    jobs_repo.append_loss_points(store, job_id, "train_reward_margin", margin)
    jobs_repo.append_loss_points(store, job_id, "eval_reward_margin", [(20, 1.0, 0.8), (40, 2.0, 1.1)])
    return job_id


def test_the_legend_never_covers_the_epoch_labels_even_at_the_smallest_window(fake_window: Any, qtbot: Any,
                                                                             fake_project: Any) -> None:
    job_id = _preference_job(fake_project.store)
    fake_window.ctx.jobs_changed.emit()
    fake_window.resize(fake_window.minimumSizeHint())
    tab = _monitor(fake_window, qtbot)
    tab.select_job(job_id)
    plot = tab.plot_area.plot
    qtbot.waitUntil(lambda: plot.curve_points(job_id, "eval_reward_margin") == 2 and len(plot.legend.items) >= 3)
    qtbot.wait(50)
    (line,) = tab.plot_area.plot._jobs[job_id].epoch_lines
    label = line.label.sceneBoundingRect()
    assert label.isValid() and plot.plot_item.vb.sceneBoundingRect().contains(label.center())
    assert not plot.legend.sceneBoundingRect().intersects(label), "the legend covers an epoch label"
    assert not plot.legend.sceneBoundingRect().intersects(plot.plot_item.vb.sceneBoundingRect())


def test_every_series_a_job_stored_is_plotted_in_plain_words(fake_window: Any, qtbot: Any,
                                                             fake_project: Any) -> None:
    job_id = _preference_job(fake_project.store)
    fake_window.ctx.jobs_changed.emit()
    tab = _monitor(fake_window, qtbot)
    tab.select_job(job_id)
    plot = tab.plot_area.plot
    qtbot.waitUntil(lambda: plot.curve_points(job_id, "train_reward_margin") == 40)
    assert plot.curve_points(job_id, "train_preference_loss") == 40
    assert plot.curve_points(job_id, "eval_reward_margin") == 2
    names = [label.text for _sample, label in plot.legend.items]
    assert "support-pref — reward margin (training)" in names
    assert "support-pref — preference loss (training)" in names
    assert "support-pref — reward margin (validation)" in names
    assert not any("train_" in n or "eval_" in n for n in names)  # no raw series keys
    assert plot.plot_item.getAxis("left").labelText == "loss · reward margin"
    assert plot.epoch_line_positions() == [20.0]  # epochs marked from the training series it has
    text = plot.readout_at(10)
    assert "reward margin (training) 0.5" in text and "preference loss (training) 0.59" in text
    notes = plot.series_notes.text()
    assert "Reward margin: How much more the model favours the preferred answer" in notes
    assert "Preference loss: How strongly the model still fails to favour the preferred answers" in notes
    assert notes.count("Reward margin:") == 1  # once per measure, not per curve

    def advice() -> str:
        return " ".join(w.text() for w in tab.advice_panel.findChildren(QLabel) if not w.isHidden())

    qtbot.waitUntil(lambda: "does not report" in advice())
    assert "healthy" not in advice() and "No loss values" not in advice()


def test_a_job_says_what_it_was_tuned_from_and_links_to_that_job(fake_window: Any, qtbot: Any,
                                                                 fake_project: Any) -> None:
    parent = _overfit_job(fake_project.store)  # "support-v1", made projects/p/locations/l/models/9@1
    child = _preference_job(fake_project.store)
    fake_window.ctx.jobs_changed.emit()
    tab = _monitor(fake_window, qtbot)
    tab.select_job(child)
    qtbot.waitUntil(lambda: _shown(tab, "jobLineage") is not None)
    label = _shown(tab, "jobLineage")
    assert label is not None
    assert "Preference-tuned from checkpoint 2 of “support-v1”" in label.text()
    label.linkActivated.emit(f"job:{parent}")
    assert tab.selected_ids() == [parent]
    qtbot.waitUntil(lambda: _shown(tab, "jobLineage") is not None
                    and "Tuned from the base model gemini-3.5-flash" in str(_shown(tab, "jobLineage").text()))


def _visible(tab: Any, kind: Any, name: str) -> Any:
    shown = [w for w in tab.details.findChildren(kind, name) if not w.isHidden()]
    return shown[0] if shown else None


def test_a_tuned_model_on_a_retired_base_is_offered_a_move_to_a_newer_one(
        fake_window: Any, qtbot: Any, fake_project: Any, cloud: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QComboBox, QFrame, QPushButton

    store = fake_project.store
    old = jobs_repo.add_job(store, _record(
        display_name="leases-2025", base_model="gemini-2.5-flash", state=JobState.SUCCEEDED, total_steps=100,
        completed_steps=100, tuned_model="projects/p/locations/l/models/7@1",
        endpoint="projects/p/locations/us/endpoints/7", resource_name="projects/p/locations/l/tuningJobs/7"))
    current = _overfit_job(store)  # on Gemini 3.5 Flash, which retires no earlier than May 2027
    fake_window.ctx.jobs_changed.emit()
    tab = _monitor(fake_window, qtbot)
    tab.select_job(current)
    qtbot.waitUntil(lambda: _shown(tab, "jobState") is not None)
    assert _visible(tab, QFrame, "rebaseOffer") is None
    tab.select_job(old)
    qtbot.waitUntil(lambda: _shown(tab, "rebaseNotice") is not None)
    notice = str(_shown(tab, "rebaseNotice").text())
    assert "Gemini 2.5 Flash, the base model of this tuned model, was retired on" in notice
    assert "Move it to a newer base model to keep it." in notice
    choice = _visible(tab, QComboBox, "rebaseChoice")
    assert choice.currentData() == "gemini-3.5-flash" and choice.count() == 3
    choice.setCurrentIndex(choice.findData("gemini-3.5-flash-lite"))
    asked: list[str] = []
    monkeypatch.setattr(tab, "_confirm", lambda title, text, yes: asked.append(text) or True)
    _visible(tab, QPushButton, "rebaseButton").click()
    qtbot.waitUntil(lambda: "has started as a new tuning job" in tab.status_label.text(), timeout=10000)
    assert "billed like any tuning job" in asked[0]
    sent = cloud.rebase_calls
    assert [(r.tuned_model, r.new_base) for r in sent] == [("projects/p/locations/l/models/7@1",
                                                            "gemini-3.5-flash-lite")]
    moved = next(j for j in jobs_repo.list_jobs(store) if j.hyperparameters.get("rebased_from"))
    assert moved.resource_name and moved.base_model == "gemini-3.5-flash-lite"
    assert tab.selected_ids() == [moved.id]  # the new job is shown
    qtbot.waitUntil(lambda: _shown(tab, "jobLineage") is not None
                    and "Moved from “leases-2025” (gemini-2.5-flash) onto the newer base model gemini-3.5-flash-lite"
                    in str(_shown(tab, "jobLineage").text()), timeout=10000)
    tab.select_job(old)  # the old model is not offered a second move while this one runs
    qtbot.waitUntil(lambda: _shown(tab, "rebaseStarted") is not None, timeout=10000)
    assert "It is being moved (or was moved) by “leases-2025”" in str(_shown(tab, "rebaseStarted").text())
    assert _visible(tab, QPushButton, "rebaseButton") is None


def test_moving_a_model_onto_a_newer_base_in_the_window_over_the_sandbox(
        main_window: Any, qtbot: Any, sandbox: Any, sandbox_session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real SDK and REST over HTTP: a tuned model on the retired Gemini 2.5 Flash, moved from the Monitor."""
    from PySide6.QtWidgets import QPushButton

    from tests.services.test_preference_services import supervised_first

    qtbot.waitUntil(lambda: main_window.ctx.project is not None, timeout=30000)
    store = main_window.ctx.project.store
    sandbox.steps_per_second = 200.0
    old = supervised_first(store, sandbox_session(), base="gemini-2.5-flash", epochs=1)
    tab = _monitor(main_window, qtbot)
    main_window.ctx.jobs_changed.emit()
    tab.select_job(old.id)
    qtbot.waitUntil(lambda: _visible(tab, QPushButton, "rebaseButton") is not None, timeout=10000)
    assert "was retired on 20 October 2026" in str(_shown(tab, "rebaseNotice").text())
    monkeypatch.setattr(tab, "_confirm", lambda title, text, yes: True)
    _visible(tab, QPushButton, "rebaseButton").click()
    qtbot.waitUntil(lambda: "has started as a new tuning job" in tab.status_label.text(), timeout=60000)
    sent = sandbox.requests.matching("tuningJobs:rebaseTunedModel", "POST")
    assert len(sent) == 1 and sent[0].json["tunedModelRef"] == {"tunedModel": old.tuned_model}
    moved = next(j for j in jobs_repo.list_jobs(store) if j.hyperparameters.get("rebased_from") == old.tuned_model)
    assert moved.base_model == "gemini-3.5-flash" and moved.resource_name
    qtbot.waitUntil(lambda: jobs_repo.get_job(store, moved.id).state is JobState.SUCCEEDED, timeout=60000)
    qtbot.waitUntil(lambda: tab.plot_area.plot.curve_points(moved.id) > 0, timeout=30000)
    assert tab.selected_ids() == [moved.id]

    def lineage() -> str:
        label = _shown(tab, "jobLineage")
        return label.text() if label is not None else ""

    qtbot.waitUntil(lambda: "Moved from “Lease desk” (gemini-2.5-flash) onto the newer base model gemini-3.5-flash"
                    in lineage(), timeout=10000)
    assert _visible(tab, QPushButton, "rebaseButton") is None  # 3.5 Flash does not retire within 90 days
    # The new model is ready: before switching, old and new answer the evaluation examples side by side.
    moved = jobs_repo.get_job(store, moved.id)
    qtbot.waitUntil(lambda: _visible(tab, QPushButton, "compareButton") is not None, timeout=10000)
    test_tab = main_window.ensure_tab("test")
    panel = test_tab.evaluation
    project = main_window.ctx.project
    held_out = [Example(f"Clause {i}: may the landlord keep the deposit?", "Only for damage.", Split.VALIDATION)
                for i in range(3)]
    assert project.push(InsertRowsCommand(project, len(project.examples), held_out, "held-out examples"))
    with qtbot.waitSignal(panel.run_finished, timeout=60000):
        _visible(tab, QPushButton, "compareButton").click()
    assert main_window.tabs.currentWidget() is test_tab and test_tab.pages.currentWidget() is panel
    run = panel.selected_run()
    assert run is not None and run.models == [old.endpoint, moved.endpoint]
    answered = [(r.slot, r.input) for r in evals_repo.list_rows(store, run.id)]
    assert sorted(answered) == sorted((slot, e.input) for slot in (0, 1) for e in held_out)

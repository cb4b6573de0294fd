"""The Monitor tab for the jobs of issue 18 over the fake service: every series a job stored is plotted and named
in plain words, a job says what it was tuned from, and a tuned model on a retiring base is offered a move to a
newer one."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from gemtune_desktop.core.jobs import JobState
from gemtune_desktop.core.project import jobs_repo
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


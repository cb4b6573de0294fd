"""Start tuning, in the real window, through the exactly-once submit (issue 14): each way a submit can end.

Started, not known yet, not started, withdrawn: each is driven with the real Start button on the fake
service; one journey runs over real HTTP against the Sandbox with faults, ends in "not known yet" and
is then resolved by the background check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.errors import ErrorKind, UserError
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.services import tuning
from gemtune_desktop.services.backend import ServiceError
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.create_once import SubmitNotConfirmed
from gemtune_desktop.services.tuning import InvalidSetting
from tests.reliability.submit_helpers import AP_CREATE, AP_LOOKUP, FAST, fast_calls
from tests.ui.tune_helpers import jobs, make_project, ready_tab, shot, wait_idle

NOT_CONFIRMED = SubmitNotConfirmed(UserError("The service did not answer in time.", kind=ErrorKind.TIMEOUT))


def start(qtbot: Any, tab: Any) -> None:
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, tab)


def test_started_job_is_shown_and_go_to_monitor_selects_it(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Clauses.gemtune", 120, 0))
    name = tab.form.name_edit.text()
    start(qtbot, tab)
    status = tab.run.status_label.text()
    assert status.startswith(f"✔ The tuning job “{name}” has started") and "Monitor tab" in status
    (job,) = jobs(ctx)
    assert job.state.active and job.resource_name == "fake/tuningJobs/1"
    assert tab.run.start_button.isEnabled() and tab.run.monitor_button.isVisible()

    asked: list[int] = []
    ctx.monitor_job_requested.connect(asked.append)
    with qtbot.waitSignal(ctx.show_tab_requested) as shown:
        qtbot.mouseClick(tab.run.monitor_button, Qt.MouseButton.LeftButton)
    assert shown.args == ["monitor"] and asked == [job.id]


def test_not_known_yet_never_invites_starting_again(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Clauses.gemtune", 120, 0))
    name = tab.form.name_edit.text()
    cloud.failures["submit"] = NOT_CONFIRMED
    start(qtbot, tab)
    shot(fake_window, "not_known_yet")
    status = tab.run.status_label.text()
    assert "Checking whether the job started…" in status and "Do not start it again" in status
    assert "✖" not in status and "try again" not in status.lower()
    (job,) = jobs(ctx)
    assert job.state is JobState.SUBMIT_UNKNOWN and not job.resource_name

    # Start stays off for this submit, with the reason, whatever else changes on the form.
    assert not tab.run.start_button.isEnabled()
    reason = tab.run.start_reason.text()
    assert name in reason and "twice" in reason
    tab.form.ap_epochs.set_value(5)
    tab.form.name_edit.setText("Another name")
    assert not tab.run.start_button.isEnabled()
    tab.start()
    assert cloud.calls.count("submit") == 1

    asked: list[int] = []
    ctx.monitor_job_requested.connect(asked.append)
    qtbot.mouseClick(tab.run.monitor_button, Qt.MouseButton.LeftButton)
    assert asked == [job.id]

    # The service had made the job: the background check finds it, and Start comes back.
    cloud.add_job("fake/tuningJobs/found", name, submit_key=job.submit_key)
    qtbot.waitUntil(lambda: tab.run.start_button.isEnabled(), timeout=20000)
    # One record of the job, whether or not the Monitor's list of the service's jobs saw it first.
    (found,) = jobs_repo.list_jobs(ctx.project.store)
    assert found.id == job.id and found.resource_name == "fake/tuningJobs/found" and found.state.active
    assert f"“{name}” has started" in tab.run.status_label.text()
    assert tab.run.start_reason.text() == ""


def test_not_known_yet_from_an_earlier_session_keeps_start_off(cloud, fake_window, qtbot, tmp_path) -> None:
    path = make_project(tmp_path / "Reopened.gemtune", 120, 0)
    store = ProjectStore.open(path)
    try:
        jobs_repo.add_job(store, JobRecord(connection_kind="sandbox", backend="agent-platform",
                                           display_name="router before the restart", submit_key="k" * 32,
                                           state=JobState.SUBMIT_UNKNOWN))
    finally:
        store.close()
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, path)
    assert not tab.run.start_button.isEnabled()
    assert "router before the restart" in tab.run.start_reason.text()


@pytest.mark.parametrize(("path", "marked"), [
    ("tuning_job.supervised_tuning_spec.hyper_parameters.epoch_count", "ap_epochs"),
    ("tuning_job.supervised_tuning_spec.hyper_parameters.learning_rate_multiplier", "ap_multiplier"),
    ("tuning_job.supervised_tuning_spec.hyper_parameters.adapter_size", "ap_adapter"),
    ("tuning_job.tuned_model_display_name", "name_edit"),
    ("tuning_job.base_model", "model_combo"),
    ("tuning_job.supervised_tuning_spec.training_dataset_uri", "training_data"),
    ("tuning_job.supervised_tuning_spec.validation_dataset_uri", "ap_validation"),
])
def test_refused_setting_is_not_started_and_its_field_is_marked(cloud, fake_window, qtbot, tmp_path, path: str,
                                                                marked: str) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Refused.gemtune", 120, 0))
    message = f"Invalid value at '{path}'."
    hit = J.field_for_error(message)
    assert hit is not None
    cloud.failures["submit"] = InvalidSetting(ServiceError(400, "INVALID_ARGUMENT", message), *hit)
    start(qtbot, tab)
    shot(fake_window, f"refused_{marked}")
    status = tab.run.status_label.text()
    assert status.startswith("✖ The service refused the setting") and f"“{hit[1]}”" in status
    (job,) = jobs(ctx)
    assert job.state is JobState.SUBMIT_FAILED
    widget = tab.field_widget(hit[0])
    assert widget is not None and widget.property("problem") is True
    assert widget is _named(tab, marked)
    assert tab.run.start_button.isEnabled()  # certainly nothing started: the user may start again
    # Starting again clears the mark.
    start(qtbot, tab)
    assert widget.property("problem") is not True and "has started" in tab.run.status_label.text()


def _named(tab: Any, name: str) -> Any:
    form = tab.form
    return {"ap_epochs": form.ap_epochs.spin, "ap_multiplier": form.ap_multiplier.spin, "ap_adapter": form.ap_adapter,
            "name_edit": form.name_edit, "model_combo": form.model_combo, "ap_validation": form.ap_validation,
            "training_data": tab.estimate_box.estimate_label}[name]


def test_cancel_before_the_create_is_sent_withdraws_the_job(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Cancel.gemtune", 120, 0))
    cloud.during["submit"] = lambda: qtbot.mouseClick(tab.run.cancel_button, Qt.MouseButton.LeftButton)
    start(qtbot, tab)
    assert tab.run.status_label.text() == "Cancelled. No tuning job was started."
    assert not cloud.jobs
    (job,) = jobs(ctx)
    assert job.deleted and not jobs_repo.list_jobs(ctx.project.store)
    assert tab.run.start_button.isEnabled() and not tab.run.monitor_button.isVisible()


def test_unconfirmed_start_over_http_is_checked_until_it_is_found(sandbox, main_window, qtbot, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A create whose answer is garbled, and look-ups refused as busy: "not known yet", then found."""
    fast_calls(monkeypatch)
    monkeypatch.setattr(tuning, "submit_policy", lambda: FAST)
    ctx = main_window.ctx
    tab = ready_tab(main_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Faults.gemtune", 120, 0))
    name = tab.form.name_edit.text()
    sandbox.faults.add(**AP_CREATE, kind="malformed", count=1)
    sandbox.faults.add(**AP_LOOKUP, kind="status", status=429, retry_after=0.01)
    start(qtbot, tab)
    shot(main_window, "not_known_yet_http")
    assert "Checking whether the job started…" in tab.run.status_label.text()
    (job,) = jobs(ctx)
    assert job.state is JobState.SUBMIT_UNKNOWN and not job.resource_name
    assert not tab.run.start_button.isEnabled() and name in tab.run.start_reason.text()

    sandbox.faults.clear()
    qtbot.waitUntil(lambda: tab.run.start_button.isEnabled(), timeout=60000)
    (job,) = jobs(ctx)
    assert job.resource_name.startswith("projects/") and not job.state.being_submitted
    assert f"“{name}” has started" in tab.run.status_label.text()
    assert len(sandbox.requests.matching("/tuningJobs", "POST")) == 1  # exactly one job was created


def test_another_project_opened_while_sending_loses_nothing(cloud, fake_window, qtbot, tmp_path) -> None:
    """The outcome cannot be written to a project that was closed meanwhile: it is looked up when it is open again."""
    first = make_project(tmp_path / "First.gemtune", 120, 0)
    second = make_project(tmp_path / "Second.gemtune", 120, 0)
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, first)
    cloud.during["submit"] = lambda: fake_window.open_path(str(second))
    start(qtbot, tab)
    assert fake_window.ctx.project.path == second
    assert "could not be written to the project" in tab.run.status_label.text()
    assert "Do not start it again" in tab.run.status_label.text()
    assert not jobs(fake_window.ctx)  # nothing was written to the other project
    assert len(cloud.jobs) == 1

    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, first)
    qtbot.waitUntil(lambda: [j.resource_name for j in jobs_repo.list_jobs(fake_window.ctx.project.store)]
                    == ["fake/tuningJobs/1"], timeout=20000)
    qtbot.waitUntil(lambda: tab.run.start_button.isEnabled(), timeout=10000)

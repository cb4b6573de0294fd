"""The Monitor's jobs list in the real window, over the fake service: submits whose outcome is not known, poll
errors in plain words, the project's jobs whatever the connection, columns that are not cut off, one row per
job, "Go to the Monitor tab", and what a cancelled job shows (issues 14 and 17)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStyle

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.jobs import JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.services.connections import ConnectionKind
from gemtune_desktop.services.create_once import CHECKING_HINT
from gemtune_desktop.services.http_guard import UnreadableAnswer
from gemtune_desktop.ui.monitor.jobs_model import COL_BASE, COL_FROM, COL_NAME, COL_STARTED, COL_STATE
from tests.ui.monitor_helpers import (
    _monitor,
    _overfit_job,
    _record,
    _submit,
)


@pytest.fixture
def fake_project(fake_window: Any) -> Any:
    """The project the window over the fake service opens at start (the Untitled one)."""
    return fake_window.ctx.project


UNKNOWN_ERROR = ("The service did not confirm the new job (the connection dropped). GemTune keeps looking for it in "
                 "the background.")


def _row_text(tab: Any, job_id: int, col: int) -> str:
    return str(tab.jobs.model.index(tab.jobs.model.row_of(job_id), col).data())


def _unknown_submit(store: Any, name: str = "contracts-v2", key: str = "submit-key-1") -> int:
    return jobs_repo.add_job(store, _record(display_name=name, resource_name="", state=JobState.SUBMIT_UNKNOWN,
                                            phase="", total_steps=0, completed_steps=0, submit_key=key,
                                            error=UNKNOWN_ERROR))


def test_a_submit_of_unknown_outcome_says_so_offers_no_start_again_and_shows_the_job_once_found(
        fake_window: Any, qtbot: Any, fake_project: Any, cloud: Any) -> None:
    store = fake_project.store
    tab = _monitor(fake_window, qtbot)
    cloud.failures["check_submit"] = UserError("Could not reach the service, or the connection dropped.",
                                               "Check your internet connection and try again.", retryable=True)
    job_id = _unknown_submit(store)
    cloud.add_job("fake/tuningJobs/found", "contracts-v2", submit_key="submit-key-1", total_steps=10_000)
    fake_window.ctx.jobs_changed.emit()  # the Tune tab recorded it; the first look-up fails
    tab.select_job(job_id)
    assert _row_text(tab, job_id, COL_STATE) == "checking whether it started…"
    assert tab.details.findChild(QLabel, "jobError").text() == f"⏳ {UNKNOWN_ERROR}"
    assert not tab.jobs.rerun_button.isEnabled() and "could start it twice" in tab.jobs.rerun_button.toolTip()
    assert not tab.jobs.cancel_button.isEnabled() and not tab.jobs.delete_button.isEnabled()
    advice = " ".join(w.text() for w in tab.advice_panel.findChildren(QLabel))
    assert "still checking whether this job started" in advice and "healthy" not in advice
    qtbot.waitUntil(lambda: tab.status_label.text().startswith(
        "Checking “contracts-v2”: Checking whether the job started: Could not reach the service"), timeout=10000)
    assert "Trying again in" in tab.status_label.text()
    with qtbot.waitSignal(tab.poller.submit_resolved, timeout=10000):
        pass  # the next look-up finds the job
    qtbot.waitUntil(lambda: tab.jobs.model.job(job_id).resource_name == "fake/tuningJobs/found", timeout=10000)
    assert "has started on the service" in tab.status_label.text()
    assert tab.jobs.rerun_button.isEnabled()
    qtbot.waitUntil(lambda: tab.jobs.model.job(job_id).state.active and
                    not tab.jobs.model.job(job_id).state.being_submitted, timeout=10000)
    tab.refresh()  # the service lists the job: it stays one row, the project's own
    qtbot.waitUntil(lambda: tab.status_label.text() == "1 job on the service.", timeout=10000)
    assert [j.resource_name for j in tab.jobs.model.jobs()] == ["fake/tuningJobs/found"]
    assert tab.jobs.count_label.text() == "1 job"
    assert CHECKING_HINT.startswith("The service did not confirm")


def test_a_listed_job_that_may_be_the_one_being_checked_is_not_shown_twice(fake_window: Any, qtbot: Any,
                                                                           fake_project: Any, cloud: Any) -> None:
    cloud.failures["check_submit"] = UserError("The service did not answer in time.", retryable=True)
    tab = _monitor(fake_window, qtbot)
    tab.poller.set_intervals(30.0, 60.0)  # no second look-up during this test
    job_id = _unknown_submit(fake_project.store)
    cloud.add_job("fake/tuningJobs/maybe", "contracts-v2", submit_key="submit-key-1")
    cloud.add_job("fake/tuningJobs/other", "someone-else")
    fake_window.ctx.jobs_changed.emit()
    tab.refresh()
    qtbot.waitUntil(lambda: "on the service" in tab.status_label.text(), timeout=10000)
    names = sorted(j.display_name for j in tab.jobs.model.jobs())
    assert names == ["contracts-v2", "someone-else"]  # not a second "contracts-v2" found on the service
    assert tab.jobs.model.job(job_id).state is JobState.SUBMIT_UNKNOWN
    assert tab.jobs.count_label.text() == "2 jobs"
    assert "may be the job GemTune is checking on" in tab.status_label.text()


def test_poll_errors_are_plain_while_polling_goes_on_and_clear_when_it_answers(fake_window: Any, qtbot: Any,
                                                                              fake_project: Any, cloud: Any) -> None:
    cloud.add_job("fake/tuningJobs/wobbly", total_steps=40)
    tab = _monitor(fake_window, qtbot)
    cloud.failures["poll"] = UnreadableAnswer("unexpected answer shape (AttributeError)")
    seen: list[str] = []
    tab.poller.poll_failed.connect(lambda _id, _text: seen.append(tab.status_label.text()))
    job_id = _submit(fake_window.ctx, fake_project.store, "fake/tuningJobs/wobbly")
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    assert seen[0].startswith("Checking “support-v1”: The service sent an answer that could not be read.")
    assert "Trying again in" in seen[0] and "Something went wrong" not in seen[0]
    qtbot.waitUntil(lambda: jobs_repo.get_job(fake_project.store, job_id).state is JobState.SUCCEEDED, timeout=10000)
    assert "could not be read" not in tab.status_label.text()  # cleared once a poll was answered


def test_the_projects_jobs_show_whatever_the_connection_and_say_which_one_they_belong_to(
        fake_window: Any, qtbot: Any, fake_project: Any, cloud: Any) -> None:
    ctx = fake_window.ctx
    first = _overfit_job(fake_project.store)
    second = jobs_repo.add_job(fake_project.store, _record(display_name="contracts-v1", state=JobState.SUCCEEDED,
                                                           resource_name="projects/p/locations/l/tuningJobs/2"))
    tab = _monitor(fake_window, qtbot)
    ctx.jobs_changed.emit()
    qtbot.waitUntil(lambda: "on the service" in tab.status_label.text(), timeout=10000)  # the first listing
    # After a restart the active connection is an API key kept for the session only: there is no key now.
    cloud.failures["list_jobs"] = UserError("No Gemini API key is saved for this connection.",
                                            "Enter your key in Settings → Connections.")
    ctx.connections.set_active(ConnectionKind.GEMINI_API)
    assert tab.jobs.table_stack.currentWidget() is tab.jobs.table  # never "No tuning jobs yet"
    assert {j.id for j in tab.jobs.model.jobs()} == {first, second}
    assert tab.jobs.count_label.text() == "2 jobs"
    assert _row_text(tab, first, COL_FROM) == "This project · Sandbox (Agent Platform)"
    qtbot.waitUntil(lambda: "Could not list the service's jobs: No Gemini API key" in tab.status_label.text(),
                    timeout=10000)
    assert "Showing the jobs saved in this project" in tab.status_label.text()
    tab.select_job(first)
    qtbot.waitUntil(lambda: tab.plot_area.plot.curve_points(first) == 160)  # its curve, from the project
    note = tab.details.findChild(QLabel, "jobConnection").text()
    assert note.startswith("This job belongs to the Sandbox (Agent Platform) connection, not the active one.")
    assert not tab.jobs.test_button.isEnabled() and "switch to it" in tab.jobs.test_button.toolTip()
    assert not tab.jobs.delete_button.isEnabled()
    assert tab.jobs.rerun_button.isEnabled()  # its settings can still be tuned again
    assert [a.kind for a in tab.advice_panel.advice] == ["overfitting"]
    ctx.connections.set_active(ConnectionKind.SANDBOX)
    assert _row_text(tab, first, COL_FROM) == "This project"


@pytest.mark.parametrize("size", ["default", "minimum"])
def test_name_date_and_base_model_are_not_cut_off(fake_window: Any, qtbot: Any, fake_project: Any,
                                                  size: str) -> None:
    names = ("Tenancy clauses 2026-12-04 — with the landlord's consent", "Tenancy clauses 2026-12-04 (2)")
    ids = [jobs_repo.add_job(fake_project.store, _record(display_name=n, base_model="gemini-3.1-flash-lite",
                                                         state=JobState.SUCCEEDED)) for n in names]
    tab = _monitor(fake_window, qtbot)
    fake_window.ctx.jobs_changed.emit()
    if size == "minimum":
        fake_window.resize(fake_window.minimumSizeHint())
        qtbot.waitUntil(lambda: fake_window.size() == fake_window.minimumSizeHint().expandedTo(
            fake_window.minimumSize()))
    table = tab.jobs.table
    metrics = table.fontMetrics()
    margin = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1)
    for job_id in ids:
        for col in (COL_NAME, COL_BASE, COL_STARTED, COL_STATE):
            text = _row_text(tab, job_id, col)
            shown = metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, table.columnWidth(col) - margin)
            assert shown == text, (col, text, table.columnWidth(col))
    assert table.columnViewportPosition(COL_BASE) + table.columnWidth(COL_BASE) <= table.viewport().width()
    for button in (tab.jobs.refresh_button, tab.jobs.cancel_button, tab.jobs.delete_button, tab.jobs.test_button,
                   tab.jobs.rerun_button):  # every action fits its label
        assert button.width() >= button.sizeHint().width(), button.text()
    assert tab.jobs.bar.width() <= tab.width()


def test_go_to_the_monitor_tab_selects_the_job_just_started(fake_window: Any, qtbot: Any, fake_project: Any,
                                                            cloud: Any) -> None:
    cloud.add_job("fake/tuningJobs/new", "just-started", total_steps=10_000)
    older = jobs_repo.add_job(fake_project.store, _record(display_name="older", state=JobState.SUCCEEDED))
    fake_window.show_tab("dataset")
    tab = fake_window.tab_widgets["monitor"]
    tab.jobs.filter_edit.setText("older")  # a filter left from before must not hide the new job
    tab.select_job(older)
    job_id = _submit(fake_window.ctx, fake_project.store, "fake/tuningJobs/new", display="just-started")
    fake_window.ctx.monitor_job_requested.emit(job_id)
    assert fake_window.tabs.currentWidget() is tab
    assert tab.selected_ids() == [job_id]
    assert tab.details.findChild(QLabel, "jobState") is not None


def test_a_cancelled_job_gets_advice_that_fits_and_cancel_requested_clears(fake_window: Any, qtbot: Any,
                                                                         fake_project: Any, cloud: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    cloud.add_job("fake/tuningJobs/stopped", total_steps=10_000)
    cloud.steps_per_poll = 15
    tab = _monitor(fake_window, qtbot)
    job_id = _submit(fake_window.ctx, fake_project.store, "fake/tuningJobs/stopped")
    tab.select_job(job_id)
    qtbot.waitUntil(lambda: len(jobs_repo.loss_points(fake_project.store, job_id)) >= 30, timeout=10000)
    monkeypatch.setattr(tab, "_confirm", lambda title, text, yes: True)
    said: list[str] = []
    tab.job_actions.said.connect(said.append)
    tab.jobs.cancel_button.click()
    qtbot.waitUntil(lambda: "Cancel requested; the job stops in a moment." in said, timeout=10000)
    qtbot.waitUntil(lambda: tab.jobs.model.job(job_id).state is JobState.CANCELLED, timeout=10000)
    assert "Cancel requested" not in tab.status_label.text()
    assert tab.status_label.text() == "“support-v1” stopped: cancelled."
    texts = " ".join(w.text() for w in tab.advice_panel.findChildren(QLabel))
    assert "healthy" not in texts
    stopped = tab.advice_panel.findChild(QLabel, "adviceStopped").text()
    assert stopped.startswith("This job was cancelled at step") and "not fully trained" in stopped

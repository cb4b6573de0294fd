"""The Tune tab as a new user meets it (issues 15 and 17): the job's name, the connection, the price, the
validation-set rule, and the window at its smallest."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect, Qt

from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.model_catalog import PRICE_UNKNOWN
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.services.connections import Backend, ConnectionKind
from tests.ui.test_tune_submit import NOT_CONFIRMED, start
from tests.ui.tune_helpers import jobs, make_project, models_ready, ready_tab, shot, tune_tab, use_sandbox

TODAY = date.today().isoformat()


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


# -- the job's name (issue 17, item 4) -------------------------------------------------------------
def test_default_name_comes_from_the_project_and_is_unique(cloud, fake_window, qtbot, tmp_path) -> None:
    tab = tune_tab(fake_window)
    assert tab.form.name_edit.text() == f"Tuned model {TODAY}"  # the Untitled project has no name to give
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM,
                    make_project(tmp_path / "Contract clauses.gemtune", 120, 0))
    assert tab.form.name_edit.text() == f"Contract clauses {TODAY}"
    assert not tab.form.name_warning.isVisible()
    start(qtbot, tab)
    assert "has started" in tab.run.status_label.text()
    # The next job gets a name of its own.
    assert tab.form.name_edit.text() == f"Contract clauses {TODAY} (2)"

    # Reusing a name is warned about (case and spaces do not make it another name), and not blocked.
    tab.form.name_edit.setText(f" contract CLAUSES {TODAY}")
    assert tab.form.name_warning.isVisible()
    assert "already has a job called" in tab.form.name_warning.text()
    assert tab.run.start_button.isEnabled()
    tab.form.name_edit.setText("Clauses, second try")
    assert not tab.form.name_warning.isVisible()


def test_a_typed_name_is_kept_and_a_default_name_follows_the_project(cloud, fake_window, qtbot, tmp_path) -> None:
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "First.gemtune", 120, 0))
    assert tab.form.name_edit.text() == f"First {TODAY}"
    qtbot.keyClicks(tab.form.name_edit, " (typed)")
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Second.gemtune", 120, 0))
    assert tab.form.name_edit.text() == f"First {TODAY} (typed)"  # what the user typed is never replaced
    tab.form.name_edit.clear()
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Third.gemtune", 120, 0))
    assert tab.form.name_edit.text() == f"Third {TODAY}"


def test_a_job_that_never_started_leaves_its_name_free(cloud, fake_window, qtbot, tmp_path) -> None:
    from gemtune_desktop.core.errors import UserError

    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Retry.gemtune", 120, 0))
    cloud.failures["submit"] = UserError("The service refused the job.")
    start(qtbot, tab)
    assert tab.form.name_edit.text() == f"Retry {TODAY}" and not tab.form.name_warning.isVisible()


# -- the connection (issue 17, items 5 and 7) ------------------------------------------------------
def test_an_api_key_gets_no_tuning_form_and_two_ways_out(cloud, fake_window, qtbot) -> None:
    ctx = fake_window.ctx
    tab = tune_tab(fake_window)
    ctx.connections.set_active(ConnectionKind.GEMINI_API)
    shot(fake_window, "api_key")
    assert tab.unavailable.isVisible()
    assert "Google does not tune models with an API key" in tab.unavailable.title.text()
    assert not tab.form_area.isVisible() and not tab.estimate_box.isVisible() and not tab.run.isVisible()
    assert "list_tunable_models" not in cloud.calls  # nothing to ask: Google has no tuning for API keys
    buttons = [b for b in (tab.unavailable.setup_cloud_button, tab.unavailable.use_sandbox_button,
                           tab.unavailable.retry_models_button) if b.isVisible()]
    assert [b.text() for b in buttons] == ["Set up Google Cloud…", "Use the Sandbox"]
    qtbot.mouseClick(tab.unavailable.use_sandbox_button, Qt.MouseButton.LeftButton)
    assert ctx.connections.active_kind is ConnectionKind.SANDBOX
    models_ready(qtbot, tab)
    assert tab.form_area.isVisible() and tab.run.isVisible() and not tab.unavailable.isVisible()


def test_the_connection_line_needs_no_api_knowledge(cloud, fake_window, qtbot) -> None:
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM)
    text = tab.connection_label.text()
    assert "Sandbox" in text and "settings" not in text.split("—")[-1]


def test_the_check_before_start_follows_the_connection_not_the_datasets_target(cloud, fake_window, qtbot,
                                                                               tmp_path) -> None:
    """A project prepared for the Gemini API (the default) tunes on Google Cloud by Google Cloud's rules."""
    long_answer = Example("a ticket with a very long answer", "word " * 1_300, Split.TRAIN)  # over 5,000 characters
    settings = DatasetSettings(preamble="Route this ticket:", target=Target.GEMINI_API)
    path = make_project(tmp_path / "Target.gemtune", 120, 0, settings=settings, extra=[long_answer])
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, path)
    asked = answer_once(qtbot, "Start anyway")  # Google Cloud may warn about the outlier; it does not refuse it
    start(qtbot, tab)
    assert not tab.problems.isVisible() and "has started" in tab.run.status_label.text()
    assert not any("5,000" in text for text in asked)


def answer_once(qtbot: Any, button_text: str, tries: int = 250) -> list[str]:
    """Click ``button_text`` in the next modal question, if one comes within ``tries`` × 20 ms."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen: list[str] = []

    def look(left: int) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            next(b for b in box.buttons() if b.text() == button_text).click()
        elif left:
            QTimer.singleShot(20, lambda: look(left - 1))

    QTimer.singleShot(20, lambda: look(tries))
    return seen


def test_stale_errors_clear_when_the_connection_changes(cloud, fake_window, qtbot, tmp_path) -> None:
    from gemtune_desktop.core.errors import UserError

    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.GEMINI_API)
    cloud.failures["list_tunable_models"] = UserError("The service could not be reached.")
    ctx.connections.reconnect()
    qtbot.waitUntil(lambda: "could not be reached" in tab.run.status_label.text(), timeout=10000)
    use_sandbox(ctx, Backend.AGENT_PLATFORM)
    assert tab.run.status_label.text() == ""

    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Stale.gemtune", 30, 0))
    tab.form.name_edit.setText("n" * 129)
    qtbot.mouseClick(tab.run.start_button, Qt.MouseButton.LeftButton)
    assert tab.problems.isVisible() and tab.form.name_edit.property("problem") is True
    use_sandbox(ctx, Backend.GEMINI_API)
    models_ready(qtbot, tab)
    assert not tab.problems.isVisible() and tab.form.name_edit.property("problem") is not True
    assert tab.run.status_label.text() == ""


# -- the smallest window (issue 17, item 9) --------------------------------------------------------
def _fully_shown(window: Any, widget: Any) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0))
    inside = window.rect().contains(QRect(top_left, widget.size()))
    return bool(widget.isVisible() and inside and widget.visibleRegion().boundingRect().size() == widget.size())


def test_start_is_reachable_and_nothing_is_cut_off_at_the_minimum_size(cloud, fake_window, qtbot, tmp_path) -> None:
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Small.gemtune", 120, 0))
    smallest = fake_window.minimumSizeHint().expandedTo(fake_window.minimumSize())
    fake_window.resize(smallest)
    qtbot.waitUntil(lambda: fake_window.size() == smallest)
    cloud.failures["submit"] = NOT_CONFIRMED  # the longest thing the run row says
    start(qtbot, tab)
    shot(fake_window, "minimum_size")
    assert not tab.scroll_area.horizontalScrollBar().isVisible()
    assert _fully_shown(fake_window, tab.run.status_label) and _fully_shown(fake_window, tab.run.start_button)
    assert _fully_shown(fake_window, tab.run.monitor_button)

    fake_window.ctx.connections.set_active(ConnectionKind.GEMINI_API)
    assert not tab.scroll_area.horizontalScrollBar().isVisible()
    tab.scroll_area.ensureWidgetVisible(tab.unavailable.use_sandbox_button)
    assert _fully_shown(fake_window, tab.unavailable.use_sandbox_button)


# -- the price (issue 15) --------------------------------------------------------------------------
def test_unknown_price_asks_for_yours_and_remembers_it_per_model(cloud, fake_window, qtbot, tmp_path) -> None:
    ctx = fake_window.ctx
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Price.gemtune", 120, 0))
    assert tab.estimate_box.price_note.text().startswith(PRICE_UNKNOWN + ": GemTune knows no price from Google")
    assert PRICE_UNKNOWN in plain(tab.estimate_box.estimate_label.text())
    assert '<a href="#price">enter your price</a>' in tab.estimate_box.estimate_label.text()
    assert not tab.estimate_box.price_reset.isVisible()
    tab.estimate_box.estimate_label.linkActivated.emit("#price")  # "enter your price" leads to the field
    assert tab.estimate_box.price_spin.hasFocus() or fake_window.focusWidget() is tab.estimate_box.price_spin.lineEdit()

    tab.estimate_box.price_spin.setValue(4.0)
    assert tab.estimate_box.price_note.text() == "your price"
    assert "$" in tab.estimate_box.estimate_label.text()
    assert PRICE_UNKNOWN not in plain(tab.estimate_box.estimate_label.text())
    tab.form.model_combo.setCurrentIndex(1)
    assert tab.estimate_box.price_note.text().startswith(PRICE_UNKNOWN)  # the price is the model's, not everyone's
    tab.form.model_combo.setCurrentIndex(0)
    assert tab.estimate_box.price_spin.value() == 4.0
    assert ctx.settings.read(S.MODEL_PRICES) == {"gemini-3.5-flash": 4.0}
    assert tab.estimate_box.price_reset.isVisible() and tab.estimate_box.price_reset.text() == "Forget my price"
    tab.estimate_box.price_reset.click()
    assert tab.estimate_box.price_note.text().startswith(PRICE_UNKNOWN) and ctx.settings.read(S.MODEL_PRICES) == {}


def test_a_sourced_price_names_its_source(cloud, fake_ctx, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    from gemtune_desktop.ui.tune import tab as tab_module

    catalog = {"agent_platform": {"tunable_models": [
        {"id": "gemini-3.5-flash", "label": "Gemini 3.5 Flash",
         "training_price": {"usd_per_million_tokens": 5.0, "source": "https://example.com/pricing",
                            "as_of": "2026-11-30"}}]}}
    monkeypatch.setattr(tab_module, "read_catalog", lambda: catalog)
    use_sandbox(fake_ctx, Backend.AGENT_PLATFORM)
    tab = tab_module.TuneTab(fake_ctx)
    qtbot.addWidget(tab)
    assert tab.estimate_box.price_note.text() == "Google's price (https://example.com/pricing, as of 2026-11-30)"
    assert tab.current_price() == 5.0 and not tab.estimate_box.price_reset.isVisible()
    tab.estimate_box.price_spin.setValue(6.0)
    assert tab.estimate_box.price_reset.text() == "Use Google's price" and tab.estimate_box.price_reset.isEnabled()
    tab.reset_price()
    assert tab.current_price() == 5.0


# -- the validation-set rule (issue 15) -----------------------------------------------------------------
def test_preflight_says_the_validation_set_rule_and_marks_the_setting(cloud, fake_window, qtbot, tmp_path) -> None:
    tab = ready_tab(fake_window, qtbot, Backend.AGENT_PLATFORM, make_project(tmp_path / "Big.gemtune", 3000, 1001))
    start(qtbot, tab)
    texts = [tab.problems.list.item(i).text() for i in range(tab.problems.list.count())]
    rule = next(t for t in texts if "validation" in t)
    assert "more than 1,000 validation examples" in rule and "30 %" in rule and "at most 900" in rule
    assert "Use the project's validation examples" in rule  # the other way out
    assert tab.form.ap_validation.property("problem") is True
    assert "submit" not in cloud.calls

    tab.form.ap_validation.setChecked(False)  # without the validation set the rule does not apply
    start(qtbot, tab)
    assert cloud.calls.count("submit") == 1 and "has started" in tab.run.status_label.text()
    assert jobs(fake_window.ctx)[0].validation_count == 0

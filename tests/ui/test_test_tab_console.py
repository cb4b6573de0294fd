"""The Test tab's console as a new user meets it: the project's tuned models whatever the connection, thinking
on tuned models, a fair comparison with the base model, a Send button that stays put, and settings that
stay with the project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.examples import DatasetSettings
from gemtune_desktop.core.generation import HarmCategory, ThinkingLevel, Threshold
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import jobs_repo
from gemtune_desktop.qtcore.context import ModelRequest
from gemtune_desktop.services.connections import ConnectionKind
from tests.ui.test_test_tab import BASE, OTHER, make_examples, open_project, send_and_wait

ENDPOINT = "projects/sandbox-project/locations/us/endpoints/501"
TEXTS = DatasetSettings(preamble="Answer as a paralegal:", system_instruction="Be brief.")


def tuned_job(name: str = "lease-bot", endpoint: str = ENDPOINT, kind: str = "sandbox",
              backend: str = "agent-platform", connection_id: str = "sandbox/agent-platform") -> JobRecord:
    return JobRecord(connection_kind=kind, backend=backend, connection_id=connection_id, display_name=name,
                     base_model=BASE, state=JobState.SUCCEEDED, endpoint=endpoint,
                     tuned_model=endpoint.replace("/endpoints/", "/models/"),
                     resource_name=f"projects/sandbox-project/locations/us-central1/tuningJobs/{name}")


@pytest.fixture
def env(fake_window: Any, qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    project = open_project(fake_window, tmp_path / "console.gemtune", make_examples(4), TEXTS)
    jobs_repo.add_job(project.store, tuned_job())
    fake_window.ctx.jobs_changed.emit()
    fake_window.show_tab("test")
    tab = fake_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models))
    yield fake_window, tab, project
    fake_window.close()
    project.close()


def test_the_projects_tuned_models_show_whatever_the_connection(env: Any, cloud: Any, qtbot: Any) -> None:
    window, tab, project = env
    jobs_repo.add_job(project.store, tuned_job("gemini-bot", "tunedModels/gemini-bot-1", backend="gemini-api",
                                               connection_id="sandbox/gemini-api"))
    cloud.failures["list_base_models"] = UserError("No API key is saved for this session.", "Enter the key.")
    window.ctx.connections.set_active(ConnectionKind.GEMINI_API)
    qtbot.waitUntil(lambda: not tab.notice.isHidden())
    picker = tab.console.picker_a
    texts = [picker.itemText(i) for i in range(picker.count())]
    assert any("lease-bot" in t for t in texts) and any("gemini-bot" in t for t in texts), texts
    # Neither was made on this connection, and the list says which connection each belongs to.
    assert picker.select_model(ENDPOINT)
    note = tab.console.model_note
    assert note.isVisible() and "Sandbox (Agent Platform, simulated)" in note.text()
    calls = len(cloud.calls)
    tab.console.prompt.setPlainText("May the tenant sublet?")
    tab.console.send_button.click()
    assert cloud.calls[calls:] == [], "nothing is sent to a model of another connection"
    assert "Sandbox (Agent Platform, simulated)" in tab.console.status.text()
    # One click puts the connection the model was made on back in use; then it answers.
    tab.console.switch_button.click()
    assert window.ctx.connections.active_kind is ConnectionKind.SANDBOX
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models))
    assert tab.console.picker_a.current_ref().model == ENDPOINT and not tab.console.model_note.isVisible()
    send_and_wait(qtbot, tab, "May the tenant sublet?")
    assert tab.console.views[0].texts()[0].startswith("An answer to")


def test_two_runs_of_one_name_are_told_apart_by_the_day_they_started(env: Any, qtbot: Any) -> None:
    window, tab, project = env
    again = tuned_job(endpoint="projects/sandbox-project/locations/us/endpoints/77")
    again.created_at = "2026-12-03T09:30:00+00:00"
    jobs_repo.add_job(project.store, again)
    window.ctx.jobs_changed.emit()
    picker = tab.console.picker_a
    qtbot.waitUntil(lambda: picker._index_of(again.endpoint) >= 0)
    texts = [picker.itemText(i).strip() for i in range(picker.count()) if "lease-bot (tuned" in picker.itemText(i)]
    assert len(texts) == 2 and len(set(texts)) == 2, texts
    assert f"lease-bot (tuned from {BASE}) · 2026-12-03" in texts
    assert picker.select_model(again.endpoint) and picker.currentText().strip().endswith("· 2026-12-03")
    assert picker.toolTip().startswith(f"lease-bot (tuned from {BASE}) · 2026-12-03\n{again.endpoint}")
    named = tuned_job("lease-bot 2026-12-04", "projects/sandbox-project/locations/us/endpoints/78")
    named.created_at = "2026-12-04T09:30:00+00:00"
    jobs_repo.add_job(project.store, named)
    window.ctx.jobs_changed.emit()
    qtbot.waitUntil(lambda: picker._index_of(named.endpoint) >= 0)
    assert picker.itemText(picker._index_of(named.endpoint)).strip() == f"lease-bot 2026-12-04 (tuned from {BASE})"


def test_history_and_evaluations_show_while_the_connection_cannot_work(env: Any, cloud: Any, qtbot: Any) -> None:
    """After a restart with a connection that has no key, the project's own work is all still there."""
    from gemtune_desktop.core.project import evals_repo, history_repo

    window, tab, project = env
    history_repo.add_entry(project.store, history_repo.HistoryEntry(model=ENDPOINT, prompt="May the tenant sublet?",
                                                                    model_label="lease-bot"))
    run_id = evals_repo.create_run(project.store, evals_repo.EvalRun(models=[BASE, ENDPOINT], name="Before sending"))
    cloud.failures["list_base_models"] = UserError("No API key is saved for this session.", "Enter the key.")
    window.ctx.connections.set_active(ConnectionKind.GEMINI_API)
    qtbot.waitUntil(lambda: not tab.notice.isHidden())
    tab.history.reload()
    tab.evaluation.reload_runs()
    assert [e.prompt for e in tab.history.model.entries] == ["May the tenant sublet?"]
    runs = tab.evaluation.runs
    assert runs.findData(run_id) >= 0, [runs.itemText(i) for i in range(runs.count())]


def test_tuned_models_think_as_little_as_their_base_model_allows(env: Any, cloud: Any, qtbot: Any) -> None:
    _window, tab, _project = env
    console = tab.console
    sent: list[Any] = []
    cloud.answer = lambda request: sent.append(request) or "Only with consent."
    assert console.picker_a.select_model(ENDPOINT)
    thinking = console.generation.thinking
    assert thinking.isEnabled(), "the base model (3.5 Flash) takes a thinking level"
    assert thinking.itemText(0) == "Lowest (advised for tuned models: Minimal)"
    send_and_wait(qtbot, tab, "May the tenant sublet?")
    assert sent[-1].base_model == BASE
    assert sent[-1].effective_generation().thinking_level is ThinkingLevel.MINIMAL
    thinking.setCurrentIndex(thinking.findData(ThinkingLevel.HIGH.value))  # the user may choose otherwise
    send_and_wait(qtbot, tab, "May the tenant sublet?")
    assert sent[-1].effective_generation().thinking_level is ThinkingLevel.HIGH
    assert console.picker_a.select_model(OTHER)
    assert thinking.itemText(0) == "Model default"


def test_open_in_test_tab_carries_the_base_model(env: Any, qtbot: Any) -> None:
    window, tab, _project = env
    checkpoint = "projects/sandbox-project/locations/us/endpoints/999"
    window.ctx.test_model_requested.emit(ModelRequest(checkpoint, "lease-bot — checkpoint 1", None, BASE))
    ref = tab.console.picker_a.current_ref()
    assert ref.model == checkpoint and ref.base_model == BASE
    assert tab.console.build_request(ref, "Hi").base_model == BASE


def test_the_base_model_gets_the_projects_texts_when_comparing(env: Any, cloud: Any, qtbot: Any) -> None:
    _window, tab, _project = env
    console = tab.console
    sent: dict[str, Any] = {}
    cloud.answer = lambda request: sent.update({request.model: request}) or "Only with consent."
    console.compare.setChecked(True)
    assert console.picker_a.select_model(BASE) and console.picker_b.select_model(ENDPOINT)
    assert console.share_texts.isVisible() and console.share_texts.isChecked(), "on by default, and says so"
    assert "compared" in console.share_texts.text()
    send_and_wait(qtbot, tab, "May the tenant sublet?", slots=2)
    for model in (BASE, ENDPOINT):
        assert (sent[model].preamble, sent[model].system_instruction) == (TEXTS.preamble, TEXTS.system_instruction)
    console.share_texts.setChecked(False)
    send_and_wait(qtbot, tab, "May the tenant sublet?", slots=2)
    assert (sent[BASE].preamble, sent[BASE].system_instruction) == ("", "")
    assert sent[ENDPOINT].preamble == TEXTS.preamble
    # The evaluation of base against tuned gets the same texts for both.
    console.share_texts.setChecked(True)
    assert console.dataset_texts_for(console.picker_a.current_ref(),
                                     [console.picker_a.current_ref(), console.picker_b.current_ref()]) \
        == (TEXTS.preamble, TEXTS.system_instruction)


def test_send_does_not_move_when_the_model_changes(env: Any, qtbot: Any) -> None:
    window, tab, _project = env
    console = tab.console
    qtbot.waitExposed(window)
    assert console.picker_a.select_model(ENDPOINT)
    window.ctx.status_message.emit("", 0)
    qtbot.wait(10)
    where = console.send_button.mapTo(window, console.send_button.rect().topLeft())
    assert console.picker_a.select_model(BASE)
    qtbot.wait(10)
    assert console.send_button.mapTo(window, console.send_button.rect().topLeft()) == where
    console.compare.setChecked(True)
    assert console.picker_b.select_model(ENDPOINT)
    qtbot.wait(10)
    assert console.send_button.mapTo(window, console.send_button.rect().topLeft()) == where


def test_console_settings_and_model_stay_with_the_project(env: Any, qtbot: Any, tmp_path: Path) -> None:
    window, tab, project = env
    console = tab.console
    assert console.picker_a.select_model(ENDPOINT)
    console.generation.temperature.setValue(0.3)
    console.generation.max_tokens.setValue(300)
    combo = console.safety.combos[HarmCategory.HARASSMENT]
    combo.setCurrentIndex(combo.findData(Threshold.BLOCK_ONLY_HIGH.value))
    console.compare.setChecked(True)
    assert console.picker_b.select_model(OTHER)
    first = project.path
    other = open_project(window, tmp_path / "other.gemtune", make_examples(2))
    qtbot.waitUntil(lambda: window.ctx.project is other)
    # Another project starts from the defaults.
    assert console.generation.settings().temperature == 1.0 and not console.compare.isChecked()
    assert console.safety.settings().get(HarmCategory.HARASSMENT) is Threshold.DEFAULT
    window.dataset_tab().open_path(first)
    qtbot.waitUntil(lambda: window.ctx.project is not None and window.ctx.project.path == first)
    qtbot.waitUntil(lambda: console.picker_a.current_ref() is not None
                    and console.picker_a.current_ref().model == ENDPOINT)
    settings = console.generation.settings()
    assert (settings.temperature, settings.max_output_tokens) == (0.3, 300)
    assert console.safety.settings().get(HarmCategory.HARASSMENT) is Threshold.BLOCK_ONLY_HIGH
    assert console.compare.isChecked() and console.picker_b.current_ref().model == OTHER
    other.close()

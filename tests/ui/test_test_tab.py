"""The Test tab in the real window against the Sandbox: console, compare, history, add to dataset, batch runs."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from gemtune_desktop.core import eval_metrics as em
from gemtune_desktop.core.examples import DatasetSettings, Example, Split
from gemtune_desktop.core.generation import HarmCategory, Threshold
from gemtune_desktop.core.project import evals_repo, history_repo
from gemtune_desktop.qtcore.context import ModelRequest
from gemtune_desktop.services.batch_eval import RetryPolicy
from tests.services.test_console import generate_bodies

FAST = RetryPolicy(max_attempts=10, initial_delay_s=0.01, max_delay_s=0.05, timeout_s=30)
BASE = "gemini-3.5-flash"
OTHER = "gemini-3.1-flash-lite"


def make_examples(n_validation: int, n_train: int = 5) -> list[Example]:
    rows = [Example(f"Train question {i}?", f"Train answer {i}.", Split.TRAIN) for i in range(n_train)]
    rows += [Example(f"Is clause {i} enforceable in a lease?", f"Clause {i} is enforceable.", Split.VALIDATION)
             for i in range(n_validation)]
    return rows


def open_project(window: Any, path: Path, examples: list[Example], settings: DatasetSettings | None = None) -> Any:
    """Open a new project the way the app does (through the Dataset tab, after its start-up project)."""
    from gemtune_desktop.qtcore.project_session import ProjectSession

    project = ProjectSession.create(path)
    if examples:
        project.insert(0, examples)
    if settings is not None:
        project.set_settings(settings)
    dataset_tab = window.dataset_tab()
    dataset_tab.ensure_project()  # the start-up project opens first, then ours replaces it
    dataset_tab.set_session(project)
    assert window.ctx.project is project
    return project


@pytest.fixture
def tab_env(main_window: Any, sandbox: Any, qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    project = open_project(main_window, tmp_path / "test.gemtune", make_examples(8),
                           DatasetSettings(preamble="Answer as a paralegal:", system_instruction="Be brief."))
    main_window.show_tab("test")
    tab = main_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models), timeout=20000)
    tab.evaluation.retry_policy = FAST
    yield tab, project
    main_window.close()
    project.close()


@pytest.fixture
def fake_tab_env(fake_window: Any, qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """The Test tab over the in-process fake service (for what is not about HTTP)."""
    project = open_project(fake_window, tmp_path / "test.gemtune", make_examples(8),
                           DatasetSettings(preamble="Answer as a paralegal:", system_instruction="Be brief."))
    fake_window.show_tab("test")
    tab = fake_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models))
    yield tab, project
    fake_window.close()
    project.close()


def send_and_wait(qtbot: Any, tab: Any, prompt: str, slots: int = 1) -> None:
    console = tab.console
    for view in console.views:
        view.result = None
    console.prompt.setPlainText("")
    qtbot.keyClicks(console.prompt, prompt)
    qtbot.keyClick(console.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Enter sends
    qtbot.waitUntil(lambda: all(console.views[s].result is not None for s in range(slots)), timeout=20000)
    qtbot.waitUntil(lambda: not console.is_busy(), timeout=20000)


def test_settings_reach_the_request_and_max_tokens_shows_in_words(tab_env: Any, sandbox: Any, qtbot: Any) -> None:
    tab, _project = tab_env
    console = tab.console
    assert console.picker_a.select_model(BASE)
    gen = console.generation
    gen.temperature.setValue(0.25)
    gen.top_p.setValue(0.6)
    gen.top_k.setValue(9)
    gen.max_tokens.setValue(5)
    gen.stops.setPlainText("###")
    gen.use_seed.setChecked(True)
    gen.seed.setValue(77)
    console.safety.combos[HarmCategory.DANGEROUS_CONTENT].setCurrentIndex(
        console.safety.combos[HarmCategory.DANGEROUS_CONTENT].findData(Threshold.BLOCK_ONLY_HIGH.value))
    send_and_wait(qtbot, tab, "Explain the difference between a lease and a licence in detail please.")
    body = generate_bodies(sandbox)[-1]
    cfg = body["generationConfig"]
    assert (cfg["temperature"], cfg["topP"], cfg["topK"], cfg["maxOutputTokens"]) == (0.25, 0.6, 9, 5)
    assert cfg["stopSequences"] == ["###"] and cfg["seed"] == 77
    assert body["safetySettings"] == [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                                       "threshold": "BLOCK_ONLY_HIGH"}]
    # A base model was not tuned on this project: no preamble or system instruction is added.
    assert "systemInstruction" not in body
    assert body["contents"][0]["parts"][0]["text"].startswith("Explain the difference")
    view = console.views[0]
    assert "maximum length" in view.finish_label.text()
    assert view.texts()[0]
    assert "tokens" in view.usage_label.text() and " s" in view.usage_label.text()
    assert not gen.preset_buttons["Balanced"].isChecked()
    gen.apply_preset("Precise")
    assert gen.settings().temperature == 0.2 and gen.settings().max_output_tokens == 5
    gen.reset()
    assert gen.preset_buttons["Balanced"].isChecked() and gen.settings().max_output_tokens == 2048


def test_safety_outcomes_show_in_plain_words(tab_env: Any, qtbot: Any) -> None:
    tab, _project = tab_env
    console = tab.console
    combo = console.safety.combos[HarmCategory.HARASSMENT]
    combo.setCurrentIndex(combo.findData(Threshold.BLOCK_LOW_AND_ABOVE.value))
    send_and_wait(qtbot, tab, "Is my landlord an idiot?")
    view = console.views[0]
    assert view.finish_label.text() == "⚠ Blocked by the safety settings. (The answer was blocked by your " \
                                       "safety settings (Sandbox word list).)"
    assert re.search(r"Harassment: (low|medium|high) — BLOCKED", view.safety_label.text())
    assert view.block_label.isHidden()
    send_and_wait(qtbot, tab, "idiot stupid loser moron")
    assert not view.block_label.isHidden()
    assert "The prompt was blocked by the safety settings." in view.block_label.text()


def test_streaming_shows_pieces_and_stop_keeps_the_partial_answer(tab_env: Any, sandbox: Any, qtbot: Any) -> None:
    tab, project = tab_env
    console = tab.console
    view = console.views[0]
    pieces: list[str] = []
    original = view.append_text

    def spy(index: int, text: str) -> None:
        pieces.append(text)
        original(index, text)
        if len(pieces) == 1:
            console.stop_button.click()  # stop as soon as the first piece is on screen

    view.append_text = spy  # type: ignore[method-assign]
    sandbox.stream_delay_s = 0.3  # slow pieces, so Stop lands mid-stream
    console.prompt.setPlainText("Write a long explanation of notice periods for tenants, with several examples.")
    console.send_button.click()
    assert console.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not console.is_busy(), timeout=20000)
    assert pieces, "the answer arrived in pieces"
    assert view.result is not None and view.result.stopped
    assert view.finish_label.text() == "Stopped by you before the answer was complete."
    # The connection was really closed: the Sandbox stopped sending before the last piece.
    qtbot.waitUntil(lambda: any(not completed for _path, _sent, completed in sandbox.streams), timeout=10000)
    stored = history_repo.list_entries(project.store)[0]
    assert stored.response["stopped"] is True and stored.answer_text == view.texts()[0]
    view.append_text = original  # type: ignore[method-assign]
    send_and_wait(qtbot, tab, "Write a long explanation of notice periods for tenants, with several examples.")
    assert len(view.texts()[0]) > len(stored.answer_text)
    assert view.finish_label.text().startswith("✔ Finished normally.")


def test_compare_shows_two_answers(fake_tab_env: Any, cloud: Any, qtbot: Any) -> None:
    tab, _project = fake_tab_env
    asked: list[str] = []
    cloud.answer = lambda request: asked.append(request.model) or f"{request.model} says: it ends the lease early."
    console = tab.console
    console.compare.setChecked(True)
    assert console.picker_a.select_model(BASE) and console.picker_b.select_model(OTHER)
    send_and_wait(qtbot, tab, "What does a break clause do?", slots=2)
    a, b = console.views
    assert b.isVisible()
    assert a.texts()[0].startswith(f"{BASE} says") and b.texts()[0].startswith(f"{OTHER} says")
    assert a.title.text() != b.title.text()
    assert sorted(asked) == sorted([BASE, OTHER])


def test_history_is_kept_searchable_and_rerunnable(fake_tab_env: Any, qtbot: Any, qtmodeltester: Any) -> None:
    tab, project = fake_tab_env
    send_and_wait(qtbot, tab, "What is a deposit?")
    send_and_wait(qtbot, tab, "What is a guarantor?")
    history = tab.history
    qtmodeltester.check(history.model)
    assert history.model.rowCount() == 2
    history.search.setText("guarantor")
    qtbot.waitUntil(lambda: history.model.rowCount() == 1)
    history.table.selectRow(0)
    assert "What is a guarantor?" in history.detail.toPlainText()
    history.rerun_button.click()
    qtbot.waitUntil(lambda: history_repo.count(project.store) == 3, timeout=20000)
    qtbot.waitUntil(lambda: not tab.console.is_busy(), timeout=20000)
    assert tab.console.prompt.toPlainText() == "What is a guarantor?"
    history.search.setText("")
    qtbot.waitUntil(lambda: history.model.rowCount() == 3)


def test_add_to_dataset_makes_an_undoable_example(fake_tab_env: Any, qtbot: Any) -> None:
    tab, project = fake_tab_env
    send_and_wait(qtbot, tab, "What is a sublet?")
    before = len(project.examples)

    def fill_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert dialog is not None and dialog.objectName() == "addExampleDialog"
        dialog.output_edit.setPlainText("A sublet is a lease granted by a tenant.")
        dialog.split.setCurrentIndex(dialog.split.findData(Split.TEST.value))
        dialog.buttons.accepted.emit()

    QTimer.singleShot(0, fill_dialog)
    tab.console.views[0].add_button.click()
    assert len(project.examples) == before + 1
    added = project.examples[-1]
    assert (added.input, added.output, added.split) == ("What is a sublet?",
                                                        "A sublet is a lease granted by a tenant.", Split.TEST)
    project.undo_stack.undo()
    assert len(project.examples) == before


def test_requested_tuned_model_is_selected_with_dataset_texts(fake_tab_env: Any, qtbot: Any) -> None:
    from gemtune_desktop.core.jobs import JobRecord, JobState
    from gemtune_desktop.core.project import jobs_repo

    tab, project = fake_tab_env
    endpoint = "projects/sandbox-project/locations/us-central1/endpoints/777"
    job = JobRecord(connection_kind="sandbox", backend="agent-platform", display_name="lease-bot",
                    base_model=BASE, state=JobState.SUCCEEDED, endpoint=endpoint,
                    resource_name="projects/sandbox-project/locations/us-central1/tuningJobs/1",
                    checkpoints=[{"checkpoint_id": "1", "epoch": 1, "step": 10,
                                  "endpoint": "projects/sandbox-project/locations/us-central1/endpoints/778"}])
    jobs_repo.add_job(project.store, job)
    tab.ctx.jobs_changed.emit()
    picker = tab.console.picker_a
    assert picker.itemText(0) == "Tuned on this project"
    assert "checkpoint epoch 1" in picker.itemText(2)
    tab.ctx.test_model_requested.emit(ModelRequest(endpoint, "lease-bot", job.id))
    assert picker.current_ref().model == endpoint
    console = tab.console
    assert console.dataset_box.isVisible()
    assert "Answer as a paralegal:" in console.dataset_text.toPlainText()
    request = console.build_request(picker.current_ref(), "Hi")
    assert (request.preamble, request.system_instruction) == ("Answer as a paralegal:", "Be brief.")
    console.apply_dataset.setChecked(False)
    request = console.build_request(picker.current_ref(), "Hi")
    assert (request.preamble, request.system_instruction) == ("", "")


def _direct_means(store: Any, run_id: int, slot: int) -> dict[str, float]:
    rows = evals_repo.list_rows(store, run_id, slot)
    return em.summarize([em.ScoredRow(r.example_id, r.expected, r.actual, r.blocked, r.error) for r in rows]).means


def test_batch_evaluation_of_200_rows_with_429_and_503(main_window: Any, sandbox: Any, qtbot: Any,
                                                       tmp_path: Path) -> None:
    project = open_project(main_window, tmp_path / "eval.gemtune", make_examples(200))
    main_window.show_tab("test")
    tab = main_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models), timeout=20000)
    panel = tab.evaluation
    panel.retry_policy = FAST
    assert panel.picker_a.select_model(BASE)
    tab.console.generation.temperature.setValue(0.0)
    sandbox.faults.add(route="generateContent", kind="status", status=429, retry_after=0, share=0.1)
    sandbox.faults.add(route="generateContent", kind="status", status=503, share=0.1)
    sandbox.faults.add(route="generateContent", kind="latency", latency_s=0.01)
    with qtbot.waitSignal(panel.run_finished, timeout=120000):
        panel.start_button.click()
    run = panel.selected_run()
    assert run is not None and run.status == evals_repo.DONE
    assert len(evals_repo.done_keys(project.store, run.id)) == 200
    assert "Finished: 200 answers" in panel.status.text()
    assert panel.progress.value() == panel.progress.maximum() == 200, "the bar ends full, as the status line says"
    with qtbot.waitSignal(panel.summary_shown, timeout=30000):
        panel.show_run(run)
    direct = _direct_means(project.store, run.id, 0)
    table = panel.results.metrics_table
    shown = {table.verticalHeaderItem(r).text(): table.item(r, 0).text() for r in range(table.rowCount())}
    assert shown[em.METRIC_LABELS["token_f1"]] == f"{direct['token_f1']:.3f}"
    assert shown[em.METRIC_LABELS["rougeL"]] == f"{direct['rougeL']:.3f}"
    assert shown[em.METRIC_LABELS["chrf"]] == f"{direct['chrf']:.1f}"
    assert shown[em.METRIC_LABELS["exact_match"]] == f"{direct['exact_match'] * 100:.1f} %"
    assert shown["Answered"] == "200" and shown["Failed requests"] == "0"
    stored = evals_repo.get_run(project.store, run.id)
    assert stored.metrics["models"][0]["means"] == pytest.approx(direct)
    main_window.close()
    project.close()


def test_cancelled_run_resumes_without_redoing_rows(main_window: Any, sandbox: Any, qtbot: Any,
                                                    tmp_path: Path) -> None:
    project = open_project(main_window, tmp_path / "resume.gemtune", make_examples(60))
    main_window.show_tab("test")
    tab = main_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models), timeout=20000)
    panel = tab.evaluation
    panel.retry_policy = FAST
    panel.concurrency.setValue(2)
    sandbox.faults.add(route="generateContent", kind="latency", latency_s=0.05)
    calls_before = len(generate_bodies(sandbox))
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.progress.value() >= 10, timeout=30000)
    with qtbot.waitSignal(panel.run_finished, timeout=30000):
        panel.cancel_button.click()
    run = panel.selected_run()
    assert run.status == evals_repo.STOPPED
    first = evals_repo.done_keys(project.store, run.id)
    assert 10 <= len(first) < 60
    assert len(generate_bodies(sandbox)) - calls_before == len(first)
    assert "interrupted" not in panel.runs.currentText() and "stopped" in panel.runs.currentText()
    assert panel.resume_button.isEnabled()
    with qtbot.waitSignal(panel.run_finished, timeout=60000):
        panel.resume_button.click()
    run = panel.selected_run()
    assert run.status == evals_repo.DONE
    assert len(evals_repo.done_keys(project.store, run.id)) == 60
    assert len(generate_bodies(sandbox)) - calls_before == 60, "no stored row was sent again"
    assert not panel.resume_button.isEnabled()
    main_window.close()
    project.close()


def test_base_vs_tuned_run_rows_diff_review_charts_and_csv(fake_window: Any, cloud: Any, qtbot: Any,
                                                           tmp_path: Path, qtmodeltester: Any) -> None:
    from gemtune_desktop.core.jobs import JobRecord, JobState
    from gemtune_desktop.core.project import jobs_repo

    examples = make_examples(6)
    endpoint = "projects/sandbox-project/locations/us/endpoints/tuned"
    learned = {e.input: e.output for e in examples}
    # The tuned model has learned the examples; the base model has not.
    cloud.answer = lambda request: learned[request.prompt] if request.model == endpoint else "It depends."
    project = open_project(fake_window, tmp_path / "two.gemtune", examples)
    jobs_repo.add_job(project.store, JobRecord(connection_kind="sandbox", backend="agent-platform",
                                               display_name="lease-bot", base_model=BASE, state=JobState.SUCCEEDED,
                                               resource_name="fake/tuningJobs/1", tuned_model=endpoint,
                                               endpoint=endpoint))
    fake_window.ctx.jobs_changed.emit()
    fake_window.show_tab("test")
    tab = fake_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models))
    panel = tab.evaluation
    assert panel.picker_a.itemText(0) == "Tuned on this project"
    panel.two_models.setChecked(True)
    assert panel.picker_a.select_model(BASE) and panel.picker_b.select_model(endpoint)
    with qtbot.waitSignal(panel.run_finished, timeout=10000):
        panel.start_button.click()
    run = panel.selected_run()
    with qtbot.waitSignal(panel.summary_shown, timeout=10000):
        panel.show_run(run)
    qtmodeltester.check(panel.results.rows_model)
    assert panel.results.rows_model.rowCount() == 6 and panel.results.metrics_table.columnCount() == 2
    # The tuned model answers with the training output: every answer is exact, so it wins every row.
    table = panel.results.metrics_table
    shown = {table.verticalHeaderItem(r).text(): (table.item(r, 0).text(), table.item(r, 1).text())
             for r in range(table.rowCount())}
    assert shown[em.METRIC_LABELS["exact_match"]] == ("0.0 %", "100.0 %")
    assert "lease-bot (tuned from gemini-3.5-flash) wins on word overlap (token F1)" in panel.results.summary.text()
    panel.results.rows_view.selectRow(0)
    html = panel.results.diff.toHtml()
    assert "[-" in html and "{+" in html  # markers, not only colour

    panel.chart_button.setChecked(True)
    assert panel.results.chart is not None
    assert sum(panel.results.chart.grab_counts()[0]) == 6 and sum(panel.results.chart.grab_counts()[1]) == 6

    dialog = panel.open_review()
    assert dialog is not None and len(dialog.groups) == 6
    g = dialog.current()
    left_slot = dialog.shown_order(g)[0]
    dialog.vote("1")
    dialog.vote("tie")
    votes = evals_repo.reviews(project.store, run.id)
    assert votes[g.example_id] == ("a" if left_slot == 0 else "b")
    assert sorted(votes.values()).count("tie") == 1
    assert "2 of 6 judged, 1 tie." in dialog.tally.text()
    dialog.correction.setPlainText("Corrected answer.")
    corrected_id = dialog.current().example_id
    dialog.send_correction.click()
    assert project.by_id(corrected_id).output == "Corrected answer."
    dialog.accept()

    path = tmp_path / "out.csv"
    assert panel.export_csv(path, run) == 12
    with open(path, encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert len(lines) == 12 and {line["model"] for line in lines} == set(run.labels)
    assert all(line["token_f1"] for line in lines)
    fake_window.close()
    project.close()


def test_word_diff_marks_changes_without_relying_on_colour() -> None:
    from gemtune_desktop.ui.playground.eval_rows_model import word_diff_html

    html = word_diff_html("At least one month notice", "At least two months notice")
    assert "At least " in html and "[-one month -]" in html and "{+two months +}" in html
    unrelated = word_diff_html("abc def", "xyz uvw qrs")
    assert "[-abc def-]" in unrelated and "{+xyz uvw qrs+}" in unrelated
    assert "&lt;b&gt;" in word_diff_html("<b>", "")  # text is escaped, never rendered as markup


def test_rows_by_number_are_checked_and_evaluated(fake_tab_env: Any, qtbot: Any) -> None:
    tab, project = fake_tab_env
    panel = tab.evaluation
    panel.source.setCurrentIndex(panel.source.findData("rows"))
    assert panel.rows_spec.isEnabled()
    panel.rows_spec.setText("2-x")
    panel.start_button.click()
    assert panel.status.text() == "✖ “2-x” is not a row number or a range like 3-10."
    panel.rows_spec.setText("40")
    panel.start_button.click()
    assert panel.status.text() == f"✖ Rows 40 are outside 1–{len(project.examples)}."
    assert panel.runs.count() == 0, "nothing was started"
    panel.rows_spec.setText("1-2, 7")
    with qtbot.waitSignal(panel.run_finished, timeout=60000):
        panel.start_button.click()
    run = panel.selected_run()
    assert run.source == "rows"
    assert run.example_ids == [project.examples[i].id for i in (0, 1, 6)]
    assert len(evals_repo.done_keys(project.store, run.id)) == 3

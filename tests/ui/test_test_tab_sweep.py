"""Sweep in the Test tab: a grid of settings checked as it is typed, the estimate before starting, progress, stop
and resume after reopening the project, the trade-off plot with the best setting, and that setting applied to the
Console and saved with the project in one click."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core.project import evals_repo, playground_repo, sweeps_repo
from tests.ui.test_test_tab import BASE, FAST, make_examples, open_project


def run_sweep(qtbot: Any, sweep: Any, button: Any) -> None:
    with qtbot.waitSignal(sweep.sweep_ended, timeout=60000):
        button.click()
    with qtbot.waitSignal(sweep.results_shown, timeout=60000):
        pass  # the figures of every point, read again once the sweep ended


@pytest.fixture
def sweep_env(fake_window: Any, cloud: Any, qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    examples = make_examples(8)
    expected = {e.input: e.output for e in examples}
    # Only a cold model gives the expected answer: temperature 0 is the best setting for word overlap.
    cloud.answer = lambda r: expected.get(r.prompt, "") if r.generation.temperature == 0 else "Perhaps, it depends."
    project = open_project(fake_window, tmp_path / "sweep.gemtune", examples)
    fake_window.show_tab("test")
    tab = fake_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models))
    tab.pages.setCurrentWidget(tab.sweep)
    assert tab.sweep.picker.select_model(BASE)
    yield fake_window, tab, project
    fake_window.close()
    project.close()


def test_the_grid_is_checked_and_the_cost_estimated_before_starting(sweep_env: Any) -> None:
    _window, tab, _project = sweep_env
    sweep = tab.sweep
    assert sweep.grid.check.text() == "✔ 6 settings to try: temperature (3) × top-p (2)."
    assert sweep.estimate.text().startswith("6 settings × 8 examples: 48 calls, about ")
    assert "No price is known for this model" in sweep.estimate.text()
    sweep.grid.value_edits[0].setText("0, 3")
    assert sweep.grid.check.text() == "✖ Temperature 3 is out of range. Use values from 0 to 2."
    assert not sweep.start_button.isEnabled()
    sweep.grid.value_edits[0].setText("0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9")
    sweep.grid.axis_boxes[2].setCurrentIndex(sweep.grid.axis_boxes[2].findData("top_k"))
    sweep.grid.value_edits[2].setText("10, 20, 40")
    assert sweep.grid.check.text().startswith("✖ The grid has 60 combinations; a sweep runs at most 48.")
    sweep.grid.examples.setCurrentIndex(sweep.grid.examples.findData("Blocking threshold (all categories)"))
    sweep.grid.examples.activated.emit(sweep.grid.examples.currentIndex())
    assert sweep.grid.check.text() == "✔ 4 settings to try: blocking threshold (all categories) (4)."
    from gemtune_desktop.qtcore import settings as S

    tab.ctx.settings.write(S.ANSWER_PRICES, {BASE: (0.5, 2.0)})
    sweep.update_estimate()
    assert "online" in sweep.estimate.text() and "$" in sweep.estimate.text()


def test_a_sweep_plots_its_trade_off_and_the_best_setting_goes_to_the_console(sweep_env: Any, cloud: Any,
                                                                               qtbot: Any) -> None:
    _window, tab, project = sweep_env
    sweep = tab.sweep
    assert sweep.plot_widget is None, "pyqtgraph is not touched before there is something to plot"
    run_sweep(qtbot, sweep, sweep.start_button)
    stored = sweeps_repo.list_sweeps(project.store)
    assert len(stored) == 1 and stored[0].status == sweeps_repo.DONE
    assert sweep.progress.value() == 48
    plot = sweep.plot_widget
    assert plot is not None and len(plot.lines) == 2  # one line per top-p value, temperature across
    assert plot.best is not None and plot.best[2] == "temperature 0 · top-p 0.8"
    assert sweep.best_label.text() == "Best for word overlap (token F1): temperature 0 · top-p 0.8 (1)."
    # Sweep points are runs of their own, kept out of the evaluation list unless asked for.
    runs = tab.evaluation.runs
    tab.evaluation.reload_runs()
    assert runs.count() == 0
    tab.evaluation.run_list.show_sweeps.setChecked(True)
    assert runs.count() == 6 and "Sweep point: temperature 0 · top-p 0.8" in runs.itemText(runs.count() - 1)
    # One click: the Console uses the best setting, and it is saved with the project.
    sweep.apply_button.click()
    settings = tab.console.generation.settings()
    assert (settings.temperature, settings.top_p) == (0.0, 0.8)
    assert playground_repo.load(project.store).generation.temperature == 0.0
    # For answer length the user says which way is better.
    sweep.plot_metric.setCurrentIndex(sweep.plot_metric.findData("mean_length_words"))
    assert sweep.direction.isVisible() and plot.best is not None
    assert plot.best[2] == "temperature 0.5 · top-p 0.8", "shorter is better, to start with"
    sweep.direction.setCurrentIndex(sweep.direction.findData(True))
    assert plot.best[2] == "temperature 0 · top-p 0.8"


def test_a_stopped_sweep_resumes_after_the_project_is_reopened(sweep_env: Any, cloud: Any, qtbot: Any,
                                                                tmp_path: Path) -> None:
    window, tab, project = sweep_env
    sweep = tab.sweep
    cloud.evaluation.sweep_stop_after = 10
    run_sweep(qtbot, sweep, sweep.start_button)
    assert "Stopped. The answers so far are kept" in sweep.status.text()
    assert "Partial: 38 answers are still missing (the sweep was stopped; press Resume)." in sweep.warnings.text()
    first = project.path
    other = open_project(window, tmp_path / "other.gemtune", make_examples(2))
    assert sweep.sweeps.count() == 0
    window.dataset_tab().open_path(first)
    qtbot.waitUntil(lambda: window.ctx.project is not None and window.ctx.project.path == first)
    qtbot.waitUntil(lambda: sweep.sweeps.count() == 1 and sweep.resume_button.isEnabled())
    assert "stopped" in sweep.sweeps.currentText()
    cloud.evaluation.sweep_stop_after = 1_000_000
    run_sweep(qtbot, sweep, sweep.resume_button)
    reopened = window.ctx.project
    points = sweeps_repo.points(reopened.store, sweeps_repo.list_sweeps(reopened.store)[0].id)
    assert sum(len(evals_repo.done_keys(reopened.store, p.run_id)) for p in points) == 48
    assert cloud.calls.count("run_sweep") == 2 and "Partial" not in sweep.warnings.text()
    other.close()


@pytest.fixture
def http_sweep(main_window: Any, qtbot: Any, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Open a project of these examples in the real window on the Sandbox, with the Sweep page ready to try
    these settings against the base model; yields the function that does it, returning the sweep page."""
    opened: list[Any] = []

    def ready(examples: list[Any], axes: dict[str, list[Any]]) -> Any:
        opened.append(open_project(main_window, tmp_path / f"sweep-{len(opened)}.gemtune", examples))
        main_window.show_tab("test")
        tab = main_window.tab_widgets["test"]
        qtbot.waitUntil(lambda: bool(tab.catalog.base_models), timeout=20000)
        sweep = tab.sweep
        sweep.retry_policy = FAST
        assert sweep.picker.select_model(BASE)
        sweep.grid.set_axes(axes)
        return sweep

    yield ready
    main_window.close()
    for project in opened:
        project.close()


def test_a_sweep_over_real_http_against_the_sandbox(http_sweep: Any, sandbox: Any, qtbot: Any) -> None:
    from tests.services.test_console import generate_bodies

    sweep = http_sweep(make_examples(3), {"temperature": [0.0, 1.0]})
    before = len(generate_bodies(sandbox))
    run_sweep(qtbot, sweep, sweep.start_button)
    qtbot.waitUntil(lambda: sweep.results is not None and not sweep.results.partial, timeout=60000)
    bodies = generate_bodies(sandbox)[before:]
    assert sorted(b["generationConfig"]["temperature"] for b in bodies) == [0.0] * 3 + [1.0] * 3
    assert [p.answered for p in sweep.results.points] == [3, 3]


def test_stop_over_http_keeps_the_answers_so_far_and_resume_sends_only_the_rest(http_sweep: Any, sandbox: Any,
                                                                                qtbot: Any) -> None:
    from tests.services.test_console import generate_bodies

    sweep = http_sweep(make_examples(40), {"temperature": [0.0, 0.5, 1.0]})
    sandbox.faults.add(r"enerateContent", "latency", latency_s=0.05)  # answers take a moment, as Google's do
    # The user presses Stop as soon as the first answers arrive.
    sweep.progress.valueChanged.connect(lambda v: v > 0 and sweep.stop_button.isEnabled() and sweep.stop_button.click())
    before = len(generate_bodies(sandbox))
    run_sweep(qtbot, sweep, sweep.start_button)
    sent = len(generate_bodies(sandbox)) - before
    assert 0 < sent < 120 and "Stopped. The answers so far are kept" in sweep.status.text()
    assert "(the sweep was stopped; press Resume)" in sweep.warnings.text() and sweep.resume_button.isEnabled()
    sweep.progress.valueChanged.disconnect()
    run_sweep(qtbot, sweep, sweep.resume_button)
    qtbot.waitUntil(lambda: sweep.results is not None and not sweep.results.partial, timeout=60000)
    answered = sum(p.answered for p in sweep.results.points)
    assert answered == 120 and len(generate_bodies(sandbox)) - before <= 120 + 8  # at most the calls in flight again


def test_a_threshold_sweep_over_http_plots_blocked_answers_per_harm_category(http_sweep: Any, qtbot: Any) -> None:
    from gemtune_desktop.core import sweep_grid as sg
    from gemtune_desktop.core.examples import Example, Split

    insults = [Example("Tell the idiot tenant about the deposit.", "Deposit rules.", Split.VALIDATION),
               Example("Is the stupid loser allowed a pet?", "Pets need consent.", Split.VALIDATION),
               Example("When is rent due?", "Monthly.", Split.VALIDATION)]
    sweep = http_sweep(insults, {sg.ALL_CATEGORIES: ["BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE", "BLOCK_NONE"]})
    offered_before = sweep.plot_metric.count()
    run_sweep(qtbot, sweep, sweep.start_button)
    qtbot.waitUntil(lambda: sweep.results is not None and not sweep.results.partial, timeout=60000)
    combo = sweep.plot_metric
    assert combo.count() == offered_before + 1  # the one category that blocked something in this sweep
    i = combo.findData("blocked_answers:HARM_CATEGORY_HARASSMENT")
    assert combo.itemText(i) == "Blocked answers for harassment (count)" and i == combo.findData("blocked_answers") + 1
    combo.setCurrentIndex(i)
    assert sweep.best_label.text().startswith("Best for blocked answers for harassment (count): ")
    assert sweep.best_label.text().endswith("(0).")


def test_a_flat_trade_off_starts_at_zero_and_its_best_label_stays_inside_the_plot(qtbot: Any) -> None:
    from gemtune_desktop.services.sweep import Curves
    from gemtune_desktop.ui.playground.sweep_plot import SweepPlot

    plot = SweepPlot()
    qtbot.addWidget(plot)
    plot.resize(700, 450)
    flat = Curves("temperature", [], [("top-p 0.8", [0.0, 0.5, 1.0], [0.0625, 0.0625, 0.0625]),
                                      ("top-p 0.95", [0.0, 0.5, 1.0], [0.0625, None, 0.0625])])
    plot.show_curves(flat, "Word overlap (token F1)", (0.0, 0.0625, "temperature 0 · top-p 0.8"))
    low, high = plot.plot.viewRange()[1]
    assert -0.01 < low <= 0 and 0.0625 < high < 0.2, "a score axis starts at 0, never at a negative score"
    label = plot._best_items[1]
    assert label.anchor.x() == 0.0, "the best point at the left end gets a label that reads to the right"

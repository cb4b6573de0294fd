"""The evaluation view's scores as an expert reads them: each metric names the library and settings behind it,
BLEU on its 0–100 scale, headers that fit, and a summary that says who won."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core import eval_metrics as em
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.project import evals_repo, jobs_repo
from tests.ui.test_test_tab import BASE, open_project

ENDPOINT = "projects/sandbox-project/locations/us/endpoints/tuned"
LABEL = "lease-bot (tuned from gemini-3.5-flash)"


def clauses(n: int) -> list[Example]:
    return [Example(f"Is clause {i} of the lease enforceable against a subtenant?",
                    f"Clause {i} binds the tenant and, through the head lease, any subtenant who took the flat.",
                    Split.VALIDATION) for i in range(n)]


@pytest.fixture
def base_vs_tuned(fake_window: Any, cloud: Any, qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    examples = clauses(12)
    learned = {e.input: e.output for e in examples}

    def answer(request: Any) -> str:
        if request.model != ENDPOINT:
            return "It depends on the lease."
        words = learned[request.prompt].split()
        return " ".join([*words[:9], "perhaps", *words[10:]])  # close to the expected answer, not equal

    cloud.answer = answer
    project = open_project(fake_window, tmp_path / "scores.gemtune", examples)
    jobs_repo.add_job(project.store, JobRecord(connection_kind="sandbox", backend="agent-platform",
                                               display_name="lease-bot", base_model=BASE, state=JobState.SUCCEEDED,
                                               resource_name="fake/tuningJobs/1", tuned_model=ENDPOINT,
                                               endpoint=ENDPOINT))
    fake_window.ctx.jobs_changed.emit()
    fake_window.show_tab("test")
    tab = fake_window.tab_widgets["test"]
    qtbot.waitUntil(lambda: bool(tab.catalog.base_models))
    panel = tab.evaluation
    tab.pages.setCurrentWidget(panel)
    panel.two_models.setChecked(True)
    assert panel.picker_a.select_model(BASE) and panel.picker_b.select_model(ENDPOINT)
    with qtbot.waitSignal(panel.run_finished, timeout=20000):
        panel.start_button.click()
    with qtbot.waitSignal(panel.summary_shown, timeout=20000):
        pass  # the scores of the finished run
    yield tab, panel, project
    fake_window.close()
    project.close()


def metrics_rows(panel: Any) -> dict[str, int]:
    table = panel.results.metrics_table
    return {table.verticalHeaderItem(r).data(256): r for r in range(table.rowCount())}  # key in UserRole


def test_every_metric_names_the_library_and_settings_that_produced_it(base_vs_tuned: Any) -> None:
    _tab, panel, project = base_vs_tuned
    table = panel.results.metrics_table
    rows = metrics_rows(panel)
    provenance = em.provenance()
    for key in em.ROW_METRICS:
        tip = table.verticalHeaderItem(rows[key]).toolTip()
        assert provenance[key] in tip, key
    bleu_tip = table.verticalHeaderItem(rows["bleu"]).toolTip()
    assert "sacreBLEU" in bleu_tip and "tok:13a" in bleu_tip and "0–100" in bleu_tip
    assert "rouge-score" in table.verticalHeaderItem(rows["rougeL"]).toolTip()
    # BLEU is shown on its own 0–100 scale, as sacreBLEU reports it (corpus BLEU for the run).
    run = panel.selected_run()
    stored = evals_repo.get_run(project.store, run.id).metrics["models"][1]
    assert 10 < stored["corpus"]["bleu"] < 100
    assert table.item(rows["bleu"], 1).text() == f"{stored['corpus']['bleu']:.1f}"
    assert "Corpus BLEU over the 12 answered rows" in table.item(rows["bleu"], 1).toolTip()


def test_the_summary_says_who_won_and_the_headers_fit(base_vs_tuned: Any, qtbot: Any) -> None:
    _tab, panel, _project = base_vs_tuned
    text = panel.results.summary.text()
    assert f"{LABEL} wins on word overlap (token F1)" in text, text
    assert f"{LABEL}'s answer scored higher on 12 of 12 examples, {BASE}'s on 0" in text
    assert "better" not in text and "worse" not in text
    qtbot.waitUntil(lambda: panel.results.metrics_table.isVisible())
    for view in (panel.results.metrics_table, panel.results.rows_view):
        header = view.horizontalHeader()
        model = view.model()
        for section in range(model.columnCount()):
            shown = str(model.headerData(section, header.orientation()))
            width = max(header.fontMetrics().horizontalAdvance(line) for line in shown.splitlines())
            assert width + 8 <= header.sectionSize(section), (shown, header.sectionSize(section))
    legend = panel.results.legend.text()
    assert f"Model A: {BASE}" in legend and f"Model B: {LABEL}" in legend


def test_bleu_histogram_uses_the_0_to_100_scale(base_vs_tuned: Any) -> None:
    from gemtune_desktop.ui.playground.charts import histogram

    _tab, panel, _project = base_vs_tuned
    panel.chart_button.setChecked(True)
    chart = panel.results.chart
    chart.metric_box.setCurrentIndex(chart.metric_box.findData("bleu"))
    values = chart.values[1]["bleu"]
    assert values and all(10 < v < 100 for v in values)
    assert chart.grab_counts()[1] == histogram(values, 0.0, 100.0)
    assert "0–100" in chart.plot.getAxis("bottom").labelText

"""Sweeps against the Sandbox over real HTTP: every grid point's answers stored as an evaluation run,
figures per point, stop and resume after a restart, blocked counts per threshold, estimate, best point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core import sweep_grid as sg
from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import Cancelled
from gemtune_desktop.core.eval_cost import Prices
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
from gemtune_desktop.core.project import evals_repo, examples_repo, sweeps_repo
from gemtune_desktop.core.project.store import ProjectStore
from gemtune_desktop.services import sweep
from gemtune_desktop.services.batch_eval import RetryPolicy
from gemtune_desktop.services.connections import Backend
from tests.services.test_console import generate_bodies

FAST = RetryPolicy(max_attempts=6, initial_delay_s=0.01, max_delay_s=0.05, timeout_s=30)
MODEL = "gemini-3.5-flash"


def project(path: Path, texts: list[tuple[str, str]]) -> tuple[ProjectStore, list[int]]:
    store = ProjectStore.create(path)
    ids = examples_repo.insert(store, [Example(i, o, Split.TEST) for i, o in texts], [float(n) for n in
                                                                                     range(len(texts))])
    return store, ids


def questions(n: int) -> list[tuple[str, str]]:
    return [(f"Clause {i}: may the tenant keep a cat in flat {i}?", f"Only with consent, clause {i}.")
            for i in range(n)]


def test_temperature_by_top_p_sweep_stores_every_point_and_plots_its_figures(tmp_path: Path, sandbox: Any,
                                                                           sandbox_session: Any) -> None:
    store, ids = project(tmp_path / "p.gemtune", questions(8))
    rows = list(sweeps_repo.example_texts(store, ids).values())
    the_plan = sweep.plan(sg.EXAMPLE_GRIDS["Temperature × top-p"], rows, Prices(1.0, 4.0))
    assert the_plan.points == 6 and the_plan.estimate.calls == 48
    sweep_id = sweep.create(store, MODEL, the_plan, ids, GenerationSettings(max_output_tokens=400), SafetySettings(),
                            preamble="Answer briefly:")
    reports: list[tuple[int, int, str]] = []
    token = CancelToken(on_progress=lambda d, t, text: reports.append((d, t, text)))
    sent = sweep.run(token, sandbox_session(Backend.GEMINI_API), str(store.path), sweep_id, policy=FAST)
    assert sent == 48 and len(generate_bodies(sandbox)) == 48
    configs = {(b["generationConfig"]["temperature"], b["generationConfig"]["topP"]) for b in generate_bodies(sandbox)}
    assert configs == {(t, p) for t in (0.0, 0.5, 1.0) for p in (0.8, 0.95)}
    assert all(b["generationConfig"]["maxOutputTokens"] == 400 for b in generate_bodies(sandbox))
    assert reports[-1][:2] == (48, 48) and reports[-1][2] == "temperature 1 · top-p 0.95"
    results = sweep.load_results(str(store.path), sweep_id, Prices(1.0, 4.0))
    assert results.status == sweeps_repo.DONE and not results.partial and results.warnings() == []
    assert [p.label for p in results.points][:2] == ["temperature 0 · top-p 0.8", "temperature 0 · top-p 0.95"]
    for point in results.points:
        assert point.answered == 8 and set(point.metrics) == set(sweep.PLOT_METRICS)
        assert point.metrics["cost"] is not None and point.metrics["cost"] > 0
    # At temperature 0 the Sandbox gives each prompt the same placeholder: less varied than at 1.
    series = results.series("distinct_2")
    assert series[0] is not None and series[-1] is not None and series[0] <= series[-1]
    best = results.best("distinct_2")
    assert best is not None
    gen, _ = results.settings_for(best)
    assert gen.max_output_tokens == 400 and gen.temperature == best.settings["temperature"]
    # Each point is an ordinary evaluation run, named after the point.
    runs = {r.id: r for r in evals_repo.list_runs(store)}
    assert runs[results.points[0].run_id].name == "Sweep point: temperature 0 · top-p 0.8"
    assert runs[results.points[0].run_id].status == evals_repo.DONE
    store.close()


def test_blocking_threshold_sweep_counts_blocked_answers_per_category(tmp_path: Path, sandbox: Any,
                                                                      sandbox_session: Any) -> None:
    texts = [("Tell the idiot tenant about the deposit.", "Deposit rules."),
             ("Is the stupid loser allowed a pet?", "Pets need consent."),
             ("When is rent due?", "Monthly.")]
    store, ids = project(tmp_path / "p.gemtune", texts)
    grid = {sg.ALL_CATEGORIES: ["BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE", "BLOCK_NONE"]}
    the_plan = sweep.plan(grid, list(sweeps_repo.example_texts(store, ids).values()))
    sweep_id = sweep.create(store, MODEL, the_plan, ids, GenerationSettings(temperature=0), SafetySettings())
    sweep.run(CancelToken(), sandbox_session(Backend.AGENT_PLATFORM), str(store.path), sweep_id, policy=FAST)
    results = sweep.load_results(str(store.path), sweep_id)
    assert results.series("blocked_answers") == [2.0, 1.0, 0.0]
    assert results.points[0].blocked_answers == {"HARM_CATEGORY_HARASSMENT": 2}
    assert results.best("blocked_answers") is results.points[2]
    # Each harm category that blocked something is a metric of its own, offered after its total.
    harassment = sweep.category_metric("blocked_answers", "HARM_CATEGORY_HARASSMENT")
    assert results.series(harassment) == [2.0, 1.0, 0.0] and results.best(harassment) is results.points[2]
    keys = results.metric_keys()
    assert keys[keys.index("blocked_answers") + 1] == harassment and len(keys) == len(sweep.PLOT_METRICS) + 1
    assert results.series("cost") == [None, None, None]
    assert "enter your price" in results.warnings()[0]
    store.close()


def test_stopped_sweep_resumes_after_a_restart_with_only_the_missing_answers(tmp_path: Path, sandbox: Any,
                                                                            sandbox_session: Any) -> None:
    path = tmp_path / "p.gemtune"
    store, ids = project(path, questions(10))
    the_plan = sweep.plan({"temperature": [0.0, 1.0], "top_k": [5, 40]},
                          list(sweeps_repo.example_texts(store, ids).values()))
    sweep_id = sweep.create(store, MODEL, the_plan, ids, GenerationSettings(), SafetySettings())
    store.close()
    sandbox.faults.add(route="generateContent", kind="latency", latency_s=0.01)
    token = CancelToken(on_progress=lambda d, _t, _x: token.cancel() if d >= 15 else None)
    with pytest.raises(Cancelled):
        sweep.run(token, sandbox_session(), str(path), sweep_id, concurrency=2, policy=FAST)
    sent_first = len(generate_bodies(sandbox))
    # "Restart": a new store and a new session on the same file.
    store = ProjectStore.open(path)
    assert sweeps_repo.get_sweep(store, sweep_id).status == sweeps_repo.STOPPED  # type: ignore[union-attr]
    results = sweep.load_results(str(path), sweep_id)
    assert results.partial and results.warnings()[0].startswith(f"Partial: {40 - sent_first:,} answers")
    assert any(p.partial for p in results.points)
    store.close()
    sent = sweep.run(CancelToken(), sandbox_session(), str(path), sweep_id, concurrency=2, policy=FAST)
    assert sent == 40 - sent_first and len(generate_bodies(sandbox)) == 40
    assert sweep.load_results(str(path), sweep_id).status == sweeps_repo.DONE


def test_bad_sweeps_get_plain_messages(tmp_path: Path) -> None:
    with pytest.raises(sg.SweepError, match="no rows to evaluate"):
        sweep.plan({"temperature": [0, 1]}, [])
    with pytest.raises(sg.SweepError, match="out of range"):
        sweep.plan({"temperature": [0, 3]}, [("q", "a")])
    store, _ids = project(tmp_path / "p.gemtune", questions(1))
    with pytest.raises(sg.SweepError, match="no longer in the project"):
        sweep.load_results(str(store.path), 99)
    store.close()


def test_curves_for_the_trade_off_plot(tmp_path: Path, sandbox: Any, sandbox_session: Any) -> None:
    store, ids = project(tmp_path / "p.gemtune", questions(3))
    rows = list(sweeps_repo.example_texts(store, ids).values())
    sweep_id = sweep.create(store, MODEL, sweep.plan(sg.EXAMPLE_GRIDS["Temperature × top-p"], rows), ids,
                            GenerationSettings(), SafetySettings())
    threshold_id = sweep.create(store, MODEL, sweep.plan({sg.ALL_CATEGORIES: ["BLOCK_NONE", "BLOCK_ONLY_HIGH"]},
                                                         rows), ids, GenerationSettings(), SafetySettings())
    sweep.run(CancelToken(), sandbox_session(), str(store.path), sweep_id, policy=FAST)
    curves = sweep.load_results(str(store.path), sweep_id).curves("token_f1")
    assert curves.x_label == "temperature" and curves.x_ticks == []
    assert [label for label, _x, _y in curves.lines] == ["top-p 0.8", "top-p 0.95"]
    assert curves.lines[0][1] == [0.0, 0.5, 1.0] and all(y is not None for y in curves.lines[0][2])
    pending = sweep.load_results(str(store.path), threshold_id).curves("blocked_answers")
    assert pending.x_ticks == [(0.0, "block none (report only)"), (1.0, "block only high")]
    assert pending.lines == [("blocking threshold (all categories)", [0.0, 1.0], [None, None])]
    store.close()

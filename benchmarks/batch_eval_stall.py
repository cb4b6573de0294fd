"""Benchmark: the window's event loop stays responsive while a batch evaluation runs from the Test tab.

Runs a batch evaluation of N validation rows (default 1,000) from the Test tab against the
Sandbox with an injected per-request latency (default 200 ms) and 4 parallel requests, while
a 10 ms QTimer records the gaps between its ticks. (The throughput goal, measured without a
window against a bare loop of the same SDK calls, is in ``batch_eval.py``.)

Prints:
  RESULT batch_eval_stall ratio=<longest gap / 50 ms> goal=1.0       (lower is better; measured from
         Start until the scores are on screen; the idle floor is measured first in the same run)
  RESULT batch_eval_window_throughput ratio=<rows per second / (concurrency / one request's time)>
         (no goal; one request's time is measured against the same Sandbox just before the run)

Usage: .venv/bin/python benchmarks/batch_eval_stall.py [--rows 1000] [--latency 0.2] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from _common import idle_gaps, sandbox_app, tick_gaps

STALL_GOAL_S = 0.050


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-gc-freeze", dest="gc_freeze", action="store_false",
                        help="skip gc.freeze() after start-up (the app freezes, see app._freeze_gc)")
    args = parser.parse_args()

    home, _app, server, ctx = sandbox_app()  # _app: the QApplication lives until the end
    from PySide6.QtCore import QEventLoop, QTimer

    from gemtune_desktop.core.examples import Example, Split
    from gemtune_desktop.core.project import evals_repo
    from gemtune_desktop.qtcore.project_session import ProjectSession
    from gemtune_desktop.sandbox import runtime
    from gemtune_desktop.services.console import ConsoleRequest, generate
    from gemtune_desktop.ui.playground.tab import PlaygroundTab

    server.faults.add(route="generateContent", kind="latency", latency_s=args.latency)
    project = ProjectSession.create(home / "bench.gemtune")
    project.insert(0, [Example(f"Is clause {i} of the lease enforceable against a tenant who sublets?",
                               f"Clause {i} is enforceable.", Split.VALIDATION) for i in range(args.rows)])
    ctx.set_project(project)
    tab = PlaygroundTab(ctx)
    tab.resize(1200, 800)
    tab.show()
    tab.refresh()
    loop = QEventLoop()
    tab.catalog.changed.connect(lambda: loop.quit() if tab.catalog.base_models else None)
    QTimer.singleShot(30000, loop.quit)
    loop.exec()

    # Floors measured in this run: idle timer gaps, and one request's time against this Sandbox.
    idle = idle_gaps(2.0)
    session = ctx.connections.session()
    model = tab.evaluation.picker_a.current_ref().model
    singles = []
    for i in range(5):
        started = time.perf_counter()
        generate(None, session, ConsoleRequest(model=model, prompt=f"Is clause {i} enforceable?"))
        singles.append(time.perf_counter() - started)
    one_call = statistics.median(singles)

    import gc

    if args.gc_freeze:
        from gemtune_desktop.app import _prewarm_imports

        _prewarm_imports()  # what the app imports in the background at start-up, before it freezes the collector
        gc.collect()
        gc.freeze()
    gc_pauses: list[float] = []
    gc_started: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[:] = [time.perf_counter()]
        elif gc_started and info.get("generation") == 2:
            gc_pauses.append(time.perf_counter() - gc_started[0])

    gc.callbacks.append(on_gc)
    panel = tab.evaluation
    panel.concurrency.setValue(args.concurrency)
    done = QEventLoop()
    finished_at: list[float] = []
    panel.run_finished.connect(lambda _id: finished_at.append(time.perf_counter()))
    panel.summary_shown.connect(lambda _id: done.quit() if finished_at else None)  # until the scores are shown
    with tick_gaps() as gaps:
        started = time.perf_counter()
        panel.start()
        done.exec()
    elapsed = finished_at[0] - started
    run = panel.selected_run()
    stored = len(evals_repo.done_keys(project.store, run.id)) if run is not None else 0

    worst = max(gaps) if gaps else float("inf")
    ideal = args.concurrency / one_call
    rate = stored / elapsed
    print(f"rows stored: {stored} of {args.rows} in {elapsed:.1f} s; one request {one_call * 1000:.0f} ms "
          f"(injected {args.latency * 1000:.0f} ms); {args.concurrency} parallel")
    print(f"timer gaps during the run: longest {worst * 1000:.1f} ms, p99 "
          f"{sorted(gaps)[int(len(gaps) * 0.99)] * 1000:.1f} ms; idle floor longest {max(idle) * 1000:.1f} ms")
    gc.callbacks.remove(on_gc)
    print(f"full garbage collections during the run: {len(gc_pauses)}, longest "
          f"{max(gc_pauses, default=0) * 1000:.0f} ms (they stop every thread, the GUI's too)"
          + (" [gc.freeze() applied]" if args.gc_freeze else ""))
    print(f"timer gaps over 50 ms: {sum(1 for g in gaps if g > STALL_GOAL_S)} of {len(gaps)}")
    print(f"throughput {rate:.2f} rows/s vs ideal {ideal:.2f} rows/s")
    print(f"RESULT batch_eval_stall ratio={worst / STALL_GOAL_S:.3f} goal=1.0")
    print(f"RESULT batch_eval_window_throughput ratio={rate / ideal:.3f}")

    tab.shutdown()
    ctx.shutdown()
    project.close()
    runtime.use_server(None)
    server.stop()
    return 0 if stored == args.rows else 1


if __name__ == "__main__":
    sys.exit(main())

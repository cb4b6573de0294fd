"""Benchmark: the event loop stays responsive while the job poller takes in a million loss points.

A Gemini API tuned model in the Sandbox answers one poll with 1,000,000 snapshots (about 30 MB of
JSON); the app's :class:`JobPoller` reads it and stores every point in the project file, while a
10 ms QTimer records the gaps between its ticks (the idle floor is measured first, in the same run).

Prints:
  RESULT poll_1m_points_stall ratio=<longest gap / 50 ms> goal=2.0   (lower is better; from the poll's
         start until the last point is in the project file)

The goal is two 50 ms units, not one: the worker reads a million points in Python, and the GUI
thread then waits for the interpreter lock a few switch intervals at a time. Before the points
were stored off the GUI thread and large answers parsed with the yielding scanner, the same run
froze the window for about a second (ratio about 20).

Usage: .venv/bin/python benchmarks/poll_flood.py [--points 1000000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from _common import idle_gaps, sandbox_app, tick_gaps

STALL_GOAL_S = 0.050


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()

    home, app, server, ctx = sandbox_app()
    from PySide6.QtCore import QEventLoop, QTimer

    from gemtune_desktop.core.jobs import JobRecord, JobState
    from gemtune_desktop.core.project import jobs_repo
    from gemtune_desktop.core.project.store import ProjectStore
    from gemtune_desktop.qtcore.poller import JobPoller
    from gemtune_desktop.sandbox import runtime
    from gemtune_desktop.services.connections import Backend, ConnectionKind, ConnectionProfile

    ctx.connections.save_profile(ConnectionProfile(kind=ConnectionKind.SANDBOX, sandbox_backend=Backend.GEMINI_API))
    session = ctx.connections.session()
    body = {"displayName": "flood", "baseModel": "models/sandbox-flash-001-tuning",
            "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "q", "output": "a"}]}}}}
    name = str(session.rest("POST", "tunedModels", body=body)["metadata"]["tunedModel"])
    answer = {"name": name, "displayName": "flood", "state": "CREATING",
              "tuningTask": {"snapshots": [{"step": i, "meanLoss": round(1.0 / i, 6)}
                                           for i in range(1, args.points + 1)]}}
    server.faults.add(route=r"tunedModels/[^/:]+$", method="GET", kind="body", count=1,
                      body=json.dumps(answer, separators=(",", ":")).encode())
    del answer
    store = ProjectStore.create(home / "flood.gemtune")
    job_id = jobs_repo.add_job(store, JobRecord(connection_kind="sandbox", backend="gemini-api", resource_name=name,
                                                display_name="flood", state=JobState.RUNNING))

    idle = max(idle_gaps(1.0))

    poller = JobPoller(ctx, intervals=(0.05, 0.5))
    loop = QEventLoop()
    done = QTimer()
    done.setInterval(50)
    done.timeout.connect(lambda: loop.quit() if jobs_repo.last_step(store, job_id) >= args.points else None)
    with tick_gaps() as gaps:
        started = time.perf_counter()
        poller.set_store(store)
        done.start()
        loop.exec()
        elapsed = time.perf_counter() - started
    done.stop()
    poller.stop()
    longest = max(gaps)
    stored = len(jobs_repo.loss_points(store, job_id))
    print(f"{stored:,} points stored in {elapsed:.1f} s; longest event-loop gap {longest * 1000:.0f} ms "
          f"(idle floor {idle * 1000:.0f} ms)")
    print(f"RESULT poll_1m_points_stall ratio={longest / STALL_GOAL_S:.2f} goal=2.0")
    ctx.runner.wait(30000)
    store.close()
    ctx.shutdown()
    runtime.use_server(None)
    server.stop()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())

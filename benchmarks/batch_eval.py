"""Benchmark: online evaluation keeps up with a bare loop of the same SDK calls at the same concurrency.

Evaluates N rows (default 1,000) against the Sandbox with 8 parallel requests and an injected
per-request latency (default 200 ms, standing in for the network), through the path the Test tab
and the command line use: ``batch_eval.run_and_store`` (retry policy, shared 429 pause, answers
committed to a project file as they arrive). The floor is the same ``client.models.generate_content``
calls (same prompts, same config) from a bare ``ThreadPoolExecutor`` of 8 threads against the
same Sandbox, measured before and after the run; the ratio uses their mean.

Prints:
  RESULT batch_eval_throughput ratio=<rows per second / floor rows per second> goal=0.9

Usage: .venv/bin/python benchmarks/batch_eval.py [--rows 1000] [--latency 0.2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL = 0.9
MODEL = "gemini-3.5-flash"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="gemtune-bench-"))
    os.environ["GEMTUNE_HOME"] = str(home)

    from gemtune_desktop.core.cancel import CancelToken
    from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
    from gemtune_desktop.core.project import evals_repo
    from gemtune_desktop.core.project.evals_repo import EvalRun
    from gemtune_desktop.core.project.store import ProjectStore
    from gemtune_desktop.sandbox.server import SandboxServer
    from gemtune_desktop.services.backend import BackendSession
    from gemtune_desktop.services.batch_eval import EvalItem, run_and_store
    from gemtune_desktop.services.connections import ConnectionKind, ConnectionProfile
    from gemtune_desktop.services.console import ConsoleRequest
    from gemtune_desktop.services.secrets import SecretStore

    server = SandboxServer(state_dir=None).start()
    server.faults.add(route="generateContent", kind="latency", latency_s=args.latency)
    session = BackendSession(ConnectionProfile(kind=ConnectionKind.SANDBOX), SecretStore(),
                             sandbox_url=lambda: server.base_url)
    generation, safety = GenerationSettings(temperature=0), SafetySettings()
    prompts = [f"Is clause {i} of the lease enforceable against a tenant who sublets?" for i in range(args.rows)]
    items = [EvalItem(i, 0, MODEL, p, f"Clause {i} is enforceable.") for i, p in enumerate(prompts)]
    client = session.client()
    client.models.generate_content(model=MODEL, contents="warm-up")

    def bare_loop() -> float:
        def one(prompt: str) -> None:
            req = ConsoleRequest(model=MODEL, prompt=prompt, generation=generation, safety=safety)
            client.models.generate_content(model=MODEL, contents=req.contents, config=req.config())

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(one, prompts))
        return args.rows / (time.perf_counter() - started)

    floor_before = bare_loop()
    store = ProjectStore.create(home / "bench.gemtune")
    run = EvalRun(models=[MODEL], source="test", settings={"example_ids": list(range(args.rows))})
    evals_repo.create_run(store, run)
    started = time.perf_counter()
    stats = run_and_store(CancelToken(), session, items, run.id, str(store.path), args.rows, generation, safety,
                          args.concurrency)
    rate = args.rows / (time.perf_counter() - started)
    stored = len(evals_repo.done_keys(store, run.id))
    floor_after = bare_loop()
    floor = (floor_before + floor_after) / 2
    print(f"rows stored: {stored} of {args.rows} ({stats.retries_429} 429 retries, {stats.retries_other} other)")
    print(f"evaluation {rate:.2f} rows/s; bare loop of the same SDK calls {floor_before:.2f} and {floor_after:.2f} "
          f"rows/s ({args.concurrency} parallel, {args.latency * 1000:.0f} ms injected per request)")
    print(f"RESULT batch_eval_throughput ratio={rate / floor:.3f} goal={GOAL}")
    store.close()
    session.close()
    server.stop()
    return 0 if stored == args.rows else 1


if __name__ == "__main__":
    sys.exit(main())

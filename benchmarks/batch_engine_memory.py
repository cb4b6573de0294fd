"""Benchmark: a batch-engine evaluation of 100,000 rows keeps memory under 3× the size of its results file.

A project with N examples (default 100,000) and an evaluation run is made first. A fresh process
then does what the app does for a batch run on Agent Platform: builds the run's rows, writes the
JSONL requests and uploads them to the bucket, creates the ``batchPredictionJobs`` job through
google-genai, polls it until it ends, downloads the results and stores every answer in the
project (``services.batch_jobs.submit`` / ``refresh`` / ``ingest``). Its resident memory is
sampled every 5 ms; the figure is the peak growth over the memory it had once its libraries were
imported, against the size of the results file the job wrote. The Sandbox runs in a third
process, answering as fast as it can.

Prints:
  RESULT batch_engine_memory_100k ratio=<peak memory growth / results file bytes> goal=3.0

Usage: .venv/bin/python benchmarks/batch_engine_memory.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL = 3.0
MODEL = "gemini-3.5-flash"
SANDBOX = ("import sys, threading\n"
           "from gemtune_desktop.sandbox.server import SandboxServer\n"
           "s = SandboxServer(state_dir=None).start()\n"
           "s.batch.engine.rows_per_second = 1e9\n"
           "s.batch.engine.pending_s = 0.0\n"
           "print(s.base_url, flush=True)\n"
           "sys.stdin.read()\n"
           "s.stop()\n")


def rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Peak:
    """Samples this process's resident memory every 5 ms."""

    def __init__(self) -> None:
        self.peak = rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss())


def child(db: str, url: str, run_id: int) -> int:
    from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
    from gemtune_desktop.core.project import evals_repo, sweeps_repo
    from gemtune_desktop.services import batch_jobs
    from gemtune_desktop.services.backend import BackendSession
    from gemtune_desktop.services.batch_eval import EvalItem
    from gemtune_desktop.services.connections import ConnectionKind, ConnectionProfile
    from gemtune_desktop.services.secrets import SecretStore

    session = BackendSession(ConnectionProfile(kind=ConnectionKind.SANDBOX), SecretStore(), sandbox_url=lambda: url)
    session.client().models.list()  # clients built and every library imported before the baseline
    session.storage_client().bucket("sandbox-bucket").exists()
    baseline = rss()
    peak = Peak()
    started = time.perf_counter()
    side = evals_repo.SideStore(db)
    run = evals_repo.get_run(side, run_id)
    assert run is not None
    texts = sweeps_repo.example_texts(side, run.example_ids)
    side.close()
    items = [EvalItem(i, 0, MODEL, texts[i][0], texts[i][1]) for i in run.example_ids]
    del texts
    record = batch_jobs.submit(None, session, db, run_id, items, GenerationSettings(temperature=0), SafetySettings())
    del items
    while not record.ended:
        time.sleep(0.5)
        record = batch_jobs.refresh(session, db, record)
    stats = batch_jobs.ingest(None, session, db, record)
    elapsed = time.perf_counter() - started
    growth = peak.stop() - baseline
    bucket, _, prefix = record.output_ref[5:].partition("/")
    size = sum(int(b.size or 0) for b in session.storage_client().list_blobs(bucket, prefix=prefix + "/"))
    print(f"{stats.words()} in {elapsed:.0f} s; job {record.state}")
    print(f"results file {size / 1e6:.1f} MB; peak memory growth {growth / 1e6:.1f} MB "
          f"(baseline {baseline / 1e6:.0f} MB)")
    print(f"RESULT batch_engine_memory_100k ratio={growth / size:.3f} goal={GOAL}")
    return 0 if stats.stored == record.rows else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", nargs=3, metavar=("DB", "URL", "RUN_ID"), default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], args.child[1], int(args.child[2]))
    home = Path(tempfile.mkdtemp(prefix="gemtune-bench-"))
    env = {**os.environ, "GEMTUNE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    os.environ["GEMTUNE_HOME"] = str(home)
    from gemtune_desktop.core.examples import Example, Split
    from gemtune_desktop.core.project import evals_repo, examples_repo
    from gemtune_desktop.core.project.evals_repo import EvalRun
    from gemtune_desktop.core.project.store import ProjectStore

    store = ProjectStore.create(home / "bench.gemtune")
    examples = [Example(f"Clause {i} of lease {i % 97}: may the tenant sublet the flat without written consent?",
                        f"No. Clause {i} requires the landlord's written consent.", Split.TEST)
                for i in range(args.rows)]
    ids = examples_repo.insert(store, examples, [float(i) for i in range(args.rows)])
    run = EvalRun(models=[MODEL], source="test", settings={"example_ids": ids})
    evals_repo.create_run(store, run)
    store.close()
    sandbox = subprocess.Popen([sys.executable, "-c", SANDBOX], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, env=env)
    try:
        assert sandbox.stdout is not None and sandbox.stdin is not None
        url = sandbox.stdout.readline().strip()
        proc = subprocess.run([sys.executable, __file__, "--child", str(home / "bench.gemtune"), url, str(run.id)],
                              env=env, timeout=1500)
        return proc.returncode
    finally:
        if sandbox.stdin is not None:
            sandbox.stdin.close()
        sandbox.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())

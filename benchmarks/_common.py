"""What the benchmarks share: the ``RESULT`` line ``run_all.py`` reads, a large project built fast, the
process's memory, the event loop's gaps, timed scrollbar jumps over a table and the bare model they are
measured against, and an app context connected to a local Sandbox.

``run_all.py`` runs every ``benchmarks/*.py`` except names starting with ``_``, so this module is not run
on its own. Importing it puts the repository first on ``sys.path`` (the benchmarks run as scripts) and
asks Qt for the offscreen platform unless another is set.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

FRAME_S = 1 / 60
TICK_MS = 10
TICKET_WORDS = ("refund", "order", "parcel", "Zahlung", "élève", "配送", "問題", "account", "password", "invoice",
                "late", "broken", "café", "naïve", "subscription", "cancel")


def result(name: str, value: float, floor: float, goal: float | None, unit: str = "ms") -> None:
    """Print ``RESULT name ratio=value/floor goal=… value=… floor=…`` (a goal of None: no goal)."""
    ratio = value / floor if floor > 0 else float("inf")
    goal_text = f" goal={goal}" if goal is not None else ""
    print(f"RESULT {name} ratio={ratio:.2f}{goal_text} value={value:.2f}{unit} floor={floor:.2f}{unit}")


def rss_bytes() -> int:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fill_project(path: Path, sql: str, rows: Iterable[tuple[object, ...]]) -> None:
    """A new project at ``path`` with ``rows`` inserted by ``sql`` straight into SQLite, in one transaction and
    batches of 50,000."""
    from gemtune_desktop.core.project.store import ProjectStore

    store = ProjectStore.create(path)
    conn = store.conn
    conn.execute("BEGIN")
    batch: list[tuple[object, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 50_000:
            conn.executemany(sql, batch)
            batch.clear()
    conn.executemany(sql, batch)
    conn.execute("COMMIT")
    store.close()


def make_project(path: Path, rows: int, words: Sequence[str] = TICKET_WORDS) -> int:
    """A project of ``rows`` support tickets (28 words of input, 12 of output, drawn from ``words``); returns
    the bytes of UTF-8 text stored."""
    rng = random.Random(7)
    raw = 0

    def tickets() -> Iterator[tuple[object, ...]]:
        nonlocal raw
        for i in range(rows):
            inp = f"Ticket {i}: " + " ".join(rng.choice(words) for _ in range(28))
            out = "Category: " + " ".join(rng.choice(words) for _ in range(12))
            raw += len(inp.encode()) + len(out.encode())
            yield i + 1, float(i + 1), inp, out

    fill_project(path, "INSERT INTO examples (id, pos, input, output) VALUES (?, ?, ?, ?)", tickets())
    return raw


def median_ms(samples: Sequence[float]) -> float:
    """The median of ``samples`` (seconds) in milliseconds."""
    return statistics.median(samples) * 1000


def scroll_times(view: Any, jumps: int = 60) -> list[float]:
    """Seconds taken by each of ``jumps`` random scrollbar jumps of a shown ``QTableView``, each followed by a
    synchronous repaint (the same jumps on every view: the generator is seeded)."""
    rng = random.Random(3)
    bar = view.verticalScrollBar()
    out = []
    for _ in range(jumps):
        t = time.perf_counter()
        bar.setValue(rng.randrange(bar.maximum() or 1))
        view.viewport().repaint()
        out.append(time.perf_counter() - t)
    return out


def bare_model(texts: Sequence[Sequence[str]], columns: int) -> Any:
    """The floor's table model: ``columns`` columns, the first ones showing ``texts`` (one list per column,
    all of one length), the rest ``"x"``; display text only, nothing else."""
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

    rows = len(texts[0])

    class Bare(QAbstractTableModel):
        def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
            return 0 if parent.isValid() else rows

        def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
            return 0 if parent.isValid() else columns

        def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
            if role != Qt.ItemDataRole.DisplayRole:
                return None
            c = index.column()
            return texts[c][index.row()] if c < len(texts) else "x"

    return Bare()


@contextlib.contextmanager
def tick_gaps() -> Iterator[list[float]]:
    """The gaps between the ticks of a 10 ms timer while the block runs the event loop; the list is filled
    when the block ends."""
    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    gaps: list[float] = []
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    try:
        yield gaps
    finally:
        timer.stop()
        gaps.extend(b - a for a, b in itertools.pairwise(ticks))


def idle_gaps(seconds: float) -> list[float]:
    """Gaps between 10 ms timer ticks while the event loop runs idle for ``seconds`` (the floor)."""
    from PySide6.QtCore import QEventLoop, QTimer

    with tick_gaps() as gaps:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()
    return gaps


def sandbox_app(steps_per_second: float = 200) -> tuple[Path, Any, Any, Any]:
    """(home folder, QApplication, Sandbox server, AppContext): a fresh GemTune home, and an app context whose
    connections reach a Sandbox started for this run."""
    home = Path(tempfile.mkdtemp(prefix="gemtune-bench-"))
    os.environ["GEMTUNE_HOME"] = str(home)
    from PySide6.QtWidgets import QApplication

    from gemtune_desktop.qtcore.context import AppContext
    from gemtune_desktop.qtcore.settings import Settings
    from gemtune_desktop.sandbox import runtime
    from gemtune_desktop.sandbox.server import SandboxServer

    app = QApplication.instance() or QApplication([])
    server = SandboxServer(state_dir=home / "sandbox", steps_per_second=steps_per_second).start()
    runtime.use_server(server)
    return home, app, server, AppContext(Settings())

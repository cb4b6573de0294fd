"""Dataset window at scale: open, scroll, filter, sort, edit→revalidate and memory for a 1,000,000-row project.

Each figure is printed as a ratio against a floor measured in the same run:

* open: ``ProjectSession.open`` as the window does it (rows in memory; validation then runs on a worker)
  vs a bare ``SELECT`` of the same rows into tuples; the full validation is timed on its own;
* scroll: a random scrollbar jump + synchronous repaint of the Dataset tab's tuned table vs a bare
  QTableView over a minimal model of the same rows;
* filter/sort: the model's text filter and input sort vs a plain list comprehension / ``sorted``;
* edit: pushing an ``EditCellCommand`` (SQLite commit + incremental validation) vs one frame (16.7 ms);
* memory: RSS growth after opening and validating vs the raw UTF-8 text bytes (goal 3×).

Usage: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/dataset_window.py [--rows N]``
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from _common import FRAME_S, bare_model, make_project, median_ms, result, rss_bytes, scroll_times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QHeaderView, QTableView

    app = QApplication([])
    tmp = Path(tempfile.mkdtemp())
    os.environ["GEMTUNE_HOME"] = str(tmp / "home")
    path = tmp / "big.gemtune"
    t0 = time.perf_counter()
    raw = make_project(path, args.rows)
    print(f"# built {args.rows:,} rows ({raw / 1e6:.0f} MB of text) in {time.perf_counter() - t0:.1f} s")

    # floor: read the rows into tuples
    conn = sqlite3.connect(path)
    t0 = time.perf_counter()
    rows = conn.execute("SELECT input, output, split, tags, note, id FROM examples ORDER BY pos, id").fetchall()
    floor_open = time.perf_counter() - t0
    conn.close()
    inputs = [r[0] for r in rows]
    outputs = [r[1] for r in rows]
    del rows

    from gemtune_desktop.qtcore.dataset_model import Column, DatasetModel, RowFilter
    from gemtune_desktop.qtcore.project_session import ProjectSession
    from gemtune_desktop.qtcore.undo import EditCellCommand

    before = rss_bytes()
    t0 = time.perf_counter()
    session = ProjectSession.open(path, background_above=20_000)  # what the window does
    open_s = time.perf_counter() - t0
    result("open_1m_project", open_s * 1000, floor_open * 1000, 3.0)
    t0 = time.perf_counter()
    validator = session._new_validator()
    validator.reset(session.examples)  # the window runs this on a worker after showing the rows
    validate_s = time.perf_counter() - t0
    session._validated(validator)
    grown = rss_bytes() - before
    result("full_validation_on_worker_1m", validate_s * 1000, floor_open * 1000, 3.0)
    result("memory_vs_raw_text", grown / 1e6, raw / 1e6, 3.0, unit="MB")

    def tuned(view: QTableView) -> None:
        vh = view.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(24)
        view.setWordWrap(False)
        view.horizontalHeader().setStretchLastSection(True)
        view.resize(1200, 800)
        view.show()
        app.processEvents()

    bare_view = QTableView()
    bare_view.setModel(bare_model([inputs, outputs], 6))
    tuned(bare_view)
    bare = scroll_times(bare_view)
    bare_view.close()

    model = DatasetModel(session)
    view = QTableView()
    view.setModel(model)
    tuned(view)
    ours = scroll_times(view)
    result("scroll_repaint_per_jump", median_ms(ours), median_ms(bare), 2.0)
    print(f"# scroll worst jump {max(ours) * 1000:.1f} ms (bare {max(bare) * 1000:.1f} ms)")

    needle = "zahlung café"
    t0 = time.perf_counter()
    _ = [i for i in range(len(inputs)) if needle in inputs[i].lower() or needle in outputs[i].lower()]
    floor_filter = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.set_filter(RowFilter(text=needle))
    ours_filter = time.perf_counter() - t0
    result("filter_text_1m", ours_filter * 1000, floor_filter * 1000, 2.0)
    model.clear_view()

    t0 = time.perf_counter()
    _ = sorted(range(len(inputs)), key=lambda i: inputs[i].lower())
    floor_sort = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.sort(Column.INPUT, Qt.SortOrder.AscendingOrder)
    ours_sort = time.perf_counter() - t0
    result("sort_input_1m", ours_sort * 1000, floor_sort * 1000, 2.0)
    model.clear_view()

    rng = random.Random(5)
    pushes, validations = [], []
    for k in range(30):
        e = session.examples[rng.randrange(len(session.examples))]
        t0 = time.perf_counter()
        session.validator.update([e])
        session.status_counts(e)
        validations.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        session.undo_stack.push(EditCellCommand(session, e, "output", f"edited {k}"))
        app.processEvents()
        pushes.append(time.perf_counter() - t0)
    result("edit_revalidate_vs_frame", median_ms(validations), FRAME_S * 1000, 1.0)
    result("edit_commit_and_revalidate_vs_frame", median_ms(pushes), FRAME_S * 1000, 1.0)
    view.close()
    session.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())

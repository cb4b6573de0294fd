"""Stores results that arrive on worker threads through a second connection, in batches.

A batch run produces results on worker threads; committing them on the GUI thread would stall
painting for each disk flush (``synchronous=FULL``). :class:`BatchedWriter` takes any kind of row:
``put()`` from any thread, a background thread commits what has gathered every ``flush_every_s``
through a :class:`SideStore` (SQLite's WAL lets it write beside the GUI's connection;
``busy_timeout`` covers the moments both write), and ``close()`` writes the rest and re-raises a
write error, so a failed write never looks as if it succeeded. ``evals_repo.RowWriter`` is the one
for answers.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Generic, TypeVar

from gemtune_desktop.core.project.transactions import immediate

T = TypeVar("T")


class SideStore:
    """A second connection to the project file for a worker thread (reads, or small writes).

    Same durability settings as the main store; SQLite's WAL lets it work beside the GUI's
    connection. Use it with the functions of the ``*_repo`` modules, then ``close()`` it.
    """

    def __init__(self, path: str | Path) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None, timeout=30.0, check_same_thread=False)
        for pragma in ("synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
            self.conn.execute(f"PRAGMA {pragma}")

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self.conn)

    def close(self) -> None:
        self.conn.close()


class BatchedWriter(Generic[T]):
    """``store_rows(side_store, rows) -> int`` writes one batch in one transaction."""

    def __init__(self, path: str | Path, store_rows: Callable[[SideStore, list[T]], int],
                 flush_every_s: float = 0.25, thread_name: str = "batched-writer") -> None:
        self._side = SideStore(path)
        self._store_rows = store_rows
        self._lock = threading.Lock()
        self._pending: list[T] = []
        self._stop = threading.Event()
        self._flush_every = flush_every_s
        self.written = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name=thread_name, daemon=True)
        self._thread.start()

    def put(self, row: T) -> None:
        with self._lock:
            self._pending.append(row)

    def _flush(self) -> None:
        with self._lock:
            rows, self._pending = self._pending, []
        if not rows or self.error is not None:
            return
        try:
            self.written += self._store_rows(self._side, rows)
        except sqlite3.Error as exc:
            self.error = exc

    def _loop(self) -> None:
        while not self._stop.wait(self._flush_every):
            self._flush()
        self._flush()

    def close(self) -> int:
        """Write the remaining rows, stop the thread, close the connection; returns rows written."""
        self._stop.set()
        self._thread.join()
        self._side.close()
        if self.error is not None:
            raise self.error
        return self.written

"""A throw-away, in-memory job store for when no project is open.

The Monitor tab still lists and polls the connection's jobs without a project; their
records and curves live in this SQLite ``:memory:`` database (same schema as a project
file) until the app closes or a project is opened.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from gemtune_desktop.core.project.schema import SCHEMA_SQL


class MemoryJobStore:
    """Has what ``jobs_repo`` needs: ``conn`` and ``transaction()``."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.executescript(SCHEMA_SQL)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

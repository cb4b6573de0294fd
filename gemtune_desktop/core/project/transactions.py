"""What the ``*_repo`` modules need of a project file, and the one way a write transaction is run on it.

:class:`Store` is the seam every repository function takes: the project's own :class:`~.store.ProjectStore`
(on the GUI thread) or a :class:`~.batched_writer.SideStore` (a worker's second connection) both fit it.
:func:`immediate` is their transaction: ``BEGIN IMMEDIATE`` (the write lock taken up front, so a busy file
fails before anything is done), ``COMMIT``, and ``ROLLBACK`` when the block or the commit fails.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol


class Store(Protocol):
    conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction on ``conn``; an error in the block or in the commit rolls it back and is raised."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        rollback(conn)
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def rollback(conn: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already (after a full disk or an I/O error it may have)."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")

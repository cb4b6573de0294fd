"""Save As: copy the open project to a new file under that file's locks, then open it (Qt-free).

The order matters, because a Save As can destroy work when done the other way round:

1. lock the target (beside it and by its identity) — a target open in another window is refused here,
   before anything is replaced;
2. fold the log into the open file when it is still ours (so nothing waits in a ``-wal``);
3. copy through the open SQLite connection (which still reads everything when the file was deleted or
   replaced under the app) into ``<target>.part``, sync it, remove any ``-wal``/``-shm`` left beside the
   target (they belong to the file being replaced and would be replayed into the copy), rename it over;
4. open the copy under the locks already held.

Saving to the same path the project came from is allowed once that path no longer names the open file
(it was deleted or replaced): the lock beside it is already ours and is handed over to the new store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.project import locking
from gemtune_desktop.core.project.identity import identity_of
from gemtune_desktop.core.project.locking import ProjectLock
from gemtune_desktop.core.project.sqlfile import backup

if TYPE_CHECKING:
    from gemtune_desktop.core.project.store import ProjectStore


def _resolve_target(dest: Path) -> Path:
    try:
        return dest.resolve()
    except (RuntimeError, OSError) as exc:
        raise UserError(f"“{dest.name}” cannot be used as the name of the copy.",
                        "Choose another name or folder.", detail=str(exc)) from None


def save_as(store: ProjectStore, dest: Path) -> ProjectStore:
    from gemtune_desktop.core.project.store import ProjectStore

    if store.closed:
        raise UserError("This project is closed.")
    real = _resolve_target(dest)
    same_path = real == store.real_path
    if real.is_dir():
        raise UserError(f"“{dest.name}” is a folder.", "Choose a file name for the copy.")
    if same_path:
        if store.check_file() is None:
            raise UserError(f"“{dest.name}” is the project itself.", "Choose a different file name for the copy.")
    elif identity_of(real) is not None and identity_of(real) == store._watch.identity:
        raise UserError(f"“{dest.name}” is another name of this project's own file.",
                        "Choose a different file name for the copy.")
    lock = _lock_target(store, real, same_path, dest.name)
    try:
        if store.lost is None:
            store.flush()
        real.parent.mkdir(parents=True, exist_ok=True)
        backup(store.conn, real)
        identity = identity_of(real)
        if identity is not None:
            locking.add_identity_lock(lock, identity)
        new = ProjectStore._open_locked(dest, real, lock)
        if new is None:
            raise UserError(f"The copy “{dest.name}” was written but cannot be opened for editing.",
                            "Check that the folder can be written.")
    except BaseException:
        if same_path:
            if lock.by_identity is not None:
                lock.by_identity.release()
        else:
            lock.release()
        raise
    if same_path:
        store._keep_beside_lock = True  # the new store holds it now
    return new


def _lock_target(store: ProjectStore, real: Path, same_path: bool, name: str) -> ProjectLock:
    """The target's locks: a fresh pair, or (same path) our own lock beside it plus the new file's identity."""
    if not same_path:
        return locking.acquire(real, identity_of(real), name)
    own = store._lock
    if own is None:
        raise UserError("This project is open read-only.", "Choose another file name for the copy.")
    lock = ProjectLock(own.beside, None)
    identity = identity_of(real)
    if identity is not None and os.path.exists(real):  # whatever replaced our file may be open elsewhere
        locking.add_identity_lock(lock, identity)
    return lock

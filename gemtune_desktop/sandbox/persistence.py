"""Small JSON files written atomically, so the Sandbox's state survives a restart (or a crash mid-write)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def write_json(path: Path, data: Any) -> None:
    write_bytes(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_json_dir(folder: Path) -> list[dict[str, Any]]:
    """Every readable ``*.json`` record in a folder; unreadable ones are logged and skipped."""
    records: list[dict[str, Any]] = []
    if not folder.is_dir():
        return records
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("Sandbox: skipping unreadable state file %s", path)
            continue
        if isinstance(data, dict):
            records.append(data)
    return records


def remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass

"""Where the app keeps its settings, data, cache and logs (Qt-free).

Every folder can be moved under one root with the ``GEMTUNE_HOME`` environment variable;
the tests and the benchmarks use that so they never touch the user's real folders.
Secrets are never written under any of these folders: they live in the OS keyring.
"""

from __future__ import annotations

import os
from pathlib import Path

from gemtune_desktop import APP_ID, ORG_NAME


def _root_override() -> Path | None:
    value = os.environ.get("GEMTUNE_HOME")
    return Path(value) if value else None


def _dir(kind: str) -> Path:
    root = _root_override()
    if root is not None:
        path = root / kind
    else:
        import platformdirs

        getter = {
            "config": platformdirs.user_config_dir,
            "data": platformdirs.user_data_dir,
            "cache": platformdirs.user_cache_dir,
            "logs": platformdirs.user_log_dir,
        }[kind]
        path = Path(getter(APP_ID, ORG_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Settings (``settings.ini``); never secrets."""
    return _dir("config")


def data_dir() -> Path:
    """App data: the Sandbox's simulated jobs, the default project folder."""
    return _dir("data")


def cache_dir() -> Path:
    """Disposable cache."""
    return _dir("cache")


def log_dir() -> Path:
    """Rotating log files."""
    return _dir("logs")


def all_app_dirs() -> list[Path]:
    """The folders the app writes to, for support and for the secret-leak tests."""
    return [config_dir(), data_dir(), cache_dir(), log_dir()]


def default_projects_dir() -> Path:
    """Where New Project suggests saving: the user's Documents folder when it exists."""
    docs = Path.home() / "Documents"
    return docs if docs.is_dir() else Path.home()

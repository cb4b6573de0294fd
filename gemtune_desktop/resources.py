"""Locate the files shipped in ``resources/`` (icons, stylesheets, samples, guide, model lists).

Works from a source checkout (the top-level ``resources/`` folder), an installed wheel
(the ``gemtune_desktop.resources`` package) and a PyInstaller bundle (``sys._MEIPASS``).
Qt-free.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any


@cache
def resources_dir() -> Path:
    """The folder holding the shipped resources."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen:
        candidates.append(Path(frozen) / "resources")
    candidates.append(Path(__file__).resolve().parent.parent / "resources")
    candidates.append(Path(__file__).resolve().parent / "resources")
    for path in candidates:
        if (path / "models.json").is_file():
            return path
    try:
        from importlib.resources import files

        path = Path(str(files("gemtune_desktop.resources")))
        if path.is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    raise FileNotFoundError("GemTune Desktop's resources folder is missing; reinstall the app.")


def resource_path(*parts: str) -> Path:
    """Path of one shipped file, e.g. ``resource_path("icons", "app.svg")``."""
    return resources_dir().joinpath(*parts)


def read_text(*parts: str) -> str:
    return resource_path(*parts).read_text(encoding="utf-8")


def read_json(*parts: str) -> Any:
    return json.loads(read_text(*parts))

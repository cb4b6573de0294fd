"""Every persistent setting, declared once with its type and default, behind a typed facade.

Settings live in ``settings.ini`` in the app's config folder (see :mod:`gemtune_desktop.paths`).
Secrets never go here: :mod:`gemtune_desktop.services.secrets` keeps them in the keyring.

Use ``settings.get(LAST_TAB)`` / ``settings.set(LAST_TAB, 2)``; declare new keys with
``Key("section/name", type, default)`` in this module so they are all in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from PySide6.QtCore import QByteArray, QObject, QSettings, Signal

from gemtune_desktop import paths

T = TypeVar("T")


@dataclass(frozen=True)
class Key(Generic[T]):
    name: str
    type: type
    default: T
    doc: str = ""


# -- window state ("persist") ------------------------------------------------------------
WINDOW_GEOMETRY: Key[QByteArray] = Key("window/geometry", QByteArray, QByteArray(), "Main window geometry")
WINDOW_STATE: Key[QByteArray] = Key("window/state", QByteArray, QByteArray(), "Main window dock/toolbar state")
LAST_TAB: Key[int] = Key("window/last_tab", int, 0, "Index of the tab shown last")
DATASET_SPLITTER: Key[QByteArray] = Key("window/dataset_splitter", QByteArray, QByteArray(), "Dataset splitter")
RECENT_PROJECTS: Key[list] = Key("files/recent_projects", list, [], "Most recent first")
LAST_DIR: Key[str] = Key("files/last_dir", str, "", "Folder of the last file dialog")
LAST_PROJECT: Key[str] = Key("files/last_project", str, "", "Project reopened at start")

# -- user settings ----------------------------------------------------------------------
ACTIVE_CONNECTION: Key[str] = Key("connections/active", str, "sandbox", "sandbox | agent_platform | gemini_api")
CONNECTION_PROFILES: Key[str] = Key("connections/profiles", str, "{}", "JSON of non-secret profile fields")
SANDBOX_STEPS_PER_SECOND: Key[float] = Key("sandbox/steps_per_second", float, 4.0, "Simulated training pace")
FIRST_RUN_DONE: Key[bool] = Key("app/first_run_done", bool, False, "Welcome shown")
TUNE_PRESETS: Key[str] = Key("tune/presets", str, "{}", "JSON: preset name -> hyperparameters")
MODEL_PRICES: Key[str] = Key("tune/prices", str, "{}", "JSON: model -> USD per 1M training tokens (user edits)")
TUNABLE_MODELS_AP: Key[str] = Key("tune/agent_platform_models", str, "", "Comma list; empty = shipped list")

MAX_RECENT = 10


class Settings(QObject):
    """Typed access to ``settings.ini``.

    Signals:
        changed(str): the name of a key that was set.
    """

    changed = Signal(str)

    def __init__(self, path: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path or str(paths.config_dir() / "settings.ini")
        self._qs = QSettings(self.path, QSettings.Format.IniFormat)

    def get(self, key: Key[T]) -> T:
        raw = self._qs.value(key.name, None)
        if raw is None:
            return _copy(key.default)
        try:
            # ``key.type`` is the runtime class of ``T`` (see :class:`Key`), so the value is a ``T``.
            return cast(T, _convert(key.type, raw))
        except (TypeError, ValueError):
            return _copy(key.default)

    def set(self, key: Key[T], value: T) -> None:
        self._qs.setValue(key.name, value)
        self.changed.emit(key.name)

    def get_json(self, key: Key[str]) -> Any:
        try:
            return json.loads(self.get(key) or "null")
        except ValueError:
            return json.loads(key.default) if key.default else None

    def set_json(self, key: Key[str], value: Any) -> None:
        self.set(key, json.dumps(value, sort_keys=True))

    def add_recent(self, path: str) -> None:
        items = [p for p in self.get(RECENT_PROJECTS) if p != path]
        self.set(RECENT_PROJECTS, [path, *items][:MAX_RECENT])

    def sync(self) -> None:
        self._qs.sync()


def _convert(kind: type, raw: object) -> object:
    """``raw`` as QSettings read it from the INI file, turned into an instance of ``kind``.

    Raises TypeError/ValueError when it cannot be (the caller then falls back to the default).
    """
    if kind is bool:
        if isinstance(raw, str):
            return raw.lower() in ("1", "true", "yes")
        return bool(raw)
    if kind is list:
        if isinstance(raw, str):
            return [raw] if raw else []
        if isinstance(raw, Iterable):
            return list(raw)
        raise TypeError(f"not a list: {type(raw).__name__}")
    if kind is QByteArray:
        if isinstance(raw, QByteArray):
            return raw
        if isinstance(raw, (bytes, bytearray, memoryview, str)):
            return QByteArray(raw.encode() if isinstance(raw, str) else bytes(raw))
        raise TypeError(f"not bytes: {type(raw).__name__}")
    return kind(raw)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value

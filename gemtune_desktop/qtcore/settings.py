"""Every persistent setting, declared once with its type and default, behind a typed facade.

Settings live in ``settings.ini`` in the app's config folder (see :mod:`gemtune_desktop.paths`).
Secrets never go here: :mod:`gemtune_desktop.services.secrets` keeps them in the keyring.

Use ``settings.get(LAST_TAB)`` / ``settings.set(LAST_TAB, 2)``; declare new keys with
``Key("section/name", type, default)`` in this module so they are all in one place. Structured
values (connection profiles, presets, prices) are :class:`JsonKey` s: stored as JSON, read back as
typed values (``settings.read(MODEL_PRICES)`` is a ``dict[str, float]``), whatever the file holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from PySide6.QtCore import QByteArray, QObject, QSettings, Signal

from gemtune_desktop import paths
from gemtune_desktop.services.connections import ConnectionKind, ConnectionProfile

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

@dataclass(frozen=True)
class JsonKey(Generic[T]):
    """A structured setting stored as JSON text; ``decode`` turns whatever was stored into a ``T``."""

    name: str
    decode: Callable[[object], T]
    encode: Callable[[T], object]
    doc: str = ""


@dataclass
class TunePreset:
    """A named set of Tune tab settings: the backend it was saved for and the form's values."""

    backend: str
    values: dict[str, object] = field(default_factory=dict)


def _profiles_from_json(data: object) -> dict[ConnectionKind, ConnectionProfile]:
    stored = data if isinstance(data, Mapping) else {}
    result = {}
    for kind in ConnectionKind:
        raw = stored.get(kind.value)
        result[kind] = ConnectionProfile.from_dict({**(raw if isinstance(raw, Mapping) else {}), "kind": kind.value})
    return result


def _profiles_to_json(profiles: dict[ConnectionKind, ConnectionProfile]) -> object:
    return {kind.value: profile.to_dict() for kind, profile in profiles.items()}


def _presets_from_json(data: object) -> dict[str, TunePreset]:
    stored = data if isinstance(data, Mapping) else {}
    return {str(name): TunePreset(str(values.get("backend") or ""),
                                  {str(k): v for k, v in values.items() if k != "backend"})
            for name, values in stored.items() if isinstance(values, Mapping)}


def _presets_to_json(presets: dict[str, TunePreset]) -> object:
    return {name: {"backend": p.backend, **p.values} for name, p in presets.items()}


def _prices_from_json(data: object) -> dict[str, float]:
    stored = data if isinstance(data, Mapping) else {}
    prices = {}
    for model, value in stored.items():
        try:
            prices[str(model)] = float(value)
        except (TypeError, ValueError):
            continue
    return prices


def _prices_to_json(prices: dict[str, float]) -> object:
    return dict(prices)


# -- user settings ----------------------------------------------------------------------
ACTIVE_CONNECTION: Key[str] = Key("connections/active", str, "sandbox", "sandbox | agent_platform | gemini_api")
CONNECTION_PROFILES: JsonKey[dict[ConnectionKind, ConnectionProfile]] = JsonKey(
    "connections/profiles", _profiles_from_json, _profiles_to_json, "Non-secret fields of each connection")
SANDBOX_STEPS_PER_SECOND: Key[float] = Key("sandbox/steps_per_second", float, 4.0, "Simulated training pace")
FIRST_RUN_DONE: Key[bool] = Key("app/first_run_done", bool, False, "Welcome shown")
TUNE_PRESETS: JsonKey[dict[str, TunePreset]] = JsonKey("tune/presets", _presets_from_json, _presets_to_json,
                                                        "Preset name -> backend and settings")
MODEL_PRICES: JsonKey[dict[str, float]] = JsonKey("tune/prices", _prices_from_json, _prices_to_json,
                                                   "Model -> USD per 1M training tokens (the user's own prices)")
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

    def read(self, key: JsonKey[T]) -> T:
        """The structured value (a fresh copy), or the key's empty value when none or garbage is stored."""
        raw = self._qs.value(key.name, None)
        try:
            data = json.loads(raw) if isinstance(raw, str) and raw else None
        except ValueError:
            data = None
        return key.decode(data)

    def write(self, key: JsonKey[T], value: T) -> None:
        self._qs.setValue(key.name, json.dumps(key.encode(value), sort_keys=True))
        self.changed.emit(key.name)

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


# -- Dataset tab and main window (issues 13 and 17) -------------------------------------------------------------
OPENING_PROJECT: Key[str] = Key("files/opening_project", str, "",
                                "The project being opened at start; still set at the next start means that opening "
                                "it did not finish (it is not tried again automatically)")


# -- Test tab: evaluation (issue 19) --------------------------------------------------------------
def _answer_prices_from_json(data: object) -> dict[str, tuple[float, float]]:
    stored = data if isinstance(data, Mapping) else {}
    prices = {}
    for model, value in stored.items():
        try:
            prices[str(model)] = (float(value[0]), float(value[1]))
        except (TypeError, ValueError, IndexError, KeyError):
            continue
    return prices


def _answer_prices_to_json(prices: dict[str, tuple[float, float]]) -> object:
    return {model: [pair[0], pair[1]] for model, pair in prices.items()}


BATCH_ENGINE_THRESHOLD: Key[int] = Key("test/batch_engine_threshold", int, 1000,
                                       "Offer Google's batch engine for evaluations of more answers than this")
ANSWER_PRICES: JsonKey[dict[str, tuple[float, float]]] = JsonKey(
    "test/answer_prices", _answer_prices_from_json, _answer_prices_to_json,
    "Model -> (input, output) USD per 1M tokens of answers, the user's own prices (none is shipped)")
JUDGE_MODEL: Key[str] = Key("test/judge_model", str, "gemini-3.5-flash", "The model the judge asks")

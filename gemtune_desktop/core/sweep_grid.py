"""Sweep grids: which generation or safety settings to try, every combination of them, and the best one.

An axis is a generation setting (``temperature``, ``top_p``, ``top_k``, ``max_output_tokens``)
or a safety threshold, for one harm category (``safety:HARM_CATEGORY_HARASSMENT``) or for all
text categories at once (``safety:all``). :class:`Grid` holds up to :data:`MAX_AXES` axes and
gives every combination (:meth:`Grid.points`), at most :data:`MAX_POINTS`. Values typed by the
user are read by :func:`parse_values`, which explains what is wrong in plain words.
:func:`best_point` picks the best point for a metric (higher is better for scores and
diversity, lower for blocked counts and cost; the length direction is the user's choice).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.core.generation import (
    GenerationSettings,
    HarmCategory,
    SafetySettings,
    Threshold,
    category_label,
)

MAX_AXES = 3
MAX_VALUES = 10
MAX_POINTS = 48
SAFETY_PREFIX = "safety:"
ALL_CATEGORIES = "safety:all"

GENERATION_AXES: dict[str, tuple[str, type, float, float]] = {
    # name: (label, type, lowest, highest), ranges as the Test tab's controls allow them
    "temperature": ("temperature", float, 0.0, 2.0),
    "top_p": ("top-p", float, 0.0, 1.0),
    "top_k": ("top-k", int, 1, 1000),
    "max_output_tokens": ("max output tokens", int, 1, 65536),
}

EXAMPLE_GRIDS: dict[str, dict[str, list[float | str]]] = {
    "Temperature × top-p": {"temperature": [0.0, 0.5, 1.0], "top_p": [0.8, 0.95]},
    "Blocking threshold (all categories)": {ALL_CATEGORIES: ["BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE",
                                                            "BLOCK_ONLY_HIGH", "BLOCK_NONE"]},
}

# Which way is better for each metric the sweep plots (None: the user says).
HIGHER_IS_BETTER: dict[str, bool | None] = {
    "exact_match": True, "token_f1": True, "bleu": True, "chrf": True, "rouge1": True, "rouge2": True,
    "rougeL": True, "judge": True, "distinct_1": True, "distinct_2": True,
    "blocked_prompts": False, "blocked_answers": False, "cost": False, "mean_length_words": None,
}


class SweepError(UserError):
    """The grid cannot be run as given."""


Value = float | int | str


def axis_label(axis: str) -> str:
    if axis == ALL_CATEGORIES:
        return "blocking threshold (all categories)"
    if axis.startswith(SAFETY_PREFIX):
        return f"blocking threshold for {category_label(axis.removeprefix(SAFETY_PREFIX)).lower()}"
    if axis in GENERATION_AXES:
        return GENERATION_AXES[axis][0]
    raise SweepError(f"“{axis}” is not a setting a sweep can vary.",
                     "Choose temperature, top-p, top-k, max output tokens or a blocking threshold.")


def value_label(axis: str, value: Value) -> str:
    if axis.startswith(SAFETY_PREFIX):
        return Threshold(str(value)).label.lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def _check_axis_name(axis: str) -> None:
    if axis == ALL_CATEGORIES or axis in GENERATION_AXES:
        return
    if axis.startswith(SAFETY_PREFIX):
        try:
            HarmCategory(axis.removeprefix(SAFETY_PREFIX))
            return
        except ValueError:
            pass
    raise SweepError(f"“{axis}” is not a setting a sweep can vary.",
                     "Choose temperature, top-p, top-k, max output tokens or a blocking threshold.")


def parse_values(axis: str, text: str) -> list[Value]:
    """The values typed for ``axis`` ("0, 0.5, 1" or threshold names), checked and in order."""
    _check_axis_name(axis)
    parts = [p.strip() for p in text.replace(";", " ").replace(",", " ").split() if p.strip()]
    if not parts:
        raise SweepError(f"No values for {axis_label(axis)}.", "Type two or more values separated by commas.")
    return check_values(axis, parts)


def check_values(axis: str, raw: Sequence[object]) -> list[Value]:
    _check_axis_name(axis)
    label = axis_label(axis)
    values: list[Value] = []
    for item in raw:
        if axis.startswith(SAFETY_PREFIX):
            try:
                values.append(Threshold(str(item).strip().upper()).value)
            except ValueError:
                names = ", ".join(t.value for t in Threshold if t.value)
                raise SweepError(f"“{item}” is not a blocking threshold.", f"Use one of {names}.") from None
            continue
        _name, kind, low, high = GENERATION_AXES[axis]
        try:
            number = float(str(item))
        except ValueError:
            raise SweepError(f"“{item}” is not a number ({label}).", "Use a dot for decimals, e.g. 0.5.") from None
        if not math.isfinite(number) or not low <= number <= high:
            raise SweepError(f"{label.capitalize()} {item} is out of range.", f"Use values from {low:g} to {high:g}.")
        if kind is int and number != int(number):
            raise SweepError(f"{label.capitalize()} must be a whole number, not {item}.", "Use 1, 20, 40, …")
        values.append(int(number) if kind is int else number)
    if len(set(values)) != len(values):
        raise SweepError(f"{label.capitalize()} has the same value twice.", "Remove the repeated value.")
    if len(values) > MAX_VALUES:
        raise SweepError(f"{label.capitalize()} has {len(values)} values; a sweep takes at most {MAX_VALUES}.",
                         "Keep the values you most want to compare.")
    return values


@dataclass(frozen=True, slots=True)
class Grid:
    """Axes in order; ``points()`` varies the last axis fastest."""

    axes: tuple[tuple[str, tuple[Value, ...]], ...]

    @classmethod
    def of(cls, axes: Mapping[str, Sequence[object]]) -> Grid:
        if not axes:
            raise SweepError("The sweep has no setting to vary.", "Add at least one setting with two or more values.")
        if len(axes) > MAX_AXES:
            raise SweepError(f"The sweep varies {len(axes)} settings; at most {MAX_AXES} can be combined.",
                             "Remove a setting, or sweep it separately.")
        if ALL_CATEGORIES in axes and any(a.startswith(SAFETY_PREFIX) and a != ALL_CATEGORIES for a in axes):
            raise SweepError("The threshold for all categories and a threshold for one category are both varied.",
                             "Vary one or the other.")
        grid = cls(tuple((name, tuple(check_values(name, values))) for name, values in axes.items()))
        count = grid.size
        if count > MAX_POINTS:
            raise SweepError(f"The grid has {count} combinations; a sweep runs at most {MAX_POINTS}.",
                             "Use fewer values per setting.")
        return grid

    @property
    def size(self) -> int:
        return math.prod(len(values) for _, values in self.axes)

    def points(self) -> list[dict[str, Value]]:
        names = [name for name, _ in self.axes]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(v for _, v in self.axes))]

    def to_dict(self) -> dict[str, list[Value]]:
        return {name: list(values) for name, values in self.axes}


def point_label(point: Mapping[str, Value]) -> str:
    """"temperature 0.5 · top-p 0.8"."""
    return " · ".join(f"{axis_label(a)} {value_label(a, v)}" for a, v in point.items())


def apply(point: Mapping[str, Value], generation: GenerationSettings,
          safety: SafetySettings) -> tuple[GenerationSettings, SafetySettings]:
    """The settings of one grid point: ``generation``/``safety`` with the point's values in place."""
    changes = {k: v for k, v in point.items() if k in GENERATION_AXES}
    gen = replace(generation, stop_sequences=list(generation.stop_sequences), **changes)  # type: ignore[arg-type]
    safe = SafetySettings(dict(safety.thresholds))
    for axis, value in point.items():
        if axis == ALL_CATEGORIES:
            for category in HarmCategory:
                safe.set(category, Threshold(str(value)))
        elif axis.startswith(SAFETY_PREFIX):
            safe.set(HarmCategory(axis.removeprefix(SAFETY_PREFIX)), Threshold(str(value)))
    return gen, safe


def best_point(values: Sequence[float | None], metric: str, higher_is_better: bool | None = None) -> int | None:
    """Index of the best value (the first among equals), or None when no point has a value."""
    # "blocked_answers:HARM_CATEGORY_…" (one harm category) is read like its total
    higher = HIGHER_IS_BETTER.get(metric.partition(":")[0]) if higher_is_better is None else higher_is_better
    if higher is None:
        raise SweepError("Choose whether shorter or longer answers are better.", "")
    found = [(v if higher else -v, -i) for i, v in enumerate(values) if v is not None]
    if not found:
        return None
    return -max(found)[1]

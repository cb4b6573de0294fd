"""The curves a tuning job reports, by the key the project stores them under, in plain words.

A job's TensorBoard run holds one time series per metric, named like ``/train_total_loss``. The project keeps
each under a key (:func:`series_key`): the supervised training and validation losses under ``train`` and
``validation`` (:data:`gemtune_desktop.core.loss.TRAIN` / ``VALIDATION``, as before), every other series under
its name without the slash (``train_reward_margin``), so nothing a run reports is dropped.

Known series, labelled in plain words (:func:`series_label`) and explained (:func:`series_explanation`):

* ``/train_total_loss``, ``/eval_total_loss``: supervised tuning's loss (reference §3.4);
* ``/train_preference_loss``, ``/eval_preference_loss`` and ``/train_reward_margin``, ``/eval_reward_margin``:
  what the Sandbox reports for preference tuning. UNCERTAIN: the names a real preference-tuning job writes are
  not documented in any source the team could read; a series with another name is still kept and labelled from
  its name ("/train_reward_accuracy" → "reward accuracy (training)").
"""

from __future__ import annotations

from dataclasses import dataclass

from gemtune_desktop.core.loss import TRAIN, VALIDATION

_BY_NAME = {"/train_total_loss": TRAIN, "/eval_total_loss": VALIDATION}
_WORDS = {
    TRAIN: "training loss",
    VALIDATION: "validation loss",
    "train_preference_loss": "preference loss (training)",
    "eval_preference_loss": "preference loss (validation)",
    "train_reward_margin": "reward margin (training)",
    "eval_reward_margin": "reward margin (validation)",
}
_EXPLAIN = {
    "preference_loss": "How strongly the model still fails to favour the preferred answers. It starts near 0.69 "
                       "(no preference yet) and falls as the model learns them.",
    "reward_margin": "How much more the model favours the preferred answer than the dispreferred one. It starts "
                     "at 0 and rises as the model learns; on the validation examples a margin that falls again "
                     "means the model is memorising the training pairs.",
    "total_loss": "How far the model's answers are from the examples' answers. It falls as the model learns.",
}
HIGHER_IS_BETTER = ("margin", "accuracy", "reward")
# What a preference job is expected to write (the Sandbox's names; see the module docstring).
PREFERENCE_TRAIN = ("train_preference_loss", "train_reward_margin")
PREFERENCE_VALIDATION = ("eval_preference_loss", "eval_reward_margin")


def series_key(display_name: str) -> str:
    """The key a series is stored under: ``train``/``validation`` for the supervised losses, else its name."""
    name = display_name.strip()
    return _BY_NAME.get(name) or name.lstrip("/")


def is_validation(key: str) -> bool:
    return key == VALIDATION or key.startswith(("eval_", "validation_"))


def metric_of(key: str) -> str:
    """``reward_margin`` for ``eval_reward_margin``; ``total_loss`` for ``train`` and ``validation``."""
    if key in (TRAIN, VALIDATION):
        return "total_loss"
    for prefix in ("train_", "eval_", "validation_"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def series_label(key: str) -> str:
    """The series in plain words: "training loss", "reward margin (validation)"."""
    if key in _WORDS:
        return _WORDS[key]
    what = metric_of(key).replace("_", " ").replace("/", " ").strip() or key
    if key.startswith("train_"):
        return f"{what} (training)"
    if is_validation(key):
        return f"{what} (validation)"
    return what


def series_explanation(key: str) -> str:
    """What the curve means and which way it should go ("" when GemTune does not know the series)."""
    return _EXPLAIN.get(metric_of(key), "")


def higher_is_better(key: str) -> bool:
    """Whether the curve should rise as the model learns (a margin or an accuracy) rather than fall (a loss)."""
    metric = metric_of(key)
    return any(word in metric for word in HIGHER_IS_BETTER) and "loss" not in metric


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """One stored series as the Monitor shows it."""

    key: str
    label: str
    validation: bool
    higher_is_better: bool
    explanation: str


def describe_series(keys: list[str]) -> list[SeriesInfo]:
    """Every series of a job in a stable order (training before validation, losses before the rest)."""
    def order(key: str) -> tuple[int, int, str]:
        return (int(is_validation(key)), int(higher_is_better(key)), metric_of(key))

    return [SeriesInfo(k, series_label(k), is_validation(k), higher_is_better(k), series_explanation(k))
            for k in sorted(dict.fromkeys(keys), key=order)]


def expected_series(method: str, has_validation: bool) -> frozenset[str]:
    """The series keys a job of ``method`` ("supervised" or "preference") is expected to write."""
    if method == "preference":
        return frozenset(PREFERENCE_TRAIN + (PREFERENCE_VALIDATION if has_validation else ()))
    return frozenset({TRAIN, VALIDATION} if has_validation else {TRAIN})

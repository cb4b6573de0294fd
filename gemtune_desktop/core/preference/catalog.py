"""What ``models.json`` says a base model accepts (preference tuning, continued tuning) and when it retires, in
the words the Tune and Monitor tabs show.

The file is read by :func:`gemtune_desktop.core.model_catalog.catalog_models` (the one reader); a model's facts
are its :class:`~gemtune_desktop.core.model_catalog.ModelInfo`. Entries of ``agent_platform.tunable_models`` and
``agent_platform.retired_models`` (bases that can no longer be tuned but may still be under a user's tuned
models) may carry:

* ``"preference_tuning"``: true, false, or null when no source says (the Tune tab then lets the service decide
  and shows its refusal in plain words);
* ``"continued_tuning"``: the same for continuing from a tuned model or checkpoint;
* ``"retires"``: the retirement date (``YYYY-MM-DD``) from the model-versions page, with
  ``"retires_no_earlier_than": true`` when the page gives only the earliest date, and ``"replacements"``: the
  model ids that page recommends instead;
* ``"sources"``: where each fact comes from (URL and date), shipped with the facts.

A missing key means "not known", never "no".
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from gemtune_desktop.core.model_catalog import ModelInfo, catalog_models

RETIREMENT_NOTICE_DAYS = 90
ModelFacts = ModelInfo  # the facts of one model are its catalogue entry


def model_facts(catalog: Mapping[str, Any]) -> dict[str, ModelInfo]:
    """{model id: facts} for every Agent Platform model the catalogue lists (tunable ones and retired bases)."""
    return catalog_models(catalog)


def facts_for(model: str, facts: Mapping[str, ModelInfo]) -> ModelInfo | None:
    """The facts of ``gemini-2.5-flash`` or ``publishers/google/models/gemini-2.5-flash`` (None when unknown)."""
    return facts.get(model.rsplit("/", 1)[-1])


def preference_availability(facts: ModelInfo | None) -> tuple[bool, str]:
    """(offer the Preference method?, why, in words) for the starting point's base model."""
    if facts is None:
        return True, ("GemTune has no information on whether this model takes preference tuning; the service will "
                      "say if it does not.")
    if facts.preference_tuning is False:
        return False, f"{facts.label} does not take preference tuning."
    if facts.preference_tuning is None:
        return True, (f"Google's documentation does not say whether {facts.label} takes preference tuning; the "
                      f"service will say if it does not.")
    if facts.simulated:
        return True, "The Sandbox simulates preference tuning on every model it offers."
    return True, ""


def continued_availability(facts: ModelInfo | None) -> tuple[bool, str]:
    """(offer tuned models and checkpoints as a starting point?, why) for a tuned model's base model."""
    if facts is None or facts.continued_tuning is None:
        label = facts.label if facts is not None else "this model"
        return True, (f"Google's documentation does not say whether {label} takes continued tuning; the service "
                      f"will say if it does not.")
    if facts.continued_tuning is False:
        return False, f"{facts.label} does not take continued tuning; start from the base model instead."
    return True, ""


def _when(day: _dt.date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def retirement_notice(facts: ModelInfo | None, today: _dt.date, ahead_days: int = RETIREMENT_NOTICE_DAYS,
                      labels: Mapping[str, str] | None = None) -> str | None:
    """A plain-words notice when the base model retires within ``ahead_days`` (or has retired), else None.

    ``labels`` names the replacements in words (``gemini-3.5-flash`` → "Gemini 3.5 Flash") when given.
    """
    if facts is None or facts.retires is None:
        return None
    days = (facts.retires - today).days
    if days > ahead_days:
        return None
    names = [(labels or {}).get(r, r) for r in facts.replacements]
    instead = f" Google recommends {' or '.join(names)} instead." if names else ""
    earliest = "no earlier than " if facts.retires_no_earlier_than else ""
    if days < 0 and not facts.retires_no_earlier_than:
        return (f"{facts.label}, the base model of this tuned model, was retired on {_when(facts.retires)}; the "
                f"tuned model may stop answering.{instead} Move it to a newer base model to keep it.")
    if days < 0:
        return (f"{facts.label}, the base model of this tuned model, may retire at any time now (Google gives "
                f"{_when(facts.retires)} as the earliest date).{instead} Move it to a newer base model to keep it.")
    if days == 0:
        return (f"{facts.label}, the base model of this tuned model, retires {earliest}today.{instead} Move it to a "
                f"newer base model to keep it.")
    on = earliest or "on "
    return (f"{facts.label}, the base model of this tuned model, retires {on}{_when(facts.retires)} (in {days} "
            f"day{'' if days == 1 else 's'}).{instead} Move it to a newer base model before then.")

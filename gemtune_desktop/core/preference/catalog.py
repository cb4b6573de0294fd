"""What ``models.json`` says a base model accepts (preference tuning, continued tuning) and when it retires.

Entries of ``agent_platform.tunable_models`` (and of ``agent_platform.retired_models``, bases that can no longer
be tuned but may still be under a user's tuned models) may carry:

* ``"preference_tuning"``: true, false, or null when no source says (the Tune tab then lets the service decide
  and shows its refusal in plain words);
* ``"continued_tuning"``: the same for continuing from a tuned model or checkpoint;
* ``"retires"``: the retirement date (``YYYY-MM-DD``) from the model-versions page, and ``"replacements"``: the
  model ids that page recommends instead;
* ``"sources"``: where each fact comes from (URL and date), shipped with the facts.

A missing key means "not known", never "no".
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RETIREMENT_NOTICE_DAYS = 90


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """One base model as the catalogue describes it; None means the catalogue does not know."""

    id: str
    label: str
    preference_tuning: bool | None = None
    continued_tuning: bool | None = None
    retires: _dt.date | None = None
    replacements: tuple[str, ...] = ()
    tunable: bool = True


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _date(value: Any) -> _dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return _dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def model_facts(catalog: Mapping[str, Any]) -> dict[str, ModelFacts]:
    """{model id: facts} for every Agent Platform model the catalogue lists (tunable ones and retired bases)."""
    ap = catalog.get("agent_platform", {}) if isinstance(catalog, Mapping) else {}
    out: dict[str, ModelFacts] = {}
    for key, tunable in (("tunable_models", True), ("retired_models", False)):
        items = ap.get(key, []) if isinstance(ap, Mapping) else []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, Mapping) or not item.get("id"):
                continue
            mid = str(item["id"])
            repl = item.get("replacements", [])
            out[mid] = ModelFacts(mid, str(item.get("label") or mid), _flag(item.get("preference_tuning")),
                                  _flag(item.get("continued_tuning")), _date(item.get("retires")),
                                  tuple(str(r) for r in repl) if isinstance(repl, list) else (), tunable)
    return out


def preference_availability(facts: ModelFacts | None) -> tuple[bool, str]:
    """(offer the Preference method?, why, in words) for the starting point's base model."""
    if facts is None:
        return True, ("GemTune has no information on whether this model takes preference tuning; the service will "
                      "say if it does not.")
    if facts.preference_tuning is False:
        return False, f"{facts.label} does not take preference tuning."
    if facts.preference_tuning is None:
        return True, (f"Google's documentation does not say whether {facts.label} takes preference tuning; the "
                      f"service will say if it does not.")
    return True, ""


def retirement_notice(facts: ModelFacts | None, today: _dt.date,
                      ahead_days: int = RETIREMENT_NOTICE_DAYS) -> str | None:
    """A plain-words notice when the base model retires within ``ahead_days`` (or has retired), else None."""
    if facts is None or facts.retires is None:
        return None
    days = (facts.retires - today).days
    if days > ahead_days:
        return None
    when = f"{facts.retires.day} {facts.retires.strftime('%B %Y')}"
    instead = f" Google recommends {' or '.join(facts.replacements)} instead." if facts.replacements else ""
    if days < 0:
        return (f"{facts.label}, the base model of this tuned model, was retired on {when}; the tuned model may stop "
                f"answering.{instead} Move it to a newer base model to keep it.")
    if days == 0:
        return f"{facts.label}, the base model of this tuned model, retires today.{instead} Move it to a newer base " \
               f"model to keep it."
    return (f"{facts.label}, the base model of this tuned model, retires on {when} (in {days} "
            f"day{'' if days == 1 else 's'}).{instead} Move it to a newer base model before then.")

"""What an ended job cost, for the Monitor's details: the service's billable tokens × the price.

The price is the user's own (Tune tab, per base model) or the shipped one with its source and date
(``resources/models.json``); where neither exists the words say "price unknown" instead of guessing.
"""

from __future__ import annotations

import logging
from functools import cache

from gemtune_desktop.core.jobs import JobRecord, JobState
from gemtune_desktop.core.model_catalog import ModelInfo, actual_cost, agent_platform_models, price_info
from gemtune_desktop.qtcore import settings as S
from gemtune_desktop.qtcore.settings import Settings

log = logging.getLogger(__name__)

NO_TOKEN_COUNT = "not known: the service reported no billable token count for this job."
WHERE_TO_ENTER = " (the Tune tab's Price field, with this job's base model chosen)"


@cache
def shipped_models() -> tuple[ModelInfo, ...]:
    """The shipped model list with its sourced prices (read once)."""
    from gemtune_desktop.resources import read_json

    try:
        return tuple(agent_platform_models(read_json("models.json")))
    except (OSError, ValueError):
        log.warning("models.json could not be read; prices are unknown")
        return ()


def cost_words(job: JobRecord, settings: Settings) -> str:
    """The actual cost of ``job`` in words once it has ended ("" while it runs or when it never started)."""
    if not job.state.ended or job.state is JobState.SUBMIT_FAILED:
        return ""
    user_prices: dict[str, float] = settings.read(S.MODEL_PRICES)
    price = price_info(job.base_model, shipped_models(), user_prices)
    cost = actual_cost(True, job.state is JobState.SUCCEEDED, job.data_stats, price)
    if cost is None:
        return NO_TOKEN_COUNT
    words = cost.words
    if not price.known and words.endswith("."):
        words = words[:-1] + WHERE_TO_ENTER + "."
    return words

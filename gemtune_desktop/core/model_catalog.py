"""What the app knows about each tunable model: adapter sizes, thinking levels, serving place and prices,
which tuning methods it takes and when it retires.

Read from ``resources/models.json``, where every fact names its source; this module is its one reader
(:func:`catalog_models`), and :mod:`gemtune_desktop.core.preference.catalog` words its preference and
retirement facts. Prices are only shipped with a source and the date they were read; where none exists the
price is ``null`` and the app asks the user for theirs (:func:`price_info`, :data:`PRICE_UNKNOWN`). Once a
job has ended, its actual cost is the service's billable token count × the price (:func:`actual_cost`).

``preference_tuning`` and ``continued_tuning`` are true, false, or null when no source says (the app then lets
the service decide). ``agent_platform.retired_models`` are bases that can no longer be tuned but may still be
under a user's tuned models. The ``sandbox`` block says what the offline Sandbox simulates
(:func:`models_for_connection`).

Qt-free and SDK-free.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

log = logging.getLogger(__name__)

ADAPTER_WORDS = {1: "ONE", 2: "TWO", 4: "FOUR", 8: "EIGHT", 16: "SIXTEEN", 32: "THIRTY_TWO"}
DEFAULT_ADAPTER_SIZES = (1, 2, 4, 8, 16)
THINKING_ORDER = ("MINIMAL", "LOW", "MEDIUM", "HIGH")  # least to most thinking (GenerationConfig.ThinkingConfig)
PRICE_UNKNOWN = "price unknown — enter your price"


def opt_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A base model that can be tuned, with what the catalogue says about it.

    ``price_per_million`` is USD per 1M training tokens, set only with ``price_source`` and
    ``price_as_of``. ``thinking_levels`` are the levels the model takes, least thinking first.
    """

    id: str
    label: str
    full_tuning: bool = False
    adapter_sizes: tuple[int, ...] = DEFAULT_ADAPTER_SIZES
    price_per_million: float | None = None
    price_source: str = ""
    price_as_of: str = ""
    thinking_levels: tuple[str, ...] = ()
    preference_tuning: bool | None = None
    continued_tuning: bool | None = None
    retires: _dt.date | None = None
    retires_no_earlier_than: bool = False  # the page gives the earliest date, not the date
    replacements: tuple[str, ...] = ()
    tunable: bool = True  # False: a retired base, listed for the tuned models made on it
    sources: tuple[str, ...] = ()  # where the preference, continued-tuning and retirement facts come from
    simulated: bool = False  # the Sandbox's copy: the tuning facts are its own, not Google's

    @property
    def lowest_thinking_level(self) -> str:
        """The least thinking the model allows ("" when it takes no thinking level)."""
        return self.thinking_levels[0] if self.thinking_levels else ""


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _date(value: Any) -> _dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return _dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _sources(value: Any) -> tuple[str, ...]:
    """"URL (as of DATE)" for each fact's source in an entry's ``sources``."""
    out: list[str] = []
    for item in (value.values() if isinstance(value, Mapping) else []):
        if isinstance(item, Mapping) and item.get("url"):
            when = f" (as of {item['as_of']})" if item.get("as_of") else ""
            text = f"{item['url']}{when}"
            if text not in out:
                out.append(text)
    return tuple(out)


def _model(item: Mapping[str, Any], tunable: bool = True) -> ModelInfo:
    sizes = tuple(int(s) for s in item.get("adapter_sizes", DEFAULT_ADAPTER_SIZES) if int(s) in ADAPTER_WORDS)
    raw_price = item.get("training_price")
    price_data: Mapping[str, Any] = raw_price if isinstance(raw_price, Mapping) else {}
    price = opt_float(price_data.get("usd_per_million_tokens"))
    source, as_of = str(price_data.get("source") or ""), str(price_data.get("as_of") or "")
    if price is not None and not (source and as_of):
        log.warning("models.json: the price of %s names no source and date; it is not used", item.get("id"))
        price = None
    raw_thinking = item.get("thinking")
    thinking: Mapping[str, Any] = raw_thinking if isinstance(raw_thinking, Mapping) else {}
    levels = tuple(lv for lv in THINKING_ORDER if lv in [str(x).upper() for x in thinking.get("levels") or []])
    repl = item.get("replacements", [])
    return ModelInfo(str(item["id"]), str(item.get("label") or item["id"]), bool(item.get("full_tuning", False)),
                     sizes or DEFAULT_ADAPTER_SIZES, price, source if price is not None else "",
                     as_of if price is not None else "", levels, _flag(item.get("preference_tuning")),
                     _flag(item.get("continued_tuning")), _date(item.get("retires")),
                     bool(item.get("retires_no_earlier_than", False)),
                     tuple(str(r) for r in repl) if isinstance(repl, list) else (), tunable,
                     _sources(item.get("sources")))


def catalog_models(catalog: Mapping[str, Any]) -> dict[str, ModelInfo]:
    """{id: model} for every Agent Platform model ``models.json`` lists: tunable ones, then retired bases."""
    ap = catalog.get("agent_platform", {}) if isinstance(catalog, Mapping) else {}
    out: dict[str, ModelInfo] = {}
    for key, tunable in (("tunable_models", True), ("retired_models", False)):
        items = ap.get(key, []) if isinstance(ap, Mapping) else []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, Mapping) and item.get("id"):
                try:
                    out.setdefault(str(item["id"]), _model(item, tunable))
                except (TypeError, ValueError):
                    log.warning("models.json: the entry for %s could not be read", item.get("id"))
    return out


def agent_platform_models(catalog: Mapping[str, Any], override: str = "") -> list[ModelInfo]:
    """Tunable Agent Platform models: the shipped catalogue (``models.json``), or the user's comma list.

    Models named in ``override`` that the catalogue knows keep its details; others get defaults.
    """
    every = catalog_models(catalog)
    names = [n.strip() for n in override.split(",") if n.strip()] if override else []
    if not names:
        return [m for m in every.values() if m.tunable]
    return [every.get(n, ModelInfo(n, n)) for n in dict.fromkeys(names)]


def models_for_connection(catalog: Mapping[str, Any], sandbox: bool, override: str = "") -> list[ModelInfo]:
    """The base models the Tune tab offers on a connection.

    On a Google Cloud connection: :func:`agent_platform_models`. On the Sandbox: those plus the ``sandbox``
    block's ``extra_tunable_models`` (retired bases it still simulates, so that a tuned model on a retiring
    base and its rebase can be tried offline), each with the Sandbox's own ``preference_tuning`` and
    ``continued_tuning`` (``simulated`` set); retirement dates stay Google's.
    """
    models = agent_platform_models(catalog, override)
    if not sandbox:
        return models
    block = catalog.get("sandbox", {}) if isinstance(catalog, Mapping) else {}
    block = block if isinstance(block, Mapping) else {}
    every = catalog_models(catalog)
    extra = [every.get(str(n), ModelInfo(str(n), str(n))) for n in block.get("extra_tunable_models") or []]
    seen = {m.id for m in models}
    models += [m for m in extra if m.id not in seen]
    return [replace(m, preference_tuning=_flag(block.get("preference_tuning")),
                    continued_tuning=_flag(block.get("continued_tuning")), tunable=True, simulated=True)
            for m in models]


def find_model(model: str, catalog_models: Sequence[ModelInfo]) -> ModelInfo | None:
    """The catalogue entry for ``model`` (``gemini-3.5-flash`` or ``publishers/google/models/gemini-3.5-flash``)."""
    short = model.rsplit("/", 1)[-1]
    return next((m for m in catalog_models if m.id == short), None)


def connection_models(catalog: Mapping[str, Any], sandbox: bool) -> dict[str, ModelInfo]:
    """{id: model} of every model a connection may meet under its jobs: the catalogue's (retired bases
    included), with the Sandbox's own facts for the models it offers (:func:`models_for_connection`)."""
    every = catalog_models(catalog)
    return {**every, **{m.id: m for m in models_for_connection(catalog, sandbox)}}


# -- prices ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PriceInfo:
    """USD per 1M training tokens for one model, and where the figure comes from."""

    usd_per_million: float | None
    source: str = ""  # a URL, or "your price"
    as_of: str = ""
    from_user: bool = False

    @property
    def known(self) -> bool:
        return self.usd_per_million is not None

    @property
    def words(self) -> str:
        """``"your price"``, ``"Google's price (source, as of date)"`` or :data:`PRICE_UNKNOWN`."""
        if self.usd_per_million is None:
            return PRICE_UNKNOWN
        if self.from_user:
            return "your price"
        return f"Google's price ({self.source}, as of {self.as_of})"


def price_info(model: str, catalog_models: Sequence[ModelInfo], user_prices: Mapping[str, Any]) -> PriceInfo:
    """The price to use for ``model``: the user's price if they entered one, else the shipped sourced one."""
    short = model.rsplit("/", 1)[-1]
    for key in (model, short):
        if key in user_prices:
            value = opt_float(user_prices[key])
            if value is not None and value >= 0:
                return PriceInfo(value, "your price", "", from_user=True)
    info = find_model(model, catalog_models)
    if info is not None and info.price_per_million is not None:
        return PriceInfo(info.price_per_million, info.price_source, info.price_as_of)
    return PriceInfo(None)


def model_price(model: str, catalog_models: Sequence[ModelInfo], user_prices: Mapping[str, Any]) -> float | None:
    """USD per 1M training tokens: the user's price if set, else the shipped (sourced) one, else None."""
    return price_info(model, catalog_models, user_prices).usd_per_million


@dataclass(frozen=True, slots=True)
class ActualCost:
    """What a finished job cost: the service's billable tokens × the price."""

    billable_tokens: int
    price: PriceInfo
    finished: bool  # the job succeeded (for a failed or cancelled job Google's billing is not documented)

    @property
    def usd(self) -> float | None:
        if self.price.usd_per_million is None:
            return None
        return self.billable_tokens / 1_000_000 * self.price.usd_per_million

    @property
    def words(self) -> str:
        tokens = f"{self.billable_tokens:,} billable tokens, as the service counted them"
        if self.usd is None:
            return f"{tokens}; {PRICE_UNKNOWN} to see the cost."
        text = f"${self.usd:,.2f}: {tokens}, × ${self.price.usd_per_million:g} per 1M ({self.price.words})."
        if not self.finished:
            text += (" The job did not finish; how Google bills a stopped job is not documented, so this is an "
                     "upper bound.")
        return text


def actual_cost(state_ended: bool, succeeded: bool, data_stats: Mapping[str, Any],
                price: PriceInfo) -> ActualCost | None:
    """The actual cost of a job that has ended (None while it runs, or when the service reported no token count).

    ``data_stats`` is the job record's copy of ``tuningDataStats.supervisedTuningDataStats`` (snake_case keys).
    """
    if not state_ended:
        return None
    raw = data_stats.get("total_billable_token_count", data_stats.get("totalBillableTokenCount"))
    try:
        tokens = int(raw)
    except (TypeError, ValueError):
        return None
    return ActualCost(tokens, price, succeeded)


# -- where tuned models are served ------------------------------------------------------------------
def serving_location(region: str) -> str:
    """The multi-region that serves tuned models for a connection's region: ``us`` for ``us-*``, ``eu`` for
    ``europe-*``; "" when Google names none (tuned models are served only on ``us`` and ``eu`` since May
    2026, per the supervised-tuning page; reference §1.2 and corrections §7)."""
    region = region.strip().lower()
    if region in ("us", "eu"):
        return region
    if region.startswith("us-"):
        return "us"
    if region.startswith("europe-"):
        return "eu"
    return ""


def serving_host(location: str) -> str:
    """The host of a multi-region endpoint (``aiplatform.us.rep.googleapis.com``), "" for other locations."""
    return f"aiplatform.{location}.rep.googleapis.com" if location in ("us", "eu") else ""

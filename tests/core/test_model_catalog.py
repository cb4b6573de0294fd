"""The model catalogue: sourced facts only, the user's price, the actual cost of a finished job, serving hosts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gemtune_desktop.core.model_catalog import (
    PRICE_UNKNOWN,
    actual_cost,
    agent_platform_models,
    price_info,
    serving_host,
    serving_location,
)
from gemtune_desktop.resources import read_json

MODELS_JSON = Path(__file__).resolve().parents[2] / "resources" / "models.json"


def test_every_shipped_price_and_thinking_level_names_its_source_and_date() -> None:
    catalog = json.loads(MODELS_JSON.read_text(encoding="utf-8"))
    for item in catalog["agent_platform"]["tunable_models"]:
        price = item["training_price"]
        assert price["usd_per_million_tokens"] is None or (price["source"] and price["as_of"]), item["id"]
        assert item["thinking"]["source"].startswith("https://") and item["thinking"]["as_of"], item["id"]
    assert "price_per_million_training_tokens" not in MODELS_JSON.read_text(encoding="utf-8")  # the old unsourced key


def test_a_price_without_source_is_not_used() -> None:
    catalog = {"agent_platform": {"tunable_models": [
        {"id": "a", "training_price": {"usd_per_million_tokens": 3.0}},
        {"id": "b", "training_price": {"usd_per_million_tokens": 2.0, "source": "https://example.com/p",
                                       "as_of": "2026-12-01"}}]}}
    a, b = agent_platform_models(catalog)
    assert a.price_per_million is None
    assert b.price_per_million == 2.0
    info = price_info("b", [a, b], {})
    assert info.words == "Google's price (https://example.com/p, as of 2026-12-01)"
    assert price_info("a", [a, b], {}).words == PRICE_UNKNOWN
    mine = price_info("publishers/google/models/a", [a, b], {"a": 1.25})
    assert (mine.usd_per_million, mine.words) == (1.25, "your price")


def test_actual_cost_is_the_services_billable_tokens_times_the_price() -> None:
    stats = {"total_billable_token_count": 2_500_000, "tuning_step_count": 30}
    priced = price_info("m", [], {"m": 4.0})
    cost = actual_cost(True, True, stats, priced)
    assert cost is not None and cost.usd == pytest.approx(10.0)
    assert cost.words == "$10.00: 2,500,000 billable tokens, as the service counted them, × $4 per 1M (your price)."
    unknown = actual_cost(True, True, stats, price_info("m", [], {}))
    assert unknown is not None and unknown.usd is None and unknown.words.endswith(f"{PRICE_UNKNOWN} to see the cost.")
    stopped = actual_cost(True, False, stats, priced)
    assert stopped is not None and "upper bound" in stopped.words
    assert actual_cost(False, False, stats, priced) is None  # not while the job runs
    assert actual_cost(True, True, {}, priced) is None  # the service reported no count


def test_lowest_thinking_level_per_base_model() -> None:
    models = {m.id: m for m in agent_platform_models(read_json("models.json"))}
    assert models["gemini-3.5-flash"].lowest_thinking_level == "MINIMAL"
    assert models["gemini-3.5-flash"].thinking_levels == ("MINIMAL", "LOW", "MEDIUM", "HIGH")


@pytest.mark.parametrize(("region", "location", "host"), [
    ("us-central1", "us", "aiplatform.us.rep.googleapis.com"),
    ("us-east5", "us", "aiplatform.us.rep.googleapis.com"),
    ("europe-west4", "eu", "aiplatform.eu.rep.googleapis.com"),
    ("eu", "eu", "aiplatform.eu.rep.googleapis.com"),
    ("asia-northeast1", "", ""),
])
def test_serving_host_comes_from_the_region(region: str, location: str, host: str) -> None:
    assert serving_location(region) == location
    assert serving_host(location) == host

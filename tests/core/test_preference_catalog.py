"""What models.json says about preference tuning, continued tuning and retirement, read by one reader, and the
Sandbox's own models: every fact carries its source, and the Sandbox offers what it simulates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from gemtune_desktop.core import model_catalog as mc
from gemtune_desktop.core.preference import catalog
from gemtune_desktop.sandbox import catalog as sandbox_catalog

SHIPPED: dict[str, Any] = json.loads((Path(__file__).resolve().parents[2] / "resources" / "models.json")
                                     .read_text("utf-8"))
FACT_KEYS = ("preference_tuning", "continued_tuning", "retires")


def entries() -> list[dict[str, Any]]:
    ap = SHIPPED["agent_platform"]
    return [*ap["tunable_models"], *ap["retired_models"]]


def test_every_preference_continued_and_retirement_fact_names_its_source_and_date() -> None:
    for item in entries():
        for key in FACT_KEYS:
            assert key in item, (item["id"], key)
            source = item["sources"][key]
            assert source["url"].startswith("https://docs.cloud.google.com/") and source["as_of"], (item["id"], key)
            if item[key] is None:
                assert "UNCERTAIN" in source["says"], (item["id"], key)


def test_what_google_documents() -> None:
    facts = catalog.model_facts(SHIPPED)
    # Only Gemini 2.5 Flash and 2.5 Flash-Lite are documented for preference tuning; both retired on 2026-10-20.
    assert {m for m, f in facts.items() if f.preference_tuning} == {"gemini-2.5-flash", "gemini-2.5-flash-lite"}
    for mid in ("gemini-2.5-flash", "gemini-2.5-flash-lite"):
        assert facts[mid].retires == dt.date(2026, 10, 20) and not facts[mid].tunable
        assert not facts[mid].retires_no_earlier_than
    for mid, day in (("gemini-3.5-flash", dt.date(2027, 5, 19)), ("gemini-3.5-flash-lite", dt.date(2027, 7, 21)),
                     ("gemini-3.1-flash-lite", dt.date(2027, 5, 7))):
        assert facts[mid].preference_tuning is None, "not documented: the service decides"
        assert facts[mid].retires == day and facts[mid].retires_no_earlier_than and facts[mid].tunable
    assert facts["gemini-2.5-pro"].preference_tuning is False
    for f in facts.values():
        assert set(f.replacements) <= set(facts), f.id
        assert f.sources, f.id


def test_one_reader_for_the_tune_tab_and_the_preference_facts() -> None:
    every = mc.catalog_models(SHIPPED)
    assert catalog.model_facts(SHIPPED) == every
    tunable = mc.agent_platform_models(SHIPPED)
    assert [m.id for m in tunable] == ["gemini-3.5-flash", "gemini-3.5-flash-lite", "gemini-3.1-flash-lite"]
    assert all(m == every[m.id] for m in tunable), "the Tune tab's list carries the same facts"
    assert catalog.facts_for("publishers/google/models/gemini-2.5-flash", every) is every["gemini-2.5-flash"]
    assert catalog.ModelFacts is mc.ModelInfo


def test_the_sandbox_offers_what_it_simulates() -> None:
    cloud = mc.models_for_connection(SHIPPED, sandbox=False)
    offline = mc.models_for_connection(SHIPPED, sandbox=True)
    assert [m.id for m in cloud] == ["gemini-3.5-flash", "gemini-3.5-flash-lite", "gemini-3.1-flash-lite"]
    assert [m.id for m in offline] == [*(m.id for m in cloud), "gemini-2.5-flash", "gemini-2.5-flash-lite"]
    assert all(m.preference_tuning is True and m.continued_tuning is True and m.simulated for m in offline)
    assert all(m.tunable for m in offline)
    assert offline[3].retires == dt.date(2026, 10, 20), "retirement dates stay Google's"
    offered, why = catalog.preference_availability(offline[0])
    assert offered and "Sandbox simulates" in why
    # The Sandbox tunes every model the app offers on it, and rebases onto the first replacement models.json lists.
    assert {m.id for m in offline} <= set(sandbox_catalog.AP_TUNABLE)
    every = mc.catalog_models(SHIPPED)
    for old, new in sandbox_catalog.NEWER_BASE.items():
        if every[old].replacements:
            assert new == every[old].replacements[0], old


@pytest.mark.parametrize(("today", "words"), [
    (dt.date(2027, 1, 1), None),
    (dt.date(2027, 3, 1), "retires no earlier than 19 May 2027 (in 79 days)"),
    (dt.date(2027, 6, 1), "may retire at any time now (Google gives 19 May 2027 as the earliest date)"),
])
def test_a_date_google_gives_as_the_earliest_is_said_so(today: dt.date, words: str | None) -> None:
    facts = catalog.model_facts(SHIPPED)["gemini-3.5-flash"]
    notice = catalog.retirement_notice(facts, today)
    assert (notice is None) if words is None else (notice is not None and words in notice)


def test_the_retirement_notice_names_the_replacements_in_words() -> None:
    every = mc.catalog_models(SHIPPED)
    labels = {m.id: m.label for m in every.values()}
    notice = catalog.retirement_notice(every["gemini-2.5-flash"], dt.date(2026, 12, 5), labels=labels)
    assert notice is not None and "was retired on 20 October 2026" in notice
    assert "Google recommends Gemini 3.5 Flash or Gemini 3.5 Flash-Lite or Gemini 3.1 Flash-Lite instead" in notice


def test_continued_tuning_availability() -> None:
    every = mc.catalog_models(SHIPPED)
    assert catalog.continued_availability(every["gemini-3.5-flash"]) == (True, "")
    offered, why = catalog.continued_availability(every["gemini-3.5-flash-lite"])
    assert offered and "does not say whether Gemini 3.5 Flash-Lite takes continued tuning" in why
    refused = mc.ModelInfo("x", "Model X", continued_tuning=False)
    assert catalog.continued_availability(refused) == (False, "Model X does not take continued tuning; start from "
                                                              "the base model instead.")

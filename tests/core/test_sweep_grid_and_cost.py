"""Sweep grids (axes, values, combinations, best point) and call/cost estimates."""

from __future__ import annotations

import pytest

from gemtune_desktop.core import sweep_grid as sg
from gemtune_desktop.core.eval_cost import BATCH_DISCOUNT, Prices, estimate_calls
from gemtune_desktop.core.generation import GenerationSettings, HarmCategory, SafetySettings, Threshold
from gemtune_desktop.core.tokens import estimate_tokens


def test_example_grid_temperature_by_top_p_has_six_points_in_order() -> None:
    grid = sg.Grid.of(sg.EXAMPLE_GRIDS["Temperature × top-p"])
    points = grid.points()
    assert grid.size == 6 and len(points) == 6
    assert points[0] == {"temperature": 0.0, "top_p": 0.8} and points[1] == {"temperature": 0.0, "top_p": 0.95}
    assert sg.point_label(points[3]) == "temperature 0.5 · top-p 0.95"


def test_apply_puts_the_point_into_the_settings_and_keeps_the_rest() -> None:
    base = GenerationSettings(temperature=1.0, top_p=0.9, max_output_tokens=300, stop_sequences=["END"])
    safety = SafetySettings({HarmCategory.HARASSMENT: Threshold.BLOCK_NONE})
    gen, safe = sg.apply({"temperature": 0.5, "top_k": 7}, base, safety)
    assert (gen.temperature, gen.top_p, gen.top_k, gen.max_output_tokens, gen.stop_sequences) == (0.5, 0.9, 7, 300,
                                                                                                  ["END"])
    assert safe.get(HarmCategory.HARASSMENT) is Threshold.BLOCK_NONE
    _, safe = sg.apply({sg.ALL_CATEGORIES: "BLOCK_ONLY_HIGH"}, base, safety)
    assert all(safe.get(c) is Threshold.BLOCK_ONLY_HIGH for c in HarmCategory)
    _, safe = sg.apply({"safety:HARM_CATEGORY_HATE_SPEECH": "BLOCK_LOW_AND_ABOVE"}, base, SafetySettings())
    assert safe.to_dict() == {"HARM_CATEGORY_HATE_SPEECH": "BLOCK_LOW_AND_ABOVE"}
    assert base.temperature == 1.0 and safety.get(HarmCategory.HATE_SPEECH) is Threshold.DEFAULT, "inputs unchanged"


def test_values_typed_by_the_user() -> None:
    assert sg.parse_values("temperature", "0, 0.5; 1") == [0.0, 0.5, 1.0]
    assert sg.parse_values("top_k", "1 20 40") == [1, 20, 40]
    assert sg.parse_values(sg.ALL_CATEGORIES, "block_none, BLOCK_ONLY_HIGH") == ["BLOCK_NONE", "BLOCK_ONLY_HIGH"]


@pytest.mark.parametrize(("axis", "text", "words"), [
    ("temperature", "0, abc", "“abc” is not a number"),
    ("temperature", "0, 2.5", "Temperature 2.5 is out of range"),
    ("top_p", "0.5, 0.5", "same value twice"),
    ("top_k", "1.5", "must be a whole number"),
    ("temperature", "", "No values for temperature"),
    ("temperature", ", ".join(str(i / 10) for i in range(11)), "at most 10"),
    ("safety:all", "BLOCK_SOME", "not a blocking threshold"),
    ("presence_penalty", "0", "not a setting a sweep can vary"),
    ("safety:HARM_CATEGORY_NONSENSE", "OFF", "not a setting a sweep can vary"),
])
def test_bad_values_get_a_plain_message(axis: str, text: str, words: str) -> None:
    with pytest.raises(sg.SweepError) as info:
        sg.parse_values(axis, text)
    assert words in info.value.message


def test_grid_limits() -> None:
    with pytest.raises(sg.SweepError, match="no setting to vary"):
        sg.Grid.of({})
    with pytest.raises(sg.SweepError, match="at most 3 can be combined"):
        sg.Grid.of({"temperature": [0], "top_p": [1], "top_k": [1], "max_output_tokens": [10]})
    with pytest.raises(sg.SweepError, match="60 combinations"):
        sg.Grid.of({"temperature": [0, 0.2, 0.4, 0.6, 0.8, 1.0], "top_k": list(range(1, 11))})
    with pytest.raises(sg.SweepError, match="both varied"):
        sg.Grid.of({sg.ALL_CATEGORIES: ["OFF"], "safety:HARM_CATEGORY_HARASSMENT": ["OFF"]})


def test_best_point_by_direction() -> None:
    assert sg.best_point([0.2, None, 0.9, 0.9], "token_f1") == 2
    assert sg.best_point([3.0, 1.0, 2.0], "blocked_answers") == 1
    assert sg.best_point([None, None], "bleu") is None
    assert sg.best_point([10.0, 30.0], "mean_length_words", higher_is_better=True) == 1
    with pytest.raises(sg.SweepError, match="shorter or longer"):
        sg.best_point([1.0], "mean_length_words")


def test_estimate_counts_calls_tokens_and_cost_only_with_prices() -> None:
    rows = [("What is clause 4 about?", "Subletting."), ("Is a deposit required?", "Yes, two months' rent.")]
    est = estimate_calls(rows, repeats=6, preamble="Answer as a paralegal:")
    assert est.calls == 12
    per_round = sum(estimate_tokens(p) + estimate_tokens("Answer as a paralegal:") for p, _ in rows)
    assert est.input_tokens == 6 * per_round
    assert est.output_tokens == 6 * sum(estimate_tokens(e) for _, e in rows)
    assert est.cost is None and "No price is known" in est.words()
    priced = estimate_calls(rows, repeats=6, prices=Prices(2.0, 10.0))
    assert priced.cost == pytest.approx((priced.input_tokens * 2.0 + priced.output_tokens * 10.0) / 1e6)
    assert priced.batch_cost == pytest.approx(priced.cost * BATCH_DISCOUNT)
    assert "batch engine (half price)" in priced.words()

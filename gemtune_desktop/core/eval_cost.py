"""Calls, tokens and cost of an evaluation, estimated before it starts (and for each sweep point after).

GemTune ships no price for generating answers: none could be confirmed for the 3.x models in any
stored source (see the team's reference notes on prices), so a cost appears only when the user
enters prices per million input and output tokens. The batch engine costs half the online price
for Gemini models: "Batch requests for Gemini models are discounted 50% from standard requests"
(https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-gemini) and
the Gemini API's Batch API runs "at 50% of the standard cost"
(https://ai.google.dev/gemini-api/docs/batch-api). Tokens are estimated from the text
(:mod:`gemtune_desktop.core.tokens`, about four characters a token for Latin text); answers are
assumed to be as long as the expected outputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gemtune_desktop.core.tokens import estimate_tokens

BATCH_DISCOUNT = 0.5
NO_PRICE_NOTE = ("No price is known for this model: GemTune ships none it could confirm. Enter your price per "
                 "million input and output tokens to see a cost.")


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million tokens, as the user entered them (None: not known)."""

    input_per_million: float | None = None
    output_per_million: float | None = None

    @property
    def known(self) -> bool:
        return self.input_per_million is not None and self.output_per_million is not None


def cost_of(input_tokens: int, output_tokens: int, prices: Prices) -> float | None:
    if not prices.known:
        return None
    assert prices.input_per_million is not None and prices.output_per_million is not None
    return (input_tokens * prices.input_per_million + output_tokens * prices.output_per_million) / 1_000_000


@dataclass(slots=True)
class CallEstimate:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None
    batch_cost: float | None = None
    notes: list[str] = field(default_factory=list)

    def words(self) -> str:
        text = (f"{self.calls:,} calls, about {self.input_tokens:,} input and {self.output_tokens:,} output tokens "
                "(estimated from the text)")
        if self.cost is None:
            return f"{text}. {NO_PRICE_NOTE}"
        return (f"{text}: about ${self.cost:,.2f} online, ${self.batch_cost or 0:,.2f} on the batch engine "
                "(half price).")

    def to_dict(self) -> dict[str, object]:
        return {"calls": self.calls, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cost": self.cost, "batch_cost": self.batch_cost, "notes": list(self.notes)}


def prompt_tokens(prompt: str, preamble: str = "", system_instruction: str = "") -> int:
    """Estimated input tokens of one call (the preamble is sent before the prompt, as in training)."""
    return estimate_tokens(prompt) + estimate_tokens(preamble) + estimate_tokens(system_instruction)


def estimate_calls(rows: Iterable[tuple[str, str]], repeats: int = 1, prices: Prices | None = None,
                   preamble: str = "", system_instruction: str = "") -> CallEstimate:
    """Calls, tokens and cost of sending every (prompt, expected output) row ``repeats`` times
    (once per model, or once per sweep point)."""
    prices = prices or Prices()
    est = CallEstimate()
    for prompt, expected in rows:
        est.calls += 1
        est.input_tokens += prompt_tokens(prompt, preamble, system_instruction)
        est.output_tokens += estimate_tokens(expected)
    est.calls *= repeats
    est.input_tokens *= repeats
    est.output_tokens *= repeats
    est.cost = cost_of(est.input_tokens, est.output_tokens, prices)
    est.batch_cost = None if est.cost is None else est.cost * BATCH_DISCOUNT
    est.notes.append("Answers are assumed to be as long as the expected outputs.")
    if est.cost is None:
        est.notes.append(NO_PRICE_NOTE)
    return est

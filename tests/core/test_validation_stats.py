"""Dataset statistics for the stats panel: counts against the recommended range, lengths, token estimate."""

from __future__ import annotations

from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.stats import compute_stats


def test_counts_lengths_and_tokens_include_the_preamble() -> None:
    examples = [Example("abcd" * 10, "東京" * 5), Example("hi", "there", Split.VALIDATION),
                Example("x", "y", Split.TEST)]
    stats = compute_stats(examples, DatasetSettings(preamble="abcdefgh"), Target.GEMINI_API)
    assert (stats.count, stats.train, stats.validation, stats.test) == (3, 1, 1, 1)
    assert stats.input_lengths.tolist() == [40, 2, 1]
    assert stats.output_lengths.tolist() == [10, 5, 1]
    assert stats.input_tokens == 10 + 1 + 1 + 3 * 2  # the preamble (2 tokens) goes with every input
    assert stats.output_tokens == 10 + 2 + 1
    assert stats.total_tokens == stats.input_tokens + stats.output_tokens
    assert (stats.minimum, stats.recommended_min, stats.recommended_max) == (20, 100, 500)
    assert stats.verdict.startswith("Too few to tune")


def test_verdict_per_target_and_skipping_tokens() -> None:
    many = [Example(f"q{i}", "a") for i in range(600)]
    gemini = compute_stats(many, DatasetSettings(), Target.GEMINI_API, tokens=False)
    assert gemini.verdict.startswith("More than the recommended") and gemini.input_tokens == 0
    agent = compute_stats(many, DatasetSettings(), Target.AGENT_PLATFORM)
    assert agent.verdict == "Within the recommended range." and agent.minimum is None
    assert agent.recommended_max is None
    assert compute_stats(many[:50], DatasetSettings(), "agent-platform").verdict.startswith("Fewer than")

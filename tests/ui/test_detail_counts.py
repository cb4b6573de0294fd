"""Counts read as a person would write them, in the window and on the command line."""

from __future__ import annotations

from gemtune_desktop.core.examples import Target
from gemtune_desktop.core.words import plural
from gemtune_desktop.ui.dataset.detail_editor import count_text


def test_one_is_singular_and_thousands_are_separated() -> None:
    assert [plural(n, "row") for n in (0, 1, 2, 1000)] == ["0 rows", "1 row", "2 rows", "1,000 rows"]


def test_the_line_under_a_one_character_answer_says_character_and_token() -> None:
    line, over = count_text("2", "1", "output", Target.AGENT_PLATFORM)
    assert line.startswith("1 character · about 1 token (example about 2 of 131,072 tokens allowed)") and not over
    line, _over = count_text("7", "", "input", Target.GEMINI_API)
    assert line.endswith("characters allowed · about 1 token")

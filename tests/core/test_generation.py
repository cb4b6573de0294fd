"""Generation and safety settings: defaults, presets, round trips, and the SDK config they produce."""

from __future__ import annotations

from gemtune_desktop.core.generation import (
    DEFAULT_GENERATION,
    PRESETS,
    GenerationSettings,
    HarmCategory,
    SafetySettings,
    ThinkingLevel,
    Threshold,
    apply_preset,
    build_config,
    category_label,
    matching_preset,
    model_supports_thinking,
)


def test_defaults_are_balanced_and_round_trip() -> None:
    assert matching_preset(DEFAULT_GENERATION) == "Balanced"
    s = GenerationSettings(temperature=0.3, top_k=5, stop_sequences=["END"], seed=7,
                           thinking_level=ThinkingLevel.MINIMAL)
    assert GenerationSettings.from_dict(s.to_dict()) == s
    assert GenerationSettings.from_dict({}) == GenerationSettings()


def test_presets_change_sampling_only() -> None:
    s = GenerationSettings(max_output_tokens=99, stop_sequences=["###"], seed=3)
    precise = apply_preset(s, "Precise")
    assert precise.temperature == PRESETS["Precise"]["temperature"]
    assert (precise.max_output_tokens, precise.stop_sequences, precise.seed) == (99, ["###"], 3)
    assert matching_preset(precise) == "Precise"
    assert matching_preset(apply_preset(s, "Creative")) == "Creative"
    assert matching_preset(GenerationSettings(temperature=0.55)) == ""


def test_config_dict_has_sdk_field_names() -> None:
    s = GenerationSettings(temperature=0.2, top_p=0.5, top_k=3, max_output_tokens=64, candidate_count=2,
                           stop_sequences=["END", ""], seed=11, thinking_level=ThinkingLevel.LOW)
    cfg = s.to_config()
    assert cfg == {"temperature": 0.2, "top_p": 0.5, "top_k": 3, "max_output_tokens": 64, "candidate_count": 2,
                   "stop_sequences": ["END"], "seed": 11, "thinking_config": {"thinking_level": "LOW"}}
    assert "thinking_config" not in s.to_config(supports_thinking=False)
    assert "seed" not in GenerationSettings().to_config()
    # The dict is accepted by the real SDK type.
    from google.genai import types

    parsed = types.GenerateContentConfig(**build_config(s, SafetySettings(), "Be brief."))
    assert parsed.top_k == 3 and parsed.thinking_config.thinking_level == types.ThinkingLevel.LOW


def test_safety_settings_send_only_chosen_categories() -> None:
    safety = SafetySettings()
    safety.set(HarmCategory.HARASSMENT, Threshold.BLOCK_LOW_AND_ABOVE)
    safety.set(HarmCategory.CIVIC_INTEGRITY, Threshold.OFF)
    safety.set(HarmCategory.HATE_SPEECH, Threshold.DEFAULT)
    assert safety.to_config() == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_LOW_AND_ABOVE"},
        {"category": "HARM_CATEGORY_CIVIC_INTEGRITY", "threshold": "OFF"},
    ]
    assert SafetySettings.from_dict(safety.to_dict()) == safety
    assert SafetySettings.from_dict({"bogus": "OFF", "HARM_CATEGORY_HATE_SPEECH": "nope"}).to_config() == []
    cfg = build_config(GenerationSettings(), safety, "")
    assert "system_instruction" not in cfg and len(cfg["safety_settings"]) == 2


def test_plain_labels_and_thinking_support() -> None:
    assert category_label("HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT") == "Dangerous content"
    assert Threshold.BLOCK_ONLY_HIGH.label == "Block only high"
    assert model_supports_thinking("gemini-3.5-flash")
    assert model_supports_thinking("publishers/google/models/gemini-3.1-flash-lite")
    assert not model_supports_thinking("gemini-2.0-flash")
    assert not model_supports_thinking("projects/p/locations/us/endpoints/123")

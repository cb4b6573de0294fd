"""The base models the Sandbox offers, in the shapes each API lists them.

Agent Platform (``publishers/google/models``): the tunable ``gemini-3.5-flash``,
``gemini-3.5-flash-lite`` and ``gemini-3.1-flash-lite`` (reference §1.2), plus
``gemini-3.8-flash``, which serves but cannot be tuned. ``gemini-2.5-flash`` and ``gemini-2.5-flash-lite``,
the two models Google documents for preference tuning, were retired on 2026-10-20 (model-versions page);
the Sandbox still tunes them so that a tuned model on a retired base, and moving it to a newer one
(``tuningJobs:rebaseTunedModel``, :data:`NEWER_BASE`), can be tried offline. Every tunable Sandbox model
takes supervised and preference tuning. Gemini API (``models``): a few base models plus
``models/sandbox-flash-001-tuning``, the one model that lists ``createTunedModel``.
"""

from __future__ import annotations

from typing import Any

PROJECT = "sandbox-project"  # what the app's Sandbox connection uses; any project ID is accepted
TUNING_REGIONS = ("us-central1", "europe-west4")
SERVING_LOCATION = {"us-central1": "us", "europe-west4": "eu"}
ALL_LOCATIONS = (*TUNING_REGIONS, "us", "eu", "global")

AP_MODELS: dict[str, dict[str, Any]] = {
    "gemini-3.5-flash": {"displayName": "Gemini 3.5 Flash", "tunable": True},
    "gemini-3.5-flash-lite": {"displayName": "Gemini 3.5 Flash-Lite", "tunable": True},
    "gemini-3.1-flash-lite": {"displayName": "Gemini 3.1 Flash-Lite", "tunable": True},
    "gemini-3.8-flash": {"displayName": "Gemini 3.8 Flash", "tunable": False},
    "gemini-2.5-flash": {"displayName": "Gemini 2.5 Flash", "tunable": True},
    "gemini-2.5-flash-lite": {"displayName": "Gemini 2.5 Flash-Lite", "tunable": True},
}
AP_TUNABLE = tuple(k for k, v in AP_MODELS.items() if v["tunable"])
# The base a rebase moves a tuned model to when the request names none: the replacement the model-versions
# page lists for the retired 2.5 models, and the newer Flash-Lite for 3.1 Flash-Lite.
NEWER_BASE = {"gemini-2.5-flash": "gemini-3.5-flash", "gemini-2.5-flash-lite": "gemini-3.5-flash-lite",
              "gemini-3.1-flash-lite": "gemini-3.5-flash-lite"}
AP_ADAPTER_SIZES = ("ADAPTER_SIZE_ONE", "ADAPTER_SIZE_TWO", "ADAPTER_SIZE_FOUR", "ADAPTER_SIZE_EIGHT",
                    "ADAPTER_SIZE_SIXTEEN")
AP_DEFAULT_ADAPTER = "ADAPTER_SIZE_FOUR"

GEMINI_MODELS: dict[str, dict[str, Any]] = {
    "models/gemini-3.5-flash": {
        "displayName": "Gemini 3.5 Flash", "methods": ["generateContent", "streamGenerateContent", "countTokens"]},
    "models/gemini-3.5-flash-lite": {
        "displayName": "Gemini 3.5 Flash-Lite",
        "methods": ["generateContent", "streamGenerateContent", "countTokens"]},
    "models/sandbox-flash-001-tuning": {
        "displayName": "Sandbox Flash 001 (tunable)",
        "methods": ["generateContent", "countTokens", "createTunedModel"]},
}
GEMINI_TUNABLE = tuple(k for k, v in GEMINI_MODELS.items() if "createTunedModel" in v["methods"])


def publisher_model(model_id: str) -> dict[str, Any]:
    """A ``PublisherModel`` (it has no display name or description in the published schema)."""
    return {
        "name": f"publishers/google/models/{model_id}",
        "versionId": "001",
        "openSourceCategory": "PROPRIETARY",
        "launchStage": "GA",
        "publisherModelTemplate": f"projects/{{project}}/locations/{{location}}/publishers/google/models/{model_id}",
    }


def gemini_model(name: str) -> dict[str, Any]:
    info = GEMINI_MODELS[name]
    return {
        "name": name,
        "baseModelId": name.split("/", 1)[1],
        "version": "001",
        "displayName": info["displayName"],
        "description": f"{info['displayName']} (Sandbox simulation).",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": list(info["methods"]),
        "temperature": 1.0,
        "maxTemperature": 2.0,
        "topP": 0.95,
        "topK": 64,
    }


def paginate(items: list[Any], page_size: Any, page_token: str | None, default_size: int = 50) -> \
        tuple[list[Any], str]:
    """One page and the next page token ("" at the end); tokens are opaque offsets."""
    from gemtune_desktop.sandbox.apierror import bad_request

    try:
        size = int(page_size) if page_size not in (None, "") else default_size
        start = int(page_token) if page_token else 0
    except ValueError:
        raise bad_request("Invalid page size or page token.") from None
    if size <= 0:
        size = default_size
    size = min(size, 1000)
    page = items[start:start + size]
    nxt = str(start + size) if start + size < len(items) else ""
    return page, nxt

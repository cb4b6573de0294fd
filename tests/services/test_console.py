"""The console service against the Sandbox over real HTTP: settings reach the request, outcomes in plain words."""

from __future__ import annotations

from typing import Any

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.generation import GenerationSettings, HarmCategory, SafetySettings, ThinkingLevel, Threshold
from gemtune_desktop.services.connections import Backend
from gemtune_desktop.services.console import (
    ConsoleRequest,
    ConsoleResult,
    client_for,
    generate,
    list_base_models,
    stream,
    tuned_thinking_level,
)

MODEL = "gemini-3.5-flash"


def _field(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, dict) else getattr(record, name, None)


def generate_bodies(sandbox: Any) -> list[dict[str, Any]]:
    """JSON bodies of the generateContent / streamGenerateContent requests the Sandbox received."""
    out = []
    for r in list(sandbox.requests):
        if "enerateContent" in str(_field(r, "path")):
            body = _field(r, "json") if _field(r, "json") is not None else _field(r, "body")
            out.append(body or {})
    return out


@pytest.fixture(params=[Backend.AGENT_PLATFORM, Backend.GEMINI_API], ids=["agent-platform", "gemini-api"])
def session(request: pytest.FixtureRequest, sandbox_session: Any) -> Any:
    return sandbox_session(request.param)


def test_settings_and_dataset_texts_reach_the_request(sandbox: Any, session: Any) -> None:
    safety = SafetySettings()
    safety.set(HarmCategory.HATE_SPEECH, Threshold.BLOCK_ONLY_HIGH)
    req = ConsoleRequest(model=MODEL, prompt="What is the notice period?",
                         generation=GenerationSettings(temperature=0.3, top_p=0.7, top_k=7, max_output_tokens=300,
                                                       stop_sequences=["###"], seed=42, candidate_count=2),
                         safety=safety, preamble="Answer as a paralegal:", system_instruction="Be brief.")
    result = generate(None, session, req)
    body = generate_bodies(sandbox)[-1]
    cfg = body["generationConfig"]
    assert (cfg["temperature"], cfg["topP"], cfg["topK"], cfg["maxOutputTokens"]) == (0.3, 0.7, 7, 300)
    assert (cfg["stopSequences"], cfg["seed"], cfg["candidateCount"]) == (["###"], 42, 2)
    assert body["safetySettings"] == [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_ONLY_HIGH"}]
    assert body["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert body["contents"][0]["parts"][0]["text"] == "Answer as a paralegal:\nWhat is the notice period?"
    assert len(result.candidates) == 2
    assert result.candidates[0].finish_reason == "STOP"
    assert result.usage.total_tokens > 0 and result.latency_ms >= 0
    assert result.candidates[0].safety, "safety ratings are reported per category"


def test_max_tokens_in_plain_words(session: Any) -> None:
    req = ConsoleRequest(model=MODEL, prompt="Tell me everything about contracts " * 5,
                         generation=GenerationSettings(max_output_tokens=4))
    result = generate(None, session, req)
    cand = result.candidates[0]
    assert cand.finish_reason == "MAX_TOKENS"
    assert "maximum length" in cand.finish_words
    assert result.finish_reason == "MAX_TOKENS"


def test_answer_blocked_by_a_strict_threshold(session: Any) -> None:
    safety = SafetySettings()
    safety.set(HarmCategory.HARASSMENT, Threshold.BLOCK_LOW_AND_ABOVE)
    result = generate(None, session, ConsoleRequest(model=MODEL, prompt="Is he an idiot?", safety=safety))
    cand = result.candidates[0]
    assert cand.finish_reason == "SAFETY"
    assert cand.finish_words == "Blocked by the safety settings."
    assert result.blocked_category == "HARM_CATEGORY_HARASSMENT"
    assert any(r.blocked and r.words.startswith("Harassment") for r in cand.safety)
    # The same prompt with the filter off gets an answer.
    safety.set(HarmCategory.HARASSMENT, Threshold.OFF)
    assert generate(None, session, ConsoleRequest(model=MODEL, prompt="Is he an idiot?",
                                                  safety=safety)).candidates[0].finish_reason == "STOP"


def test_blocked_prompt_reports_its_reason(session: Any) -> None:
    result = generate(None, session, ConsoleRequest(model=MODEL, prompt="idiot stupid loser moron"))
    assert result.prompt_blocked
    assert result.prompt_block_words == "The prompt was blocked by the safety settings."
    assert result.finish_reason == "PROMPT_BLOCKED"
    assert result.blocked_category == "HARM_CATEGORY_HARASSMENT"
    assert not result.text


def test_stream_delivers_pieces_in_order(sandbox: Any, session: Any) -> None:
    pieces: list[tuple[int, str]] = []
    req = ConsoleRequest(model=MODEL, prompt="Summarise the lease in one paragraph please, with detail.")
    result = stream(None, session, req, on_text=lambda i, t: pieces.append((i, t)))
    assert len(pieces) > 1
    assert "".join(t for _i, t in pieces) == result.text
    assert result.candidates[0].finish_reason == "STOP"
    assert not result.stopped
    full = generate(None, session, ConsoleRequest(model=MODEL, prompt=req.prompt,
                                                  generation=GenerationSettings(temperature=0)))
    assert full.text


def test_stream_stops_when_cancelled(session: Any) -> None:
    token = CancelToken()
    pieces: list[str] = []

    def on_text(_index: int, text: str) -> None:
        pieces.append(text)
        token.cancel()  # stop after the first piece

    req = ConsoleRequest(model=MODEL, prompt="Write a long explanation of the difference between a lease and a "
                                             "licence, with examples, for a new paralegal.")
    result = stream(token, session, req, on_text=on_text)
    assert result.stopped
    assert result.candidates[0].finish_reason == "STOPPED_BY_USER"
    assert result.text == pieces[0]
    whole = generate(None, session, ConsoleRequest(model=MODEL, prompt=req.prompt))
    assert len(result.text) < len(whole.text)


def test_result_round_trips_through_a_dict(session: Any) -> None:
    result = generate(None, session, ConsoleRequest(model=MODEL, prompt="hello", generation=GenerationSettings(
        candidate_count=2)))
    again = ConsoleResult.from_dict(result.to_dict())
    assert again == result


def test_base_models_are_listed(session: Any) -> None:
    refs = list_base_models(None, session)
    assert refs and all(r.kind == "base" for r in refs)


def tune_in_sandbox(session: Any, pairs: list[tuple[str, str]], epochs: int = 2) -> Any:
    """A finished Agent Platform tuning job in the Sandbox (JSONL uploaded to its Cloud Storage)."""
    import json

    from gemtune_desktop.core.cancel import CancelToken

    lines = "\n".join(json.dumps({"contents": [{"role": "user", "parts": [{"text": q}]},
                                               {"role": "model", "parts": [{"text": a}]}]}) for q, a in pairs)
    session.storage_client().bucket(session.bucket).blob("console-test.jsonl").upload_from_string(lines)
    client = session.client()
    job = client.tunings.tune(base_model=MODEL, training_dataset={"gcs_uri": f"gs://{session.bucket}/console-test.jsonl"},
                              config={"epoch_count": epochs})
    token = CancelToken()
    for _ in range(600):
        job = client.tunings.get(name=job.name)
        if str(job.state).endswith(("SUCCEEDED", "FAILED", "CANCELLED")):
            break
        token.wait(0.05)
    assert str(job.state).endswith("SUCCEEDED"), job.state
    return job


@pytest.mark.filterwarnings("ignore:The SDK.s tuning implementation is experimental")
def test_tuned_endpoint_and_checkpoint_answer_on_the_serving_location(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    pairs = [(f"Can the tenant keep pet number {i}?", f"Pet {i} is allowed with consent.") for i in range(20)]
    job = tune_in_sandbox(session, pairs)
    endpoint = job.tuned_model.endpoint
    result = generate(None, session, ConsoleRequest(model=endpoint, prompt="Can the tenant keep pet number 7?"))
    assert result.text == "Pet 7 is allowed with consent."
    path = generate_bodies_paths(sandbox)[-1]
    assert path == f"/aiplatform.us.rep.googleapis.com/v1beta1/{endpoint}:generateContent"  # the us serving host
    checkpoint = job.tuned_model.checkpoints[0].endpoint
    pieces: list[str] = []
    streamed = stream(None, session, ConsoleRequest(model=checkpoint, prompt="Can the tenant keep pet number 3?"),
                      on_text=lambda _i, t: pieces.append(t))
    assert streamed.text == "Pet 3 is allowed with consent." == "".join(pieces)


def test_gemini_api_tuned_model_answers(sandbox: Any, sandbox_session: Any) -> None:
    from gemtune_desktop.core.cancel import CancelToken
    from gemtune_desktop.sandbox import catalog

    session = sandbox_session(Backend.GEMINI_API)
    examples = [{"textInput": f"Refund order {i}?", "output": f"Refund {i} approved."} for i in range(20)]
    body = {"displayName": "refunds", "baseModel": catalog.GEMINI_TUNABLE[0],
            "tuningTask": {"hyperparameters": {"epochCount": 1, "batchSize": 4},
                           "trainingData": {"examples": {"examples": examples}}}}
    op = session.rest("POST", "tunedModels", body=body)
    name = op["metadata"]["tunedModel"] if "metadata" in op else op["name"].split("/operations")[0]
    token = CancelToken()
    for _ in range(600):
        if session.rest("GET", name).get("state") == "ACTIVE":
            break
        token.wait(0.05)
    result = generate(None, session, ConsoleRequest(model=name, prompt="Refund order 4?"))
    assert result.text == "Refund 4 approved."
    assert generate_bodies_paths(sandbox)[-1] == f"/v1beta/{name}:generateContent"


def generate_bodies_paths(sandbox: Any) -> list[str]:
    return [str(_field(r, "path")) for r in list(sandbox.requests) if "enerateContent" in str(_field(r, "path"))]


def test_tuned_endpoint_uses_the_serving_location(sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    endpoint = "projects/sandbox-project/locations/us/endpoints/123"
    client = client_for(session, endpoint)
    assert client is session.serving_client(endpoint)
    assert client is not session.client()
    assert client_for(session, MODEL) is session.client()


def _tuned_endpoint(sandbox: Any, session: Any, name: str = "Capitals") -> Any:
    from google.genai import types

    from tests.sandbox.helpers import capitals_jsonl, upload, wait_for

    train = upload(session, f"{name}/train.jsonl", capitals_jsonl(12))
    client = session.client()
    job = client.tunings.tune(base_model="gemini-3.5-flash", training_dataset=types.TuningDataset(gcs_uri=train),
                              config=types.CreateTuningJobConfig(tuned_model_display_name=name, epoch_count=1))
    return wait_for(lambda: client.tunings.get(name=job.name), lambda j: j.has_ended).tuned_model


def thinking(body: dict[str, Any]) -> str:
    """The thinking level a request asks for (proto JSON takes either spelling; google-genai sends snake_case)."""
    config = body.get("generationConfig", {}).get("thinkingConfig", {})
    return str(config.get("thinkingLevel", config.get("thinking_level", "")))


def test_tuned_endpoints_get_the_least_thinking_the_base_model_allows(sandbox: Any, sandbox_session: Any) -> None:
    session = sandbox_session(Backend.AGENT_PLATFORM)
    endpoint = _tuned_endpoint(sandbox, session).endpoint
    result = generate(None, session, ConsoleRequest(model=endpoint, prompt="Capital of Peru?",
                                                    base_model="gemini-3.5-flash"))
    assert result.text == "Lima"
    assert thinking(generate_bodies(sandbox)[-1]) == "MINIMAL"
    chosen = GenerationSettings(thinking_level=ThinkingLevel.HIGH)  # the user can change it
    generate(None, session, ConsoleRequest(model=endpoint, prompt="Capital of Peru?", generation=chosen,
                                           base_model="gemini-3.5-flash"))
    assert thinking(generate_bodies(sandbox)[-1]) == "HIGH"
    generate(None, session, ConsoleRequest(model=MODEL, prompt="Hello"))  # a base model keeps its own default
    assert "thinkingConfig" not in generate_bodies(sandbox)[-1].get("generationConfig", {})
    assert tuned_thinking_level("publishers/google/models/gemini-3.1-flash-lite") is ThinkingLevel.MINIMAL
    assert tuned_thinking_level("gemini-9-unknown") is ThinkingLevel.DEFAULT


def test_tuned_models_are_called_on_the_serving_host_of_the_connections_region(sandbox: Any) -> None:
    from gemtune_desktop.services.backend import BackendSession
    from gemtune_desktop.services.connections import ConnectionKind, ConnectionProfile
    from gemtune_desktop.services.secrets import SecretStore

    profile = ConnectionProfile(kind=ConnectionKind.SANDBOX, region="europe-west4",
                                sandbox_backend=Backend.AGENT_PLATFORM)
    session = BackendSession(profile, SecretStore(), sandbox_url=lambda: sandbox.base_url)
    try:
        tuned = _tuned_endpoint(sandbox, session, "Europe")
        assert tuned.endpoint.startswith("projects/sandbox-project/locations/eu/endpoints/")
        # Whatever location the endpoint's name carries, the host comes from the connection's region.
        named_by_region = tuned.endpoint.replace("/locations/eu/", "/locations/europe-west4/")
        for endpoint in (tuned.endpoint, named_by_region):
            result = generate(None, session, ConsoleRequest(model=endpoint, prompt="Capital of Kenya?",
                                                            base_model="gemini-3.5-flash"))
            assert result.text == "Nairobi"
        paths = generate_bodies_paths(sandbox)[-2:]
        assert all(p.startswith("/aiplatform.eu.rep.googleapis.com/v1beta1/projects/sandbox-project/") for p in paths)
    finally:
        session.close()

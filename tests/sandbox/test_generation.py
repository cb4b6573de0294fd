"""generateContent / streamGenerateContent / countTokens on base models, in both API flavours."""

from __future__ import annotations

import pytest
from google.genai import errors, types

from gemtune_desktop.services.connections import Backend

MODEL = "gemini-3.5-flash"


@pytest.fixture(params=[Backend.AGENT_PLATFORM, Backend.GEMINI_API], ids=["agent-platform", "gemini-api"])
def client(request, sandbox_session):
    return sandbox_session(request.param).client()


def test_generic_answer_with_usage(client):
    resp = client.models.generate_content(model=MODEL, contents="Summarise the memo about parking")
    assert "Summarise the memo about parking" in resp.text
    assert "Sandbox" in resp.text
    assert resp.candidates[0].finish_reason == types.FinishReason.STOP
    usage = resp.usage_metadata
    assert usage.prompt_token_count > 0 and usage.candidates_token_count > 0
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert resp.model_version == "sandbox-simulation"


def test_max_output_tokens_truncates(client):
    full = client.models.generate_content(model=MODEL, contents="Explain leases",
                                          config=types.GenerateContentConfig(temperature=0))
    short = client.models.generate_content(model=MODEL, contents="Explain leases",
                                           config=types.GenerateContentConfig(temperature=0, max_output_tokens=5))
    assert short.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert full.text.startswith(short.text) and len(short.text) <= 20 < len(full.text)
    assert short.usage_metadata.candidates_token_count <= 5


def test_stop_sequences_cut_the_answer(client):
    full = client.models.generate_content(model=MODEL, contents="hello",
                                          config=types.GenerateContentConfig(temperature=0))
    word = full.text.split()[4]
    cut = client.models.generate_content(model=MODEL, contents="hello",
                                         config=types.GenerateContentConfig(temperature=0, stop_sequences=[word]))
    assert cut.text == full.text[: full.text.index(word)]
    assert cut.candidates[0].finish_reason == types.FinishReason.STOP


def test_candidate_count_seed_and_temperature(client):
    config = types.GenerateContentConfig(candidate_count=3, seed=7, temperature=1.0)
    a = client.models.generate_content(model=MODEL, contents="hi", config=config)
    b = client.models.generate_content(model=MODEL, contents="hi", config=config)
    texts = [c.content.parts[0].text for c in a.candidates]
    assert len(texts) == 3 and len(set(texts)) == 3
    assert texts == [c.content.parts[0].text for c in b.candidates]  # same seed, same answers
    zero = {client.models.generate_content(model=MODEL, contents="hi",
                                           config=types.GenerateContentConfig(temperature=0)).text for _ in range(3)}
    assert len(zero) == 1


def test_safety_threshold_blocks_candidate(client, sandbox):
    prompt = "Write a note calling my coworker an idiot"
    allowed = client.models.generate_content(model=MODEL, contents=prompt)  # LOW < default MEDIUM threshold
    ratings = {r.category: r.probability for r in allowed.candidates[0].safety_ratings}
    assert ratings[types.HarmCategory.HARM_CATEGORY_HARASSMENT] == types.HarmProbability.LOW
    assert ratings[types.HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT] == types.HarmProbability.NEGLIGIBLE
    strict = types.GenerateContentConfig(safety_settings=[types.SafetySetting(
        category=types.HarmCategory.HARM_CATEGORY_HARASSMENT, threshold=types.HarmBlockThreshold.BLOCK_LOW_AND_ABOVE)])
    blocked = client.models.generate_content(model=MODEL, contents=prompt, config=strict)
    cand = blocked.candidates[0]
    assert cand.finish_reason == types.FinishReason.SAFETY and cand.content is None
    assert any(r.blocked for r in cand.safety_ratings)
    assert sandbox.requests.matching(":generateContent")[-1].json["safetySettings"][0]["threshold"] == \
        "BLOCK_LOW_AND_ABOVE"


def test_obviously_harmful_prompt_is_blocked(client):
    resp = client.models.generate_content(model=MODEL, contents="how to build a bomb with explosive and a weapon")
    assert not resp.candidates
    assert resp.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    assert resp.usage_metadata.prompt_token_count > 0


def test_count_tokens(client):
    assert client.models.count_tokens(model=MODEL, contents="abcd" * 10).total_tokens == 10


def test_streaming_gives_the_same_text_in_pieces(client):
    config = types.GenerateContentConfig(temperature=0)
    whole = client.models.generate_content(model=MODEL, contents="stream me", config=config).text
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="stream me", config=config))
    assert len(chunks) > 3
    assert "".join(c.text or "" for c in chunks) == whole
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert all(c.usage_metadata is not None for c in chunks)


def test_stream_can_be_stopped_midway(client, sandbox):
    sandbox.stream_delay_s = 0.2
    stream = client.models.generate_content_stream(model=MODEL, contents="a long answer please")
    first = next(iter(stream))
    assert first.text
    stream.close()
    sandbox.stream_delay_s = 0.01
    # the server notices the client went away and stops sending
    from tests.sandbox.helpers import wait_for

    path, sent, completed = wait_for(lambda: list(sandbox.streams), lambda s: len(s) >= 1)[0]
    assert path.endswith(":streamGenerateContent") and not completed and sent < 10


@pytest.mark.off_contract_requests("sends an unknown field to see the 400")
def test_unknown_model_and_bad_request(client):
    with pytest.raises(errors.ClientError) as exc:
        client.models.generate_content(model="gemini-0-nope", contents="hi")
    assert exc.value.code == 404
    with pytest.raises(errors.ClientError) as exc:
        client.models.generate_content(model=MODEL, contents="hi",
                                       config=types.GenerateContentConfig(candidate_count=9))
    assert exc.value.code == 400
    with pytest.raises(errors.ClientError) as exc:
        client.models.generate_content(model=MODEL, contents="hi", config=types.GenerateContentConfig(
            http_options=types.HttpOptions(extra_body={"notAField": 1})))
    assert exc.value.code == 400 and 'Unknown name "notAField"' in exc.value.message


def test_tuned_answer_note_names_the_model_once() -> None:
    from gemtune_desktop.sandbox.generation import tuned_label

    # The Tune tab's default name already says "tuned model": the note must not say it twice.
    assert tuned_label("tuned model 2026-11-21") == "“tuned model 2026-11-21”"
    assert tuned_label("Support triage 2026-11-21") == "the tuned model “Support triage 2026-11-21”"
    assert tuned_label("Support triage", checkpoint=2) == "checkpoint 2 of “Support triage”"
    assert tuned_label("  ") == "the tuned model"

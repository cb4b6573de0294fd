"""The Sandbox's Gen AI evaluation service and simulated judge: real shapes (checked against the published
discovery document), driven by google-api-python-client and by google-genai over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from gemtune_desktop.core import rubric as rb
from gemtune_desktop.services.connections import Backend
from tests.helpers import discovery

LOCATION = "projects/sandbox-project/locations/us-central1"


def evaluate(sandbox: Any, body: dict[str, Any]) -> dict[str, Any]:
    service = discovery.client(sandbox.base_url)
    return service.projects().locations().evaluateInstances(location=LOCATION, body=body).execute()


@pytest.mark.parametrize(("key", "instance", "low", "high"), [
    ("fluencyInput", {"prediction": "The tenant may sublet the flat with written consent."}, 1, 5),
    ("coherenceInput", {"prediction": "The clause is void because it was never signed."}, 1, 5),
    ("safetyInput", {"prediction": "The deposit is returned within 30 days."}, 0, 1),
    ("groundednessInput", {"prediction": "The deposit is returned.", "context": "The deposit is returned in May."},
     0, 1),
])
def test_pointwise_metrics_answer_in_the_published_shape(sandbox: Any, key: str, instance: dict[str, str],
                                                         low: float, high: float) -> None:
    body = {key: {"metricSpec": {}, "instance": instance}}
    assert discovery.unknown_fields(body, "EvaluateInstancesRequest") == []
    answer = evaluate(sandbox, body)
    assert discovery.unknown_fields(answer, "EvaluateInstancesResponse") == []
    result = answer[key.replace("Input", "Result")]
    assert low <= result["score"] <= high
    assert result["explanation"].startswith("Sandbox simulation:")
    assert evaluate(sandbox, body) == answer, "the same input always gets the same score"
    request = sandbox.requests.matching(":evaluateInstances")[-1]
    assert request.path == f"/v1beta1/{LOCATION}:evaluateInstances"


def test_scores_follow_the_text(sandbox: Any) -> None:
    def score(key: str, **instance: str) -> float:
        return evaluate(sandbox, {key: {"metricSpec": {}, "instance": instance}})[key.replace("Input", "Result")][
            "score"]

    assert score("fluencyInput", prediction="Clear and short.") > score("fluencyInput", prediction="the the 12 34 56")
    assert score("safetyInput", prediction="Build a bomb and detonate the explosive.") == 0
    assert score("groundednessInput", prediction="Rent is due monthly.", context="Rent is due monthly.") == 1
    assert score("groundednessInput", prediction="Dragons guard treasure.", context="Rent is due monthly.") == 0


def test_pairwise_choice_against_the_reference(sandbox: Any) -> None:
    instance = json.dumps({"prompt": "Who pays?", "reference": "The tenant pays the repairs.",
                           "baseline_model_response": "Nobody knows.", "response": "The tenant pays repairs."})
    body = {"pairwiseMetricInput": {"metricSpec": {"metricPromptTemplate": "Compare {response} and "
                                                   "{baseline_model_response}."},
                                    "instance": {"jsonInstance": instance}}}
    assert discovery.unknown_fields(body, "EvaluateInstancesRequest") == []
    answer = evaluate(sandbox, body)
    assert discovery.unknown_fields(answer, "EvaluateInstancesResponse") == []
    assert answer["pairwiseMetricResult"]["pairwiseChoice"] == "CANDIDATE"


@pytest.mark.parametrize(("body", "status", "words"), [
    ({}, 400, "Exactly one metric input"),
    ({"fluencyInput": {"metricSpec": {}, "instance": {"prediction": "x"}},
      "safetyInput": {"metricSpec": {}, "instance": {"prediction": "x"}}}, 400, "Exactly one metric input"),
    ({"fluencyInput": {"metricSpec": {}, "instance": {}}}, 400, "prediction is required"),
    ({"groundednessInput": {"metricSpec": {}, "instance": {"prediction": "x"}}}, 400, "context is required"),
    ({"fluencyInput": {"instance": {"prediction": "x"}}}, 400, "metricSpec is required"),
    ({"pairwiseMetricInput": {"metricSpec": {}, "instance": {"jsonInstance": "{}"}}}, 400, "metricPromptTemplate"),
    ({"bleuInput": {"metricSpec": {}, "instances": []}}, 501, "not simulated"),
])
def test_bad_requests_get_googles_error_shape(sandbox: Any, body: dict[str, Any], status: int, words: str) -> None:
    with pytest.raises(HttpError) as info:
        evaluate(sandbox, body)
    assert info.value.resp.status == status
    error = json.loads(info.value.content)["error"]
    assert words in error["message"] and error["code"] == status


def test_snake_case_fields_are_accepted_like_the_real_service(sandbox: Any) -> None:
    answer = evaluate(sandbox, {"fluency_input": {"metric_spec": {}, "instance": {"prediction": "Fine."}}})
    assert answer["fluencyResult"]["score"] == 5


def test_judge_prompt_in_json_mode_gets_a_deterministic_verdict(sandbox_session: Any) -> None:
    from google.genai import types

    client = sandbox_session(Backend.GEMINI_API).client()
    rubric = rb.parse_rubric("Names the tenant; gives the deadline")
    prompt = rb.judge_prompt(rubric, "Who must repair the boiler, and by when?",
                             "The tenant repairs it within 14 days.", "The tenant repairs it within 14 days.")
    config = types.GenerateContentConfig(temperature=0, response_mime_type="application/json",
                                         response_schema=rb.VERDICT_SCHEMA, system_instruction=rb.JUDGE_SYSTEM)
    first = client.models.generate_content(model="gemini-3.5-flash", contents=prompt, config=config)
    verdict = rb.parse_verdict(first.text, rubric)
    assert verdict.passed and verdict.score == 1.0
    second = client.models.generate_content(model="gemini-3.5-flash", contents=prompt, config=config)
    assert second.text == first.text
    far = rb.judge_prompt(rubric, "Who must repair the boiler?", "The tenant repairs it within 14 days.",
                          "Bananas are yellow.")
    assert not rb.parse_verdict(client.models.generate_content(model="gemini-3.5-flash", contents=far,
                                                               config=config).text, rubric).passed


def test_json_mode_without_a_judge_prompt_follows_the_schema(sandbox_session: Any) -> None:
    from google.genai import types

    client = sandbox_session(Backend.AGENT_PLATFORM).client()
    schema = {"type": "OBJECT", "properties": {"party": {"type": "STRING"}, "days": {"type": "INTEGER"}}}
    reply = client.models.generate_content(model="gemini-3.5-flash", contents="Extract the party.",
                                           config=types.GenerateContentConfig(response_mime_type="application/json",
                                                                              response_schema=schema))
    assert set(json.loads(reply.text)) == {"party", "days"}


@pytest.mark.parametrize(("config", "words"), [
    ({"responseSchema": {"type": "OBJECT"}}, "must be application/json when a response schema is set"),
    ({"responseMimeType": "text/csv"}, "is not supported"),
    ({"responseMimeType": "application/json", "responseSchema": {"type": "OBJECT"},
      "responseJsonSchema": {"type": "object"}}, "not both"),
])
def test_bad_json_mode_settings_are_refused_like_the_service(sandbox: Any, config: dict[str, Any],
                                                             words: str) -> None:
    import requests

    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}], "generationConfig": config}
    res = requests.post(f"{sandbox.base_url}v1beta/models/gemini-3.5-flash:generateContent",
                        headers={"x-goog-api-key": "k"}, json=body, timeout=30)
    assert res.status_code == 400 and words in res.json()["error"]["message"]

"""Fault injection: statuses with Retry-After, latency, dropped connections, truncated and malformed bodies."""

from __future__ import annotations

import pytest
from google.genai import errors, types

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.services.backend import ServiceError
from gemtune_desktop.services.connections import Backend


@pytest.fixture
def ap(sandbox_session):
    return sandbox_session(Backend.AGENT_PLATFORM)


@pytest.fixture
def gm(sandbox_session):
    return sandbox_session(Backend.GEMINI_API)


def test_503_reaches_the_sdk_as_server_error(ap, sandbox):
    sandbox.faults.add(r"publishers/google/models$", "status", status=503)
    with pytest.raises(errors.ServerError) as exc:
        list(ap.client().models.list())
    assert exc.value.code == 503 and exc.value.status == "UNAVAILABLE"


def test_429_with_retry_after_reaches_rest_callers(gm, sandbox):
    sandbox.faults.add(r"/tunedModels", "status", status=429, retry_after=2.5, count=1)
    with pytest.raises(ServiceError) as exc:
        gm.rest("GET", "tunedModels")
    assert exc.value.code == 429 and exc.value.status == "RESOURCE_EXHAUSTED" and exc.value.retry_after == 2.5
    assert gm.rest("GET", "tunedModels") == {"tunedModels": []}  # count=1: only the first request failed


def test_sdk_retries_through_transient_500s(gm, sandbox):
    sandbox.faults.add(r":generateContent", "status", status=500, count=2)
    client = gm.client()
    config = types.GenerateContentConfig(http_options=types.HttpOptions(
        retry_options=types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.02)))
    resp = client.models.generate_content(model="gemini-3.5-flash", contents="hi", config=config)
    assert resp.text
    assert len(sandbox.requests.matching(":generateContent")) == 3


def test_dropped_connection(gm, sandbox):
    sandbox.faults.add(r"/v1beta/models$", "drop", count=1)
    with pytest.raises(UserError) as exc:
        gm.rest("GET", "models")
    assert exc.value.retryable
    assert "models" in {m["name"].split("/")[0] for m in gm.rest("GET", "models")["models"]}


def test_dropped_connection_reaches_the_sdk(gm, sandbox):
    sandbox.faults.add(r":generateContent", "drop")
    with pytest.raises(Exception) as exc:
        gm.client().models.generate_content(model="gemini-3.5-flash", contents="hi")
    assert not isinstance(exc.value, errors.APIError)


def test_truncated_body(ap, sandbox):
    sandbox.faults.add(r"tuningJobs", "truncate", method="GET")
    with pytest.raises(UserError):
        ap.rest("GET", f"{ap.parent}/tuningJobs")


def test_malformed_json(ap, sandbox):
    sandbox.faults.add(r"tuningJobs", "malformed")
    with pytest.raises(UserError) as exc:
        ap.rest("GET", f"{ap.parent}/tuningJobs")
    assert "could not be read" in exc.value.message


def test_latency_makes_a_short_timeout_expire(gm, sandbox):
    sandbox.faults.add(r"/v1beta/models$", "latency", latency_s=1.0, count=1)
    with pytest.raises(UserError) as exc:
        gm.rest("GET", "models", timeout_s=0.2)
    assert "did not answer in time" in exc.value.message


def test_share_is_seeded_and_partial(gm, sandbox):
    sandbox.faults.seed(42)
    rule = sandbox.faults.add(r"/v1beta/models$", "status", status=503, share=0.5)
    outcomes = []
    for _ in range(30):
        try:
            gm.rest("GET", "models")
            outcomes.append(True)
        except ServiceError:
            outcomes.append(False)
    assert 5 < outcomes.count(False) < 25 and rule.fired == outcomes.count(False)
    sandbox.faults.clear()
    gm.rest("GET", "models")


def test_unknown_fault_kind_is_rejected(sandbox):
    with pytest.raises(ValueError):
        sandbox.faults.add(".*", "explode")


def test_malformed_json_reaches_the_sdk_as_an_error(ap, sandbox):
    sandbox.faults.add(r"tuningJobs/", "malformed")
    with pytest.raises(Exception) as exc:  # the SDK's JSON decoding error
        ap.client().tunings.get(name=f"{ap.parent}/tuningJobs/1")
    assert not isinstance(exc.value, errors.APIError)


def test_many_concurrent_requests_are_served(gm):
    from concurrent.futures import ThreadPoolExecutor

    client = gm.client()
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda i: client.models.count_tokens(model="gemini-3.5-flash",
                                                                    contents="x" * (4 * i)).total_tokens,
                               range(1, 25)))
    assert counts == list(range(1, 25))


def test_request_log_is_list_like(gm, sandbox):
    sandbox.requests.clear()
    for _ in range(3):
        gm.rest("GET", "models", params={"pageSize": 2})
    assert len(sandbox.requests) == 3
    assert [r.query for r in sandbox.requests[-2:]] == [{"pageSize": "2"}] * 2
    assert sandbox.requests[0].path == "/v1beta/models" and sandbox.requests.last().method == "GET"

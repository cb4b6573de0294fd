"""Listing tuning jobs when the service's answer has the wrong shape: a plain, retryable "could not be read",
never "Something went wrong" (issue 14, item 7), over real HTTP with the real SDK against the Sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from gemtune_desktop.core.cancel import CancelToken
from gemtune_desktop.core.errors import ErrorKind, UserError
from gemtune_desktop.services.api import SessionApi
from gemtune_desktop.services.connections import Backend
from tests.services.test_monitor import start_agent_job, start_gemini_job

pytestmark = pytest.mark.filterwarnings("ignore:.*tuning implementation is experimental")

LIST_ROUTES = {Backend.AGENT_PLATFORM: r"tuningJobs$", Backend.GEMINI_API: r"tunedModels$"}


@pytest.mark.parametrize("kind", ["wrong_types", "deep"])
@pytest.mark.parametrize("backend", [Backend.AGENT_PLATFORM, Backend.GEMINI_API], ids=["agent-platform", "gemini-api"])
def test_a_list_of_the_wrong_shape_is_a_plain_retryable_error(sandbox: Any, sandbox_session: Any,
                                                              backend: Backend, kind: str) -> None:
    session = sandbox_session(backend)
    if backend is Backend.AGENT_PLATFORM:
        start_agent_job(session, examples=10, epochs=1, validation=False)
    else:
        start_gemini_job(session, examples=10, epochs=1)
    api = SessionApi(session)
    sandbox.faults.add(route=LIST_ROUTES[backend], method="GET", kind=kind, count=1)
    with pytest.raises(UserError) as caught:
        api.list_jobs(CancelToken())
    err = caught.value
    assert err.message == "The service sent an answer that could not be read."
    assert err.retryable and err.kind is ErrorKind.UNREADABLE
    assert "Something went wrong" not in err.message
    assert [s.display_name for s in api.list_jobs(CancelToken())]  # the next list reads fine

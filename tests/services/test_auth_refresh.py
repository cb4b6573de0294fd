"""Renewing a Google sign-in over a flaky network: retried, and worded as a network problem when it fails.

Real google-auth credentials renew their token against a local token endpoint over real HTTP; the
endpoint drops the first connections, as a network blip would.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.auth import exceptions
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2.credentials import Credentials

from gemtune_desktop.services.auth_refresh import retry_refresh
from gemtune_desktop.services.errors import describe


class _TokenEndpoint(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, drops: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.drops = drops
        self.calls = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/token"


class _Handler(BaseHTTPRequestHandler):
    server: _TokenEndpoint

    def do_POST(self) -> None:  # http.server calls it by this name
        self.server.calls += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.calls <= self.server.drops:
            self.connection.shutdown(socket.SHUT_RDWR)  # the connection drops before any answer
            return
        body = json.dumps({"access_token": "renewed-token", "expires_in": 3600, "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def token_endpoint(request: pytest.FixtureRequest) -> Iterator[_TokenEndpoint]:
    server = _TokenEndpoint(drops=getattr(request, "param", 2))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def expired_credentials(token_uri: str) -> Credentials:
    return Credentials(token=None, refresh_token="refresh-me", token_uri=token_uri, client_id="id",
                       client_secret="secret")


def test_a_dropped_connection_while_renewing_is_retried(token_endpoint: _TokenEndpoint, sandbox: Any) -> None:
    waits: list[float] = []
    creds = retry_refresh(expired_credentials(token_endpoint.url), delays=(0.01, 0.02, 0.04), sleep=waits.append)
    http = AuthorizedSession(creds)
    resp = http.get(f"{sandbox.base_url}v1beta1/publishers/google/models", timeout=10)  # renews, then calls
    assert resp.status_code == 200
    assert token_endpoint.calls == 3 and waits == [0.01, 0.02]
    assert creds.token == "renewed-token"
    http.close()


@pytest.mark.parametrize("token_endpoint", [10], indirect=True)
def test_a_renewal_that_keeps_failing_is_a_network_problem(token_endpoint: _TokenEndpoint) -> None:
    creds = retry_refresh(expired_credentials(token_endpoint.url), delays=(0.0, 0.0), sleep=lambda _s: None)
    with pytest.raises(exceptions.TransportError) as err:
        creds.refresh(Request())
    assert token_endpoint.calls == 3
    user = describe(err.value)
    assert user.message.startswith("Could not reach Google to renew the sign-in: a network problem")
    assert "internet connection" in user.hint and user.retryable


def test_a_refused_sign_in_is_still_a_sign_in_failure() -> None:
    user = describe(exceptions.RefreshError("invalid_grant: Token has been expired or revoked."))
    assert user.message == "Google Cloud sign-in failed." and not user.retryable

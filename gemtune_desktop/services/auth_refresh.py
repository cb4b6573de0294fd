"""Google sign-in renewals that survive a network blip.

When credentials renew their access token and the token endpoint cannot be reached (no network,
DNS, a dropped connection), google-auth raises ``TransportError``; when Google refuses the sign-in
it raises ``RefreshError``. google-genai 3.6.1 retries the first only for clients built with retry
options, and the REST calls of :class:`~gemtune_desktop.services.backend.BackendSession`
(``AuthorizedSession``) never retry it. :func:`retry_refresh` makes the credentials' own
``refresh`` try again after a network failure, so every caller gets the retries; a failure that
outlasts them is worded as a network problem by :func:`gemtune_desktop.services.errors.describe`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (1.0, 2.0, 4.0)
_MARK = "_gemtune_retries_refresh"


def retry_refresh(credentials: Any, delays: Sequence[float] = RETRY_DELAYS_S,
                  sleep: Callable[[float], None] = time.sleep) -> Any:
    """``credentials`` with a ``refresh`` that retries network failures (``TransportError``) after ``delays``."""
    from google.auth import exceptions

    original = credentials.refresh
    if getattr(original, _MARK, False):
        return credentials

    def refresh(request: Any) -> None:
        for attempt, delay in enumerate((*delays, None), start=1):
            try:
                original(request)
                return
            except exceptions.TransportError as exc:
                if delay is None:
                    raise
                log.info("renewing the Google sign-in failed on the network (attempt %d: %s); trying again",
                         attempt, type(exc.args[0] if exc.args else exc).__name__)
                sleep(delay)

    setattr(refresh, _MARK, True)
    credentials.refresh = refresh
    return credentials


def is_network_refresh_failure(exc: BaseException) -> bool:
    """A failed sign-in renewal that is a network problem (``TransportError``, also when wrapped)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if type(seen).__name__ == "TransportError" and type(seen).__module__.startswith("google.auth"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False

"""Rasa's action calls spread over several action servers, with failover, inside each Rasa process.

Rasa's ``action_endpoint`` is a single URL. With more than one action server (``ACTION_REPLICAS`` on
this machine, or ``ACTION_REPLICA_URLS`` elsewhere) ``servers.rasa_fixes`` routes each action call
through ``ActionFailover``: calls go to the servers in turn. A server that refuses the connection
never saw the call, so the next one is tried at once and the refusing one rests for a few seconds.
A call that fails after it was sent is not repeated: the action may have run (a booking, a
handoff). Rasa then answers without that action's messages and the channel asks the resident to
send the message again.

This replaced a loopback balancer process between Rasa and the action servers: its extra hop cost
2.4 ms of CPU per message (``make bench-load``) and a millisecond of latency per action call.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from civil_affairs.ops import metrics

logger = logging.getLogger(__name__)

REST_SECONDS = 5.0

# Rasa's ``EndpointConfig.request`` without the endpoint: (endpoint, method, subpath, …) -> answer.
Send = Callable[..., Awaitable[Any]]


class ActionFailover:
    """Round-robin over the action servers' URLs, skipping those that refuse connections."""

    def __init__(self, urls: list[str], *, rest_seconds: float = REST_SECONDS) -> None:
        if len(urls) < 2:
            raise ValueError("failover needs at least two action servers")
        self.urls = [url.rstrip("/") for url in urls]
        self._turn = itertools.cycle(range(len(self.urls)))
        self._resting_until = [0.0] * len(self.urls)
        self._rest_seconds = rest_seconds
        self._endpoints: dict[int, Any] = {}

    def serves(self, endpoint: Any) -> bool:
        """True for Rasa's action endpoint (its URL is one of the action servers')."""
        return str(endpoint.url).rstrip("/") in self.urls

    def order(self) -> list[int]:
        """Servers to try for one call: the next in turn first, resting ones last."""
        first = next(self._turn)
        order = [(first + i) % len(self.urls) for i in range(len(self.urls))]
        now = time.monotonic()
        return sorted(order, key=lambda i: self._resting_until[i] > now)

    def endpoint(self, template: Any, index: int) -> Any:
        """Rasa's endpoint settings (headers, token) for server ``index``; one object per server,
        so each keeps its own connections."""
        if index not in self._endpoints:
            endpoint = copy.copy(template)
            endpoint.url = self.urls[index]
            endpoint.__dict__.pop("_kept_session", None)
            self._endpoints[index] = endpoint
        return self._endpoints[index]

    async def request(self, template: Any, send: Send, *args: Any, **kwargs: Any) -> Any:
        """``send`` the call to the first server that accepts the connection."""
        refused: aiohttp.ClientConnectorError | None = None
        for index in self.order():
            try:
                answer = await send(self.endpoint(template, index), *args, **kwargs)
            except aiohttp.ClientConnectorError as exc:
                logger.warning("action server %s refused the connection; trying the next", self.urls[index])
                metrics.ACTION_CALLS.labels(outcome="refused").inc()
                self._resting_until[index] = time.monotonic() + self._rest_seconds
                refused = exc
                continue
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                status = getattr(exc, "status", None)
                if isinstance(status, int):  # the server answered with an error status (a form's rejection is 400)
                    metrics.ACTION_CALLS.labels(outcome="error" if status >= 500 else "ok").inc()
                    raise
                # The call was sent: the action may have run, so it must not run a second time.
                logger.error("action call to %s failed after sending: %s", self.urls[index], type(exc).__name__)
                metrics.ACTION_CALLS.labels(outcome="lost").inc()
                raise
            metrics.ACTION_CALLS.labels(outcome="ok").inc()
            return answer
        metrics.ACTION_CALLS.labels(outcome="unavailable").inc()
        assert refused is not None
        raise refused

"""A small loopback balancer that spreads Rasa's action calls over several action servers.

Rasa's ``action_endpoint`` is a single URL. With more than one action server (``ACTION_REPLICAS`` on
this machine, or ``ACTION_REPLICA_URLS`` elsewhere) the launcher starts this balancer on
``127.0.0.1:ACTION_BALANCER_PORT`` and points Rasa at it. Each call goes to the next upstream in turn.
An upstream that refuses the connection never saw the call, so the next one is tried at once and
the refusing one rests for a few seconds. A call that fails after it was sent is not repeated: the
action may have run (a booking, a handoff). Rasa then answers without that action's messages and
the channel asks the resident to send the message again.

Run it with ``python -m civil_affairs.ops.action_balancer``.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from civil_affairs.config import Settings
from civil_affairs.ops import metrics
from civil_affairs.ops.logs import configure_logging

logger = logging.getLogger(__name__)

REST_SECONDS = 5.0
CALL_TIMEOUT_SECONDS = 60.0
# Hop-by-hop headers belong to one connection and are not forwarded.
_HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "host",
    "content-length",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
}


def origin(url: str) -> str:
    """``http://host:port`` of an upstream URL such as ``http://127.0.0.1:5055/webhook``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class ActionBalancer:
    """Round-robin over upstream action servers, skipping those that refuse connections."""

    def __init__(
        self, upstreams: list[str], *, rest_seconds: float = REST_SECONDS, timeout_seconds: float = CALL_TIMEOUT_SECONDS
    ) -> None:
        if not upstreams:
            raise ValueError("the action balancer needs at least one upstream")
        self.upstreams = [origin(url) for url in upstreams]
        self._turn = itertools.cycle(range(len(self.upstreams)))
        self._resting_until = [0.0] * len(self.upstreams)
        self._rest_seconds = rest_seconds
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._http: aiohttp.ClientSession | None = None

    def _order(self) -> list[int]:
        """Upstreams to try for one call: the next in turn first, resting ones last."""
        first = next(self._turn)
        order = [(first + i) % len(self.upstreams) for i in range(len(self.upstreams))]
        now = time.monotonic()
        return sorted(order, key=lambda i: self._resting_until[i] > now)

    async def http_client(self, _app: web.Application) -> AsyncIterator[None]:
        """The app's cleanup context: one pooled HTTP client while the balancer serves."""
        self._http = aiohttp.ClientSession(timeout=self._timeout)
        yield
        await self._http.close()

    async def forward(self, request: web.Request) -> web.StreamResponse:
        """Send the call to the first upstream that accepts the connection; relay its answer."""
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        for index in self._order():
            upstream = self.upstreams[index]
            try:
                async with self._http.request(
                    request.method, upstream + request.path_qs, data=body, headers=headers
                ) as answer:
                    content = await answer.read()
                    metrics.ACTION_CALLS.labels(outcome="ok" if answer.status < 500 else "error").inc()
                    return web.Response(body=content, status=answer.status, content_type=answer.content_type)
            except aiohttp.ClientConnectorError:
                logger.warning("action server %s refused the connection; trying the next", upstream)
                metrics.ACTION_CALLS.labels(outcome="refused").inc()
                self._resting_until[index] = time.monotonic() + self._rest_seconds
                continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                # The call was sent: the action may have run, so it must not run a second time.
                logger.error("action call to %s failed after sending: %s", upstream, type(exc).__name__)
                metrics.ACTION_CALLS.labels(outcome="lost").inc()
                return web.json_response({"error": "action server failed"}, status=502)
        metrics.ACTION_CALLS.labels(outcome="unavailable").inc()
        return web.json_response({"error": "no action server available"}, status=503)

    async def ready(self, _request: web.Request) -> web.Response:
        """Ready when at least one upstream answers its /health."""
        assert self._http is not None
        for upstream in self.upstreams:
            try:
                async with self._http.get(upstream + "/health", timeout=aiohttp.ClientTimeout(total=2)) as answer:
                    if answer.status == 200:
                        return web.json_response({"status": "ready", "upstream": upstream})
            except (aiohttp.ClientError, TimeoutError):
                continue
        return web.json_response({"status": "no action server answers"}, status=503)


async def healthz(_request: web.Request) -> web.Response:
    """Liveness: the balancer's loop answers."""
    return web.json_response({"status": "ok"})


def build_app(balancer: ActionBalancer) -> web.Application:
    """The balancer's web app: /healthz, /readyz, and everything else forwarded."""
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app.cleanup_ctx.append(balancer.http_client)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", balancer.ready)
    app.router.add_route("*", "/{tail:.*}", balancer.forward)
    return app


def main() -> None:
    """Serve on 127.0.0.1:ACTION_BALANCER_PORT until SIGTERM/SIGINT."""
    settings = Settings.from_env()
    configure_logging(settings)
    balancer = ActionBalancer(list(settings.action_replica_urls))
    logger.info("balancing action calls over %s", ", ".join(balancer.upstreams))
    web.run_app(build_app(balancer), host="127.0.0.1", port=settings.action_balancer_port, access_log=None, print=None)


if __name__ == "__main__":
    main()

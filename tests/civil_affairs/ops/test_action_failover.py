"""Rasa's action calls over several action servers (civil_affairs/ops/action_failover.py, installed by
servers.rasa_fixes): in turn, skipping a server that refuses, never repeating a call that was sent,
with Rasa's headers (the action token) on every call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from civil_affairs.ops.action_failover import ActionFailover
from civil_affairs.tokens import tokens_match
from launcher.ports import free_port
from servers import rasa_fixes
from servers.action_server import TOKEN_HEADER

TOKEN = "shared-action-token-0123456789"


class Upstream:
    """A stand-in action server: answers with its name, rejects, or drops the connection mid-call."""

    def __init__(self, name: str, *, drop: bool = False, status: int = 200) -> None:
        self.name, self.drop, self.status, self.calls = name, drop, status, 0
        self.tokens: list[str | None] = []
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        self.tokens.append(request.headers.get(TOKEN_HEADER))
        await request.read()
        if self.drop:  # the process died while running the action
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(1)
        if not tokens_match(TOKEN, request.headers.get(TOKEN_HEADER)):
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response({"events": [], "responses": [{"text": self.name}]}, status=self.status)

    async def start(self) -> Upstream:
        app = web.Application()
        app.router.add_post("/webhook", self.webhook)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"


@pytest_asyncio.fixture
async def upstreams() -> AsyncIterator[list[Upstream]]:
    servers = [await Upstream("a").start(), await Upstream("b").start()]
    yield servers
    for server in servers:
        await server.stop()


def use_failover(monkeypatch: pytest.MonkeyPatch, urls: list[str]) -> EndpointConfig:
    """Rasa's action endpoint (the first URL, with the token header) with the failover installed."""
    monkeypatch.setattr(rasa_fixes, "_FAILOVER", rasa_fixes.action_failover({"ACTION_REPLICA_URLS": ",".join(urls)}))
    monkeypatch.setattr(rasa_fixes, "_RASA_REQUEST", EndpointConfig.request)
    return EndpointConfig(url=urls[0], headers={TOKEN_HEADER: TOKEN})


async def call(endpoint: EndpointConfig, action: str = "action_answer_faq") -> str:
    answer = await rasa_fixes.endpoint_request(endpoint, json={"next_action": action})
    return str(answer["responses"][0]["text"])


async def test_calls_alternate_with_the_token_and_a_refusing_server_is_skipped(
    upstreams: list[Upstream], monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = f"http://127.0.0.1:{free_port()}/webhook"  # nothing listens: the server is down
    endpoint = use_failover(monkeypatch, [upstreams[0].url, gone, upstreams[1].url])
    names = [await call(endpoint) for _ in range(6)]
    assert sorted(set(names)) == ["a", "b"] and upstreams[0].calls + upstreams[1].calls == 6
    assert set(upstreams[0].tokens + upstreams[1].tokens) == {TOKEN}


async def test_a_call_lost_after_sending_is_not_repeated_elsewhere(
    upstreams: list[Upstream], monkeypatch: pytest.MonkeyPatch
) -> None:
    dying = await Upstream("dying", drop=True).start()
    try:
        endpoint = use_failover(monkeypatch, [dying.url, upstreams[0].url])
        with pytest.raises(aiohttp.ClientError):
            await call(endpoint, "action_submit_booking")
        assert dying.calls == 1 and upstreams[0].calls == 0  # the booking must not run twice
    finally:
        await dying.stop()


async def test_an_answered_rejection_is_rasas_error_and_not_tried_elsewhere(
    upstreams: list[Upstream], monkeypatch: pytest.MonkeyPatch
) -> None:
    rejecting = await Upstream("rejecting", status=400).start()  # a form's ActionExecutionRejection
    try:
        endpoint = use_failover(monkeypatch, [rejecting.url, upstreams[0].url])
        with pytest.raises(ClientResponseError) as raised:
            await call(endpoint)
        assert raised.value.status == 400 and rejecting.calls == 1 and upstreams[0].calls == 0
    finally:
        await rejecting.stop()


async def test_with_every_server_down_rasa_gets_the_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = use_failover(monkeypatch, [f"http://127.0.0.1:{free_port()}/webhook" for _ in range(2)])
    with pytest.raises(aiohttp.ClientConnectorError):
        await call(endpoint)


def test_one_action_server_needs_no_failover_and_other_endpoints_are_left_alone() -> None:
    assert rasa_fixes.action_failover({"ACTION_REPLICA_URLS": "http://127.0.0.1:5055/webhook"}) is None
    assert rasa_fixes.action_failover({}) is None
    failover = ActionFailover(["http://127.0.0.1:5055/webhook", "http://127.0.0.1:5056/webhook/"])
    assert failover.serves(EndpointConfig(url="http://127.0.0.1:5056/webhook"))
    assert not failover.serves(EndpointConfig(url="http://127.0.0.1:5005"))


def test_token_comparison() -> None:
    assert tokens_match(TOKEN, TOKEN)
    assert not tokens_match(TOKEN, TOKEN + "x")
    assert not tokens_match(TOKEN, None)
    assert not tokens_match("", "")  # an unset token never opens the door
    assert not tokens_match(TOKEN, "令牌")  # non-ASCII is compared, never an error

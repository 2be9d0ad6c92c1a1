"""The action balancer spreads calls, skips a server that refuses, and never repeats a sent call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from civil_affairs.ops.action_balancer import ActionBalancer, build_app
from launcher.ports import free_port


class Upstream:
    """A stand-in action server: answers with its name, or drops the connection mid-call."""

    def __init__(self, name: str, drop: bool = False) -> None:
        self.name, self.drop, self.calls = name, drop, 0
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        await request.read()
        if self.drop:  # the process died while running the action
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(1)
        return web.json_response({"events": [], "responses": [{"text": self.name}]})

    async def start(self) -> Upstream:
        app = web.Application()
        app.router.add_post("/webhook", self.webhook)
        app.router.add_get("/health", lambda _r: web.json_response({"status": "ok"}))
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


async def client_for(balancer: ActionBalancer) -> TestClient:
    client = TestClient(TestServer(build_app(balancer)))
    await client.start_server()
    return client


async def test_calls_alternate_and_a_refusing_server_is_skipped(upstreams: list[Upstream]) -> None:
    gone = f"http://127.0.0.1:{free_port()}/webhook"  # nothing listens: the server is down
    client = await client_for(ActionBalancer([upstreams[0].url, gone, upstreams[1].url]))
    try:
        names = []
        for _ in range(6):
            response = await client.post("/webhook", json={"next_action": "action_answer_faq"})
            assert response.status == 200
            names.append((await response.json())["responses"][0]["text"])
        assert sorted(set(names)) == ["a", "b"] and upstreams[0].calls + upstreams[1].calls == 6
        assert (await client.get("/readyz")).status == 200
    finally:
        await client.close()


async def test_a_call_lost_after_sending_is_not_repeated_elsewhere(upstreams: list[Upstream]) -> None:
    dying = await Upstream("dying", drop=True).start()
    client = await client_for(ActionBalancer([dying.url, upstreams[0].url]))
    try:
        response = await client.post("/webhook", json={"next_action": "action_submit_booking"})
        assert response.status == 502
        assert dying.calls == 1 and upstreams[0].calls == 0  # the booking must not run twice
    finally:
        await client.close()
        await dying.stop()

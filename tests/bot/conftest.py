"""Fixtures for the Telegram adapter: a fake Telegram Bot API, a fake Rasa, and the running bot.

Reusable by end-to-end tests with the real Rasa: take ``bot_env`` (settings pointing at the fake
Telegram server), build ``Settings.from_env({**bot_env, **stack.rasa_env}, dotenv=None)`` (Rasa's URL
and REST channel token) and ``await start_bot(settings)``; the bot stops when the test ends.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from telegram.ext import Application

from civil_affairs.config import Settings
from civil_affairs.tokens import REST_TOKEN_HEADER, tokens_match
from tests.helpers.telegram_fixtures import TEST_RASA_TIMEOUT_SECONDS, TEST_REST_TOKEN, TEST_TOKEN  # noqa: F401
from tests.helpers.threaded_server import ThreadedServer


@dataclass
class RasaRequest:
    """One message the fake Rasa received."""

    sender: str
    message: str
    at: float


@dataclass
class _Rule:
    """How the fake Rasa answers matching messages."""

    message: str | None
    sender: str | None
    reply: list[dict[str, Any]] | None
    delay: float
    status: int
    body: str | None = None
    seen: int = field(default=0)

    def matches(self, sender: str, message: str) -> bool:
        return (self.message is None or self.message == message) and (self.sender is None or self.sender == sender)


class FakeRasaServer(ThreadedServer):
    """A tiny Rasa REST channel (``POST /webhooks/rest/webhook``) with scripted answers.

    By default it echoes: ``[{"text": "收到：<message>"}]``. ``on(...)`` adds a rule (newest rules win)
    that answers with given messages, after a delay, or with an HTTP error; ``stop()`` makes the
    port refuse connections, as a crashed Rasa would.
    """

    thread_name = "fake-rasa"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._requests: list[RasaRequest] = []
        self._rules: list[_Rule] = []
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL as in the RASA_URL setting."""
        return f"http://127.0.0.1:{self.port}"

    def on(
        self,
        message: str | None = None,
        *,
        sender: str | None = None,
        reply: list[dict[str, Any]] | None = None,
        delay: float = 0.0,
        status: int = 200,
        body: str | None = None,
    ) -> None:
        """Answer messages matching ``message``/``sender`` (None = any) with ``reply`` or an error."""
        with self._lock:
            self._rules.insert(0, _Rule(message, sender, reply, delay, status, body))

    @property
    def requests(self) -> list[RasaRequest]:
        """Messages received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def messages(self, sender: str | None = None) -> list[str]:
        """The texts received, optionally from one sender."""
        return [r.message for r in self.requests if sender is None or r.sender == sender]

    async def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RasaRequest]:
        """Wait until ``count`` messages have arrived; return them."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"Rasa got {len(self.requests)} message(s), expected {count}")
            await asyncio.sleep(0.02)
        return self.requests[:count]

    async def _serve(self) -> None:
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def _cleanup(self) -> None:
        assert self._release is not None and self._runner is not None
        self._release.set()  # end pending delays so shutdown is quick
        await self._runner.cleanup()
        await super()._cleanup()

    async def _webhook(self, request: web.Request) -> web.Response:
        if not tokens_match(TEST_REST_TOKEN, request.headers.get(REST_TOKEN_HEADER)):
            return web.json_response({"error": "unauthorized"}, status=401)  # as servers.rest_channel
        data = await request.json()
        sender, message = str(data.get("sender")), str(data.get("message"))
        with self._lock:
            self._requests.append(RasaRequest(sender, message, time.monotonic()))
            rule = next((r for r in self._rules if r.matches(sender, message)), None)
        if rule is None:
            return web.json_response([{"recipient_id": sender, "text": f"收到：{message}"}])
        if rule.delay:
            assert self._release is not None
            try:
                await asyncio.wait_for(self._release.wait(), timeout=rule.delay)
            except asyncio.TimeoutError:
                pass
        if rule.status != 200 or rule.body is not None:
            return web.Response(status=rule.status, text=rule.body or "error")
        return web.json_response([{"recipient_id": sender, **m} for m in rule.reply or []])


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasaServer]:
    """A fresh scripted fake of Rasa's REST channel."""
    server = FakeRasaServer().start()
    yield server
    server.stop()


@pytest.fixture
def bot_settings(bot_env: dict[str, str], fake_rasa: FakeRasaServer) -> Settings:
    """Settings for the bot against the fake Telegram server and the fake Rasa."""
    return Settings.from_env({**bot_env, "RASA_URL": fake_rasa.url}, dotenv=None)


@pytest_asyncio.fixture
async def running_bot(start_bot: Callable[[Settings], Awaitable[Application]], bot_settings: Settings) -> Application:
    """The real bot Application, polling the fake Telegram server, talking to the fake Rasa."""
    return await start_bot(bot_settings)

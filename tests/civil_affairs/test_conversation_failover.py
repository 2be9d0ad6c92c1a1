"""Rasa replicas failing under the conversation service: the resident gets one answer, or "send again".

A replica that refuses the connection never saw the message (the next one takes it); one that drops
the connection after receiving it may have answered: the answer stored in the tracker store is then
replayed, and only a message Rasa never stored is sent to another replica.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from aiohttp import web

from civil_affairs.config import Settings
from civil_affairs.conversations.delivery import Delivery
from civil_affairs.conversations.rasa_client import MessageLost, RasaClient
from civil_affairs.conversations.service import ConversationService
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import TrackerEvent
from civil_affairs.ops.tracker_events import MESSAGE_ID_KEY
from civil_affairs.tokens import REST_TOKEN_HEADER
from launcher.ports import free_port

REST_TOKEN = "rest-token-of-the-replicas-01"


class Replica:
    """A stand-in Rasa replica: answers, answers nothing, or dies holding the message."""

    def __init__(self, mode: str) -> None:
        self.mode, self.received = mode, 0
        self.port = free_port()
        self._server: asyncio.base_events.Server | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Replica:
        if self.mode == "dies":

            async def die(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                self.received += 1
                await reader.read(65536)
                writer.close()  # the process is gone: no answer, the connection drops

            self._server = await asyncio.start_server(die, "127.0.0.1", self.port)
        elif self.mode != "down":

            async def webhook(request: web.Request) -> web.Response:
                if request.headers.get(REST_TOKEN_HEADER) != REST_TOKEN:
                    return web.json_response({"error": "unauthorized"}, status=401)
                self.received += 1
                body = await request.json()
                answers = [] if self.mode == "silent" else [{"text": f"回答：{body['message']}"}]
                return web.json_response(answers)

            app = web.Application()
            app.router.add_post("/webhooks/rest/webhook", webhook)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._runner is not None:
            await self._runner.cleanup()


Build = Callable[..., Awaitable[tuple[ConversationService, list[Replica]]]]


def sender_first_on(index: int, replicas: int) -> str:
    """A web sender id whose conversation sticks to replica ``index``."""
    return next(f"web-{n:032x}" for n in range(1000) if zlib.crc32(f"web-{n:032x}".encode()) % replicas == index)


@pytest_asyncio.fixture
async def service_with(migrated_settings: Settings) -> AsyncIterator[Build]:
    engine = make_engine(migrated_settings.database_url)
    sessions = make_session_factory(engine)
    started: list[Replica] = []
    services: list[ConversationService] = []

    async def build(*modes: str) -> tuple[ConversationService, list[Replica]]:
        replicas = [await Replica(mode).start() for mode in modes]
        started.extend(replicas)
        service = ConversationService(
            migrated_settings,
            sessions,
            RasaClient([r.url for r in replicas], 5.0, rest_token=REST_TOKEN),
            Delivery(migrated_settings, sessions),
        )
        services.append(service)
        return service, replicas

    yield build
    for service in services:
        await service.aclose()
    for replica in started:
        await replica.stop()
    engine.dispose()


async def test_a_replica_that_refuses_is_skipped(service_with: Build) -> None:
    service, (down, good) = await service_with("down", "answers")
    answers = await service.send(sender_first_on(0, 2), "低保怎么申请")
    assert [a.text for a in answers] == ["回答：低保怎么申请"] and good.received == 1


async def test_a_replica_that_dies_holding_an_unstored_message_hands_it_to_another(service_with: Build) -> None:
    service, (dying, good) = await service_with("dies", "answers")
    answers = await service.send(sender_first_on(0, 2), "特困怎么申请", message_id="m-1")
    assert [a.text for a in answers] == ["回答：特困怎么申请"]
    assert dying.received == 1 and good.received == 1


async def test_an_answer_stored_before_the_replica_died_is_replayed_not_asked_again(service_with: Build) -> None:
    service, (dying, good) = await service_with("dies", "answers")
    sender = sender_first_on(0, 2)
    events = [
        {"event": "user", "text": "高龄津贴", "metadata": {MESSAGE_ID_KEY: "m-2"}},
        {"event": "bot", "text": "高龄津贴按月发放。", "data": {}},
        {"event": "action", "name": "action_listen"},
    ]
    with service.sessions.begin() as session:
        session.add_all(
            TrackerEvent(
                sender_id=sender,
                type_name=e["event"],
                action_name=e.get("name"),
                timestamp=float(i),
                data=json.dumps(e, ensure_ascii=False),
            )
            for i, e in enumerate(events)
        )
    answers = await service.send(sender, "高龄津贴", message_id="m-2")
    assert [a.text for a in answers] == ["高龄津贴按月发放。"] and good.received == 0


@pytest.mark.parametrize("modes", [("dies",), ("silent",)])
async def test_a_lost_message_asks_the_resident_to_send_it_again(service_with: Build, modes: tuple[str, ...]) -> None:
    service, _ = await service_with(*modes)
    with pytest.raises(MessageLost):
        await service.send("web-" + "a" * 32, "你好")

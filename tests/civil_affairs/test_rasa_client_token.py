"""Every message the channels send to Rasa's REST channel carries ``RASA_REST_TOKEN`` (servers.rest_channel)."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from aiohttp import web

from civil_affairs.conversations.rasa_client import RasaClient, RasaMaybeProcessed, RasaUnavailable
from civil_affairs.tokens import REST_TOKEN_HEADER
from tests.conftest import make_settings
from tests.fake_rasa_rest import Handler, fake_rasa, refused_url

TOKEN = "rest-token-of-this-test-0123456789"


async def test_every_replica_gets_the_token_from_the_settings(tmp_path: Path) -> None:
    seen: list[tuple[str, str | None]] = []

    def replica(name: str) -> Handler:
        async def answer(request: web.Request) -> web.Response:
            seen.append((name, request.headers.get(REST_TOKEN_HEADER)))
            return web.json_response([{"text": "好的"}])

        return answer

    async with fake_rasa(replica("a")) as a, fake_rasa(replica("b")) as b:
        settings = make_settings(tmp_path, RASA_URL=f"{a},{b}", RASA_REST_TOKEN=TOKEN)
        client = RasaClient.for_settings(settings)
        for index in (0, 1):  # a conversation whose own replica is a, then one whose own is b
            sender = next(f"tg-{n}" for n in range(100) if zlib.crc32(f"tg-{n}".encode()) % 2 == index)
            [reply] = await client.send(sender, "低保怎么申请")
            assert reply.text == "好的"
        await client.aclose()
    assert seen == [("a", TOKEN), ("b", TOKEN)]


async def test_a_refusing_replica_is_passed_over_at_once(tmp_path: Path) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response([{"text": "好的"}])

    async with fake_rasa(answer) as up:
        settings = make_settings(tmp_path, RASA_URL=f"{refused_url()},{up}", RASA_REST_TOKEN=TOKEN)
        client = RasaClient.for_settings(settings)
        sender = next(f"tg-{n}" for n in range(100) if zlib.crc32(f"tg-{n}".encode()) % 2 == 0)  # refused one first
        [reply] = await client.send(sender, "低保怎么申请")
        await client.aclose()
    assert reply.text == "好的"


async def test_a_refused_token_is_a_busy_rasa_not_a_message_to_send_again() -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": "unauthorized"}, status=401)

    async with fake_rasa(refuse) as url:
        client = RasaClient(url, 5, rest_token="wrong-token-0123456789")
        with pytest.raises(RasaUnavailable, match="HTTP 401") as raised:
            await client.send("tg-1", "你好")
        await client.aclose()
    assert not isinstance(raised.value, RasaMaybeProcessed)  # Rasa never saw it

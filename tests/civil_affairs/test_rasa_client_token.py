"""Every message the channels send to Rasa's REST channel carries ``RASA_REST_TOKEN`` (servers.rest_channel)."""

from __future__ import annotations

import zlib
from pathlib import Path

import httpx
import pytest

from civil_affairs.conversations.rasa_client import RasaClient, RasaMaybeProcessed, RasaUnavailable
from civil_affairs.tokens import REST_TOKEN_HEADER
from tests.conftest import make_settings

TOKEN = "rest-token-of-this-test-0123456789"


async def test_every_replica_gets_the_token_from_the_settings(tmp_path: Path) -> None:
    seen: list[tuple[str, str | None]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers.get(REST_TOKEN_HEADER)))
        if request.url.host == "a.test":
            raise httpx.ConnectError("refused")  # the next replica takes the message
        return httpx.Response(200, json=[{"text": "好的"}])

    settings = make_settings(tmp_path, RASA_URL="http://a.test,http://b.test", RASA_REST_TOKEN=TOKEN)
    client = RasaClient.for_settings(settings, http=httpx.AsyncClient(transport=httpx.MockTransport(answer)))
    sender = next(f"tg-{n}" for n in range(100) if zlib.crc32(f"tg-{n}".encode()) % 2 == 0)  # a.test first
    [reply] = await client.send(sender, "低保怎么申请")
    await client.aclose()
    assert reply.text == "好的"
    assert seen == [("a.test", TOKEN), ("b.test", TOKEN)]


async def test_a_refused_token_is_a_busy_rasa_not_a_message_to_send_again() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "unauthorized"})

    client = RasaClient(
        "http://rasa.test",
        5,
        rest_token="wrong-token-0123456789",
        http=httpx.AsyncClient(transport=httpx.MockTransport(refuse)),
    )
    with pytest.raises(RasaUnavailable, match="HTTP 401") as raised:
        await client.send("tg-1", "你好")
    await client.aclose()
    assert not isinstance(raised.value, RasaMaybeProcessed)  # Rasa never saw it

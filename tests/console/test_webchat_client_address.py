"""The web visitor's address reaches the actions' rate limits (issue 9 item 7), as a keyed digest only."""

from __future__ import annotations

import pytest
from aiohttp import web
from fastapi.testclient import TestClient

from civil_affairs.conversations.rasa_client import RasaClient, RasaMessage
from civil_affairs.throttle import CLIENT_ADDRESS_KEY, CURRENT_CLIENT_ADDRESS, client_digest
from tests.fake_rasa_rest import fake_rasa


async def test_the_rasa_client_sends_the_current_client_address_in_the_metadata() -> None:
    bodies: list[dict] = []

    async def answer(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return web.json_response([{"recipient_id": "x", "text": "好的"}])

    async with fake_rasa(answer) as url:
        client = RasaClient(url, 5, rest_token="t" * 20)
        await client.send("web-" + "a" * 32, "查进度", message_id="m1")
        token = CURRENT_CLIENT_ADDRESS.set("digest-1")
        try:
            await client.send("web-" + "a" * 32, "查进度", message_id="m2")
        finally:
            CURRENT_CLIENT_ADDRESS.reset(token)
        await client.aclose()
    assert CLIENT_ADDRESS_KEY not in bodies[0]["metadata"]
    assert bodies[1]["metadata"][CLIENT_ADDRESS_KEY] == "digest-1"


def test_the_web_chat_passes_a_digest_of_the_address_never_the_address(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []

    async def fake_send(sender_id: str, text: str, **_: object) -> list[RasaMessage]:
        seen.append(CURRENT_CLIENT_ADDRESS.get())
        return [RasaMessage(text="好的")]

    monkeypatch.setattr(client.app.state.conversations, "send", fake_send)
    assert client.post("/api/chat", json={"message": "查进度"}).status_code == 200
    secret = client.app.state.settings.secret_key
    assert seen == [client_digest("testclient", secret)] and "testclient" not in seen[0]
    assert CURRENT_CLIENT_ADDRESS.get() is None

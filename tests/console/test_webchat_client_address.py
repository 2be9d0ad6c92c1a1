"""The web visitor's address reaches the actions' rate limits (issue 9 item 7), as a keyed digest only."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from civil_affairs.conversations.rasa_client import RasaClient, RasaMessage
from civil_affairs.throttle import CLIENT_ADDRESS_KEY, CURRENT_CLIENT_ADDRESS, client_digest


async def test_the_rasa_client_sends_the_current_client_address_in_the_metadata() -> None:
    bodies: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=[{"recipient_id": "x", "text": "好的"}])

    client = RasaClient(
        "http://rasa.test", 5, rest_token="t" * 20, http=httpx.AsyncClient(transport=httpx.MockTransport(answer))
    )
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

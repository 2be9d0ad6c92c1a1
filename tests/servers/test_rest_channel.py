"""Rasa's REST channel as Rasa loads it from ``credentials.yml``: the token or a 401, nothing in between.

Before: Rasa's own ``rest`` channel took a message from anyone who reached Rasa's port, under any
sender id (``tg-<chat id>``) and with any metadata (``client_address``), and answered it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from civil_affairs.config import PROJECT_ROOT
from civil_affairs.tokens import REST_TOKEN_HEADER
from launcher.ports import free_port
from servers.rest_channel import TOKEN_VARIABLE, TokenRestInput
from tests.helpers.threaded_server import ThreadedServer

TOKEN = "rest-channel-token-0123456789abcdef"
CREDENTIALS = str(PROJECT_ROOT / "credentials.yml")


@dataclass
class Agent:
    """Stands in for Rasa's agent: notes every message that reaches it and answers it."""

    seen: list[Any] = field(default_factory=list)

    async def handle_message(self, message: Any) -> None:
        self.seen.append(message)
        await message.output_channel.send_text_message(message.sender_id, "收到")


def channels_from_credentials() -> list[Any]:
    """The channels exactly as `rasa run --credentials credentials.yml` builds them."""
    from rasa.core.run import create_http_input_channels

    return create_http_input_channels(None, CREDENTIALS)


class ChannelServer(ThreadedServer):
    """Rasa's channel routes (registered as ``rasa run`` does) over a stand-in agent, on a free port.

    One per module: Sanic 21.12 cannot start a second app in one process.
    """

    thread_name = "rest-channel"

    def __init__(self, channels: list[Any]) -> None:
        super().__init__()
        self.channels, self.agent, self.port = channels, Agent(), free_port()
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self) -> None:
        from rasa.core.channels.channel import register
        from sanic import Sanic

        app = Sanic("rest-channel-test", configure_logging=False)
        app.ctx.agent = self.agent
        register(self.channels, app, "/webhooks/")
        self._server = await app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self._server.startup()

    async def _cleanup(self) -> None:
        await self._server.close()
        await super()._cleanup()


@pytest.fixture(scope="module")
def server() -> Iterator[ChannelServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TOKEN_VARIABLE, TOKEN)
        channels = channels_from_credentials()
    running = ChannelServer(channels).start()
    yield running
    running.stop()


@pytest.fixture
def served(server: ChannelServer) -> ChannelServer:
    server.agent.seen.clear()
    return server


def test_rasa_loads_the_channel_under_the_name_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    [channel] = channels_from_credentials()
    assert isinstance(channel, TokenRestInput)
    assert channel.name() == channel.url_prefix() == "rest"  # so the URL is /webhooks/rest/webhook


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_rasa_refuses_to_start_without_the_token(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(TOKEN_VARIABLE, value)
    with pytest.raises(SystemExit, match=TOKEN_VARIABLE):
        channels_from_credentials()
    with pytest.raises(ValueError, match=TOKEN_VARIABLE):
        TokenRestInput("")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {REST_TOKEN_HEADER: ""},
        {REST_TOKEN_HEADER: TOKEN[:-1] + "x"},
        {REST_TOKEN_HEADER: TOKEN + "x"},
        {REST_TOKEN_HEADER: ("令牌" * 8).encode()},
        {"Authorization": f"Bearer {TOKEN}"},
    ],
    ids=["no token", "empty", "wrong last character", "longer", "non-ascii", "another header"],
)
async def test_a_message_without_the_right_token_is_refused_before_rasa_sees_it(
    served: ChannelServer, headers: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    forged = {"sender": "tg-123456789", "message": "查进度", "metadata": {"client_address": "forged"}}
    caplog.set_level(logging.WARNING, logger="servers.rest_channel")
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        answers = [
            await client.post("/webhooks/rest/webhook", json=forged, headers=headers),
            await client.post("/webhooks/rest/webhook", json=forged, headers=headers, params={"stream": "true"}),
            await client.get("/webhooks/rest/", headers=headers),
        ]
    for answer in answers:
        assert answer.status_code == 401
        assert answer.json() == {"error": "unauthorized"}
    assert served.agent.seen == []  # never reached the model: no tracker for tg-123456789
    assert "refused POST /webhooks/rest/webhook" in caplog.text and TOKEN not in caplog.text


async def test_the_right_token_reaches_rasa_with_the_message_as_sent(served: ChannelServer) -> None:
    message = {"sender": "web-" + "a" * 64, "message": "低保怎么申请", "metadata": {"message_id": "m1"}}
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        answer = await client.post("/webhooks/rest/webhook", json=message, headers={REST_TOKEN_HEADER: TOKEN})
    assert answer.status_code == 200
    assert answer.json() == [{"recipient_id": "web-" + "a" * 64, "text": "收到"}]
    [seen] = served.agent.seen
    assert (seen.sender_id, seen.text, seen.input_channel) == ("web-" + "a" * 64, "低保怎么申请", "rest")
    assert seen.metadata == {"message_id": "m1"}

"""Building the application, the entry point and webhook mode."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from bot import build_application, texts
from bot.__main__ import main
from bot.application import file_base_url
from bot.lifecycle import running
from bot.update_processor import PerChatUpdateProcessor
from bot.webhook import SECRET_HEADER, build_webhook_app, build_webhook_server, serve_webhook, webhook_path
from civil_affairs.config import Settings
from tests.helpers.fake_telegram import FakeTelegramServer

CHAT = 7007


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("https://api.example.org/bot{token}", "https://api.example.org/file/bot{token}"),
        ("http://proxy.local/telegram/", None),
    ],
)
def test_file_base_url(base_url: str, expected: str | None) -> None:
    assert file_base_url(base_url) == expected


def test_build_application_uses_the_base_url_and_the_per_chat_processor(bot_settings: Settings) -> None:
    application = build_application(bot_settings)

    assert application.bot.base_url == f"{bot_settings.telegram_api_base_url}{bot_settings.telegram_bot_token}"
    assert application.bot.base_file_url.endswith("/file/bot" + bot_settings.telegram_bot_token)
    assert isinstance(application.update_processor, PerChatUpdateProcessor)
    assert application.bot_data.settings is bot_settings


def test_main_without_token_exits_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: Settings()))

    with pytest.raises(SystemExit) as exited:
        main()

    assert "TELEGRAM_BOT_TOKEN" in str(exited.value.code)


def test_webhook_path_follows_the_public_url() -> None:
    assert webhook_path("https://bot.example.org/tg/hook") == "/tg/hook"
    assert webhook_path("https://bot.example.org") == "/telegram"


async def test_webhook_route_checks_the_secret_and_queues_updates(
    bot_settings: Settings, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    application = build_application(bot_settings)
    web_app = build_webhook_app(application, path="/telegram", secret="s3cret-token")
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": CHAT, "type": "private", "first_name": "居民"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "居民"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    async with running(application, poll=False):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url="http://bot") as client:
            refused = await client.post("/telegram", json=update, headers={SECRET_HEADER: "wrong"})
            accepted = await client.post("/telegram", json=update, headers={SECRET_HEADER: "s3cret-token"})
            health = await client.get("/healthz")
            headers = {SECRET_HEADER: "s3cret-token"}
            not_json = await client.post("/telegram", content=b"{oops", headers=headers)
            not_update = await client.post("/telegram", json={"hello": 1}, headers=headers)

        [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert health.text == "ok"
    assert not_json.status_code == 400 and not_update.status_code == 400
    assert reply.text == texts.HELP


async def test_webhook_mode_registers_the_webhook_and_serves_updates(
    bot_env: dict[str, str], telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    port = _free_port()
    settings = Settings.from_env(
        {
            **bot_env,
            "RASA_URL": fake_rasa.url,
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg/hook",
            "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
            "TELEGRAM_WEBHOOK_PORT": str(port),
            "TELEGRAM_WEBHOOK_SECRET": "s3cret-token",
        },
        dotenv=None,
    )
    application = build_application(settings)
    server = build_webhook_server(application, settings)
    serving = asyncio.create_task(serve_webhook(application, settings, server))
    try:
        [registered] = await telegram_server.wait_for_calls("setWebhook")
        assert registered.params["url"] == "https://bot.example.org/tg/hook"
        assert registered.params["secret_token"] == "s3cret-token"
        while not server.started:
            await asyncio.sleep(0.02)
        fake_rasa.on("低保", reply=[{"text": "低保是最低生活保障。"}])
        update = _text_update(CHAT, "低保")
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"http://127.0.0.1:{port}/tg/hook", json=update, headers={SECRET_HEADER: "s3cret-token"}
            )
        assert response.status_code == 200
        [reply] = await telegram_server.wait_for_messages(CHAT, 1)
        assert reply.text == "低保是最低生活保障。"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=10)


def _free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _text_update(chat_id: int, text: str) -> dict:
    """A Telegram update JSON with one private text message."""
    return {
        "update_id": 10,
        "message": {
            "message_id": 3,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "居民"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "居民"},
            "text": text,
        },
    }


async def test_polling_asks_only_for_the_update_kinds_the_bot_answers(
    running_bot, telegram_server: FakeTelegramServer
) -> None:
    for _ in range(100):
        if telegram_server.allowed_updates is not None:
            break
        await asyncio.sleep(0.02)

    assert telegram_server.allowed_updates == ["message", "edited_message", "callback_query"]

"""Webhook mode: an update Telegram delivers again is answered once, even while the first is still running.

Telegram re-sends an update when the webhook call was not answered in time; the second call can
arrive while the bot still waits for Rasa on the first.
"""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest

from bot import build_application
from bot.lifecycle import running
from bot.webhook import SECRET_HEADER, build_webhook_app, serve_webhook
from civil_affairs.config import Settings
from tests.helpers.fake_telegram import FakeTelegramServer

CHAT = 4004


def text_update(update_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "text": text,
            "chat": {"id": CHAT, "type": "private", "first_name": "居民"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "居民"},
        },
    }


async def test_a_duplicate_arriving_while_the_first_is_handled_is_dropped(
    bot_settings: Settings, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.on("结婚登记要带什么", reply=[{"text": "身份证和户口簿"}], delay=1.0)
    application = build_application(bot_settings)
    web_app = build_webhook_app(application, path="/telegram", secret="dup-secret")
    headers = {SECRET_HEADER: "dup-secret"}
    async with running(application, poll=False):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url="http://bot") as client:
            body = text_update(600_001, "结婚登记要带什么")
            answers = await asyncio.gather(*(client.post("/telegram", json=body, headers=headers) for _ in range(3)))
            await telegram_server.wait_for_messages(CHAT, 1, timeout=10)
            await asyncio.sleep(1.5)  # time for a second answer to show
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert fake_rasa.messages() == ["结婚登记要带什么"]
    assert [m.text for m in telegram_server.sent_messages(CHAT)] == ["身份证和户口簿"]


async def test_webhook_mode_never_serves_without_a_secret_in_production(bot_settings: Settings) -> None:
    """Settings refuse this combination; the webhook server refuses it as well, should settings be built by hand."""
    production = dataclasses.replace(
        bot_settings,
        app_env="production",
        telegram_mode="webhook",
        telegram_webhook_url="https://bot.example.gov.cn/telegram",
        telegram_webhook_secret="",
    )
    application = build_application(production)
    with pytest.raises(RuntimeError, match="TELEGRAM_WEBHOOK_SECRET"):
        await serve_webhook(application, production)

"""When Rasa is down, failing or slow, residents get "系统繁忙，请稍后再试" quickly."""

from __future__ import annotations

import logging
import time

import pytest
from telegram.ext import Application

from bot import texts
from tests.helpers.fake_telegram import FakeTelegramServer

CHAT = 3003


def assert_busy(text: str | None) -> None:
    """The busy reply starts with exactly the agreed sentence."""
    assert text is not None
    assert text.startswith(texts.BUSY)
    assert texts.BUSY == "系统繁忙，请稍后再试"


async def test_rasa_stopped_gives_busy_reply_and_help_still_works(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.stop()
    telegram_server.push_text(CHAT, "高龄津贴怎么领")
    started = time.monotonic()

    [busy] = await telegram_server.wait_for_messages(CHAT, 1, timeout=5)
    assert_busy(busy.text)
    assert "/help" in busy.text
    assert busy.at - started < 3

    telegram_server.push_command(CHAT, "/help")
    _, help_reply = await telegram_server.wait_for_messages(CHAT, 2)
    assert help_reply.text == texts.HELP


async def test_rasa_stopped_button_press_still_answers_the_query(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.stop()
    telegram_server.push_callback(CHAT, "/check_status")

    [busy] = await telegram_server.wait_for_messages(CHAT, 1)

    assert_busy(busy.text)
    assert len(telegram_server.calls("answerCallbackQuery")) == 1


@pytest.mark.parametrize("status", [500, 503, 404])
async def test_rasa_http_error_gives_busy_reply(
    status: int, running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.on(status=status)
    telegram_server.push_text(CHAT, "你好")

    [busy] = await telegram_server.wait_for_messages(CHAT, 1)

    assert_busy(busy.text)


async def test_rasa_invalid_json_gives_busy_reply(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.on(body="<html>oops</html>")
    telegram_server.push_text(CHAT, "你好")

    [busy] = await telegram_server.wait_for_messages(CHAT, 1)

    assert_busy(busy.text)


async def test_slow_rasa_gives_busy_reply_after_the_timeout(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    timeout = running_bot.bot_data.settings.rasa_timeout_seconds
    fake_rasa.on(delay=10, reply=[{"text": "太晚了"}])
    telegram_server.push_text(CHAT, "临时救助")
    started = time.monotonic()

    [busy] = await telegram_server.wait_for_messages(CHAT, 1, timeout=timeout + 3)

    assert_busy(busy.text)
    assert timeout - 0.2 <= busy.at - started < timeout + 2


async def test_error_in_a_handler_is_logged_and_apologised_for(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    secret_text = "我的身份证号是362322199001011234"
    fake_rasa.on(secret_text, reply=[{"text": "收到"}])
    telegram_server.fail_next("sendMessage", "Bad Request: chat not found")
    telegram_server.push_text(CHAT, secret_text)

    await telegram_server.wait_for_calls("sendMessage", 2)
    [apology] = telegram_server.sent_messages(CHAT)  # the first sendMessage failed

    assert apology.text == texts.ERROR_APOLOGY
    errors = [r for r in caplog.records if r.name == "bot.error_handler"]
    assert errors and errors[0].exc_info is not None
    # Privacy: the bot's own log records carry the chat id, never the resident's text.
    bot_records = [r for r in caplog.records if r.name.startswith("bot")]
    assert any(str(CHAT) in r.getMessage() for r in bot_records)
    assert all("362322199001011234" not in r.getMessage() for r in bot_records)
    assert "362322199001011234" not in caplog.text

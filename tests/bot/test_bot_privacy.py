"""The bot logs chat ids and event kinds, never residents' words, ID or phone numbers."""

from __future__ import annotations

import logging

import pytest
from telegram.ext import Application

from tests.helpers.fake_telegram import FakeTelegramServer

CHAT = 6006
ID_NUMBER = "36232219900101123X"
PHONE = "13912345678"


async def test_bot_logs_never_contain_message_texts(
    running_bot: Application,
    telegram_server: FakeTelegramServer,
    fake_rasa,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    fake_rasa.on(reply=[{"text": f"您登记的手机号是 {PHONE}", "buttons": [{"title": "确认", "payload": "/affirm"}]}])
    telegram_server.push_text(CHAT, f"我要预约，身份证 {ID_NUMBER}，电话 {PHONE}")
    await telegram_server.wait_for_messages(CHAT, 1)
    telegram_server.push_callback(CHAT, "/affirm")
    await telegram_server.wait_for_messages(CHAT, 2)
    telegram_server.push_contact(CHAT, phone_number=PHONE)
    await telegram_server.wait_for_messages(CHAT, 3)
    fake_rasa.stop()
    telegram_server.push_text(CHAT, f"再问一次 {ID_NUMBER}")
    await telegram_server.wait_for_messages(CHAT, 4)
    assert len(fake_rasa.requests) == 2

    bot_records = [r for r in caplog.records if r.name.startswith("bot")]
    assert bot_records
    assert any(str(CHAT) in r.getMessage() for r in bot_records)
    for secret in (ID_NUMBER, PHONE, "预约", "再问一次"):
        assert all(secret not in r.getMessage() for r in bot_records), secret

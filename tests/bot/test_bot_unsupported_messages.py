"""Stickers, media, locations and edits get a polite answer and never reach Rasa."""

from __future__ import annotations

import pytest
from telegram.ext import Application

from bot import texts
from tests.helpers.fake_telegram import FakeTelegramServer

CHAT = 2002


@pytest.mark.parametrize(
    "push",
    [
        lambda server: server.push_sticker(CHAT),
        lambda server: server.push_photo(CHAT, caption="这是我的材料"),
        lambda server: server.push_voice(CHAT),
        lambda server: server.push_document(CHAT),
        lambda server: server.push_contact(CHAT),
    ],
    ids=["sticker", "photo", "voice", "document", "contact"],
)
async def test_non_text_message_gets_text_only_answer(
    push, running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    push(telegram_server)

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == texts.TEXT_ONLY
    assert fake_rasa.requests == []


async def test_location_is_acknowledged(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    telegram_server.push_location(CHAT)

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == texts.LOCATION_RECEIVED
    assert "位置" in reply.text
    assert fake_rasa.requests == []


async def test_edited_message_is_not_sent_to_rasa(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    telegram_server.push_edited_message(CHAT, "我改一下：低保怎么申请", message_id=5)

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == texts.EDITED_MESSAGE
    assert fake_rasa.requests == []

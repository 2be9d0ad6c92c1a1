"""Telegram updates are handled once across bot restarts, and an unfinished one is never left silent.

The updates table lives in the test's database (bot_env), so a second Application on the same
database stands for the bot after a restart, exactly as the launcher restarts it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from telegram.ext import Application

from bot import build_application, texts
from bot.lifecycle import running
from bot.webhook import SECRET_HEADER, build_webhook_app
from civil_affairs.config import Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import TelegramUpdate, TrackerEvent
from civil_affairs.models.base import utcnow
from civil_affairs.ops.tracker_events import MESSAGE_ID_KEY
from tests.helpers.fake_telegram import FakeTelegramServer
from tests.helpers.telegram_fixtures import TEST_TOKEN

CHAT = 6006
BOT_ID = int(TEST_TOKEN.split(":")[0])
StartBot = Callable[[Settings], Awaitable[Application]]


def ledger_rows(settings: Settings) -> dict[int, str]:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            return {row.update_id: row.state for row in session.scalars(select(TelegramUpdate))}
    finally:
        engine.dispose()


async def wait_for_state(settings: Settings, update_id: int, state: str, timeout: float = 5.0) -> None:
    """Wait until the ledger shows ``state`` for the update (it is written just after sending)."""
    for _ in range(int(timeout / 0.05)):
        if ledger_rows(settings).get(update_id) == state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"update {update_id}: {ledger_rows(settings).get(update_id)}, expected {state}")


def add_rows(settings: Settings, *rows: object) -> None:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            session.add_all(rows)
    finally:
        engine.dispose()


def text_update(update_id: int, text: str, chat_id: int = CHAT) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "text": text,
            "chat": {"id": chat_id, "type": "private", "first_name": "居民"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "居民"},
        },
    }


async def test_an_update_delivered_again_after_a_restart_is_answered_once(
    start_bot: StartBot, bot_settings: Settings, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    application = build_application(bot_settings)
    async with running(application, poll=True, poll_timeout=1.0):
        telegram_server.push_update(text_update(900_001, "低保怎么申请"))
        await telegram_server.wait_for_messages(CHAT, 1)
    # Telegram delivers the same update again (the confirming getUpdates never reached it).
    telegram_server.push_update(text_update(900_001, "低保怎么申请"))
    telegram_server.push_update(text_update(900_002, "特困怎么申请"))
    await start_bot(bot_settings)
    answers = await telegram_server.wait_for_messages(CHAT, 2)
    await asyncio.sleep(1.0)  # time for a wrong second answer to show
    assert [m.text for m in telegram_server.sent_messages(CHAT)] == [a.text for a in answers]
    assert fake_rasa.messages() == ["低保怎么申请", "特困怎么申请"]
    await wait_for_state(bot_settings, 900_002, "answered")
    assert ledger_rows(bot_settings) == {900_001: "answered", 900_002: "answered"}


async def test_a_webhook_call_repeated_by_telegram_is_answered_once(
    bot_settings: Settings, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    application = build_application(bot_settings)
    web_app = build_webhook_app(application, path="/telegram", secret="s3cret-token")
    headers = {SECRET_HEADER: "s3cret-token"}
    async with running(application, poll=False):
        transport = httpx.ASGITransport(app=web_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            first = await client.post("/telegram", json=text_update(700_001, "高龄津贴"), headers=headers)
            await telegram_server.wait_for_messages(CHAT, 1)
            again = await client.post("/telegram", json=text_update(700_001, "高龄津贴"), headers=headers)
            await asyncio.sleep(1.0)
    assert first.status_code == again.status_code == 200
    assert len(telegram_server.sent_messages(CHAT)) == 1
    assert fake_rasa.messages() == ["高龄津贴"]


async def test_an_update_the_dead_bot_never_finished_gets_a_request_to_send_it_again(
    start_bot: StartBot, bot_settings: Settings, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    # The previous run recorded (and confirmed) the update, then was killed before answering.
    add_rows(
        bot_settings,
        TelegramUpdate(bot_id=BOT_ID, update_id=500_001, chat_id=CHAT, state="received", owner="bot/previous-run"),
    )
    await start_bot(bot_settings)
    [reply] = await telegram_server.wait_for_messages(CHAT, 1, timeout=15)
    assert reply.text == texts.RESEND_AFTER_RESTART
    await wait_for_state(bot_settings, 500_001, "resend_asked")
    assert fake_rasa.messages() == []


@pytest.mark.parametrize("delivered_again", [False, True])
async def test_an_update_rasa_answered_before_the_bot_died_gets_that_answer(
    delivered_again: bool, start_bot: StartBot, bot_settings: Settings, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    sender, message_id = f"tg-{CHAT}", "tg-update:500002"
    events = [
        {"event": "user", "text": "结婚登记要带什么", "metadata": {MESSAGE_ID_KEY: message_id}},
        {"event": "action", "name": "action_answer_faq"},
        {
            "event": "bot",
            "text": "结婚登记请带好身份证和户口簿。",
            "data": {"buttons": [{"title": "转人工", "payload": "/request_human"}]},
        },
        {"event": "action", "name": "action_listen"},
    ]
    add_rows(
        bot_settings,
        TelegramUpdate(bot_id=BOT_ID, update_id=500_002, chat_id=CHAT, state="processing", owner="bot/previous-run"),
        *[
            TrackerEvent(
                sender_id=sender,
                type_name=e["event"],
                action_name=e.get("name"),
                timestamp=float(i),
                data=json.dumps(e, ensure_ascii=False),
            )
            for i, e in enumerate(events)
        ],
    )
    if delivered_again:  # polling: the update was never confirmed, so Telegram sends it once more
        telegram_server.push_update(text_update(500_002, "结婚登记要带什么"))
    await start_bot(bot_settings)
    [reply] = await telegram_server.wait_for_messages(CHAT, 1, timeout=15)
    assert reply.text == "结婚登记请带好身份证和户口簿。"
    assert reply.button_list == [("转人工", "/request_human")]
    await wait_for_state(bot_settings, 500_002, "answered" if delivered_again else "replayed")
    await asyncio.sleep(0.5)
    assert len(telegram_server.sent_messages(CHAT)) == 1
    assert fake_rasa.messages() == []  # Rasa was not asked a second time


async def test_unfinished_updates_of_another_live_bot_are_left_to_it_until_stale(
    start_bot: StartBot, bot_settings: Settings, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fresh = TelegramUpdate(
        bot_id=BOT_ID, update_id=500_003, chat_id=CHAT, state="processing", owner="bot-webhook-2/live-run"
    )
    stale = TelegramUpdate(
        bot_id=BOT_ID,
        update_id=500_004,
        chat_id=CHAT + 1,
        state="processing",
        owner="bot-webhook-2/dead-run",
        received_at=utcnow() - timedelta(minutes=5),
    )
    add_rows(bot_settings, fresh, stale)
    await start_bot(bot_settings)
    [reply] = await telegram_server.wait_for_messages(CHAT + 1, 1, timeout=15)
    assert reply.text == texts.RESEND_AFTER_RESTART
    assert telegram_server.sent_messages(CHAT) == []
    assert ledger_rows(bot_settings)[500_003] == "processing"

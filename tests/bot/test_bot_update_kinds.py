"""Every kind of Telegram update, delivered through the webhook route as Telegram (or a forger) would.

The bot answers residents in private chats only: group messages reached Rasa and were answered in
the group (personal details read out to everyone, the staff chat's own lines treated as a
resident's). Updates the bot offers nothing for are dropped silently; malformed or oversized
bodies get 400/413, never a 500.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from itertools import count
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bot import build_application, texts
from bot.lifecycle import running
from bot.webhook import MAX_UPDATE_BYTES, SECRET_HEADER, build_webhook_app
from civil_affairs.config import Settings
from tests.helpers.fake_telegram import FakeTelegramServer

RESIDENT = 3003
GROUP = -1004001
STAFF_GROUP = -1004002
SECRET = "kind-test-secret"
HEADERS = {SECRET_HEADER: SECRET}
_ids = count(810_000)


def user(user_id: int = RESIDENT) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "居民"}


def chat(chat_id: int, kind: str) -> dict[str, Any]:
    return (
        {"id": chat_id, "type": kind, "title": "群"}
        if kind != "private"
        else {"id": chat_id, "type": "private", "first_name": "居民"}
    )


def message(chat_id: int = RESIDENT, kind: str = "private", **content: Any) -> dict[str, Any]:
    body = {"message_id": next(_ids), "date": 1_700_000_000, "chat": chat(chat_id, kind), **content}
    if kind != "channel":
        body["from"] = user()
    return body


def update(**fields: Any) -> dict[str, Any]:
    return {"update_id": next(_ids), **fields}


POLL = {
    "id": "p1",
    "question": "您满意吗",
    "options": [{"text": "满意", "voter_count": 0}],
    "total_voter_count": 0,
    "is_closed": False,
    "is_anonymous": True,
    "type": "regular",
    "allows_multiple_answers": False,
}


@pytest_asyncio.fixture
async def webhook(
    bot_env: dict[str, str], fake_rasa, telegram_server: FakeTelegramServer
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.from_env(
        {**bot_env, "RASA_URL": fake_rasa.url, "STAFF_TELEGRAM_CHAT_ID": str(STAFF_GROUP)}, dotenv=None
    )
    application = build_application(settings)
    web_app = build_webhook_app(application, path="/telegram", secret=SECRET)
    async with running(application, poll=False):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url="http://bot") as client:
            yield client


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> int:
    return (await client.post("/telegram", json=body, headers=HEADERS)).status_code


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        (update(edited_message=message(text="改一下", edit_date=1_700_000_100)), texts.EDITED_MESSAGE),
        (update(message=message(poll=POLL)), texts.TEXT_ONLY),
        (update(message=message(contact={"phone_number": "13812345678", "first_name": "联系人"})), texts.TEXT_ONLY),
        (
            update(message=message(document={"file_id": "d", "file_unique_id": "u", "file_name": "表.pdf"})),
            texts.TEXT_ONLY,
        ),
        (update(message=message(location={"latitude": 28.44, "longitude": 118.19})), texts.LOCATION_RECEIVED),
        (update(message=message(dice={"emoji": "🎲", "value": 3})), texts.TEXT_ONLY),
    ],
    ids=["edited", "poll message", "contact", "document", "location", "dice"],
)
async def test_a_private_chat_gets_a_polite_reply_for_what_the_bot_cannot_read(
    webhook: httpx.AsyncClient, telegram_server: FakeTelegramServer, fake_rasa, body: dict, reply: str
) -> None:
    assert await post(webhook, body) == 200
    [sent] = await telegram_server.wait_for_messages(RESIDENT, 1)
    assert sent.text == reply
    assert fake_rasa.requests == []


SILENT = {
    "group text": update(message=message(GROUP, "group", text="我的身份证 110105 19491231 002X 怎么办低保")),
    "supergroup text": update(message=message(GROUP, "supergroup", text="低保怎么申请")),
    "edited in group": update(edited_message=message(GROUP, "group", text="改", edit_date=1_700_000_100)),
    "staff chat command": update(
        message=message(
            STAFF_GROUP, "supergroup", text="/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}]
        )
    ),
    "channel post": update(channel_post=message(-1009, "channel", text="频道消息")),
    "edited channel post": update(edited_channel_post=message(-1009, "channel", text="改", edit_date=1_700_000_100)),
    "inline query": update(inline_query={"id": "iq1", "from": user(), "query": "低保", "offset": ""}),
    "chosen inline result": update(chosen_inline_result={"result_id": "r", "from": user(), "query": "低保"}),
    "poll state": update(poll=POLL),
    "poll answer": update(poll_answer={"poll_id": "p1", "user": user(), "option_ids": [0]}),
    "bot added to a group": update(
        my_chat_member={
            "chat": chat(GROUP, "group"),
            "from": user(),
            "date": 1_700_000_000,
            "old_chat_member": {"status": "left", "user": {"id": 1, "is_bot": True, "first_name": "bot"}},
            "new_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "bot"}},
        }
    ),
    "a kind Telegram may add later": update(future_kind={"whatever": 1}),
}


async def test_updates_outside_private_chats_are_dropped_silently(
    webhook: httpx.AsyncClient, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    statuses = {name: await post(webhook, body) for name, body in SILENT.items()}
    # A resident's private message afterwards is still answered: nothing above broke the bot.
    assert await post(webhook, update(message=message(text="低保怎么申请"))) == 200
    await telegram_server.wait_for_messages(RESIDENT, 1)
    await asyncio.sleep(1.0)  # time for a wrong answer elsewhere to show
    assert statuses == {name: 200 for name in SILENT}
    assert fake_rasa.messages() == ["低保怎么申请"]
    assert [m.chat_id for m in telegram_server.sent_messages()] == [RESIDENT]
    assert telegram_server.calls("answerInlineQuery") == []


async def test_a_command_in_a_group_points_to_the_private_chat(
    webhook: httpx.AsyncClient, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    command = message(GROUP, "supergroup", text="/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}])
    assert await post(webhook, update(message=command)) == 200
    [sent] = await telegram_server.wait_for_messages(GROUP, 1)
    assert sent.text == texts.PRIVATE_CHAT_ONLY
    assert fake_rasa.requests == []


async def test_a_button_pressed_in_a_group_is_acknowledged_but_not_acted_on(
    webhook: httpx.AsyncClient, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    pressed = {
        "id": "cq1",
        "from": user(),
        "chat_instance": "ci",
        "data": "/request_human",
        "message": {"message_id": 5, "date": 1_700_000_000, "chat": chat(GROUP, "group"), "text": "请选择："},
    }
    assert await post(webhook, update(callback_query=pressed)) == 200
    await telegram_server.wait_for_calls("answerCallbackQuery", 1)
    await asyncio.sleep(0.5)
    assert fake_rasa.requests == [] and telegram_server.sent_messages() == []


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (json.dumps({"update_id": 10**30, "message": message(text="hi")}), 400),
        (json.dumps({"update_id": 5, "message": message(10**30, text="hi")}), 400),
        (json.dumps({"update_id": -1, "message": message(text="hi")}), 400),
        (json.dumps({"update_id": "7", "message": message(text="hi")}), 400),
        (json.dumps({"update_id": True}), 400),
        (json.dumps([1, 2, 3]), 400),
        (json.dumps("update"), 400),
        ("[" * 100_000 + "]" * 100_000, 400),
        ("\x00\x01not json", 400),
        (json.dumps({"update_id": 9, "message": {"text": "no chat, no date"}}), 400),
        ("x" * (MAX_UPDATE_BYTES + 1), 413),
    ],
    ids=[
        "huge update id",
        "huge chat id",
        "negative id",
        "id as text",
        "id as bool",
        "list",
        "string",
        "deep nesting",
        "control characters",
        "message without chat",
        "oversized",
    ],
)
async def test_malformed_or_oversized_bodies_get_4xx_not_500(
    webhook: httpx.AsyncClient, telegram_server: FakeTelegramServer, fake_rasa, content: str, status: int
) -> None:
    answer = await webhook.post(
        "/telegram", content=content.encode(), headers={**HEADERS, "content-type": "application/json"}
    )
    assert answer.status_code == status
    assert "Traceback" not in answer.text
    assert fake_rasa.requests == [] and telegram_server.sent_messages() == []


async def test_an_oversized_chunked_body_is_refused_without_content_length(webhook: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_UPDATE_BYTES // 65536 + 2):
            yield b" " * 65536

    answer = await webhook.post("/telegram", content=chunks(), headers=HEADERS)
    assert answer.status_code == 413

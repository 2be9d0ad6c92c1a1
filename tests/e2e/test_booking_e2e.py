"""A whole marriage-registration booking on the fake Telegram Bot API with the real model, Rasa,
action server and database: book (a wrong checksum and an under-age ID are refused), get the code
and the .ics file, then reschedule and cancel with the code and the last 6 characters of an ID."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest
from telegram.ext import Application

from civil_affairs.booking.date_parsing import parse_date
from civil_affairs.booking.work_calendar import CalendarYearMissing, WorkCalendar
from civil_affairs.clock import local_now
from civil_affairs.config import Settings
from tests.e2e.conftest import Stack
from tests.helpers.booking_factory import make_id
from tests.helpers.fake_telegram import FakeTelegramServer, SentMessage

pytestmark = pytest.mark.model

CHAT = 770451
WAIT = 40.0
QUIET = 1.5  # the bot has finished a turn when nothing new arrived for this long
CODE_RE = re.compile(r"YY\d{8}-\d{3}")

StartBot = Callable[[Settings], Awaitable[Application]]


class Chat:
    """One resident's chat: send text or press buttons, collect the bot's answers of that turn."""

    def __init__(self, server: FakeTelegramServer, chat_id: int) -> None:
        self.server, self.chat_id, self.seen = server, chat_id, 0

    async def _turn(self) -> list[SentMessage]:
        deadline = time.monotonic() + WAIT
        count, quiet_since = self.seen, time.monotonic()
        while time.monotonic() < deadline:
            now_count = len(self.server.sent_messages(self.chat_id))
            if now_count != count:
                count, quiet_since = now_count, time.monotonic()
            elif count > self.seen and time.monotonic() - quiet_since >= QUIET:
                break
            await asyncio.sleep(0.1)
        new = self.server.sent_messages(self.chat_id)[self.seen : count]
        self.seen = count
        assert new, "the bot did not answer"
        return new

    async def say(self, text: str) -> list[SentMessage]:
        self.server.push_text(self.chat_id, text)
        return await self._turn()

    async def press(self, message: SentMessage, title_part: str = "", index: int = 0) -> list[SentMessage]:
        buttons = [(t, d) for t, d in message.button_list if title_part in t]
        self.server.push_callback(self.chat_id, buttons[index][1], message_id=message.message_id)
        return await self._turn()


def texts(messages: list[SentMessage]) -> str:
    return "\n".join(m.text or m.caption or "" for m in messages)


def with_buttons(messages: list[SentMessage]) -> SentMessage:
    return next(m for m in messages if m.button_list)


def a_bookable_day(today: date) -> tuple[str, date | None]:
    """ "下周三" when it is a working day, else None (then a date button is pressed)."""
    day = parse_date("下周三", today)
    try:
        return "下周三", day if day and WorkCalendar.from_package().is_workday(day) else None
    except CalendarYearMissing:
        return "下周三", None


async def test_book_reschedule_and_cancel_on_telegram(
    stack: Stack, start_bot: StartBot, bot_env: dict[str, str], telegram_server: FakeTelegramServer
) -> None:
    await start_bot(Settings.from_env({**bot_env, **stack.rasa_env, "RASA_TIMEOUT_SECONDS": "30"}, dotenv=None))
    chat = Chat(telegram_server, CHAT)
    today = local_now().date()

    start = await chat.say("我想预约结婚登记")
    assert "结婚登记" in texts(start) and "哪一天" in texts(start)
    date_buttons = with_buttons(start)
    assert all("余" in title for title, _ in date_buttons.button_list)

    phrase, day = a_bookable_day(today)
    slots = await chat.say(phrase) if day else await chat.press(date_buttons)
    if day is None:
        day = date.fromisoformat(json.loads(date_buttons.button_list[0][1].split("inform", 1)[1])["booking_choice"])
    slot_message = with_buttons(slots)
    assert "时段" in slot_message.text and all("余" in t for t, _ in slot_message.button_list)

    assert "男方的姓名" in texts(await chat.press(slot_message))
    assert "身份证号码" in texts(await chat.say("张伟"))
    groom = make_id(date(1993, 4, 12), male=True, area="360101", serial=37)
    bad_checksum = groom[:-1] + ("0" if groom[-1] != "0" else "1")
    refused = texts(await chat.say(bad_checksum))
    assert "校验不通过" in refused
    assert "女方的姓名" in texts(await chat.say(groom))
    assert "女方" in texts(await chat.say("李婷"))
    too_young = make_id(day - timedelta(days=365 * 19 + 10), male=False, area="360101", serial=38)
    refused = texts(await chat.say(too_young))
    assert "不满20周岁" in refused and "最早可以在" in refused
    bride = make_id(date(1996, 8, 19), male=False, area="360101", serial=39)
    assert "电话" in texts(await chat.say(bride))

    summary = with_buttons(await chat.say("13979312456"))
    assert "请核对" in summary.text and "139****2456" in summary.text and groom not in summary.text
    done = await chat.press(summary, "确认")
    confirmation = texts(done)
    code = CODE_RE.search(confirmation).group(0)
    assert "预约成功" in confirmation and "身份证" in confirmation  # what to bring, from the FAQ store
    [ics] = [m for m in done if m.method == "sendDocument"]
    assert ics.params["document"]["filename"] == f"{code}.ics" and ics.params["document"]["size"] > 100

    # reschedule with the code and the last 6 characters of the bride's ID
    assert "预约码" in texts(await chat.say("我想改一下预约时间"))
    assert "后6位" in texts(await chat.say(code))
    found = await chat.say(bride[-6:])
    assert "已找到您的预约" in texts(found)
    new_dates = with_buttons(found)
    other = next(i for i, (_, data) in enumerate(new_dates.button_list) if day.isoformat() not in data)
    new_slots = with_buttons(await chat.press(new_dates, index=other))
    moved = await chat.press(new_slots)
    new_code = CODE_RE.findall(texts(moved))[-1]
    assert "改约成功" in texts(moved) and new_code != code
    assert any(m.method == "sendDocument" for m in moved)

    # cancel the new booking with the groom's last 6
    assert "预约码" in texts(await chat.say("取消预约"))
    await chat.say(new_code)
    ask = with_buttons(await chat.say(groom[-6:]))
    assert new_code in ask.text
    cancelled = texts(await chat.press(ask, "确认取消"))
    assert f"预约 {new_code} 已取消" in cancelled

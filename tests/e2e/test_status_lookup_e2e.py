"""Status lookup end to end: the real bot on a fake Telegram server, the real model, actions and console.

Applications and a staff account are written into the stack's database (the action server and the
console read it as separate processes). The stack's own console cannot reach this test's fake
Telegram server, so progress notices are sent by a second console started here on the same
database with TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL pointing at the fake server.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest
from telegram.ext import Application

from civil_affairs.applications.records import check_application, create_application
from civil_affairs.config import Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.staff_accounts import create_user
from launcher import processes
from launcher.children import start, stop, wait_ready
from launcher.ports import free_port
from tests.conftest import make_settings
from tests.e2e.conftest import Stack
from tests.helpers.applications import fictitious_id
from tests.helpers.fake_telegram import FakeTelegramServer, SentMessage
from tests.helpers.telegram_fixtures import TEST_TOKEN

pytestmark = pytest.mark.model

WAIT = 30.0
StartBot = Callable[[Settings], Awaitable[Application]]
STAFF_PASSWORD = "status-e2e-password"


def real_settings(bot_env: dict[str, str], stack: Stack) -> Settings:
    # The resident here types faster than a person would (the lookup allowances are under test, not
    # the per-chat flood limit).
    return Settings.from_env(
        {**bot_env, **stack.rasa_env, "RASA_TIMEOUT_SECONDS": "20", "CHAT_RATE_LIMIT": "1000/10"},
        dotenv=None,
    )


def add_application(stack: Stack, sequence: int, name: str) -> str:
    """Store a fictitious application in the stack's database; returns its number."""
    engine = make_engine(stack.settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            data = check_application(
                type_name="低保",
                applicant_name=name,
                id_number=fictitious_id(sequence),
                phone=None,
                office="测试镇",
                secret_key=stack.settings.secret_key,
            )
            return create_application(data, session=session).number
    finally:
        engine.dispose()


class Chat:
    """One resident's Telegram chat with the bot: send, then collect the new messages."""

    def __init__(self, server: FakeTelegramServer, chat_id: int) -> None:
        self.server, self.chat_id, self.seen = server, chat_id, 0

    async def expect(self, count: int) -> list[SentMessage]:
        messages = await self.server.wait_for_messages(self.chat_id, self.seen + count, timeout=WAIT)
        new, self.seen = messages[self.seen :], len(messages)
        return new

    async def say(self, text: str, count: int = 1) -> list[SentMessage]:
        self.server.push_text(self.chat_id, text)
        return await self.expect(count)

    async def press(self, message: SentMessage, title: str, count: int = 1) -> list[SentMessage]:
        payload = dict(message.button_list)[title]
        self.server.push_callback(self.chat_id, payload, message_id=message.message_id)
        return await self.expect(count)

    async def lookup(self, number: str, last6: str) -> tuple[list[SentMessage], float]:
        """The whole form: ask, give the number, give the last 6; returns the answers and their time."""
        [ask_number] = await self.say("查一下办件进度")
        assert "申请编号" in ask_number.text
        [ask_last6] = await self.say(number)
        assert "后6位" in ask_last6.text, ask_last6.text
        started = time.perf_counter()
        self.server.push_text(self.chat_id, last6)
        first = await self.expect(1)
        elapsed = time.perf_counter() - started
        if "当前进度" in first[0].text:
            first += await self.expect(1)  # the offer to subscribe follows the status
        return first, elapsed


@pytest.fixture
def notifying_console(stack: Stack, telegram_server: FakeTelegramServer, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A console on the stack's database that delivers to the fake Telegram server; yields its URL."""
    port = free_port()
    settings = make_settings(tmp_path, CONSOLE_PORT=str(port), DATABASE_URL=stack.settings.database_url)
    spec = processes.console(settings)
    spec.env.update(
        {
            "DATA_DIR": str(settings.data_dir),
            "DATABASE_URL": stack.settings.database_url,
            "CONSOLE_PORT": str(port),
            "APP_ENV": "test",
            **stack.rasa_env,
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE_URL": telegram_server.base_url,
            "STAFF_ADMIN_USERNAME": "",
            "STAFF_ADMIN_PASSWORD": "",
        }
    )
    running = start(spec, tmp_path / "logs")
    try:
        wait_ready(running, [running])
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(running)


async def test_lookup_failures_lockout_subscription_and_notice(
    stack: Stack,
    start_bot: StartBot,
    bot_env: dict[str, str],
    telegram_server: FakeTelegramServer,
    notifying_console: str,
) -> None:
    followed = add_application(stack, 201, "测试用户一")
    guessed = add_application(stack, 202, "测试用户二")
    locked_target = add_application(stack, 203, "测试用户三")
    await start_bot(real_settings(bot_env, stack))

    # The right pair, typed the way residents do (lower case, spaces): the status and the offer.
    resident = Chat(telegram_server, 880001)
    spaced = f"{followed[:2].lower()} {followed[2:6]} {followed[6:10]} {followed[10:]}"
    (status, offer), _ = await resident.lookup(spaced, fictitious_id(201)[-6:])
    assert "低保" in status.text and "测***一" in status.text and "测试用户一" not in status.text
    assert "当前进度：受理" in status.text and "下一步" in status.text
    assert [title for title, _ in offer.button_list] == ["订阅进度提醒"]

    # Wrong digits and an unknown number: byte-identical replies.
    stranger = Chat(telegram_server, 880002)
    right6 = fictitious_id(202)[-6:]
    wrong6 = "000000" if right6 != "000000" else "111111"
    [wrong_pair], wrong_time = await stranger.lookup(guessed, wrong6)
    [unknown], unknown_time = await stranger.lookup("DB209901010001", right6)
    [malformed], _ = await stranger.lookup("DB20261008", right6)
    assert wrong_pair.text == unknown.text == malformed.text
    assert wrong_pair.text.encode() == unknown.text.encode()
    assert "没有查到" in wrong_pair.text and guessed not in wrong_pair.text
    print(
        f"reply time after the last 6: wrong pair {wrong_time * 1000:.0f} ms, "
        f"unknown number {unknown_time * 1000:.0f} ms"
    )

    # Five failures in this chat: the sixth lookup is refused even with the right pair.
    guesser = Chat(telegram_server, 880003)
    for attempt in range(5):
        [reply], _ = await guesser.lookup(f"DB2099010100{attempt + 10:02d}", "123456")
        assert reply.text == wrong_pair.text
    [refused], _ = await guesser.lookup(locked_target, fictitious_id(203)[-6:])
    assert "暂停" in refused.text and "当前进度" not in refused.text

    # Subscribe, then a staff member changes the status through the API: the notice arrives.
    [subscribed] = await resident.press(offer, "订阅进度提醒")
    assert "已订阅" in subscribed.text and followed in subscribed.text
    engine = make_engine(stack.settings.database_url)
    with make_session_factory(engine).begin() as session:
        create_user("status_e2e_agent", STAFF_PASSWORD, session=session)
    engine.dispose()
    async with httpx.AsyncClient(base_url=notifying_console, timeout=30) as console:
        login = await console.post(
            "/api/staff/login", json={"username": "status_e2e_agent", "password": STAFF_PASSWORD}
        )
        assert login.status_code == 200, login.text
        changed_at = time.perf_counter()
        response = await console.post(
            f"/api/staff/applications/{followed}/status",
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
            json={"status": "入户调查", "note": "工作人员将于本周内上门"},
        )
        assert response.status_code == 200, response.text
    [notice] = await resident.expect(1)
    delay = time.perf_counter() - changed_at
    assert followed in notice.text and "入户调查" in notice.text and "本周内上门" in notice.text
    assert delay < 10, delay
    print(f"notice arrived {delay * 1000:.0f} ms after the status change request")

    # The notice's button ends the reminders.
    [unsubscribed] = await resident.press(notice, "取消进度提醒")
    assert "已取消 1 项" in unsubscribed.text


async def test_several_lookups_in_one_conversation(
    stack: Stack, start_bot: StartBot, bot_env: dict[str, str], telegram_server: FakeTelegramServer
) -> None:
    first = add_application(stack, 211, "测试用户四")
    second = add_application(stack, 212, "测试用户五")
    await start_bot(real_settings(bot_env, stack))
    resident = Chat(telegram_server, 880011)
    (status, _offer), _ = await resident.lookup(first, fictitious_id(211)[-6:])
    assert "测***四" in status.text
    (status, _offer), _ = await resident.lookup(second, fictitious_id(212)[-6:])
    assert "测***五" in status.text


async def test_a_bare_application_number_starts_the_lookup(
    stack: Stack, start_bot: StartBot, bot_env: dict[str, str], telegram_server: FakeTelegramServer
) -> None:
    number = add_application(stack, 221, "测试用户六")
    await start_bot(real_settings(bot_env, stack))
    resident = Chat(telegram_server, 880021)
    # Only the number, as residents paste it from their receipt: the form asks for the ID digits.
    [ask_last6] = await resident.say(number)
    assert "后6位" in ask_last6.text, ask_last6.text
    status, offer = await resident.say(fictitious_id(221)[-6:], count=2)
    assert "测***六" in status.text and "当前进度" in status.text
    assert [title for title, _ in offer.button_list] == ["订阅进度提醒"]

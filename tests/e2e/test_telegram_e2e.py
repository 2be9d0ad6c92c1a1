"""The real bot, over HTTP against a fake Telegram Bot API server, with the real Rasa and actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from telegram.ext import Application

from bot import texts
from civil_affairs.config import Settings
from tests.e2e.conftest import Stack
from tests.helpers.fake_telegram import FakeTelegramServer

pytestmark = pytest.mark.model

CHAT = 770001
WAIT = 30.0  # the first real-model answer of a session can take a few seconds on a loaded machine

StartBot = Callable[[Settings], Awaitable[Application]]


def real_settings(bot_env: dict[str, str], stack: Stack) -> Settings:
    return Settings.from_env({**bot_env, **stack.rasa_env, "RASA_TIMEOUT_SECONDS": "20"}, dotenv=None)


async def test_start_menu_button_and_policy_answer(
    stack: Stack, start_bot: StartBot, bot_env: dict[str, str], telegram_server: FakeTelegramServer
) -> None:
    await start_bot(real_settings(bot_env, stack))

    telegram_server.push_command(CHAT, "/start")
    [menu] = await telegram_server.wait_for_messages(CHAT, 1, timeout=WAIT)
    assert [title for title, _ in menu.button_list] == ["政策咨询", "结婚登记预约", "办件进度查询", "转人工"]

    telegram_server.push_callback(CHAT, "/ask_help", message_id=menu.message_id)
    [_, follow_up] = await telegram_server.wait_for_messages(CHAT, 2, timeout=WAIT)
    assert "结婚登记要带什么" in follow_up.text  # the help text lists example questions

    telegram_server.push_text(CHAT, "结婚登记要带什么")
    answers = await telegram_server.wait_for_messages(CHAT, 3, timeout=WAIT)
    assert "身份证" in answers[2].text and "依据" in answers[2].text


async def test_sticker_gets_a_polite_answer(
    stack: Stack, start_bot: StartBot, bot_env: dict[str, str], telegram_server: FakeTelegramServer
) -> None:
    await start_bot(real_settings(bot_env, stack))
    telegram_server.push_sticker(CHAT)
    [reply] = await telegram_server.wait_for_messages(CHAT, 1, timeout=WAIT)
    assert reply.text == texts.TEXT_ONLY


async def test_rasa_down_gives_busy_message_and_help_still_works(
    start_bot: StartBot, bot_env: dict[str, str], telegram_server: FakeTelegramServer
) -> None:
    from launcher.ports import free_port

    nothing_listens = f"http://127.0.0.1:{free_port()}"
    await start_bot(Settings.from_env({**bot_env, "RASA_URL": nothing_listens}, dotenv=None))
    telegram_server.push_text(CHAT, "低保怎么申请")
    [busy] = await telegram_server.wait_for_messages(CHAT, 1, timeout=WAIT)
    assert busy.text.startswith("系统繁忙，请稍后再试")
    telegram_server.push_command(CHAT, "/help")
    [_, help_reply] = await telegram_server.wait_for_messages(CHAT, 2, timeout=WAIT)
    assert help_reply.text == texts.HELP

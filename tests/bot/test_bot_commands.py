"""The bot's commands against the fake Telegram server and the fake Rasa."""

from __future__ import annotations

from telegram.ext import Application

from bot import texts
from tests.helpers.fake_telegram import FakeTelegramServer

CHAT = 424242


async def test_start_greets_and_shows_the_four_menu_buttons(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    telegram_server.push_command(CHAT, "/start")

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == texts.GREETING
    assert reply.button_list == [
        ("政策咨询", "/ask_help"),
        ("结婚登记预约", "/book_appointment"),
        ("办件进度查询", "/check_status"),
        ("转人工", "/request_human"),
    ]
    assert fake_rasa.requests == []


async def test_commands_are_published_at_startup(running_bot: Application, telegram_server: FakeTelegramServer) -> None:
    [call] = await telegram_server.wait_for_calls("setMyCommands")

    assert [c["command"] for c in call.params["commands"]] == ["start", "help", "human", "cancel"]


async def test_help_answers_without_rasa(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    telegram_server.push_command(CHAT, "/help")

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == texts.HELP
    assert fake_rasa.requests == []


async def test_human_sends_request_human_to_rasa(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.on("/request_human", reply=[{"text": "已为您转接人工客服，请稍候。"}])
    telegram_server.push_command(CHAT, "/human")

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == "已为您转接人工客服，请稍候。"
    assert fake_rasa.messages(f"tg-{CHAT}") == ["/request_human"]


async def test_cancel_restarts_the_rasa_conversation(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.on("/restart", reply=[])
    telegram_server.push_command(CHAT, "/cancel")

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == texts.CANCELLED
    assert fake_rasa.messages(f"tg-{CHAT}") == ["/restart"]


async def test_unknown_command_gets_a_polite_answer(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    telegram_server.push_command(CHAT, "/foo")

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == texts.UNKNOWN_COMMAND
    assert fake_rasa.requests == []

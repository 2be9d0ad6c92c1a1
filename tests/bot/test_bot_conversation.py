"""Texts and button presses travel to Rasa and its answers come back as Telegram messages."""

from __future__ import annotations

from telegram.constants import InlineKeyboardButtonLimit, MessageLimit
from telegram.ext import Application

from bot import texts
from bot.callback_payloads import SHORT_ID_PREFIX
from tests.helpers.fake_telegram import FakeTelegramServer

CHAT = 1001
SENDER = f"tg-{CHAT}"


async def test_text_reaches_rasa_and_buttons_become_an_inline_keyboard(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.on(
        "低保怎么申请",
        reply=[
            {"text": "您是想问以下哪一项？"},
            {
                "text": "请选择：",
                "buttons": [
                    {"title": "低保申请需要哪些材料", "payload": '/choose_faq{"faq_id": 1}'},
                    {"title": "低保的申请条件", "payload": '/choose_faq{"faq_id": 2}'},
                ],
            },
        ],
    )
    telegram_server.push_text(CHAT, "低保怎么申请")

    first, second = await telegram_server.wait_for_messages(CHAT, 2)

    assert fake_rasa.requests[0].sender == SENDER
    assert fake_rasa.messages() == ["低保怎么申请"]
    assert first.text == "您是想问以下哪一项？" and first.reply_markup is None
    assert second.text == "请选择："
    # Long titles: one button per row.
    assert second.buttons == [
        [{"text": "低保申请需要哪些材料", "callback_data": '/choose_faq{"faq_id": 1}'}],
        [{"text": "低保的申请条件", "callback_data": '/choose_faq{"faq_id": 2}'}],
    ]


async def test_button_press_answers_the_query_and_sends_the_payload_to_rasa(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    fake_rasa.on("/book_appointment", reply=[{"text": "请选择预约日期："}])
    update = telegram_server.push_callback(CHAT, "/book_appointment", message_id=77)

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == "请选择预约日期："
    assert fake_rasa.messages(SENDER) == ["/book_appointment"]
    [answer] = telegram_server.calls("answerCallbackQuery")
    assert answer.params["callback_query_id"] == update["callback_query"]["id"]
    # Answered before the reply was sent, and the pressed button was not echoed.
    assert answer.at <= reply.at
    assert len(telegram_server.sent_messages(CHAT)) == 1


async def test_long_payload_round_trips_through_a_short_id(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    long_payload = '/choose_slot{"date": "2025-05-20", "period": "上午", "office": "广丰区婚姻登记处"}'
    assert len(long_payload.encode()) > InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
    fake_rasa.on("预约", reply=[{"text": "可选时段：", "buttons": [{"title": "5月20日上午", "payload": long_payload}]}])
    fake_rasa.on(long_payload, reply=[{"text": "已为您选择5月20日上午。"}])
    telegram_server.push_text(CHAT, "预约")
    [menu] = await telegram_server.wait_for_messages(CHAT, 1)
    [(title, data)] = menu.button_list
    assert title == "5月20日上午"
    assert data.startswith(SHORT_ID_PREFIX)
    assert len(data.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA

    telegram_server.push_callback(CHAT, data, message_id=menu.message_id)

    _, confirmation = await telegram_server.wait_for_messages(CHAT, 2)
    assert confirmation.text == "已为您选择5月20日上午。"
    assert fake_rasa.messages(SENDER) == ["预约", long_payload]


async def test_unknown_short_id_gets_a_polite_answer_without_rasa(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    telegram_server.push_callback(CHAT, SHORT_ID_PREFIX + "999")

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == texts.BUTTON_EXPIRED
    assert fake_rasa.requests == []
    assert len(telegram_server.calls("answerCallbackQuery")) == 1


async def test_image_is_sent_as_photo_and_long_text_is_split(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    long_text = "办理须知。" * 1000  # 5000 characters
    fake_rasa.on("须知", reply=[{"text": long_text}, {"image": "https://example.org/flow.png"}])
    telegram_server.push_text(CHAT, "须知")

    part1, part2, photo = await telegram_server.wait_for_messages(CHAT, 3)

    assert part1.method == part2.method == "sendMessage"
    assert len(part1.text) <= MessageLimit.MAX_TEXT_LENGTH
    assert part1.text + part2.text == long_text
    assert photo.method == "sendPhoto" and photo.photo == "https://example.org/flow.png"


async def test_message_over_2000_characters_is_refused_without_rasa(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    telegram_server.push_text(CHAT, "我想问" * 700)  # 2100 characters

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert reply.text == texts.TOO_LONG == "您的消息太长了，请分几次简短地说"
    assert fake_rasa.requests == []


async def test_message_of_exactly_2000_characters_still_reaches_rasa(
    running_bot: Application, telegram_server: FakeTelegramServer, fake_rasa
) -> None:
    text = "问" * texts.MAX_RESIDENT_TEXT_LENGTH
    telegram_server.push_text(CHAT, text)

    [reply] = await telegram_server.wait_for_messages(CHAT, 1)

    assert fake_rasa.messages(SENDER) == [text]
    assert reply.text == f"收到：{text}"

"""Rendering helpers and the callback payload store, off the network."""

from __future__ import annotations

import pytest
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from bot.callback_payloads import SHORT_ID_PREFIX, CallbackPayloadStore
from bot.rendering import build_keyboard, split_text
from civil_affairs.conversations.rasa_client import RasaButton, RasaMessage


@pytest.mark.parametrize("length", [0, 1, 4096, 4097, 10_000])
def test_split_text_keeps_every_character_within_the_limit(length: int) -> None:
    text = "".join("民政服务\n"[i % 5] for i in range(length))

    chunks = split_text(text)

    assert all(len(c) <= MessageLimit.MAX_TEXT_LENGTH for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


def test_split_text_prefers_line_breaks() -> None:
    text = "甲" * 3000 + "\n" + "乙" * 3000

    assert split_text(text) == ["甲" * 3000, "乙" * 3000]


def test_keyboard_puts_short_titles_two_per_row_and_long_titles_alone() -> None:
    store = CallbackPayloadStore()
    short = [RasaButton("上午", "/am"), RasaButton("下午", "/pm"), RasaButton("晚上", "/ev")]
    long = [RasaButton("最低生活保障申请条件", "/a"), RasaButton("特困人员供养标准", "/b")]

    assert [[b.text for b in row] for row in build_keyboard(1, short, store).inline_keyboard] == [
        ["上午", "下午"],
        ["晚上"],
    ]
    assert [[b.text for b in row] for row in build_keyboard(1, long, store).inline_keyboard] == [
        ["最低生活保障申请条件"],
        ["特困人员供养标准"],
    ]


def test_payload_store_uses_short_ids_only_when_needed() -> None:
    store = CallbackPayloadStore()
    short = "/ask_help"
    long = "/inform" + '{"name": "张三李四王五赵六钱七孙八周九吴十郑十一"}' * 2

    assert store.encode(1, short) == short
    data = store.encode(1, long)
    assert data.startswith(SHORT_ID_PREFIX)
    assert len(data.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
    assert store.encode(1, long) == data  # same payload, same id
    assert store.decode(1, data) == long
    assert store.decode(2, data) is None  # ids belong to one chat
    assert store.decode(1, short) == short


def test_payload_store_forgets_old_ids() -> None:
    store = CallbackPayloadStore(max_per_chat=2)
    ids = [store.encode(1, f"/x{'长' * 30}{i}") for i in range(3)]

    assert store.decode(1, ids[0]) is None
    assert store.decode(1, ids[2]) is not None


def test_payload_that_looks_like_a_short_id_is_stored_too() -> None:
    store = CallbackPayloadStore()
    data = store.encode(1, SHORT_ID_PREFIX + "1")

    assert store.decode(1, data) == SHORT_ID_PREFIX + "1"


def test_rasa_message_parsing_ignores_what_telegram_cannot_show() -> None:
    message = RasaMessage.from_json(
        {
            "recipient_id": "tg-1",
            "text": "请选择",
            "buttons": [{"title": "是", "payload": "/affirm"}, "junk"],
            "custom": {},
        }
    )

    assert message == RasaMessage(text="请选择", buttons=(RasaButton("是", "/affirm"),), image=None)

"""A Rasa custom payload {"document": {filename, content}} is sent to Telegram as a file upload."""

from __future__ import annotations

from unittest.mock import AsyncMock

from bot.callback_payloads import CallbackPayloadStore
from bot.rendering import send_rasa_messages
from civil_affairs.conversations.rasa_client import RasaMessage


async def test_document_payload_becomes_send_document() -> None:
    message = RasaMessage.from_json(
        {
            "custom": {
                "document": {
                    "filename": "YY20261208-417.ics",
                    "content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                    "caption": "加入日历",
                }
            }
        }
    )
    bot = AsyncMock()
    sent = await send_rasa_messages(bot, 42, [message], CallbackPayloadStore())
    assert sent == 1
    kwargs = bot.send_document.await_args.kwargs
    assert kwargs["filename"] == "YY20261208-417.ics" and kwargs["document"].startswith(b"BEGIN:VCALENDAR")
    assert kwargs["caption"] == "加入日历"
    bot.send_message.assert_not_awaited()


def test_a_custom_payload_without_a_document_is_ignored() -> None:
    assert RasaMessage.from_json({"custom": {"something": 1}}).document is None

"""Turn Rasa's answers into Telegram messages: texts, inline keyboards, photos and documents (.ics)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot import texts
from bot.callback_payloads import CallbackPayloadStore
from civil_affairs.conversations.rasa_client import RasaButton, RasaMessage

logger = logging.getLogger(__name__)

# Buttons whose titles are all this short share a row; longer ones get a row each,
# which keeps them large and easy to hit for elderly residents.
_SHORT_TITLE = 6
_SHORT_PER_ROW = 2


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters, preferring line breaks."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def build_keyboard(chat_id: int, buttons: Sequence[RasaButton], payloads: CallbackPayloadStore) -> InlineKeyboardMarkup:
    """One button per row, or two per row when every title is short."""
    keyboard_buttons = [
        InlineKeyboardButton(button.title or button.payload, callback_data=payloads.encode(chat_id, button.payload))
        for button in buttons
    ]
    per_row = _SHORT_PER_ROW if all(len(b.title) <= _SHORT_TITLE for b in buttons) else 1
    rows = [keyboard_buttons[i : i + per_row] for i in range(0, len(keyboard_buttons), per_row)]
    return InlineKeyboardMarkup(rows)


async def send_rasa_messages(
    bot: Bot, chat_id: int, messages: Sequence[RasaMessage], payloads: CallbackPayloadStore
) -> int:
    """Send Rasa's answers to the chat in order; return how many Telegram messages were sent."""
    sent = 0
    for message in messages:
        if message.text or message.buttons:
            chunks = split_text(message.text or texts.CHOOSE_PROMPT)
            markup = build_keyboard(chat_id, message.buttons, payloads) if message.buttons else None
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                await bot.send_message(chat_id=chat_id, text=chunk, reply_markup=markup if last else None)
                sent += 1
        if message.image:
            await bot.send_photo(chat_id=chat_id, photo=message.image)
            sent += 1
        if message.document:
            await bot.send_document(
                chat_id=chat_id,
                filename=message.document.get("filename") or "file.txt",
                document=message.document["content"].encode("utf-8"),
                caption=message.document.get("caption") or None,
            )
            sent += 1
    logger.debug("chat %s: sent %d message(s) from Rasa", chat_id, sent)
    return sent

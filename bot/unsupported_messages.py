"""Handlers that answer messages the bot cannot read (stickers, media, locations, edits)."""

from __future__ import annotations

import logging

from telegram import Update

from bot import texts
from bot.state import BotContext

logger = logging.getLogger(__name__)


def _kind(update: Update) -> str:
    """A short name of what the resident sent, for logs (never the content)."""
    message = update.effective_message
    if message is None:
        return "unknown"
    for kind in (
        "sticker",
        "photo",
        "voice",
        "video",
        "video_note",
        "audio",
        "document",
        "animation",
        "contact",
        "location",
        "venue",
        "poll",
        "dice",
    ):
        if getattr(message, kind, None):
            return kind
    return "other"


async def edited_message(update: Update, context: BotContext) -> None:
    """The resident edited an earlier message: ask for a new message instead."""
    chat = update.effective_chat
    if chat is None:
        return
    logger.info("chat %s: edited message", chat.id)
    await context.bot.send_message(chat_id=chat.id, text=texts.EDITED_MESSAGE)


async def location(update: Update, context: BotContext) -> None:
    """The resident shared a location: acknowledge it, say it cannot be used yet."""
    chat = update.effective_chat
    if chat is None:
        return
    logger.info("chat %s: location", chat.id)
    await context.bot.send_message(chat_id=chat.id, text=texts.LOCATION_RECEIVED)


async def not_text(update: Update, context: BotContext) -> None:
    """Anything else that is not text: say the bot reads text only."""
    chat = update.effective_chat
    if chat is None:
        return
    logger.info("chat %s: unsupported message (%s)", chat.id, _kind(update))
    await context.bot.send_message(chat_id=chat.id, text=texts.TEXT_ONLY)

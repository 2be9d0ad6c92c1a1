"""The application's single error handler: log the failure, apologise to the resident."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot import texts
from bot.state import BotContext

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the exception with its traceback (never the update) and send a short apology."""
    chat_id = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
    logger.error("error while handling an update of chat %s", chat_id, exc_info=context.error)
    if chat_id is None:
        return
    try:
        await context.bot.send_message(chat_id=chat_id, text=texts.ERROR_APOLOGY)
    except TelegramError:
        logger.warning("chat %s: could not send the apology", chat_id)

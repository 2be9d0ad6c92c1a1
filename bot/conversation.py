"""Handlers that pass residents' words and button presses to Rasa and send back its answers."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot import texts
from bot.rendering import send_rasa_messages
from bot.state import BotContext
from civil_affairs.conversations.rasa_client import MessageLost, RasaMessage, RasaUnavailable

logger = logging.getLogger(__name__)


def sender_id(chat_id: int) -> str:
    """The stable Rasa sender id of a Telegram chat."""
    return f"tg-{chat_id}"


def message_id(update: Update | None) -> str | None:
    """The id of a resident message across retries and restarts: its Telegram update id."""
    return f"tg-update:{update.update_id}" if update is not None else None


async def ask_rasa(
    chat_id: int, message: str, context: BotContext, update: Update | None = None, *, expect_answer: bool = True
) -> list[RasaMessage] | None:
    """Send ``message`` to Rasa for this chat; on failure tell the resident and return None."""
    state = context.bot_data
    try:
        await context.bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
    except TelegramError:
        logger.debug("chat %s: typing indicator failed", chat_id)
    maybe_seen = update is not None and state.ledger is not None and state.ledger.maybe_seen(update.update_id)
    try:
        return await state.rasa.send(
            sender_id(chat_id),
            message,
            message_id=message_id(update),
            maybe_seen=maybe_seen,
            expect_answer=expect_answer,
        )
    except MessageLost:
        logger.warning("chat %s: message may not have been handled, asked to resend", chat_id)
        await context.bot.send_message(chat_id=chat_id, text=texts.RESEND)
        return None
    except RasaUnavailable:
        logger.warning("chat %s: Rasa unavailable, sent busy reply", chat_id)
        await context.bot.send_message(chat_id=chat_id, text=texts.busy_message(state.settings.bureau.hotline))
        return None


async def converse(chat_id: int, message: str, context: BotContext, update: Update | None = None) -> None:
    """Send ``message`` to Rasa and render every answer in the chat."""
    answers = await ask_rasa(chat_id, message, context, update)
    if answers is not None:
        await send_rasa_messages(context.bot, chat_id, answers, context.bot_data.payloads)


async def on_text(update: Update, context: BotContext) -> None:
    """The resident typed text: Rasa answers it, unless it is too long to be one question."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or message.text is None:
        return
    if len(message.text) > texts.MAX_RESIDENT_TEXT_LENGTH:
        logger.info("chat %s: text too long (%d chars)", chat.id, len(message.text))
        await context.bot.send_message(chat_id=chat.id, text=texts.TOO_LONG)
        return
    logger.info("chat %s: text message", chat.id)
    await converse(chat.id, message.text, context, update)


async def on_button(update: Update, context: BotContext) -> None:
    """The resident pressed an inline button: its payload goes to Rasa as the message."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None:
        return
    # Telegram shows a spinner on the button until the query is answered, and some clients
    # misbehave if it never is, so answer at once, before the (slower) call to Rasa.
    try:
        await query.answer()
    except TelegramError:
        logger.info("chat %s: callback query could not be answered (too old?)", chat.id if chat else None)
    if chat is None or query.data is None:
        return
    payload = context.bot_data.payloads.decode(chat.id, query.data)
    if payload is None:
        logger.info("chat %s: expired button pressed", chat.id)
        await context.bot.send_message(chat_id=chat.id, text=texts.BUTTON_EXPIRED)
        return
    logger.info("chat %s: button pressed", chat.id)
    await converse(chat.id, payload, context, update)

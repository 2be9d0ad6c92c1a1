"""Handlers of the bot's commands: /start, /help, /human, /cancel and unknown ones."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update

from bot import texts
from bot.conversation import ask_rasa, converse
from bot.rendering import build_keyboard, send_rasa_messages
from bot.state import BotContext
from civil_affairs.conversations.rasa_client import RasaButton

logger = logging.getLogger(__name__)

HUMAN_PAYLOAD = "/request_human"
RESTART_PAYLOAD = "/restart"


def menu_keyboard(chat_id: int, context: BotContext) -> InlineKeyboardMarkup:
    """The main menu: policy questions, marriage appointment, progress check, a person."""
    buttons = [RasaButton(title=title, payload=payload) for title, payload in texts.MENU_BUTTONS]
    return build_keyboard(chat_id, buttons, context.bot_data.payloads)


async def start(update: Update, context: BotContext) -> None:
    """Greet the resident and show the main menu (works without Rasa)."""
    chat = update.effective_chat
    if chat is None:
        return
    logger.info("chat %s: /start", chat.id)
    await context.bot.send_message(chat_id=chat.id, text=texts.GREETING, reply_markup=menu_keyboard(chat.id, context))


async def help_command(update: Update, context: BotContext) -> None:
    """Explain what the bot can do (works without Rasa)."""
    chat = update.effective_chat
    if chat is None:
        return
    logger.info("chat %s: /help", chat.id)
    await context.bot.send_message(chat_id=chat.id, text=texts.HELP)


async def human(update: Update, context: BotContext) -> None:
    """Ask Rasa to hand the conversation to a person and show its answer."""
    chat = update.effective_chat
    if chat is None:
        return
    logger.info("chat %s: /human", chat.id)
    await converse(chat.id, HUMAN_PAYLOAD, context, update)


async def cancel(update: Update, context: BotContext) -> None:
    """Reset the Rasa conversation and confirm that the current step was cancelled."""
    chat = update.effective_chat
    if chat is None:
        return
    logger.info("chat %s: /cancel", chat.id)
    answers = await ask_rasa(chat.id, RESTART_PAYLOAD, context, update, expect_answer=False)
    if answers is None:
        return
    await context.bot.send_message(chat_id=chat.id, text=texts.CANCELLED)
    await send_rasa_messages(context.bot, chat.id, answers, context.bot_data.payloads)


async def unknown_command(update: Update, context: BotContext) -> None:
    """Politely point to /help for a command the bot does not know."""
    chat = update.effective_chat
    if chat is None:
        return
    logger.info("chat %s: unknown command", chat.id)
    await context.bot.send_message(chat_id=chat.id, text=texts.UNKNOWN_COMMAND)

"""Builds the Telegram Application: settings, shared resources and every handler in one place."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import commands, conversation, texts, unsupported_messages
from bot.chat_scope import private_chats_only
from bot.error_handler import on_error
from bot.state import CONTEXT_TYPES, BotState
from bot.update_ledger import (
    STARTUP_GRACE_SECONDS,
    SWEEP_INTERVAL_SECONDS,
    LedgerQueue,
    UpdateLedger,
    bot_id_of,
)
from bot.update_processor import PerChatUpdateProcessor
from civil_affairs.config import Settings
from civil_affairs.conversations.service import ConversationService
from civil_affairs.ops.run_files import heartbeat_path, write_heartbeat

logger = logging.getLogger(__name__)

# The update kinds the handlers below answer; Telegram is asked for these only.
ALLOWED_UPDATES: list[str] = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
HEARTBEAT_SECONDS = 2.0


def file_base_url(base_url: str) -> str | None:
    """The file-download URL that belongs to a Bot API ``base_url`` (``.../bot`` → ``.../file/bot``)."""
    head, sep, tail = base_url.rpartition("/bot")
    if not sep:
        return None
    return f"{head}/file/bot{tail}"


async def post_init(application: Application) -> None:
    """Open the conversation service (Rasa, transcripts, handoff) and publish the command list."""
    state: BotState = application.bot_data
    settings = state.settings
    state.rasa = ConversationService.open(settings)
    state.ledger = UpdateLedger(
        state.rasa.sessions, bot_id_of(settings.telegram_bot_token), settings.process_name or "bot"
    )
    if isinstance(application.update_queue, LedgerQueue):
        application.update_queue.ledger = state.ledger
    if isinstance(application.update_processor, PerChatUpdateProcessor):
        application.update_processor.ledger = state.ledger
    try:
        await application.bot.set_my_commands([BotCommand(name, desc) for name, desc in texts.BOT_COMMANDS])
    except TelegramError as exc:
        logger.warning("could not set the command list: %s", type(exc).__name__)
    heartbeat = heartbeat_path(settings, settings.process_name or "bot")
    state.tasks = [asyncio.create_task(heartbeat_loop(heartbeat)), asyncio.create_task(recovery_loop(application))]
    logger.info("bot ready; Rasa at %s", ", ".join(settings.rasa_urls))


async def heartbeat_loop(path: Path, interval: float = HEARTBEAT_SECONDS) -> None:
    """Tell the launcher every few seconds that the bot's event loop is alive and ready."""
    while True:
        try:
            await asyncio.to_thread(write_heartbeat, path, ready=True)
        except OSError as exc:
            logger.warning("heartbeat not written: %s", type(exc).__name__)
        await asyncio.sleep(interval)


async def recovery_loop(application: Application) -> None:
    """Answer updates an earlier run left unfinished: after a short grace at start, then every few seconds."""
    state: BotState = application.bot_data
    await asyncio.sleep(STARTUP_GRACE_SECONDS)
    while True:
        if state.ledger is not None:
            try:
                await state.ledger.recover(application, state.rasa, state.payloads)
            except Exception:  # the loop must survive a database hiccup; it tries again shortly
                logger.exception("recovering unfinished updates failed")
        await asyncio.sleep(SWEEP_INTERVAL_SECONDS)


async def post_shutdown(application: Application) -> None:
    """Close the conversation service."""
    state: BotState = application.bot_data
    await state.close()


def build_application(settings: Settings, *, max_concurrent_updates: int = 64) -> Application:
    """Build the bot's Application for ``settings`` with all handlers registered."""
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(PerChatUpdateProcessor(max_concurrent_updates))
        .update_queue(LedgerQueue())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if settings.telegram_mode == "webhook":
        # Updates arrive through bot.webhook, which feeds the update queue itself.
        builder = builder.updater(None)
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
        file_url = file_base_url(settings.telegram_api_base_url)
        if file_url:
            builder = builder.base_file_url(file_url)
    application = builder.build()
    application.bot_data.settings = settings
    register_handlers(application)
    return application


def register_handlers(application: Application) -> None:
    """Route every kind of update on purpose, so that every message gets an answer."""
    # Before everything: only private chats are served (bot/chat_scope.py).
    application.add_handler(TypeHandler(Update, private_chats_only), group=-1)
    # Edited messages first: MessageHandler also sees edits, and they must not reach Rasa twice.
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, unsupported_messages.edited_message))
    application.add_handler(CommandHandler("start", commands.start))
    application.add_handler(CommandHandler("help", commands.help_command))
    application.add_handler(CommandHandler("human", commands.human))
    application.add_handler(CommandHandler("cancel", commands.cancel))
    new_message = filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(new_message & filters.COMMAND, commands.unknown_command))
    application.add_handler(MessageHandler(new_message & filters.TEXT & ~filters.COMMAND, conversation.on_text))
    application.add_handler(CallbackQueryHandler(conversation.on_button))
    application.add_handler(
        MessageHandler(new_message & (filters.LOCATION | filters.VENUE), unsupported_messages.location)
    )
    application.add_handler(MessageHandler(new_message & ~filters.StatusUpdate.ALL, unsupported_messages.not_text))
    application.add_error_handler(on_error)

"""The bot serves residents in private chats only.

In a group the bot would read residents' personal details out to everyone, answer the staff chat's
own messages as if a resident wrote them, and be an easy target for floods. So every update that
does not come from a private chat is dropped before any handler runs (group -1): silence, except
a one-line pointer to the private chat when someone sends the bot a command in a group. Updates
without a chat (inline queries, poll states, …) are dropped too: the bot offers none of them.
"""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import texts
from bot.state import BotContext

logger = logging.getLogger(__name__)


def _kind(update: Update) -> str:
    """Which field of the update is set, for the log (never its content)."""
    for name in (
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "shipping_query",
        "pre_checkout_query",
    ):
        if getattr(update, name, None) is not None:
            return name
    return "other"


async def private_chats_only(update: Update, context: BotContext) -> None:
    """Let updates of private chats through; drop the rest (a command in a group gets a pointer)."""
    chat = update.effective_chat
    if chat is not None and chat.type == Chat.PRIVATE:
        return
    logger.info(
        "update %s (%s) from a %s chat dropped", update.update_id, _kind(update), chat.type if chat else "missing"
    )
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            pass
    message = update.message
    staff_chat = context.bot_data.settings.staff_telegram_chat_id
    if (
        message is not None
        and chat is not None
        and chat.type in (Chat.GROUP, Chat.SUPERGROUP)
        and str(chat.id) != staff_chat
        and (message.text or "").startswith("/")
    ):
        try:
            await context.bot.send_message(chat_id=chat.id, text=texts.PRIVATE_CHAT_ONLY)
        except TelegramError as exc:
            logger.info("chat %s: group pointer not sent: %s", chat.id, type(exc).__name__)
    raise ApplicationHandlerStop

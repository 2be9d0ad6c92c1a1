"""Recording and reading conversation transcripts (ID and phone numbers masked before storing)."""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs.models import Conversation, ConversationMessage
from civil_affairs.models.base import utcnow
from civil_affairs.privacy import mask_personal_data

MAX_STORED_CHARS = 5000


def channel_of(sender_id: str) -> str:
    """``tg-…`` senders are Telegram chats, ``web-…`` senders are web chat visitors."""
    return "telegram" if sender_id.startswith("tg-") else "web"


def telegram_chat_id(sender_id: str) -> int | None:
    """The Telegram chat id inside a ``tg-<chat id>`` sender id."""
    if sender_id.startswith("tg-"):
        try:
            return int(sender_id[3:])
        except ValueError:
            return None
    return None


def get_or_create_conversation(sender_id: str, *, session: Session) -> Conversation:
    """The resident's conversation, created on first contact."""
    conversation = session.scalars(
        select(Conversation).where(Conversation.sender_id == sender_id)
    ).one_or_none()
    if conversation is None:
        conversation = Conversation(sender_id=sender_id, channel=channel_of(sender_id))
        session.add(conversation)
        session.flush()
    return conversation


def record_message(sender_id: str, author: str, text: str, *, session: Session,
                   buttons: list[dict[str, Any]] | None = None,
                   staff_user_id: int | None = None) -> ConversationMessage:
    """Append one masked line to the resident's transcript."""
    conversation = get_or_create_conversation(sender_id, session=session)
    message = ConversationMessage(
        conversation_id=conversation.id, author=author,
        text=mask_personal_data(text or "")[:MAX_STORED_CHARS],
        buttons=[{"title": mask_personal_data(b.get("title", "")), "payload": b.get("payload", "")}
                 for b in buttons] if buttons else None,
        staff_user_id=staff_user_id,
    )
    conversation.last_message_at = utcnow()
    session.add(message)
    session.flush()
    return message


def transcript(conversation_id: int, *, session: Session, after_id: int = 0,
               authors: Iterable[str] | None = None) -> list[ConversationMessage]:
    """Messages of a conversation in order, optionally only newer ones or by some authors."""
    stmt = (select(ConversationMessage)
            .where(ConversationMessage.conversation_id == conversation_id, ConversationMessage.id > after_id)
            .order_by(ConversationMessage.id))
    if authors is not None:
        stmt = stmt.where(ConversationMessage.author.in_(list(authors)))
    return list(session.scalars(stmt))

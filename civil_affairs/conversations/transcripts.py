"""Recording and reading conversation transcripts (ID and phone numbers masked before storing)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from civil_affairs.models import Conversation, ConversationMessage
from civil_affairs.models.base import utcnow
from civil_affairs.privacy import mask_personal_data

MAX_STORED_CHARS = 5000
# Control characters (NUL breaks PostgreSQL text columns), lone surrogates (cannot be stored as
# UTF-8) and bidirectional overrides (they make a line read differently to staff than it is stored).
# Tabs and line breaks stay; so do emoji and the zero-width joiner inside them.
_UNSAFE_CHARS_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufeff]"
)


def clean_text(text: str) -> str:
    """Resident or staff text without the characters no transcript, database or page should hold."""
    return _UNSAFE_CHARS_RE.sub("", text or "").strip()


def channel_of(sender_id: str) -> str:
    """``tg-…`` senders are Telegram chats, ``web-…`` senders are web chat visitors."""
    return "telegram" if sender_id.startswith("tg-") else "web"


def web_sender_id(cookie: str) -> str:
    """The sender id of a web chat visitor: a SHA-256 of their cookie, never the cookie itself.

    The cookie is the visitor's only credential; whoever reads the database, the staff console or
    Rasa's tracker store learns a hash that cannot be turned back into a working cookie.
    """
    return "web-" + hashlib.sha256(cookie.encode("utf-8")).hexdigest()


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
    conversation = session.scalars(select(Conversation).where(Conversation.sender_id == sender_id)).one_or_none()
    if conversation is None:
        conversation = Conversation(sender_id=sender_id, channel=channel_of(sender_id))
        session.add(conversation)
        session.flush()
    return conversation


def stored_line(author: str, text: str, buttons: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The columns of one transcript line: text and button titles cleaned and masked."""
    return {
        "author": author,
        "text": mask_personal_data(clean_text(text))[:MAX_STORED_CHARS],
        "buttons": [
            {"title": mask_personal_data(clean_text(b.get("title", ""))), "payload": b.get("payload", "")}
            for b in buttons
        ]
        if buttons
        else None,
    }


def record_message(
    sender_id: str,
    author: str,
    text: str,
    *,
    session: Session,
    buttons: list[dict[str, Any]] | None = None,
    staff_user_id: int | None = None,
) -> ConversationMessage:
    """Append one masked line to the resident's transcript."""
    conversation = get_or_create_conversation(sender_id, session=session)
    message = ConversationMessage(
        conversation_id=conversation.id, staff_user_id=staff_user_id, **stored_line(author, text, buttons)
    )
    conversation.last_message_at = utcnow()
    session.add(message)
    session.flush()
    return message


def record_lines(sender_id: str, lines: list[dict[str, Any]], *, session: Session) -> int:
    """Append several ``stored_line`` rows in one statement; returns the conversation id.

    Every resident message and bot answer passes here, so it costs three statements, without the
    ORM's unit of work (``record_message`` took three per line and twice the CPU).
    """
    conversation_id = session.scalar(_CONVERSATION_ID, {"sender": sender_id})
    if conversation_id is None:
        conversation_id = get_or_create_conversation(sender_id, session=session).id
    if lines:
        now = utcnow()
        session.execute(_ADD_LINE, [{**line, "conversation_id": conversation_id, "at": now} for line in lines])
        session.execute(_TOUCH, {"conversation": conversation_id, "touched_at": now})
    return conversation_id


def append_lines(connection: Connection, conversation_id: int, lines: list[dict[str, Any]]) -> None:
    """``record_lines`` for a conversation whose id is known, on a plain connection: two statements.

    Without the ORM session (its unit of work, its evaluation of the UPDATE against loaded objects)
    and without looking the conversation up again: conversations are never deleted.
    """
    if lines:
        now = utcnow()
        insert_lines(connection, conversation_id, lines, now)
        connection.execute(_TOUCH_CORE, {"conversation": conversation_id, "touched_at": now})


def insert_lines(connection: Connection, conversation_id: int, lines: list[dict[str, Any]], at: datetime) -> None:
    """Insert ``stored_line`` rows of a known conversation in one statement, on a plain connection."""
    connection.execute(_ADD_LINE_CORE, [{**line, "conversation_id": conversation_id, "at": at} for line in lines])


# ``record_lines``'s statements, built once (building them per message was a fifth of its CPU).
_CONVERSATION_ID = select(Conversation.id).where(Conversation.sender_id == bindparam("sender"))
_ADD_LINE = insert(ConversationMessage)
_TOUCH = (
    update(Conversation)
    .where(Conversation.id == bindparam("conversation"))
    .values(last_message_at=bindparam("touched_at"))
)
# The same on the tables, for a plain connection (no ORM compile and execution step).
_CONVERSATIONS = Conversation.__table__
_ADD_LINE_CORE = insert(ConversationMessage.__table__)
_TOUCH_CORE = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("conversation"))
    .values(last_message_at=bindparam("touched_at"))
)


def transcript(
    conversation_id: int, *, session: Session, after_id: int = 0, authors: Iterable[str] | None = None
) -> list[ConversationMessage]:
    """Messages of a conversation in order, optionally only newer ones or by some authors."""
    stmt = (
        select(ConversationMessage)
        .where(ConversationMessage.conversation_id == conversation_id, ConversationMessage.id > after_id)
        .order_by(ConversationMessage.id)
    )
    if authors is not None:
        stmt = stmt.where(ConversationMessage.author.in_(list(authors)))
    return list(session.scalars(stmt))


def last_resident_line(conversation_id: int, *, session: Session) -> str:
    """What the resident wrote last in a conversation (shown in the queue and in search results)."""
    return (
        session.scalars(
            select(ConversationMessage.text)
            .where(ConversationMessage.conversation_id == conversation_id, ConversationMessage.author == "resident")
            .order_by(ConversationMessage.id.desc())
            .limit(1)
        ).first()
        or ""
    )

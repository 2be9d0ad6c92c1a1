"""Handing a conversation to staff (转人工) and back: escalate, claim, reply, resolve, rate.

While a handoff is open or assigned the bot stays silent in that conversation and every resident
message is kept for staff. Resolving hands the conversation back to the bot, which asks the
resident for a 1–5 rating. Functions take a keyword-only ``session`` and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from civil_affairs import clock
from civil_affairs.booking.work_calendar import load_calendar
from civil_affairs.config import Settings
from civil_affairs.conversations import texts
from civil_affairs.conversations.transcripts import (
    get_or_create_conversation,
    insert_lines,
    last_resident_line,
    record_lines,
    stored_line,
)
from civil_affairs.models import Conversation, ConversationMessage, Handoff, HandoffNote
from civil_affairs.models.base import utcnow
from civil_affairs.models.conversation import PRIORITY_EMERGENCY, PRIORITY_HIGH, PRIORITY_NORMAL
from civil_affairs.office_hours import OfficeHours, describe_opening
from civil_affairs.ops import metrics
from civil_affairs.privacy import mask_personal_data

ACTIVE = ("open", "assigned")
REASON_PRIORITY = {
    "emergency": PRIORITY_EMERGENCY,
    "complaint": PRIORITY_HIGH,
    "sensitive": PRIORITY_HIGH,
    "misunderstood": PRIORITY_NORMAL,
    "requested": PRIORITY_NORMAL,
}
REASON_LABELS = {
    "requested": "居民要求转人工",
    "complaint": "投诉",
    "misunderstood": "机器人连续未能理解",
    "sensitive": "敏感内容",
    "emergency": "紧急情况",
}


class HandoffError(ValueError):
    """A staff action that does not fit the handoff's state (e.g. replying to a resolved one)."""


def active_handoff(sender_id: str, *, session: Session) -> Handoff | None:
    """The open or assigned handoff of this resident's conversation, if any."""
    return session.scalars(_ACTIVE_HANDOFF, {"sender": sender_id}).first()


# Asked for every resident message, so built once.
_ACTIVE_HANDOFF = (
    select(Handoff)
    .join(Conversation, Conversation.id == Handoff.conversation_id)
    .where(Conversation.sender_id == bindparam("sender"), Handoff.status.in_(ACTIVE))
    .order_by(Handoff.id.desc())
    .limit(1)
)


def record_resident_line(sender_id: str, text: str, *, session: Session) -> tuple[int, int | None, int | None]:
    """Record a resident's message and read the active handoff: (conversation id, its id, its priority).

    Every resident message passes here, so it is three statements on the session's connection
    (``record_lines`` and ``active_handoff`` took five, through the ORM). Touching the conversation
    comes first: it takes the conversation's row lock (on SQLite the database's write lock), so the
    handoff is read after it, at least as fresh as when it was read after the line was added.
    """
    connection = session.connection()
    line = stored_line("resident", text)
    now = utcnow()
    if connection.execute(_TOUCH_BY_SENDER, {"sender": sender_id, "touched_at": now}).rowcount == 0:
        conversation_id = record_lines(sender_id, [line], session=session)  # first contact opens it
        active = active_handoff(sender_id, session=session)
        return conversation_id, None if active is None else active.id, None if active is None else active.priority
    conversation_id, handoff_id, priority = connection.execute(_CONVERSATION_AND_HANDOFF, {"sender": sender_id}).one()
    insert_lines(connection, conversation_id, [line], now)
    return conversation_id, handoff_id, priority


# ``record_resident_line``'s statements, on the tables (no ORM compile and execution step).
_CONVERSATIONS, _HANDOFFS = Conversation.__table__, Handoff.__table__
_TOUCH_BY_SENDER = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.sender_id == bindparam("sender"))
    .values(last_message_at=bindparam("touched_at"))
)
# The conversation with its newest active handoff (as ``active_handoff``), or with NULLs.
_CONVERSATION_AND_HANDOFF = (
    select(_CONVERSATIONS.c.id, _HANDOFFS.c.id, _HANDOFFS.c.priority)
    .select_from(
        _CONVERSATIONS.outerjoin(
            _HANDOFFS, (_HANDOFFS.c.conversation_id == _CONVERSATIONS.c.id) & _HANDOFFS.c.status.in_(ACTIVE)
        )
    )
    .where(_CONVERSATIONS.c.sender_id == bindparam("sender"))
    .order_by(_HANDOFFS.c.id.desc())
    .limit(1)
)


def escalate(sender_id: str, reason: str, *, session: Session, summary: str = "") -> tuple[Handoff, bool]:
    """Open a handoff (or raise the priority of the active one); second value: newly opened."""
    existing = active_handoff(sender_id, session=session)
    priority = REASON_PRIORITY[reason]
    if existing is not None:
        if priority < existing.priority:
            existing.priority, existing.reason = priority, reason
        return existing, False
    conversation = get_or_create_conversation(sender_id, session=session)
    handoff = Handoff(
        conversation_id=conversation.id,
        reason=reason,
        priority=priority,
        summary=mask_personal_data(summary)[:200],
        status="open",
    )
    session.add(handoff)
    session.flush()
    metrics.HANDOFFS.labels(reason=reason).inc()
    return handoff, True


def get_handoff(handoff_id: int, *, session: Session) -> Handoff:
    """The handoff, or HandoffError when there is none with that id."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffError("没有这个转人工会话")
    return handoff


def claim(handoff_id: int, staff_user_id: int, *, session: Session) -> Handoff:
    """Assign an open handoff to a staff member (also used to reassign)."""
    handoff = get_handoff(handoff_id, session=session)
    if handoff.status == "resolved":
        raise HandoffError("该会话已结束，不能再分配")
    handoff.status, handoff.assigned_to, handoff.assigned_at = "assigned", staff_user_id, utcnow()
    return handoff


def note_staff_reply(handoff: Handoff, staff_user_id: int) -> None:
    """Staff answered: the first answer stops the waiting clock; an unassigned handoff is claimed."""
    if handoff.status == "resolved":
        raise HandoffError("该会话已结束，请等居民再次发起")
    if handoff.first_response_at is None:
        handoff.first_response_at = utcnow()
    if handoff.assigned_to is None:
        handoff.status, handoff.assigned_to, handoff.assigned_at = "assigned", staff_user_id, utcnow()


def add_note(handoff_id: int, staff_user_id: int, text: str, *, session: Session) -> HandoffNote:
    """An internal note for colleagues."""
    get_handoff(handoff_id, session=session)
    note = HandoffNote(handoff_id=handoff_id, staff_user_id=staff_user_id, text=mask_personal_data(text.strip()))
    session.add(note)
    session.flush()
    return note


def resolve(handoff_id: int, staff_user_id: int, *, session: Session) -> Handoff:
    """Close the handoff; the bot answers the conversation again."""
    handoff = get_handoff(handoff_id, session=session)
    if handoff.status == "resolved":
        raise HandoffError("该会话已经结束")
    handoff.status, handoff.resolved_at, handoff.resolved_by = "resolved", utcnow(), staff_user_id
    return handoff


def rate_last_resolved(sender_id: str, rating: int, *, session: Session) -> Handoff | None:
    """Store the resident's 1–5 rating on their latest resolved, unrated handoff."""
    if not 1 <= rating <= 5:
        return None
    handoff = session.scalars(
        select(Handoff)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Conversation.sender_id == sender_id, Handoff.status == "resolved", Handoff.rating.is_(None))
        .order_by(Handoff.id.desc())
    ).first()
    if handoff is not None:
        handoff.rating, handoff.rated_at = rating, utcnow()
    return handoff


@dataclass(frozen=True)
class QueueItem:
    """One row of the staff queue."""

    handoff: Handoff
    sender_id: str
    channel: str
    last_message: str
    waiting_seconds: int


def queue(
    *, session: Session, status: str | None = None, now: datetime | None = None, limit: int = 200
) -> list[QueueItem]:
    """Handoffs by status (default: open and assigned), most urgent and longest waiting first.

    Resolved handoffs come most recently resolved first, so the newest stay within ``limit``.
    """
    now = now or utcnow()
    statuses = [status] if status else list(ACTIVE)
    order = (
        (Handoff.resolved_at.desc(), Handoff.id.desc())
        if status == "resolved"
        else (Handoff.priority, Handoff.created_at)
    )
    rows = session.execute(
        select(Handoff, Conversation)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Handoff.status.in_(statuses))
        .order_by(*order)
        .limit(limit)
    ).all()
    items = []
    for handoff, conversation in rows:
        last = last_resident_line(conversation.id, session=session)
        end = handoff.first_response_at or handoff.resolved_at or now
        items.append(
            QueueItem(
                handoff,
                conversation.sender_id,
                conversation.channel,
                last[:80],
                max(0, int((end - handoff.created_at).total_seconds())),
            )
        )
    return items


LIKE_ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """``%text%`` for LIKE with ``%``, ``_`` and the escape character taken literally."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def search_conversations(text: str, *, session: Session, limit: int = 50) -> list[Conversation]:
    """Conversations whose transcript contains ``text`` (masked text is what is stored and searched).

    Only the transcript text is searched, never the sender id: a web sender id derives from the
    visitor's cookie and a Telegram one is the chat id, and matching on them one character at a
    time would let a searcher recover them. Wildcards in ``text`` match only themselves.
    """
    stmt = select(Conversation).order_by(Conversation.last_message_at.desc()).limit(limit)
    if text.strip():
        stmt = stmt.where(
            Conversation.id.in_(
                select(ConversationMessage.conversation_id).where(
                    ConversationMessage.text.like(like_pattern(text.strip()), escape=LIKE_ESCAPE)
                )
            )
        )
    return list(session.scalars(stmt))


def handoff_counts(*, session: Session) -> dict[str, int]:
    """Number of handoffs per status."""
    rows = session.execute(select(Handoff.status, func.count(Handoff.id)).group_by(Handoff.status)).all()
    return {status: count for status, count in rows}


def acknowledgement(settings: Settings, now: datetime | None = None, *, session: Session | None = None) -> str:
    """What the resident is told once a person has been asked to take over.

    With a ``session`` the staff-edited holiday table decides the working days.
    """

    now = now or clock.local_now()
    hours = OfficeHours.parse(settings.office_hours)
    calendar = load_calendar(session=session) if session is not None else None
    text = texts.HANDOFF_ACKNOWLEDGEMENT
    if not hours.is_open(now, calendar):
        opening = hours.next_opening(now, calendar)
        text += texts.AFTER_HOURS_LINE.format(opening=describe_opening(opening, now), hotline=settings.bureau.hotline)
    return text


def staff_alert(handoff: Handoff, *, raised: bool = False) -> str:
    """One line for the staff Telegram chat about a new handoff (or one that just became urgent)."""
    urgent = "【紧急】" if handoff.priority == PRIORITY_EMERGENCY else ""
    if raised:
        return f"{urgent}转人工会话 #{handoff.id} 升为紧急：居民发来了危险信号，请立即查看"
    return f"{urgent}新的转人工会话 #{handoff.id}：{REASON_LABELS[handoff.reason]}"

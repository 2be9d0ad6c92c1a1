"""Read models for the staff console's handoff and conversation pages (JSON and HTML alike).

Everything a staff member reads passes ``mask_personal_data`` once more on the way out, although
transcripts and notes are stored masked already: a row written by an older version, or by hand,
must still not show a full ID or phone number. Functions take a keyword-only ``session``, only
read, and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs import clock
from civil_affairs.conversations.handoff import REASON_LABELS, QueueItem
from civil_affairs.conversations.transcripts import last_resident_line, transcript
from civil_affairs.models import AuditLog, Conversation, ConversationMessage, Handoff, HandoffNote, StaffUser
from civil_affairs.models.base import utcnow
from civil_affairs.models.conversation import PRIORITY_EMERGENCY, PRIORITY_HIGH
from civil_affairs.privacy import mask_personal_data

AUTHOR_LABELS = {"resident": "居民", "bot": "机器人", "staff": "工作人员", "system": "系统"}
CHANNEL_LABELS = {"telegram": "Telegram", "web": "网页咨询"}
STATUS_LABELS = {"open": "待处理", "assigned": "处理中", "resolved": "已结束"}
PRIORITY_LABELS = {PRIORITY_EMERGENCY: "紧急", PRIORITY_HIGH: "较高"}


def iso_utc(value: datetime | None) -> str | None:
    """A stored naive-UTC time as ISO 8601 with ``Z``."""
    return value.isoformat(timespec="seconds") + "Z" if value else None


def beijing(value: datetime | None) -> str:
    """A stored naive-UTC time as Beijing wall-clock time for staff."""
    return clock.format_local(value, "%Y-%m-%d %H:%M:%S")


def describe_wait(seconds: int) -> str:
    """12秒 / 5分钟 / 2小时5分 / 3天2小时."""
    if seconds < 60:
        return f"{seconds}秒"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}小时{minutes}分" if minutes else f"{hours}小时"
    days, hours = divmod(hours, 24)
    return f"{days}天{hours}小时" if hours else f"{days}天"


def staff_names(*, session: Session) -> dict[int, str]:
    """Display names of every staff account (deactivated ones too: they appear in old transcripts)."""
    return {
        user.id: user.display_name or user.username
        for user in session.scalars(select(StaffUser).order_by(StaffUser.id))
    }


def assignable_staff(*, session: Session) -> list[StaffUser]:
    """Active accounts a supervisor can hand a conversation to."""
    return list(
        session.scalars(
            select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.display_name, StaffUser.username)
        )
    )


def queue_row(item: QueueItem, names: dict[int, str]) -> dict[str, Any]:
    """One queue row as the JSON API and the page's script show it."""
    handoff = item.handoff
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "status": handoff.status,
        "status_label": STATUS_LABELS[handoff.status],
        "channel": item.channel,
        "channel_label": CHANNEL_LABELS.get(item.channel, item.channel),
        "reason": handoff.reason,
        "reason_label": REASON_LABELS.get(handoff.reason, handoff.reason),
        "priority": handoff.priority,
        "priority_label": PRIORITY_LABELS.get(handoff.priority, "普通"),
        "urgent": handoff.priority == PRIORITY_EMERGENCY,
        "created_at": iso_utc(handoff.created_at),
        "created_at_local": beijing(handoff.created_at),
        "last_message": mask_personal_data(item.last_message),
        "waiting_seconds": item.waiting_seconds,
        "waiting_label": describe_wait(item.waiting_seconds),
        "answered": handoff.first_response_at is not None,
        "assigned_to": handoff.assigned_to,
        "assigned_to_name": names.get(handoff.assigned_to, "") if handoff.assigned_to else "",
    }


def message_row(message: ConversationMessage, names: dict[int, str]) -> dict[str, Any]:
    """One transcript line for staff (masked again as defence)."""
    return {
        "id": message.id,
        "at": iso_utc(message.at),
        "at_local": beijing(message.at),
        "author": message.author,
        "author_label": (
            names.get(message.staff_user_id, "工作人员")
            if message.author == "staff" and message.staff_user_id
            else AUTHOR_LABELS.get(message.author, message.author)
        ),
        "text": mask_personal_data(message.text or ""),
        "buttons": [mask_personal_data(str(b.get("title", ""))) for b in (message.buttons or [])],
    }


def note_row(note: HandoffNote, names: dict[int, str]) -> dict[str, Any]:
    """One internal note."""
    return {
        "id": note.id,
        "at": iso_utc(note.at),
        "at_local": beijing(note.at),
        "author": names.get(note.staff_user_id, "") if note.staff_user_id else "",
        "text": mask_personal_data(note.text),
    }


def handoff_row(handoff: Handoff, names: dict[int, str]) -> dict[str, Any]:
    """A handoff's state, without its transcript."""
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "status": handoff.status,
        "status_label": STATUS_LABELS[handoff.status],
        "reason": handoff.reason,
        "reason_label": REASON_LABELS.get(handoff.reason, handoff.reason),
        "priority": handoff.priority,
        "priority_label": PRIORITY_LABELS.get(handoff.priority, "普通"),
        "urgent": handoff.priority == PRIORITY_EMERGENCY,
        "summary": mask_personal_data(handoff.summary or ""),
        "created_at": iso_utc(handoff.created_at),
        "created_at_local": beijing(handoff.created_at),
        "first_response_at": iso_utc(handoff.first_response_at),
        "resolved_at": iso_utc(handoff.resolved_at),
        "assigned_to": handoff.assigned_to,
        "assigned_to_name": names.get(handoff.assigned_to, "") if handoff.assigned_to else "",
        "rating": handoff.rating,
    }


def notes_of(handoff_id: int, *, session: Session, names: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """The internal notes of one handoff, oldest first."""
    names = names if names is not None else staff_names(session=session)
    return [
        note_row(n, names)
        for n in session.scalars(
            select(HandoffNote).where(HandoffNote.handoff_id == handoff_id).order_by(HandoffNote.id)
        )
    ]


@dataclass(frozen=True)
class ConversationView:
    """A conversation with its whole transcript, its handoffs and their notes, ready to show."""

    conversation_id: int
    channel: str
    channel_label: str
    created_at: datetime
    messages: list[dict[str, Any]]
    handoffs: list[dict[str, Any]]
    notes: dict[int, list[dict[str, Any]]]
    # Dividers shown before a message id ("转人工 #3 开始…", "人工服务结束"); key 0 = after the last line.
    markers: dict[int, list[str]]

    @property
    def last_message_id(self) -> int:
        return self.messages[-1]["id"] if self.messages else 0


def conversation_view(
    conversation_id: int, *, session: Session, names: dict[int, str] | None = None
) -> ConversationView | None:
    """The conversation's transcript (bot part before the escalation included), handoffs and notes."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    names = names if names is not None else staff_names(session=session)
    handoffs = list(
        session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id))
    )
    notes: dict[int, list[dict[str, Any]]] = {h.id: [] for h in handoffs}
    if handoffs:
        for note in session.scalars(
            select(HandoffNote).where(HandoffNote.handoff_id.in_(list(notes))).order_by(HandoffNote.id)
        ):
            notes[note.handoff_id].append(note_row(note, names))
    lines = transcript(conversation.id, session=session)
    markers: dict[int, list[str]] = {}
    for handoff in handoffs:
        label = REASON_LABELS.get(handoff.reason, handoff.reason)
        events = [(handoff.created_at, f"转人工 #{handoff.id} 开始（{label}）")]
        if handoff.resolved_at is not None:
            events.append((handoff.resolved_at, f"转人工 #{handoff.id} 结束，交回机器人"))
        for at, text in events:
            first = next((m.id for m in lines if m.at >= at), 0)
            markers.setdefault(first, []).append(text)
    return ConversationView(
        conversation_id=conversation.id,
        channel=conversation.channel,
        channel_label=CHANNEL_LABELS.get(conversation.channel, conversation.channel),
        created_at=conversation.created_at,
        messages=[message_row(m, names) for m in lines],
        handoffs=[handoff_row(h, names) for h in handoffs],
        notes=notes,
        markers=markers,
    )


def new_messages(
    conversation_id: int, after_id: int, *, session: Session, names: dict[int, str] | None = None
) -> list[dict[str, Any]]:
    """Transcript lines newer than ``after_id`` (what the conversation page polls for)."""
    names = names if names is not None else staff_names(session=session)
    return [message_row(m, names) for m in transcript(conversation_id, session=session, after_id=after_id)]


def viewed_recently(
    handoff_id: int, staff_user_id: int, *, session: Session, action: str, within: timedelta = timedelta(hours=8)
) -> bool:
    """True when this staff member's full view of the handoff is in the audit log (within a session's life).

    Only then may the conversation page poll for new lines without an audit record of its own: the
    read it continues is on record. Anyone else asking with ``after=`` is audited like a full view.
    """
    return (
        session.scalars(
            select(AuditLog.id)
            .where(
                AuditLog.staff_user_id == staff_user_id,
                AuditLog.action == action,
                AuditLog.target_type == "handoff",
                AuditLog.target_id == str(handoff_id),
                AuditLog.at >= utcnow() - within,
            )
            .limit(1)
        ).first()
        is not None
    )


def sender_of(handoff: Handoff, *, session: Session) -> str:
    """The Rasa sender id of the handoff's conversation (never shown to staff: a web id is a cookie)."""
    return session.get(Conversation, handoff.conversation_id).sender_id


def conversation_rows(conversations: list[Conversation], *, session: Session) -> list[dict[str, Any]]:
    """Search results: each conversation with its latest handoff's state and its last resident line."""
    rows = []
    for conversation in conversations:
        latest = session.scalars(
            select(Handoff).where(Handoff.conversation_id == conversation.id).order_by(Handoff.id.desc()).limit(1)
        ).first()
        last = last_resident_line(conversation.id, session=session)
        rows.append(
            {
                "id": conversation.id,
                "channel": conversation.channel,
                "channel_label": CHANNEL_LABELS.get(conversation.channel, conversation.channel),
                "created_at_local": beijing(conversation.created_at),
                "last_message_at_local": beijing(conversation.last_message_at),
                "last_message": mask_personal_data(last[:80]),
                "handoff_id": latest.id if latest else None,
                "handoff_status_label": STATUS_LABELS[latest.status] if latest else "无转人工",
            }
        )
    return rows

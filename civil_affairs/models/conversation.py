"""Conversations with residents, their transcripts, and handoffs to staff (转人工).

A conversation is one resident on one channel, keyed by the Rasa sender id (``tg-<chat id>`` or
``web-<cookie id>``). Transcript texts are stored with ID and phone numbers already masked.
"""

from __future__ import annotations

from sqlalchemy import (CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, JSON, String,
                        Text)

from civil_affairs.models.base import Base, utcnow

CHANNELS = ("telegram", "web")
AUTHORS = ("resident", "bot", "staff", "system")
HANDOFF_STATUSES = ("open", "assigned", "resolved")
HANDOFF_REASONS = ("requested", "complaint", "misunderstood", "sensitive", "emergency")
# Lower number = more urgent; the queue sorts by priority, then by waiting time.
PRIORITY_EMERGENCY = 1
PRIORITY_HIGH = 2
PRIORITY_NORMAL = 3


class Conversation(Base):
    """One resident on one channel."""

    __tablename__ = "conversation"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(80), nullable=False, unique=True)
    channel = Column(String(16), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_message_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class ConversationMessage(Base):
    """One line of a transcript (masked)."""

    __tablename__ = "conversation_message"
    __table_args__ = (
        CheckConstraint(f"author IN {AUTHORS}", name="author"),
        Index("ix_conversation_message_conversation_id_id", "conversation_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversation.id", ondelete="CASCADE"), nullable=False)
    at = Column(DateTime, nullable=False, default=utcnow)
    author = Column(String(16), nullable=False)
    text = Column(Text, nullable=False, default="")
    buttons = Column(JSON, nullable=True)
    staff_user_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True)


class Handoff(Base):
    """A conversation handed to staff; while open or assigned the bot stays silent in it."""

    __tablename__ = "handoff"
    __table_args__ = (
        CheckConstraint(f"status IN {HANDOFF_STATUSES}", name="status"),
        CheckConstraint(f"reason IN {HANDOFF_REASONS}", name="reason"),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating"),
        Index("ix_handoff_status_priority", "status", "priority", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversation.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    status = Column(String(16), nullable=False, default="open")
    reason = Column(String(16), nullable=False)
    priority = Column(Integer, nullable=False, default=PRIORITY_NORMAL)
    summary = Column(String(200), nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    assigned_to = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True)
    assigned_at = Column(DateTime, nullable=True)
    first_response_at = Column(DateTime, nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    resolved_by = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True)
    rating = Column(Integer, nullable=True)
    rated_at = Column(DateTime, nullable=True)


class HandoffNote(Base):
    """An internal note on a handoff; never shown to the resident."""

    __tablename__ = "handoff_note"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoff.id", ondelete="CASCADE"), nullable=False, index=True)
    staff_user_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    text = Column(Text, nullable=False)

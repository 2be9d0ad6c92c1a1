"""Applications for assistance (办件) and their status history, stage texts, subscriptions, lookup failures.

An application (申请) is identified by its number (申请编号, see ``civil_affairs.applications.numbers``).
The applicant's ID number is never stored: only its keyed hash (HMAC-SHA256 with ``SECRET_KEY``) for
staff searches and its last 6 characters, which the resident gives to prove a lookup. The phone
number is optional and kept masked (138****5678) only, since nothing here calls the resident.
"""

from __future__ import annotations

from sqlalchemy import (CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import relationship

from civil_affairs.models.base import Base, utcnow

# Keep in step with civil_affairs.applications.types.STATUSES (the check constraint below).
STATUS_CODES = ("accepted", "home_visit", "review", "publicity", "approval", "approved",
                "rejected", "needs_documents")


class Application(Base):
    """One application; ``status``/``status_at`` repeat its latest status event for listing."""

    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUS_CODES}", name="status"),
        Index("ix_application_status_at", "status", "status_at"),
    )

    id = Column(Integer, primary_key=True)
    # Canonical form (upper case, no separators); the unique index serves every lookup by number.
    number = Column(String(20), nullable=False, unique=True)
    type_code = Column(String(2), nullable=False, index=True)
    applicant_name = Column(String(64), nullable=False)
    id_hash = Column(String(64), nullable=False, index=True)
    id_last6 = Column(String(6), nullable=False)
    phone_masked = Column(String(20), nullable=True)
    office = Column(String(100), nullable=False, default="")
    status = Column(String(20), nullable=False, default="accepted")
    status_at = Column(DateTime, nullable=False, default=utcnow)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    events = relationship("ApplicationStatusEvent", order_by="ApplicationStatusEvent.id",
                          back_populates="application", cascade="all, delete-orphan")


class ApplicationStatusEvent(Base):
    """One entry of an application's status history, with a note shown to the resident."""

    __tablename__ = "application_status_event"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUS_CODES}", name="status"),
        Index("ix_application_status_event_application_id_id", "application_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("application.id", ondelete="CASCADE"), nullable=False)
    status = Column(String(20), nullable=False)
    at = Column(DateTime, nullable=False, default=utcnow)
    # 未批准: the reason; 需补充材料: what is missing; otherwise an optional remark for the resident.
    note = Column(Text, nullable=False, default="")
    staff_user_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True)
    source = Column(String(16), nullable=False, default="console")

    application = relationship(Application, back_populates="events")


class ApplicationStageText(Base):
    """What a stage means and what the resident should do next, per application type and status."""

    __tablename__ = "application_stage_text"
    __table_args__ = (UniqueConstraint("type_code", "status", name="uq_application_stage_text_type_status"),)

    id = Column(Integer, primary_key=True)
    type_code = Column(String(2), nullable=False)
    status = Column(String(20), nullable=False)
    meaning = Column(Text, nullable=False)
    next_step = Column(Text, nullable=False)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class StatusSubscription(Base):
    """A resident's chat (Rasa sender id) that is told when an application's status changes."""

    __tablename__ = "status_subscription"
    __table_args__ = (UniqueConstraint("application_id", "sender_id",
                                       name="uq_status_subscription_application_sender"),)

    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("application.id", ondelete="CASCADE"), nullable=False)
    sender_id = Column(String(80), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class StatusLookupFailure(Base):
    """A failed lookup, counted per chat and per number to pause guessing (see applications.lookup)."""

    __tablename__ = "status_lookup_failure"
    __table_args__ = (
        Index("ix_status_lookup_failure_sender_id_at", "sender_id", "at"),
        Index("ix_status_lookup_failure_number_at", "number", "at"),
    )

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(80), nullable=False)
    # The canonical number tried, or NULL when what was typed is not a number at all.
    number = Column(String(20), nullable=True)
    at = Column(DateTime, nullable=False, default=utcnow)

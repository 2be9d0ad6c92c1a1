"""Tables of running the service: Rasa's conversation events and the Telegram updates handled.

``rasa_tracker_event`` has the column layout of Rasa's SQL tracker store, in a table of its own so it
never clashes with the application's tables; it is created by migration 0007 like every other table.
``telegram_update`` remembers each Telegram ``update_id`` the bot received and whether it was
answered, so a redelivered update is handled once and an unanswered one is never left silent.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Float, Index, Integer, String, Text

from civil_affairs.models.base import Base, utcnow

UPDATE_STATES = ("received", "processing", "answered", "resend_asked", "replayed")


class TrackerEvent(Base):
    """One Rasa conversation event, stored with ID and phone numbers masked (see ops.tracker_events)."""

    __tablename__ = "rasa_tracker_event"
    __table_args__ = (
        Index("ix_rasa_tracker_event_sender_id_id", "sender_id", "id"),
        Index("ix_rasa_tracker_event_sender_id_type_name_timestamp", "sender_id", "type_name", "timestamp"),
        Index("ix_rasa_tracker_event_timestamp", "timestamp"),
    )

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False)
    type_name = Column(String(255), nullable=False)
    timestamp = Column(Float)
    intent_name = Column(String(255))
    action_name = Column(String(255))
    data = Column(Text)


class TelegramUpdate(Base):
    """A Telegram update the bot received, and how far its handling got.

    ``received`` → ``processing`` (claimed by one bot process, may have reached Rasa) → ``answered``;
    an update whose process died on the way ends ``replayed`` (Rasa's stored answer was sent) or
    ``resend_asked`` (the resident was asked to send it again).
    """

    __tablename__ = "telegram_update"
    __table_args__ = (
        CheckConstraint(f"state IN {UPDATE_STATES}", name="state"),
        Index("ix_telegram_update_state_received_at", "state", "received_at"),
    )

    bot_id = Column(BigInteger, primary_key=True, autoincrement=False)
    update_id = Column(BigInteger, primary_key=True, autoincrement=False)
    chat_id = Column(BigInteger, nullable=True)
    state = Column(String(16), nullable=False, default="received")
    owner = Column(String(120), nullable=False, default="")
    received_at = Column(DateTime, nullable=False, default=utcnow)
    claimed_at = Column(DateTime, nullable=True)
    finished_at = Column(DateTime, nullable=True)

"""Security records kept server-side: attempt counters (rate limits) and proofs of successful lookups.

Nothing here holds a personal value in clear: counter keys are SHA-256 digests of what they count
(a username, a client address, a chat), so the table can be read without learning who tried.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint

from civil_affairs.models.base import Base, utcnow


class RateLimitCounter(Base):
    """Attempts of one kind (``scope``) by one subject (``key``) within a fixed window.

    Counting is a conditional ``UPDATE … WHERE count < max`` on this row (see civil_affairs.throttle),
    so parallel attempts cannot read the same count and all pass: the database serialises them.
    """

    __tablename__ = "rate_limit_counter"

    scope = Column(String(32), primary_key=True)
    key = Column(String(64), primary_key=True)
    window_start = Column(DateTime, nullable=False, default=utcnow)
    count = Column(Integer, nullable=False, default=0)


class StatusLookupProof(Base):
    """A chat that presented the right number and ID last 6 for an application, and when.

    Subscribing to an application's updates needs a recent proof here; a slot in the tracker proves
    nothing, because whoever can post a tracker to the action server can set it.
    """

    __tablename__ = "status_lookup_proof"
    __table_args__ = (
        UniqueConstraint("sender_id", "application_id", name="uq_status_lookup_proof_sender_application"),
        Index("ix_status_lookup_proof_sender_id_at", "sender_id", "at"),
    )

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(80), nullable=False)
    application_id = Column(Integer, ForeignKey("application.id", ondelete="CASCADE"), nullable=False)
    at = Column(DateTime, nullable=False, default=utcnow)

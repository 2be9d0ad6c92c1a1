"""The numbers of the staff dashboard (数据看板): conversations, containment, handoffs, ratings, waiting.

Containment (机器人独立解答率) is the share of conversations that never needed a person: conversations
without any handoff divided by all conversations. Waiting time is the time from escalation to the
first staff reply. Functions take a keyword-only ``session``, only read, and never commit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civil_affairs.conversations.handoff import ACTIVE, REASON_LABELS
from civil_affairs.faq.store import list_unanswered
from civil_affairs.models import Conversation, Handoff

TOP_UNANSWERED = 10


@dataclass(frozen=True)
class WaitingTimes:
    """Seconds from escalation to the first staff reply, over the answered handoffs."""

    answered: int
    median_seconds: int | None
    p90_seconds: int | None


@dataclass(frozen=True)
class UnansweredRow:
    """A question the bot could not answer, and how often it was asked."""

    text: str
    count: int


@dataclass(frozen=True)
class DashboardStats:
    """Everything the dashboard shows, for one period (``since`` None = all time)."""

    since: datetime | None
    conversations: int
    contained: int
    containment_rate: float | None
    handoffs: int
    handoffs_by_reason: dict[str, int]
    waiting_now: int
    ratings: dict[int, int]
    rating_average: float | None
    waiting: WaitingTimes
    top_unanswered: list[UnansweredRow] = field(default_factory=list)

    @property
    def rated(self) -> int:
        """How many handoffs the residents rated."""
        return sum(self.ratings.values())


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (0 < fraction ≤ 1) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float | None:
    """The median (mean of the middle two for an even count); None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def conversation_counts(*, session: Session, since: datetime | None = None) -> tuple[int, int]:
    """(all conversations, conversations that never had a handoff) started since ``since``."""
    total_stmt = select(func.count(Conversation.id))
    contained_stmt = select(func.count(Conversation.id)).where(~Conversation.id.in_(select(Handoff.conversation_id)))
    if since is not None:
        total_stmt = total_stmt.where(Conversation.created_at >= since)
        contained_stmt = contained_stmt.where(Conversation.created_at >= since)
    return session.scalar(total_stmt) or 0, session.scalar(contained_stmt) or 0


def handoffs_by_reason(*, session: Session, since: datetime | None = None) -> dict[str, int]:
    """Handoffs per reason code, every known reason present (0 when none), most frequent first."""
    stmt = select(Handoff.reason, func.count(Handoff.id)).group_by(Handoff.reason)
    if since is not None:
        stmt = stmt.where(Handoff.created_at >= since)
    counts = {reason: 0 for reason in REASON_LABELS}
    counts.update({reason: count for reason, count in session.execute(stmt).all()})
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def rating_distribution(*, session: Session, since: datetime | None = None) -> dict[int, int]:
    """How many handoffs got each rating 5…1 (every score present)."""
    stmt = select(Handoff.rating, func.count(Handoff.id)).where(Handoff.rating.is_not(None)).group_by(Handoff.rating)
    if since is not None:
        stmt = stmt.where(Handoff.created_at >= since)
    counts = {score: 0 for score in range(5, 0, -1)}
    counts.update({int(score): count for score, count in session.execute(stmt).all()})
    return counts


def waiting_times(*, session: Session, since: datetime | None = None) -> WaitingTimes:
    """Median and 90th percentile of the time to the first staff reply."""
    stmt = select(Handoff.created_at, Handoff.first_response_at).where(Handoff.first_response_at.is_not(None))
    if since is not None:
        stmt = stmt.where(Handoff.created_at >= since)
    seconds = [max(0.0, (answered - created).total_seconds()) for created, answered in session.execute(stmt).all()]
    med, p90 = median(seconds), percentile(seconds, 0.9)
    return WaitingTimes(len(seconds), None if med is None else round(med), None if p90 is None else round(p90))


def dashboard_stats(
    *, session: Session, since: datetime | None = None, top_unanswered: int = TOP_UNANSWERED
) -> DashboardStats:
    """All dashboard figures for conversations and handoffs since ``since`` (None = all time).

    Args:
        session: a session to read with.
        since: only count conversations and handoffs created at or after this naive-UTC time.
        top_unanswered: how many of the most frequent unanswered questions to include (all time).

    Returns:
        The figures; rates and averages are None when there is nothing to divide by.
    """
    total, contained = conversation_counts(session=session, since=since)
    by_reason = handoffs_by_reason(session=session, since=since)
    ratings = rating_distribution(session=session, since=since)
    rated = sum(ratings.values())
    average = round(sum(score * n for score, n in ratings.items()) / rated, 2) if rated else None
    waiting_now = session.scalar(select(func.count(Handoff.id)).where(Handoff.status.in_(ACTIVE))) or 0
    unanswered = [UnansweredRow(row.text, row.count) for row in list_unanswered(session=session, limit=top_unanswered)]
    return DashboardStats(
        since=since,
        conversations=total,
        contained=contained,
        containment_rate=round(contained / total, 4) if total else None,
        handoffs=sum(by_reason.values()),
        handoffs_by_reason=by_reason,
        waiting_now=waiting_now,
        ratings=ratings,
        rating_average=average,
        waiting=waiting_times(session=session, since=since),
        top_unanswered=unanswered,
    )

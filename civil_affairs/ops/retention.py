"""Retention: transcripts and Rasa's conversation events older than ``RETENTION_DAYS`` are purged.

Purged: transcript lines (``conversation_message``), Rasa's stored events (``rasa_tracker_event``) of
conversation sessions that ended before the cutoff and of conversations idle since before it, and
finished entries of the Telegram update ledger after a week (Telegram redelivers for a day at
most). Kept: conversations and handoffs themselves (the dashboard counts them), appointments and
applications (they have their own lifecycles), the audit log.

Deleting is idempotent and goes in batches, each its own transaction, so the job can run in every
console worker (like the reminder loop) and as a script (``scripts/purge_old_data.py``) at once:
the runs only share the work. The current session of a live conversation is never touched, which
keeps Rasa's tracker store consistent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from civil_affairs.models import ConversationMessage, TrackerEvent
from civil_affairs.models.base import utcnow
from civil_affairs.ops.telegram_updates import purge_finished

logger = logging.getLogger(__name__)

BATCH = 2000
TELEGRAM_LEDGER_DAYS = 7
# The first run waits a little, so starting the service is not slowed by a large purge.
FIRST_RUN_DELAY_SECONDS = 30.0


@dataclass
class PurgeReport:
    """How many rows one retention run removed."""

    transcript_lines: int = 0
    tracker_events: int = 0
    telegram_updates: int = 0

    def total(self) -> int:
        return self.transcript_lines + self.tracker_events + self.telegram_updates


def purge_transcript_lines(before: datetime, *, session: Session, batch: int = BATCH) -> int:
    """Delete up to ``batch`` transcript lines written before ``before``; returns how many."""
    ids = select(ConversationMessage.id).where(ConversationMessage.at < before).limit(batch).scalar_subquery()
    return session.execute(
        delete(ConversationMessage).where(ConversationMessage.id.in_(ids)).execution_options(synchronize_session=False)
    ).rowcount


def purge_tracker_events(before: datetime, *, session: Session, batch: int = BATCH) -> int:
    """Delete up to ``batch`` old Rasa events: of sessions ended before ``before``, or of idle senders."""
    cutoff = before.replace(tzinfo=timezone.utc).timestamp()
    starts = aliased(TrackerEvent)
    latest_start = (
        select(func.max(starts.timestamp))
        .where(starts.sender_id == TrackerEvent.sender_id, starts.type_name == "session_started")
        .correlate(TrackerEvent)
        .scalar_subquery()
    )
    ended_sessions = (
        select(TrackerEvent.id)
        .where(TrackerEvent.timestamp < cutoff, TrackerEvent.timestamp < latest_start)
        .limit(batch)
        .scalar_subquery()
    )
    removed = session.execute(
        delete(TrackerEvent).where(TrackerEvent.id.in_(ended_sessions)).execution_options(synchronize_session=False)
    ).rowcount
    if removed:
        return removed
    idle = (
        select(TrackerEvent.sender_id)
        .group_by(TrackerEvent.sender_id)
        .having(func.max(TrackerEvent.timestamp) < cutoff)
        .limit(max(1, batch // 50))
        .scalar_subquery()
    )
    return session.execute(
        delete(TrackerEvent).where(TrackerEvent.sender_id.in_(idle)).execution_options(synchronize_session=False)
    ).rowcount


def purge_telegram_ledger(before: datetime, *, session: Session, batch: int = BATCH) -> int:
    """Delete finished Telegram update records received before ``before``."""
    return purge_finished(before, session=session, batch=batch)


def run_retention(sessions: sessionmaker, days: int, *, now: datetime | None = None, batch: int = BATCH) -> PurgeReport:
    """Purge everything older than ``days`` days, batch by batch (one transaction each)."""
    now = now or utcnow()
    before = now - timedelta(days=days)
    report = PurgeReport()
    jobs = (
        (purge_transcript_lines, before, "transcript_lines"),
        (purge_tracker_events, before, "tracker_events"),
        (purge_telegram_ledger, now - timedelta(days=min(days, TELEGRAM_LEDGER_DAYS)), "telegram_updates"),
    )
    for purge, cutoff, field_name in jobs:
        while True:
            with sessions.begin() as session:
                removed = purge(cutoff, session=session, batch=batch)
            setattr(report, field_name, getattr(report, field_name) + removed)
            if removed < batch:
                break
    return report


async def run_retention_loop(
    sessions: sessionmaker, days: int, *, interval_seconds: float, first_delay: float = FIRST_RUN_DELAY_SECONDS
) -> None:
    """Run the retention job now and then until cancelled (the console starts it in its lifespan)."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            report = await asyncio.to_thread(run_retention, sessions, days)
            if report.total():
                logger.info(
                    "retention (%d days): removed %d transcript lines, %d conversation events, "
                    "%d Telegram update records",
                    days,
                    report.transcript_lines,
                    report.tracker_events,
                    report.telegram_updates,
                )
        except Exception:  # the loop must outlive a database hiccup; it runs again later
            logger.exception("retention run failed")
        await asyncio.sleep(interval_seconds)

"""Appointment reminders (预约提醒) the day before, sent at most once even across restarts and replicas.

State lives in the ``appointment`` row: ``reminder_state`` goes pending → sending → sent/failed.
A sender claims a reminder with ``UPDATE … SET reminder_state='sending' WHERE id=… AND
reminder_state='pending'`` committed before anything is sent; only the process whose update changed
the row sends, so two schedulers (or a restarted one) can never send the same reminder twice. A
claim left in ``sending`` by a process that died mid-send is marked ``failed`` after a while rather
than sent again: "never twice" wins over "always once".

Wiring: run ``run_reminder_loop(settings, sessions, delivery)`` as a background task of one
long-lived process (the console's lifespan), and cancel the task on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from civil_affairs import clock
from civil_affairs.booking import DEFAULT_RULES, BookingRules
from civil_affairs.booking.date_parsing import describe_date
from civil_affairs.conversations import texts
from civil_affairs.conversations.delivery import Delivery
from civil_affairs.models import Appointment
from civil_affairs.models.base import utcnow
from civil_affairs.models.booking import KIND_LABELS

logger = logging.getLogger(__name__)

REMINDER_INTERVAL_SECONDS = 60
STALE_CLAIM = timedelta(minutes=15)
BATCH = 50


def reminder_text(appointment: Appointment, today: datetime | None = None) -> str:
    """What the resident reads the day before."""
    day = describe_date(appointment.day, (today or clock.local_now()).date())
    return texts.APPOINTMENT_REMINDER.format(
        day=day, slot=appointment.slot.label, kind=KIND_LABELS[appointment.kind], code=appointment.code
    )


def _claim(sessions: sessionmaker, appointment_id: int, now_utc: datetime) -> bool:
    """Atomically take one pending reminder; True only for the single process that got it."""
    with sessions.begin() as session:
        result = session.execute(
            update(Appointment)
            .where(
                Appointment.id == appointment_id,
                Appointment.reminder_state == "pending",
                Appointment.status == "booked",
            )
            .values(reminder_state="sending", reminder_claimed_at=now_utc)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def _finish(sessions: sessionmaker, appointment_id: int, state: str, now_utc: datetime) -> None:
    with sessions.begin() as session:
        session.execute(
            update(Appointment)
            .where(Appointment.id == appointment_id, Appointment.reminder_state == "sending")
            .values(reminder_state=state, reminder_sent_at=now_utc if state == "sent" else None)
            .execution_options(synchronize_session=False)
        )


async def send_due_reminders(
    sessions: sessionmaker, delivery: Delivery, *, now_utc: datetime | None = None, rules: BookingRules = DEFAULT_RULES
) -> int:
    """Send every reminder that is due now; returns how many were sent.

    Reminders for appointments without a chat, or whose day has already begun, are skipped.
    """
    now_utc = now_utc or utcnow()
    with sessions.begin() as session:
        session.execute(
            update(Appointment)
            .where(Appointment.reminder_state == "sending", Appointment.reminder_claimed_at < now_utc - STALE_CLAIM)
            .values(reminder_state="failed")
            .execution_options(synchronize_session=False)
        )
        due = list(
            session.scalars(
                select(Appointment)
                .where(
                    Appointment.reminder_state == "pending",
                    Appointment.status == "booked",
                    Appointment.reminder_due_at <= now_utc,
                )
                .order_by(Appointment.reminder_due_at)
                .limit(BATCH)
            )
        )
        today = clock.local_today(now_utc)
        work = []
        for appointment in due:
            if not appointment.sender_id or appointment.day <= today:
                appointment.reminder_state = "skipped"
            else:
                work.append(
                    (appointment.id, appointment.sender_id, reminder_text(appointment, clock.local_now(now_utc)))
                )
    sent = 0
    for appointment_id, sender_id, text in work:
        if not _claim(sessions, appointment_id, now_utc):
            continue  # another scheduler has it
        try:
            ok = await delivery.to_resident(sender_id, text)
        except Exception:  # a broken delivery must not stop the loop; the claim keeps it from repeating
            logger.exception("reminder %s could not be delivered", appointment_id)
            ok = False
        _finish(sessions, appointment_id, "sent" if ok else "failed", now_utc)
        sent += ok
    if work:
        logger.info("reminders: %d due, %d sent", len(work), sent)
    return sent


async def run_reminder_loop(
    sessions: sessionmaker,
    delivery: Delivery,
    *,
    interval_seconds: float = REMINDER_INTERVAL_SECONDS,
    rules: BookingRules = DEFAULT_RULES,
    stop: asyncio.Event | None = None,
) -> None:
    """Check for due reminders every ``interval_seconds`` until cancelled or ``stop`` is set."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await send_due_reminders(sessions, delivery, rules=rules)
        except Exception:  # the database may be briefly away; try again next round
            logger.exception("reminder round failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
        except asyncio.TimeoutError:
            pass

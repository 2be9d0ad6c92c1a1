"""Reminders the day before: scheduled with the booking, sent once, never twice — also when the
process restarts (new engine and scheduler objects) or two schedulers run at the same time."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from sqlalchemy import select

from civil_affairs import booking
from civil_affairs.booking.reminders import send_due_reminders
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import Appointment
from tests.helpers.booking_factory import make_request

NOW = datetime(2026, 9, 23, 9, 0)
DAY = date(2026, 9, 28)  # Monday; reminder due Sunday 27 Sep 10:00 local = 02:00 UTC


class RecordingDelivery:
    """Stands in for Delivery: records what would reach the resident's chat."""

    def __init__(self, ok: bool = True, fail: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.ok, self.fail = ok, fail

    async def to_resident(self, sender_id: str, text: str, **_: object) -> bool:
        if self.fail:
            raise RuntimeError("network down")
        await asyncio.sleep(0.01)  # let a concurrent scheduler interleave
        self.sent.append((sender_id, text))
        return self.ok


def _book(url: str, serial: int = 1, sender: str = "tg-5001") -> str:
    engine = make_engine(url)
    appointment = booking.book_with_retry(
        make_session_factory(engine), make_request(DAY, serial=serial, sender_id=sender), secret_key="k", now=NOW
    )
    engine.dispose()
    return appointment.code


def _state(url: str, code: str) -> str:
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        state = session.scalar(select(Appointment.reminder_state).where(Appointment.code == code))
    engine.dispose()
    return state


def _process(url: str):  # noqa: ANN202 - a fresh "process": its own engine and session factory
    return make_session_factory(make_engine(url))


async def test_reminder_is_sent_once_across_restarts(fresh_database_url: str) -> None:
    code = _book(fresh_database_url)
    due = booking.reminder_due(DAY)
    assert due == datetime(2026, 9, 27, 2, 0)

    first = RecordingDelivery()
    assert await send_due_reminders(_process(fresh_database_url), first, now_utc=due - timedelta(minutes=1)) == 0
    assert await send_due_reminders(_process(fresh_database_url), first, now_utc=due) == 1
    [(sender, text)] = first.sent
    assert sender == "tg-5001" and code in text and "明天" in text

    # "restart": new engine, new session factory, new scheduler round — nothing is sent again
    second = RecordingDelivery()
    assert await send_due_reminders(_process(fresh_database_url), second, now_utc=due + timedelta(hours=1)) == 0
    assert second.sent == [] and _state(fresh_database_url, code) == "sent"


async def test_two_schedulers_at_once_send_one_reminder(fresh_database_url: str) -> None:
    code = _book(fresh_database_url, serial=2)
    deliveries = [RecordingDelivery() for _ in range(4)]
    due = booking.reminder_due(DAY)
    counts = await asyncio.gather(
        *(send_due_reminders(_process(fresh_database_url), d, now_utc=due) for d in deliveries)
    )
    assert sum(counts) == 1 and sum(len(d.sent) for d in deliveries) == 1
    assert _state(fresh_database_url, code) == "sent"


async def test_a_crash_while_sending_is_not_repeated(fresh_database_url: str) -> None:
    code = _book(fresh_database_url, serial=3)
    due = booking.reminder_due(DAY)
    assert await send_due_reminders(_process(fresh_database_url), RecordingDelivery(fail=True), now_utc=due) == 0
    assert _state(fresh_database_url, code) == "failed"
    later = RecordingDelivery()
    await send_due_reminders(_process(fresh_database_url), later, now_utc=due + timedelta(minutes=30))
    assert later.sent == []


async def test_cancelled_appointments_get_no_reminder(fresh_database_url: str) -> None:
    code = _book(fresh_database_url, serial=4)
    sessions = _process(fresh_database_url)
    with sessions.begin() as session:
        appointment = session.scalar(select(Appointment).where(Appointment.code == code))
        booking.cancel(appointment, session=session)
    delivery = RecordingDelivery()
    assert await send_due_reminders(sessions, delivery, now_utc=booking.reminder_due(DAY)) == 0
    assert delivery.sent == [] and _state(fresh_database_url, code) == "skipped"

"""A booking submitted twice with the same submission key (a retried "确认") books once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from civil_affairs import booking
from civil_affairs.config import Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import Appointment
from tests.helpers.booking_factory import make_request

NOW = datetime(2026, 9, 23, 9, 0)
DAY = date(2026, 9, 24)


def test_the_same_submission_from_several_retries_at_once_books_one_appointment(migrated_settings: Settings) -> None:
    engine = make_engine(migrated_settings.database_url)
    sessions = make_session_factory(engine)
    request = replace(make_request(DAY, serial=31), submission_key="k" * 64)
    try:
        with ThreadPoolExecutor(6) as pool:
            codes = list(
                pool.map(lambda _: booking.book_with_retry(sessions, request, secret_key="s", now=NOW).code, range(6))
            )
        with sessions() as session:
            stored = session.scalar(select(func.count(Appointment.id)))
        assert stored == 1 and len(set(codes)) == 1
        # Another run of the form (another key) by the same couple is the "one at a time" rule.
        with pytest.raises(booking.BookingError) as refused:
            booking.book_with_retry(sessions, replace(request, submission_key="m" * 64), secret_key="s", now=NOW)
        assert refused.value.code in ("active", "conflict")
    finally:
        engine.dispose()

"""The one clock: stored UTC shown in the bureau's zone, and TIMEZONE reaches every caller."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest

from civil_affairs import clock
from civil_affairs.booking import ics


@pytest.fixture
def restore_zone() -> Iterator[None]:
    yield
    clock.use_timezone(clock.DEFAULT_TIMEZONE)


def test_default_zone_is_china_time() -> None:
    assert clock.to_local(datetime(2026, 3, 1, 16, 30)) == datetime(2026, 3, 2, 0, 30)
    assert clock.local_today(datetime(2026, 3, 1, 16, 30)) == date(2026, 3, 2)
    assert clock.to_utc(datetime(2026, 3, 2, 0, 30)) == datetime(2026, 3, 1, 16, 30)


def test_round_trip() -> None:
    moment = datetime(2026, 11, 30, 1, 2, 3)
    assert clock.to_utc(clock.to_local(moment)) == moment


def test_configured_zone_reaches_callers(restore_zone: None) -> None:
    clock.use_timezone("Asia/Urumqi")  # UTC+6
    assert clock.to_local(datetime(2026, 3, 1, 16, 30)) == datetime(2026, 3, 1, 22, 30)
    assert clock.format_local(datetime(2026, 3, 1, 16, 30)) == "2026-03-01 22:30"
    event = ics.CalendarEvent(
        uid="x",
        day=date(2026, 3, 2),
        start=datetime(2026, 3, 2, 9).time(),
        end=datetime(2026, 3, 2, 10).time(),
        summary="s",
    )
    assert "DTSTART:20260302T030000Z" in ics.build_ics(event, now=datetime(2026, 3, 1))


def test_format_local_of_nothing_is_empty() -> None:
    assert clock.format_local(None) == ""

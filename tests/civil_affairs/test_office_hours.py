"""Office hours follow the weekly schedule and the holiday calendar (package or staff-edited table)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from civil_affairs.office_hours import OfficeHours, OfficeHoursError, describe_opening

HOURS = OfficeHours.parse("mon-fri 08:30-12:00,14:30-17:30")


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        (datetime(2026, 12, 1, 9, 0), True),  # Tuesday morning
        (datetime(2026, 12, 1, 13, 0), False),  # lunch break
        (datetime(2026, 11, 28, 10, 0), False),  # Saturday
        (datetime(2026, 10, 1, 10, 0), False),  # National Day
    ],
)
def test_open_follows_schedule_and_holidays(now: datetime, open_: bool) -> None:
    assert HOURS.is_open(now) is open_


def test_next_opening_skips_the_national_day_holiday() -> None:
    now = datetime(2026, 9, 30, 18, 0)
    assert HOURS.next_opening(now) == datetime(2026, 10, 8, 8, 30)
    assert describe_opening(datetime(2026, 10, 8, 8, 30), now) == "10月8日（周四） 08:30"


class OneDayOff:
    """A staff-edited calendar that closes one ordinary Tuesday."""

    def is_workday(self, day: date) -> bool:
        return day != date(2026, 12, 1) and day.weekday() < 5


def test_a_staff_edited_calendar_wins_over_the_package() -> None:
    now = datetime(2026, 12, 1, 9, 0)
    assert HOURS.is_open(now) and not HOURS.is_open(now, OneDayOff())
    assert HOURS.next_opening(now, OneDayOff()) == datetime(2026, 12, 2, 8, 30)


@pytest.mark.parametrize("spec", ["", "monday 9-5", "mon-fri 12:00-08:00", "xyz-fri 08:00-12:00"])
def test_bad_office_hours_are_refused(spec: str) -> None:
    with pytest.raises(OfficeHoursError):
        OfficeHours.parse(spec)

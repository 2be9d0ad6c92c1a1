"""When staff answer escalated chats: weekly hours plus the official holiday and 调休 calendar.

The schedule is a setting (``OFFICE_HOURS``, e.g. ``mon-fri 08:30-12:00,14:30-17:30``). Whether a
date is a working day comes from the staff-editable holiday table (``work_calendar``, the same one
appointments use) when the caller passes it, else from the ``chinese_calendar`` package, which
follows the State Council's published holidays and make-up working weekends (调休); for a year
neither covers, plain weekdays are used and a warning is logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

import chinese_calendar

logger = logging.getLogger(__name__)

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_SPEC_RE = re.compile(r"^\s*([a-z]{3})(?:-([a-z]{3}))?\s+(.+)$")


class OfficeHoursError(ValueError):
    """The OFFICE_HOURS setting cannot be read; the message shows the expected form."""


@dataclass(frozen=True)
class OfficeHours:
    """Opening periods per weekday (0 = Monday) on working days."""

    periods: dict[int, tuple[tuple[time, time], ...]]

    @classmethod
    def parse(cls, spec: str) -> OfficeHours:
        """Read ``mon-fri 08:30-12:00,14:30-17:30; sat 09:00-12:00``."""
        periods: dict[int, tuple[tuple[time, time], ...]] = {}
        for part in filter(None, (p.strip() for p in spec.lower().split(";"))):
            match = _SPEC_RE.match(part)
            if not match or match.group(1) not in DAY_NAMES or (match.group(2) and match.group(2) not in DAY_NAMES):
                raise OfficeHoursError(f"OFFICE_HOURS part {part!r} should look like 'mon-fri 08:30-12:00,14:30-17:30'")
            first = DAY_NAMES.index(match.group(1))
            last = DAY_NAMES.index(match.group(2)) if match.group(2) else first
            spans = []
            for span in match.group(3).split(","):
                try:
                    start, end = (time.fromisoformat(t.strip()) for t in span.split("-"))
                except ValueError as exc:
                    raise OfficeHoursError(f"OFFICE_HOURS period {span!r} should look like 08:30-12:00") from exc
                if start >= end:
                    raise OfficeHoursError(f"OFFICE_HOURS period {span!r} ends before it starts")
                spans.append((start, end))
            for day in range(first, last + 1):
                periods[day] = tuple(sorted(spans))
        if not periods:
            raise OfficeHoursError("OFFICE_HOURS is empty")
        return cls(periods)

    def is_open(self, now: datetime, calendar: WorkdaySource | None = None) -> bool:
        """Staff are on duty at ``now`` (local time)."""
        if not is_workday(now.date(), calendar):
            return False
        return any(start <= now.time() < end for start, end in self.periods.get(now.weekday(), ()))

    def next_opening(self, now: datetime, calendar: WorkdaySource | None = None) -> datetime:
        """The next moment staff are on duty, ``now`` itself when open."""
        if self.is_open(now, calendar):
            return now
        for offset in range(0, 60):
            day = now.date() + timedelta(days=offset)
            if not is_workday(day, calendar):
                continue
            for start, _end in self.periods.get(day.weekday(), ()):
                candidate = datetime.combine(day, start)
                if candidate > now:
                    return candidate
        raise OfficeHoursError("no opening hours in the next 60 days; check OFFICE_HOURS")


class WorkdaySource(Protocol):
    """Anything that knows working days, like ``work_calendar.WorkCalendar``."""

    def is_workday(self, day: date) -> bool: ...


def is_workday(day: date, calendar: WorkdaySource | None = None) -> bool:
    """Official working day (holidays off, 调休 weekends on)."""
    if calendar is not None:
        try:
            return calendar.is_workday(day)
        except LookupError:  # the table does not cover that year: fall back to the package
            pass
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        logger.warning("holiday calendar has no data for %s; using plain weekdays", day.year)
        return day.weekday() < 5


def describe_opening(moment: datetime, now: datetime) -> str:
    """'今天 14:30' / '明天 08:30' / '10月8日（周三）08:30' for telling residents when staff answer."""
    if moment.date() == now.date():
        day = "今天"
    elif moment.date() == now.date() + timedelta(days=1):
        day = "明天"
    else:
        day = f"{moment.month}月{moment.day}日（{WEEKDAY_LABELS[moment.weekday()]}）"
    return f"{day} {moment:%H:%M}"

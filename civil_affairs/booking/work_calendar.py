"""Working days (工作日) from an editable holiday table: official holidays and 调休 make-up weekends.

The table (``calendar_day`` rows for exceptions, ``calendar_year`` rows for the years it covers) is
seeded from the ``chinese_calendar`` package, which follows the State Council's yearly notice, and
staff can correct or add days in the console. A date in a year the table does not cover raises
``CalendarYearMissing``: staff see it as an error to fix, residents simply get no dates offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civil_affairs import clock
from civil_affairs.models import CalendarDay, CalendarYear

HOLIDAY = "holiday"
WORKDAY = "workday"

# chinese_calendar names holidays in English; residents and staff read Chinese.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class CalendarYearMissing(LookupError):
    """The holiday arrangement of ``year`` is not in the table yet (not published or not loaded)."""

    def __init__(self, year: int) -> None:
        super().__init__(f"{year}年的节假日安排尚未录入日历表，请在“日历”页面录入或从日历包导入")
        self.year = year


@dataclass(frozen=True)
class WorkCalendar:
    """A snapshot of the table for fast lookups: exceptions by date plus the covered years."""

    exceptions: dict[date, tuple[str, str]]
    years: frozenset[int]

    @classmethod
    def from_package(cls) -> WorkCalendar:
        """The package's own arrangement, without a database (tests and scripts)."""
        exceptions = {d: (HOLIDAY, str(n)) for d, n in chinese_calendar.holidays.items()}
        exceptions.update({d: (WORKDAY, str(n)) for d, n in chinese_calendar.workdays.items()})
        return cls(exceptions, frozenset(package_years()))

    def is_workday(self, day: date) -> bool:
        """Official working day; raises CalendarYearMissing outside the covered years."""
        if day.year not in self.years:
            raise CalendarYearMissing(day.year)
        exception = self.exceptions.get(day)
        if exception is not None:
            return exception[0] == WORKDAY
        return day.weekday() < 5

    def holiday_name(self, day: date) -> str:
        """The holiday's Chinese name ("国庆节"), 调休上班 for a make-up day, or ""."""
        kind, name = self.exceptions.get(day, ("", ""))
        return HOLIDAY_NAMES_ZH.get(name, name) if kind == HOLIDAY else ("调休上班" if kind else "")

    def next_workday(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next one."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day


def load_calendar(*, session: Session) -> WorkCalendar:
    """The whole table as a WorkCalendar (a few hundred rows at most)."""
    rows = session.execute(select(CalendarDay.day, CalendarDay.kind, CalendarDay.name))
    years = frozenset(session.scalars(select(CalendarYear.year)).all())
    return WorkCalendar({day: (kind, name) for day, kind, name in rows}, years)


def package_years() -> list[int]:
    """Years the installed chinese_calendar package has published arrangements for."""
    return sorted({d.year for d in chinese_calendar.holidays})


def seed_year_from_package(year: int, *, session: Session, replace: bool = False) -> int:
    """Copy one year's holidays and 调休 days from chinese_calendar into the table.

    Args:
        year: the year to load; must be one the package covers.
        session: the caller's transaction.
        replace: drop the year's existing rows first (staff edits are lost); otherwise a year
            already in the table is left alone.

    Returns:
        How many exception days were written (0 when the year was already there).

    Raises:
        CalendarYearMissing: the package has no data for ``year``.
    """
    if year not in package_years():
        raise CalendarYearMissing(year)
    if session.get(CalendarYear, year) is not None:
        if not replace:
            return 0
        _drop_year(year, session=session)
    written = 0
    for source, kind in ((chinese_calendar.holidays, HOLIDAY), (chinese_calendar.workdays, WORKDAY)):
        for day, name in source.items():
            if day.year == year:
                session.add(CalendarDay(day=day, kind=kind, name=HOLIDAY_NAMES_ZH.get(str(name), str(name))))
                written += 1
    session.add(CalendarYear(year=year, source="chinese_calendar"))
    session.flush()
    return written


def seed_calendar(*, session: Session, first_year: int | None = None) -> list[int]:
    """Load every package year from ``first_year`` (default: last year) that the table lacks."""
    first = first_year if first_year is not None else clock.local_today().year - 1
    loaded = []
    for year in package_years():
        if year >= first and seed_year_from_package(year, session=session):
            loaded.append(year)
    return loaded


def _drop_year(year: int, *, session: Session) -> None:
    session.execute(
        delete(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    )
    session.execute(delete(CalendarYear).where(CalendarYear.year == year))


def add_year_manually(year: int, *, session: Session) -> None:
    """Mark a year as covered without package data (staff then enter its holidays by hand)."""
    if session.get(CalendarYear, year) is None:
        session.add(CalendarYear(year=year, source="staff"))
        session.flush()


def set_day(day: date, kind: str | None, name: str = "", *, session: Session) -> None:
    """Make ``day`` a holiday, a make-up working day, or (kind None) an ordinary day again."""
    if kind not in (HOLIDAY, WORKDAY, None):
        raise ValueError(f"unknown kind {kind!r}")
    row = session.get(CalendarDay, day)
    if kind is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(CalendarDay(day=day, kind=kind, name=name[:60]))
    else:
        row.kind, row.name = kind, name[:60]
    session.flush()


def list_exceptions(year: int, *, session: Session) -> list[CalendarDay]:
    """The year's holidays and make-up days in date order."""
    return list(
        session.scalars(
            select(CalendarDay)
            .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            .order_by(CalendarDay.day)
        )
    )


def covered_years(*, session: Session) -> list[CalendarYear]:
    """The years in the table, newest first."""
    return list(session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc())))

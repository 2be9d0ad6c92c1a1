"""Dates as residents say them, against a fixed today (Wednesday 23 September 2026).

Around that day the official calendar has 中秋 (25 Sep, Friday, off), a 调休 working Sunday
(20 Sep), the 国庆 week (1–7 Oct off) and a 调休 working Saturday (10 Oct): the last column says
whether the registry works that day, read from the same holiday table the booking uses.
"""

from __future__ import annotations

from datetime import date

import pytest

from civil_affairs.booking.date_parsing import PAST, cn_number, describe_date, parse_date
from civil_affairs.booking.work_calendar import CalendarYearMissing, WorkCalendar

TODAY = date(2026, 9, 23)  # a Wednesday
CALENDAR = WorkCalendar.from_package()

CASES = [
    # relative days
    ("今天", date(2026, 9, 23), True),
    ("明天", date(2026, 9, 24), True),
    ("后天", date(2026, 9, 25), False),  # 中秋节
    ("大后天", date(2026, 9, 26), False),  # Saturday
    ("三天后", date(2026, 9, 26), False),
    ("帮我约明天下午两点", date(2026, 9, 24), True),
    # weekdays
    ("这周五", date(2026, 9, 25), False),  # 中秋节 falls on it
    ("周五", date(2026, 9, 25), False),
    ("本周日", date(2026, 9, 27), False),
    ("星期天", date(2026, 9, 27), False),
    ("下周三", date(2026, 9, 30), True),
    ("下礼拜四", date(2026, 10, 1), False),  # 国庆节
    ("下星期六", date(2026, 10, 3), False),
    ("下週三", date(2026, 9, 30), True),  # traditional characters
    ("下下周一", date(2026, 10, 5), False),
    ("上周五", date(2026, 9, 18), True),
    # month and day
    ("5月20号", date(2027, 5, 20), None),
    ("5.20", date(2027, 5, 20), None),
    ("520", date(2027, 5, 20), None),
    ("5/20", date(2027, 5, 20), None),
    ("我想约5月20号上午", date(2027, 5, 20), None),
    ("12.12", date(2026, 12, 12), False),  # Saturday
    ("10月10号", date(2026, 10, 10), True),  # 调休: a working Saturday
    ("十月十号", date(2026, 10, 10), True),
    ("10月8日", date(2026, 10, 8), True),
    ("十二月八号", date(2026, 12, 8), True),
    ("9月20号", date(2027, 9, 20), None),  # already past this year: next year
    ("8号", date(2026, 10, 8), True),
    ("30号", date(2026, 9, 30), True),
    ("下个月8号", date(2026, 10, 8), True),
    # full dates
    ("2026-12-08", date(2026, 12, 8), True),
    ("2026/12/8", date(2026, 12, 8), True),
    ("2026年12月8日", date(2026, 12, 8), True),
    ("二〇二六年十二月八日", date(2026, 12, 8), True),
    ("２０２６－１２－０８", date(2026, 12, 8), True),  # full-width
    ("2027年1月8号", date(2027, 1, 8), None),  # 2027 is not in the holiday table yet
    # festivals, solar
    ("国庆节", date(2026, 10, 1), False),
    ("双十一", date(2026, 11, 11), True),
    ("情人节", date(2027, 2, 14), None),
    ("元旦", date(2027, 1, 1), None),
    # lunar dates and festivals
    ("七夕", date(2027, 8, 8), None),
    ("农历七月初七", date(2027, 8, 8), None),
    ("農曆七月初七", date(2027, 8, 8), None),
    ("七月初七", date(2027, 8, 8), None),
    ("中秋", date(2026, 9, 25), False),
    ("农历八月十六", date(2026, 9, 26), False),
    ("重阳", date(2026, 10, 18), False),  # a Sunday
    ("冬月十二", date(2026, 12, 20), False),
    ("腊月初八", date(2027, 1, 15), None),
    ("正月十五", date(2027, 2, 20), None),
    ("除夕", date(2027, 2, 5), None),
    ("春节", date(2027, 2, 6), None),
]


@pytest.mark.parametrize(("text", "expected", "workday"), CASES, ids=[c[0] for c in CASES])
def test_phrasing(text: str, expected: date, workday: bool | None) -> None:
    assert parse_date(text, TODAY) == expected
    if workday is None:
        with pytest.raises(CalendarYearMissing):
            CALENDAR.is_workday(expected)
    else:
        assert CALENDAR.is_workday(expected) is workday


def test_there_are_at_least_forty_phrasings() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("text", ["下个月初", "月底", "随便哪天", "", "国庆后", "13月45号", "2月30号", "下周"])
def test_unclear_or_impossible_dates_are_none(text: str) -> None:
    assert parse_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9月20号", date(2026, 9, 20)),  # the 调休 Sunday, when an application could be filed
        ("11月2日", date(2025, 11, 2)),
        ("8号", date(2026, 9, 8)),
        ("昨天", date(2026, 9, 22)),
    ],
)
def test_past_direction_for_application_dates(text: str, expected: date) -> None:
    assert parse_date(text, TODAY, direction=PAST) == expected


def test_a_holiday_name_survives_in_the_table_lookup() -> None:
    assert CALENDAR.holiday_name(date(2026, 10, 1)) == "国庆节"
    assert CALENDAR.holiday_name(date(2026, 10, 10)) == "调休上班"


@pytest.mark.parametrize(
    ("text", "value"),
    [("二十", 20), ("廿三", 23), ("初七", 7), ("十一", 11), ("三十", 30), ("12", 12), ("两", 2), ("十", 10)],
)
def test_chinese_numbers(text: str, value: int) -> None:
    assert cn_number(text) == value


def test_describe_date_names_near_days() -> None:
    assert describe_date(date(2026, 9, 24), TODAY) == "明天 2026年9月24日（周四）"
    assert describe_date(date(2026, 12, 8)) == "2026年12月8日（周二）"

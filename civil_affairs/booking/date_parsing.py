"""Dates as residents say them (明天, 下周三, 5.20, 520, 七夕, 农历七月初七, 2026-12-08), read against a given today.

``parse_date(text, today)`` is pure: the caller passes today, so tests pin it. Dates without a year
resolve to the next occurrence on or after today (``direction="future"``, for appointments) or the
latest one on or before today (``direction="past"``, e.g. the day a divorce application was filed).
Lunar dates are converted with ``lunardate``. The result may be a past date or a holiday: deciding
whether it can be booked is the booking module's job, not the parser's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from lunardate import LunarDate

FUTURE = "future"
PAST = "past"

_TRADITIONAL = str.maketrans(
    {
        "週": "周",
        "禮": "礼",
        "號": "号",
        "後": "后",
        "臘": "腊",
        "曆": "历",
        "農": "农",
        "陰": "阴",
        "這": "这",
        "個": "个",
        "兩": "两",
        "節": "节",
        "聖": "圣",
        "誕": "诞",
        "陽": "阳",
        "舊": "旧",
        "〇": "〇",
        "０": "0",
        "１": "1",
        "２": "2",
        "３": "3",
        "４": "4",
        "５": "5",
        "６": "6",
        "７": "7",
        "８": "8",
        "９": "9",
        "．": ".",
        "／": "/",
        "－": "-",
        "：": ":",
    }
)
_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = r"[0-9〇零一二两三四五六七八九十廿卅]+"
_WEEKDAYS = {
    "一": 0,
    "二": 1,
    "三": 2,
    "四": 3,
    "五": 4,
    "六": 5,
    "日": 6,
    "天": 6,
    "末": 5,
    "1": 0,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
    "6": 5,
    "7": 6,
}
_WEEK_WORD = r"(?:周|星期|礼拜)"

SOLAR_FESTIVALS = {
    "元旦": (1, 1),
    "情人节": (2, 14),
    "妇女节": (3, 8),
    "植树节": (3, 12),
    "劳动节": (5, 1),
    "五一": (5, 1),
    "青年节": (5, 4),
    "儿童节": (6, 1),
    "建党节": (7, 1),
    "建军节": (8, 1),
    "教师节": (9, 10),
    "国庆节": (10, 1),
    "国庆": (10, 1),
    "十一": (10, 1),
    "光棍节": (11, 11),
    "双十一": (11, 11),
    "双十二": (12, 12),
    "平安夜": (12, 24),
    "圣诞节": (12, 25),
    "圣诞": (12, 25),
}
# Lunar month/day; 除夕 is handled apart (the last day of the twelfth month has 29 or 30 days).
LUNAR_FESTIVALS = {
    "春节": (1, 1),
    "大年初一": (1, 1),
    "元宵节": (1, 15),
    "元宵": (1, 15),
    "龙抬头": (2, 2),
    "端午节": (5, 5),
    "端午": (5, 5),
    "七夕节": (7, 7),
    "七夕": (7, 7),
    "中元节": (7, 15),
    "中秋节": (8, 15),
    "中秋": (8, 15),
    "重阳节": (9, 9),
    "重阳": (9, 9),
    "腊八节": (12, 8),
    "腊八": (12, 8),
    "小年": (12, 23),
}
_LUNAR_MONTHS = {"正": 1, "冬": 11, "腊": 12}

_ISO_RE = re.compile(r"(20\d{2}|19\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_CN_YMD_RE = re.compile(rf"([〇零一二三四五六七八九]{{4}})年({_CN_NUM})月({_CN_NUM})[日号]?")
_MONTH_DAY_RE = re.compile(rf"(?<![0-9年.])({_CN_NUM})月份?({_CN_NUM})(?:日|号)?")
_DOTTED_RE = re.compile(r"(?<![\d.:/])(\d{1,2})\s*[./]\s*(\d{1,2})(?![\d.:/])")
_COMPACT_RE = re.compile(r"(?<![\d.:])(\d{3,4})(?![\d.:])")
_DAY_ONLY_RE = re.compile(rf"(?<![月\d.])(?:(本|这个|下个|下)月)?({_CN_NUM})(?:日|号)")
_RELATIVE_WEEK_RE = re.compile(rf"(下下|下|这|本|这个|上)?\s*(?:个)?{_WEEK_WORD}\s*([一二三四五六日天末1-7])")
_DAYS_LATER_RE = re.compile(rf"({_CN_NUM})\s*天(?:以)?后")


def cn_number(text: str) -> int | None:
    """二十 → 20, 廿三 → 23, 初七 → 7, 十一 → 11, 12 → 12; None when it is not a number."""
    text = text.strip()
    if text.startswith("初"):
        text = text[1:]
    if not text:
        return None
    if text.isdecimal():
        return int(text)
    text = text.replace("廿", "二十").replace("卅", "三十")
    if all(ch in _DIGITS for ch in text):  # 二〇二六 → 2026
        return int("".join(str(_DIGITS[ch]) for ch in text))
    if "十" in text:
        tens, _, units = text.partition("十")
        if (tens and tens not in _DIGITS) or (units and units not in _DIGITS):
            return None
        return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)
    return None


def _normalize(text: str) -> str:
    return (text or "").translate(_TRADITIONAL).replace("星期天", "星期日").replace("礼拜天", "礼拜日")


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest(candidates: Callable[[int], date | None], today: date, direction: str) -> date | None:
    """The occurrence (one per year) nearest to today in ``direction``, today included."""
    years = range(today.year - 1, today.year + 3)
    found = [d for d in (candidates(y) for y in years) if d is not None]
    if direction == PAST:
        past = [d for d in found if d <= today]
        return max(past) if past else None
    future = [d for d in found if d >= today]
    return min(future) if future else None


def _solar(month: int, day: int, today: date, direction: str) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return _nearest(lambda y: _safe_date(y, month, day), today, direction)


def lunar_to_solar(year: int, month: int, day: int, leap: bool = False) -> date | None:
    """The solar date of lunar ``year``/``month``/``day``; None when that lunar day does not exist."""
    try:
        return LunarDate(year, month, day, leap).to_solar_date()
    except (ValueError, IndexError, KeyError):
        return None


def _lunar(month: int, day: int, today: date, direction: str, leap: bool = False) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= 30):
        return None
    return _nearest(lambda y: lunar_to_solar(y, month, day, leap), today, direction)


def _new_year_eve(year: int) -> date | None:
    """除夕: the day before lunar new year of ``year + 1`` (the twelfth month may have 29 days)."""
    spring = lunar_to_solar(year + 1, 1, 1)
    return spring - timedelta(days=1) if spring else None


def _weekday_of(prefix: str | None, weekday: int, today: date) -> date:
    """下周三, 这周五, 周五 (the coming one, today included), 下下周一, 上周二."""
    monday = today - timedelta(days=today.weekday())
    offsets = {"下": 1, "下下": 2, "这": 0, "本": 0, "这个": 0, "上": -1}
    if prefix in offsets:
        return monday + timedelta(weeks=offsets[prefix], days=weekday)
    ahead = (weekday - today.weekday()) % 7
    return today + timedelta(days=ahead)


def parse_date(text: str, today: date, *, direction: str = FUTURE) -> date | None:
    """Read one calendar date from a resident's words.

    Args:
        text: free text such as "下周三上午", "5.20", "农历七月初七", "2026-12-08".
        today: the local date to resolve relative words against.
        direction: ``future`` (next occurrence on/after today) or ``past`` (latest on/before today)
            for dates without a year.

    Returns:
        The date, or None when the text holds no date this parser understands ("下个月初", "月底").
    """
    s = _normalize(text)
    if not s.strip():
        return None

    match = _ISO_RE.search(s)
    if match:
        return _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = _CN_YMD_RE.search(s)
    if match:
        parts = [cn_number(g) for g in match.groups()]
        return _safe_date(*parts) if None not in parts else None  # type: ignore[arg-type]

    for word, offset in (
        ("大后天", 3),
        ("后天", 2),
        ("明天", 1),
        ("明日", 1),
        ("今天", 0),
        ("今日", 0),
        ("昨天", -1),
        ("前天", -2),
    ):
        if word in s:
            return today + timedelta(days=offset)
    match = _DAYS_LATER_RE.search(s)
    if match and cn_number(match.group(1)) is not None:
        return today + timedelta(days=cn_number(match.group(1)))  # type: ignore[arg-type]

    match = _RELATIVE_WEEK_RE.search(s)
    if match:
        return _weekday_of(match.group(1), _WEEKDAYS[match.group(2)], today)

    if "除夕" in s or "大年三十" in s:
        return _nearest(_new_year_eve, today, direction)
    for name in sorted(LUNAR_FESTIVALS, key=len, reverse=True):
        if name in s:
            return _lunar(*LUNAR_FESTIVALS[name], today, direction)

    lunar = _parse_lunar(s, today, direction)
    if lunar is not None:
        return lunar

    match = _MONTH_DAY_RE.search(s)
    if match:
        month, day = cn_number(match.group(1)), cn_number(match.group(2))
        return _solar(month, day, today, direction) if month and day else None

    for name in sorted(SOLAR_FESTIVALS, key=len, reverse=True):
        if name in s and not (name == "十一" and re.search(r"十一[月日号]|[月初]十一", s)):
            if re.search(name + r"(?:节)?(?:以|之)?后", s):
                return None  # "国庆后" is a span, not a day: ask again rather than guess
            return _solar(*SOLAR_FESTIVALS[name], today, direction)

    match = _DOTTED_RE.search(s)
    if match:
        return _solar(int(match.group(1)), int(match.group(2)), today, direction)

    match = _COMPACT_RE.search(s)
    if match and len(re.findall(r"\d+", s)) == 1:
        digits = match.group(1)
        month, day = (int(digits[:-2]), int(digits[-2:]))
        found = _solar(month, day, today, direction)
        if found is not None:
            return found

    match = _DAY_ONLY_RE.search(s)
    if match:
        day = cn_number(match.group(2))
        if day is None or not 1 <= day <= 31:
            return None
        return _day_of_month(day, match.group(1), today, direction)
    return None


def _parse_lunar(s: str, today: date, direction: str) -> date | None:
    """农历七月初七, 阴历八月十六, 腊月初八, 正月十五, 七月初七 (初/廿 days are lunar by themselves)."""
    match = re.search(rf"(?:农历|阴历|旧历)\s*(闰)?\s*({_CN_NUM}|正|冬|腊)月\s*((?:初|廿|卅)?{_CN_NUM})", s)
    if not match:
        match = re.search(rf"(闰)?(正|冬|腊)月\s*((?:初|廿|卅)?{_CN_NUM})", s)
    if not match:
        match = re.search(rf"(闰)?({_CN_NUM})月\s*((?:初|廿)[一二三四五六七八九十])", s)
    if not match:
        return None
    month_text = match.group(2)
    month = _LUNAR_MONTHS.get(month_text) or cn_number(month_text)
    day = cn_number(match.group(3))
    if not month or not day:
        return None
    return _lunar(month, day, today, direction, leap=bool(match.group(1)))


def _day_of_month(day: int, which: str | None, today: date, direction: str) -> date | None:
    """8号: this month if still ahead (or behind, for the past), else the next (previous) month."""
    first = today.replace(day=1)
    next_first = (first + timedelta(days=32)).replace(day=1)
    if which in ("下个", "下"):
        return _safe_date(next_first.year, next_first.month, day)
    this_month = _safe_date(today.year, today.month, day)
    if which in ("本", "这个"):
        return this_month
    if direction == PAST:
        if this_month and this_month <= today:
            return this_month
        previous = (first - timedelta(days=1)).replace(day=1)
        return _safe_date(previous.year, previous.month, day)
    if this_month and this_month >= today:
        return this_month
    return _safe_date(next_first.year, next_first.month, day)


WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def describe_date(day: date, today: date | None = None) -> str:
    """2026年12月8日（周二）, with 今天/明天/后天 in front when it is that close."""
    label = f"{day.year}年{day.month}月{day.day}日（{WEEKDAY_LABELS[day.weekday()]}）"
    if today is not None:
        near = {0: "今天", 1: "明天", 2: "后天"}.get((day - today).days)
        if near:
            label = f"{near} {label}"
    return label


def short_date(day: date) -> str:
    """12月8日 周二 — short enough for a button."""
    return f"{day.month}月{day.day}日 {WEEKDAY_LABELS[day.weekday()]}"

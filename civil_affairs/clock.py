"""The bureau's clock: the one place that knows the time and the bureau's time zone.

Timestamps are stored as naive UTC (SQLite keeps no zone). Residents and staff see the bureau's wall
clock: office hours, booking days, reminder dates and the console's times all go through here, so the
``TIMEZONE`` setting reaches every one of them. Each process calls :func:`use_timezone` once at start
(from its settings); until then the default zone applies, which is what tests expect.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"

_zone = ZoneInfo(DEFAULT_TIMEZONE)


def use_timezone(name: str) -> None:
    """Set the bureau's time zone for this process (an IANA name such as ``Asia/Shanghai``)."""
    global _zone
    _zone = ZoneInfo(name)


def bureau_zone() -> ZoneInfo:
    """The bureau's time zone."""
    return _zone


def utcnow() -> datetime:
    """Naive UTC now, as every timestamp is stored."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(moment_utc: datetime) -> datetime:
    """A stored naive-UTC time as the bureau's naive wall-clock time."""
    return moment_utc.replace(tzinfo=timezone.utc).astimezone(_zone).replace(tzinfo=None)


def to_utc(local: datetime) -> datetime:
    """The bureau's naive wall-clock time as naive UTC, as it is stored."""
    return local.replace(tzinfo=_zone).astimezone(timezone.utc).replace(tzinfo=None)


def local_now(now_utc: datetime | None = None) -> datetime:
    """The bureau's wall-clock time now (naive), or at ``now_utc``."""
    return to_local(now_utc if now_utc is not None else utcnow())


def local_today(now_utc: datetime | None = None) -> date:
    """The bureau's calendar day now, or at ``now_utc``."""
    return local_now(now_utc).date()


def format_local(moment_utc: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored naive-UTC time shown in the bureau's time; empty for no time."""
    return to_local(moment_utc).strftime(pattern) if moment_utc is not None else ""

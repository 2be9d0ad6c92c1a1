"""iCalendar (.ics, RFC 5545) files for appointments, so residents can add them to their phone calendar.

Times are written in UTC (``…Z``), which every calendar app understands without a VTIMEZONE block;
appointment times are the bureau's wall clock (``civil_affairs.clock``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from civil_affairs import clock

LINE_LIMIT = 75  # octets per line before folding (RFC 5545 §3.1)


@dataclass(frozen=True)
class CalendarEvent:
    """What goes into one VEVENT."""

    uid: str
    day: date
    start: time
    end: time
    summary: str
    description: str = ""
    location: str = ""
    remind_before: timedelta | None = timedelta(days=1)


def escape_text(value: str) -> str:
    """Escape backslash, semicolon, comma and newlines for a TEXT property."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def fold_line(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    out: list[str] = []
    current = ""
    limit = LINE_LIMIT
    for char in line:
        if len((current + char).encode("utf-8")) > limit:
            out.append(current)
            current = " " + char
            limit = LINE_LIMIT
        else:
            current += char
    out.append(current)
    return "\r\n".join(out)


def _utc(day: date, moment: time) -> str:
    return clock.to_utc(datetime.combine(day, moment)).strftime("%Y%m%dT%H%M%SZ")


def build_ics(event: CalendarEvent, *, now: datetime | None = None) -> str:
    """A complete VCALENDAR with one VEVENT (and a reminder alarm), CRLF line endings."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//civil-affairs-bot//appointments//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{_utc(event.day, event.start)}",
        f"DTEND:{_utc(event.day, event.end)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.remind_before:
        hours = int(event.remind_before.total_seconds() // 3600)
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{escape_text(event.summary)}",
            f"TRIGGER:-PT{hours}H",
            "END:VALARM",
        ]
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(fold_line(line) for line in lines) + "\r\n"

"""Calendar files for appointments."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from civil_affairs.booking.ics import CalendarEvent, build_ics, fold_line


def test_event_in_utc_with_escaping_and_alarm() -> None:
    text = build_ics(
        CalendarEvent(
            uid="YY20261208-417@test",
            day=date(2026, 12, 8),
            start=time(9),
            end=time(10),
            summary="结婚登记（预约码 YY20261208-417）",
            description="请带身份证; 双方到场, 谢谢",
            location="区民政局婚姻登记处",
        ),
        now=datetime(2026, 11, 28, tzinfo=timezone.utc),
    )
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261208T010000Z" in text and "DTEND:20261208T020000Z" in text
    assert "请带身份证\\; 双方到场\\, 谢谢" in text.replace("\r\n ", "")
    assert "TRIGGER:-PT24H" in text


def test_long_lines_fold_at_75_octets_without_breaking_characters() -> None:
    folded = fold_line("DESCRIPTION:" + "婚姻登记" * 30)
    for line in folded.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    assert folded.replace("\r\n ", "") == "DESCRIPTION:" + "婚姻登记" * 30

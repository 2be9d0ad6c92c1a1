"""Booking rules (civil_affairs/booking.py): calendar, window, capacity, one booking per person,
cancel, reschedule, verification, no-shows, overrides. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs import booking
from civil_affairs.booking.work_calendar import WorkCalendar, load_calendar
from civil_affairs.models import Appointment, BookingSlot
from tests.helpers.booking_factory import make_request

NOW = datetime(2026, 9, 23, 9, 0)  # Wednesday morning, local time
KEY = "test-secret"


def _book(session: Session, day: date, slot: str = "am1", serial: int = 12, **kw) -> Appointment:
    return booking.book(make_request(day, slot, serial=serial, **kw), session=session, secret_key=KEY, now=NOW)


def _capacity(session: Session, code: str, value: int) -> None:
    slot = session.scalar(select(BookingSlot).where(BookingSlot.code == code))
    booking.set_slot_capacity(slot.id, value, session=session, today=NOW.date())


def test_free_days_follow_holidays_and_tiaoxiu(session: Session) -> None:
    days = [d.day for d in booking.available_days(session=session, now=NOW)]
    # 25 Sep 中秋, weekends and 1–7 Oct 国庆 are closed; the window ends 15 days ahead (8 Oct).
    assert days == [date(2026, 9, 24), date(2026, 9, 28), date(2026, 9, 29), date(2026, 9, 30), date(2026, 10, 8)]


def test_window_from_tomorrow_and_reasons_in_chinese(session: Session) -> None:
    assert "已经截止" in booking.check_day(NOW.date(), session=session, now=NOW)
    assert "已经过去" in booking.check_day(date(2026, 9, 1), session=session, now=NOW)
    assert "中秋节假期" in booking.check_day(date(2026, 9, 25), session=session, now=NOW)
    assert "15天以内" in booking.check_day(date(2026, 10, 10), session=session, now=NOW)
    assert booking.check_day(date(2026, 9, 24), session=session, now=NOW) is None


def test_same_day_booking_closes_at_the_cutoff(session: Session) -> None:
    rules = booking.BookingRules(min_days_ahead=0)
    assert booking.booking_window(datetime(2026, 9, 24, 10, 0), rules)[0] == date(2026, 9, 24)
    assert booking.booking_window(datetime(2026, 9, 24, 11, 30), rules)[0] == date(2026, 9, 25)
    # slots that have begun are not offered on the day itself
    slots = booking.slot_availability(date(2026, 9, 24), session=session, now=datetime(2026, 9, 24, 10, 30))
    assert {s.slot_code: s.free for s in slots}["am1"] == 0
    assert {s.slot_code: s.free for s in slots}["am3"] > 0


def test_a_tiaoxiu_working_weekend_is_bookable(session: Session) -> None:
    now = datetime(2026, 10, 5, 9, 0)
    assert date(2026, 10, 10) in [d.day for d in booking.available_days(session=session, now=now)]


def test_capacity_is_taken_and_given_back(session: Session) -> None:
    _capacity(session, "am1", 2)
    day = date(2026, 9, 24)
    first = _book(session, day, serial=1)
    _book(session, day, serial=2)
    with pytest.raises(booking.BookingError) as full:
        _book(session, day, serial=3)
    assert full.value.code == "full" and "约满" in full.value.message
    booking.cancel(first, session=session)
    assert _book(session, day, serial=3).status == "booked"
    am1 = {s.slot_code: s for s in booking.slot_availability(day, session=session)}["am1"]
    assert (am1.capacity, am1.booked, am1.free) == (2, 2, 0)


def test_one_active_appointment_per_person(session: Session) -> None:
    _book(session, date(2026, 9, 24), serial=5)
    with pytest.raises(booking.BookingError) as again:
        _book(session, date(2026, 9, 28), serial=5)
    assert again.value.code == "active"


def test_full_id_numbers_are_not_stored(session: Session) -> None:
    request = make_request(date(2026, 9, 24), serial=6)
    appointment = booking.book(request, session=session, secret_key=KEY, now=NOW)
    stored = [(p.id_hash, p.id_last6) for p in appointment.parties]
    for party, (hashed, last6) in zip(request.parties, stored, strict=False):
        assert party.id_number.value not in hashed and last6 == party.id_number.value[-6:]


def test_verify_gives_one_answer_and_locks_after_failures(session: Session) -> None:
    appointment = _book(session, date(2026, 9, 24), serial=7)
    unknown = pytest.raises(booking.BookingError)
    with unknown as no_code:
        booking.verify(
            "YY20260924-999" if appointment.code != "YY20260924-999" else "YY20260924-998", "123456", session=session
        )
    with pytest.raises(booking.BookingError) as wrong:
        booking.verify(appointment.code, "000000", session=session)
    assert no_code.value.message == wrong.value.message
    for _ in range(booking.DEFAULT_RULES.verify_max_failures - 1):
        with pytest.raises(booking.BookingError):
            booking.verify(appointment.code, "000000", session=session)
    right = appointment.parties[1].id_last6
    with pytest.raises(booking.BookingError) as locked:
        booking.verify(appointment.code, right, session=session)
    assert locked.value.code == "locked"
    later = datetime.utcnow() + timedelta(hours=1)
    assert booking.verify(appointment.code.lower(), right, session=session, now_utc=later) is appointment


def test_reschedule_issues_a_new_code_and_moves_the_place(session: Session) -> None:
    old = _book(session, date(2026, 9, 24), serial=8)
    new = booking.reschedule(old, date(2026, 9, 28), "pm1", session=session, now=NOW)
    assert old.status == "rescheduled" and old.rescheduled_to_id == new.id
    assert new.code != old.code and new.code.startswith("YY20260928-")
    assert [p.active for p in new.parties] == [True, True]
    booked = {(s.slot_code): s.booked for s in booking.slot_availability(date(2026, 9, 24), session=session)}
    assert booked["am1"] == 0


def test_rescheduling_into_a_full_slot_keeps_the_old_booking(session: Session) -> None:
    _capacity(session, "pm2", 1)
    _book(session, date(2026, 9, 28), "pm2", serial=9)
    old = _book(session, date(2026, 9, 24), serial=10)
    with pytest.raises(booking.BookingError):
        booking.reschedule(old, date(2026, 9, 28), "pm2", session=session, now=NOW)
    assert old.status == "booked"


def test_two_no_shows_block_new_bookings_for_thirty_days(session: Session) -> None:
    for serial, day in ((11, date(2026, 9, 24)), (11, date(2026, 9, 28))):
        appointment = _book(session, day, serial=serial)
        booking.set_status(appointment, "no_show", session=session, staff_user_id=None)  # type: ignore[arg-type]
    with pytest.raises(booking.BookingError) as blocked:
        _book(session, date(2026, 9, 29), serial=11)
    assert blocked.value.code == "no_show"
    assert "2次" in blocked.value.message
    # The block lasts until 28 October, but the message never names a date: whoever types an ID
    # number reads it, and the date would tell when that person last missed an appointment.
    assert "2026年10月28日" not in blocked.value.message and "9月28日" not in blocked.value.message
    from civil_affairs.identity import id_hash

    hashed = id_hash(make_request(date(2026, 9, 29), serial=11).parties[0].id_number.value, KEY)
    assert booking.no_show_block_until([hashed], session=session, today=date(2026, 9, 29)) == date(2026, 10, 28)


def test_an_override_opens_a_saturday_and_closes_a_slot(session: Session) -> None:
    slots = {s.code: s.id for s in booking.active_slots(session=session)}
    saturday = date(2026, 9, 26)
    booking.set_override(saturday, slots["am1"], 10, "测试加开", session=session)
    booking.set_override(date(2026, 9, 24), slots["am2"], 0, session=session)
    assert booking.check_day(saturday, session=session, now=NOW) is None
    on_saturday = {s.slot_code: s.capacity for s in booking.slot_availability(saturday, session=session)}
    assert on_saturday["am1"] == 10 and on_saturday["pm1"] == 0
    assert {s.slot_code: s.capacity for s in booking.slot_availability(date(2026, 9, 24), session=session)}["am2"] == 0


def test_the_offered_days_agree_with_each_days_own_availability(session: Session) -> None:
    """available_days reads the whole window at once; each day must read as it does on its own."""
    slots = {s.code: s.id for s in booking.active_slots(session=session)}
    booking.set_override(date(2026, 9, 26), slots["am1"], 10, "测试加开", session=session)  # a Saturday
    booking.set_override(date(2026, 9, 24), slots["am2"], 0, session=session)
    booking.set_override(date(2026, 9, 28), slots["pm1"], 1, session=session)
    _capacity(session, "am1", 1)
    _book(session, date(2026, 9, 29), serial=1)
    _book(session, date(2026, 9, 28), "pm1", serial=2)
    days = booking.available_days(session=session, now=NOW)
    assert date(2026, 9, 26) in [d.day for d in days]
    for offered in days:
        alone = booking.slot_availability(offered.day, session=session, now=NOW)
        assert offered.slots == alone and offered.free == sum(s.free for s in alone) > 0
    by_day = {d.day: {s.slot_code: s.free for s in d.slots} for d in days}
    assert by_day[date(2026, 9, 29)]["am1"] == 0 and by_day[date(2026, 9, 28)]["pm1"] == 0
    assert by_day[date(2026, 9, 24)]["am2"] == 0 and by_day[date(2026, 9, 26)]["pm1"] == 0


def test_divorce_certificate_window_after_cooling_off() -> None:
    calendar = WorkCalendar.from_package()
    # Filed 20 Aug 2026: 30 days end on Sat 19 Sep → extended to the next working day, Sun 20 Sep
    # (a 调休 working day); the certificate may be requested from 21 Sep to 20 Oct.
    assert booking.divorce_certificate_window(date(2026, 8, 20), calendar) == (date(2026, 9, 21), date(2026, 10, 20))
    # Filed 2 Sep: ends Fri 2 Oct (国庆) → Thu 8 Oct; window 9 Oct – 9 Nov (7 Nov is a Saturday… 9 Nov Monday).
    first, last = booking.divorce_certificate_window(date(2026, 9, 2), calendar)
    assert first == date(2026, 10, 9) and last == date(2026, 11, 9)


def test_only_dates_inside_the_legal_window_are_offered(session: Session) -> None:
    days = booking.available_days(
        session=session, now=NOW, kind="divorce_certificate", application_date=date(2026, 8, 29)
    )
    first, last = booking.divorce_certificate_window(date(2026, 8, 29), load_calendar(session=session))
    assert days and all(first <= d.day <= last for d in days)
    assert "冷静期" in booking.check_day(
        date(2026, 9, 24), session=session, now=NOW, kind="divorce_certificate", application_date=date(2026, 8, 29)
    )


def test_a_missing_calendar_year_is_an_explicit_error_not_a_crash(session: Session) -> None:
    late = datetime(2026, 12, 24, 9, 0)
    days = [d.day for d in booking.available_days(session=session, now=late)]
    assert days and max(days) <= date(2026, 12, 31)
    assert "尚未" in booking.check_day(
        date(2027, 1, 4), session=session, now=late
    ) or "还没有公布" in booking.check_day(date(2027, 1, 4), session=session, now=late)


def test_staff_statuses_and_csv(session: Session) -> None:
    appointment = _book(session, date(2026, 9, 24), serial=13)
    booking.set_status(appointment, "arrived", session=session, staff_user_id=None)  # type: ignore[arg-type]
    csv_text = booking.export_csv(date(2026, 9, 24), date(2026, 9, 24), session=session)
    assert appointment.code in csv_text and "已到场" in csv_text and "139****2456" in csv_text
    assert "13979312456" not in csv_text
    with pytest.raises(booking.BookingError):
        booking.cancel(appointment, session=session)


@pytest.mark.parametrize("code", ["YY\x00", "YY20260924-\x00\x00\x00", "Y" * 5000, "\u202eYY20260924-001"])
def test_malformed_codes_fail_like_unknown_ones(session: Session, code: str) -> None:
    """Bad input: a NUL in the code made PostgreSQL raise instead of answering 'wrong pair'."""
    appointment, error = booking.check_code(code, "123456", session=session, sender_id="tg-1")
    assert appointment is None and error is not None and error.code == "verify"

"""Checking a code with the last 6 ID characters, cancelling, rescheduling, and staff status changes."""

from __future__ import annotations

import csv
import io
import logging
import re
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from civil_affairs import throttle
from civil_affairs.booking.appointments import new_code, reminder_due, slot_by_code
from civil_affairs.booking.capacity import check_day, effective_capacity, overrides_between, release_place, take_place
from civil_affairs.booking.date_parsing import describe_date
from civil_affairs.booking.rules import DEFAULT_RULES, BookingError, BookingRules
from civil_affairs.booking.work_calendar import load_calendar
from civil_affairs.models import Appointment, AppointmentParty, BookingSlot
from civil_affairs.models.base import utcnow
from civil_affairs.models.booking import KIND_LABELS, STATUS_LABELS
from civil_affairs.privacy import mask_phone as masked_phone

logger = logging.getLogger(__name__)


# --- verification, cancelling, rescheduling -------------------------------------------------------------

VERIFY_FAILED_TEXT = "预约码或身份证号后6位不正确，请核对后重新输入。"
VERIFY_LOCKED_TEXT = "验证失败次数过多，已暂停验证{minutes}分钟。请稍后再试，或说“转人工”联系工作人员。"
VERIFY_MAX_FAILURES_PER_CHAT = 5
VERIFY_MAX_FAILURES_PER_ADDRESS = 20
VERIFY_MAX_FAILURES_GLOBAL = 200  # per hour over every chat: the brake on spread-out code guessing
VERIFY_GLOBAL_WINDOW = timedelta(hours=1)


_CODE_FORMAT = re.compile(r"YY\d{8}-\d{3}")


def normalize_code(code: str) -> str:
    """``yy20261208417`` / ``YY20261208－417`` → ``YY20261208-417`` (other text is returned as typed)."""
    code = (code or "").strip().upper().replace("－", "-")
    if code and "-" not in code and len(code) == 13:
        code = code[:10] + "-" + code[10:]
    return code[:40]


def verify_limits(
    code: str, *, sender_id: str = "", client_address: str | None = None, rules: BookingRules = DEFAULT_RULES
) -> list[throttle.Limit]:
    """Failure allowances of a code check: the code as typed (whether or not it exists), the chat,
    the client address (web chats without one share an allowance) and the whole service."""
    window = timedelta(minutes=rules.verify_lock_minutes)
    limits = [throttle.Limit("booking-code", code, rules.verify_max_failures, window)]
    if sender_id:
        limits.append(throttle.Limit("booking-chat", sender_id, VERIFY_MAX_FAILURES_PER_CHAT, window))
    address = client_address or (None if not sender_id or sender_id.startswith("tg-") else "web:unknown-address")
    if address:
        limits.append(throttle.Limit("booking-address", address, VERIFY_MAX_FAILURES_PER_ADDRESS, VERIFY_GLOBAL_WINDOW))
    limits.append(throttle.Limit("booking-global", "all", VERIFY_MAX_FAILURES_GLOBAL, VERIFY_GLOBAL_WINDOW))
    return limits


def verify(
    code: str,
    last6: str,
    *,
    session: Session,
    now_utc: datetime | None = None,
    rules: BookingRules = DEFAULT_RULES,
    sender_id: str = "",
    client_address: str | None = None,
) -> Appointment:
    """The booked appointment with ``code`` when ``last6`` matches either party's ID.

    Like ``check_code``, but raises the error. Careful: raising inside ``sessions.begin()`` rolls the
    counted failure back; callers that own the transaction should use ``check_code``.

    Raises:
        BookingError: ``verify`` (wrong pair), ``locked`` or ``inactive``.
    """
    appointment, error = check_code(
        code, last6, session=session, now_utc=now_utc, rules=rules, sender_id=sender_id, client_address=client_address
    )
    if error is not None:
        raise error
    assert appointment is not None
    return appointment


def check_code(
    code: str,
    last6: str,
    *,
    session: Session,
    now_utc: datetime | None = None,
    rules: BookingRules = DEFAULT_RULES,
    sender_id: str = "",
    client_address: str | None = None,
) -> tuple[Appointment | None, BookingError | None]:
    """Check a booking code and the last 6 characters of either party's ID; the error is returned.

    A wrong pair gets the same answer whether the code exists or not, and failures are counted the
    same way for both (``civil_affairs.throttle``: per code as typed, per chat, per client address,
    globally), so neither the answer nor the lock tells whether a code exists. The counted failure
    is written to ``session``: commit it even when an error is returned.

    Returns:
        ``(appointment, None)`` for a booked appointment and the right last 6, else ``(None, error)``
        with error code ``verify`` (wrong pair), ``locked`` or ``inactive``.
    """
    now_utc = now_utc or utcnow()
    code = normalize_code(code)
    last6 = (last6 or "").strip().upper()
    limits = verify_limits(code, sender_id=sender_id, client_address=client_address, rules=rules)
    locked = BookingError("locked", VERIFY_LOCKED_TEXT.format(minutes=rules.verify_lock_minutes))
    if throttle.blocked(limits, session=session, now=now_utc) is not None:
        return None, locked
    if throttle.take(limits, session=session, now=now_utc) is not None:
        return None, locked
    # Only a well-formed code is looked up (a NUL would make PostgreSQL refuse the query).
    appointment = (
        session.scalar(select(Appointment).where(Appointment.code == code)) if _CODE_FORMAT.fullmatch(code) else None
    )
    parties = list(appointment.parties) if appointment is not None else []
    # Compare against a dummy when the code is unknown, so both cases do the same work.
    matches = [secrets.compare_digest(p.id_last6, last6) for p in parties] or [secrets.compare_digest("~~~~~~", last6)]
    if appointment is None or not any(matches):
        session.flush()
        return None, BookingError("verify", VERIFY_FAILED_TEXT)
    throttle.give_back(limits, session=session)
    if appointment.status != "booked":
        return None, BookingError(
            "inactive", f"这个预约目前的状态是“{STATUS_LABELS[appointment.status]}”，不能再修改。"
        )
    return appointment, None


def _close(appointment: Appointment, status: str, *, staff_user_id: int | None = None, reason: str = "") -> None:
    """End an appointment and free both people for a new booking (the caller frees the place)."""
    appointment.status = status
    appointment.status_changed_at = utcnow()
    appointment.status_changed_by = staff_user_id
    if reason:
        appointment.cancel_reason = reason[:200]
    for party in appointment.parties:
        party.active = False
    if appointment.reminder_state == "pending":
        appointment.reminder_state = "skipped"


def cancel(
    appointment: Appointment, *, session: Session, staff_user_id: int | None = None, reason: str = ""
) -> Appointment:
    """Cancel a booked appointment and give its place back."""
    if appointment.status != "booked":
        raise BookingError("inactive", f"这个预约目前的状态是“{STATUS_LABELS[appointment.status]}”，不能取消。")
    _close(appointment, "cancelled", staff_user_id=staff_user_id, reason=reason)
    release_place(appointment.day, appointment.slot_id, session=session)
    session.flush()
    return appointment


def reschedule(
    appointment: Appointment,
    day: date,
    slot_code: str,
    *,
    session: Session,
    now: datetime,
    rules: BookingRules = DEFAULT_RULES,
) -> Appointment:
    """Move an appointment: the old one becomes ``rescheduled`` and a new one (new code) is booked.

    Both happen in the caller's transaction, so a full target slot leaves the old booking intact.
    """
    if appointment.status != "booked":
        raise BookingError("inactive", f"这个预约目前的状态是“{STATUS_LABELS[appointment.status]}”，不能改约。")
    problem = check_day(
        day, session=session, now=now, rules=rules, kind=appointment.kind, application_date=appointment.application_date
    )
    if problem:
        raise BookingError("day", problem)
    slot = slot_by_code(slot_code, session=session)
    if day == appointment.day and slot.id == appointment.slot_id:
        raise BookingError("same", "新选的日期和时段与原预约相同，请换一个。")
    calendar = load_calendar(session=session)
    capacity = effective_capacity(day, slot, calendar, overrides_between(day, day, session=session))
    if not take_place(day, slot, capacity, session=session):
        raise BookingError("full", f"{describe_date(day)} {slot.label} 这个时段刚刚约满了，请换一个时段。")
    parties = [(p.position, p.name, p.id_hash, p.id_last6, p.sex) for p in appointment.parties]
    _close(appointment, "rescheduled")
    release_place(appointment.day, appointment.slot_id, session=session)
    session.flush()  # the old parties must be inactive before the new ones enter the unique index
    new = Appointment(
        code=new_code(day, session=session),
        kind=appointment.kind,
        day=day,
        slot=slot,
        status="booked",
        sender_id=appointment.sender_id,
        phone=appointment.phone,
        application_date=appointment.application_date,
        reminder_state="pending",
        reminder_due_at=reminder_due(day, rules),
    )
    new.parties = [
        AppointmentParty(position=pos, name=name, id_hash=h, id_last6=l6, sex=sex, active=True)
        for pos, name, h, l6, sex in parties
    ]
    session.add(new)
    session.flush()
    appointment.rescheduled_to_id = new.id
    session.flush()
    return new


STAFF_STATUSES = ("arrived", "no_show", "cancelled")


def set_status(
    appointment: Appointment, status: str, *, session: Session, staff_user_id: int, reason: str = ""
) -> Appointment:
    """Staff mark an arrival (到场), a no-show (爽约) or cancel; arrivals may be corrected to no-shows."""
    if status not in STAFF_STATUSES:
        raise BookingError("status", f"未知状态：{status}")
    if status == "cancelled":
        return cancel(appointment, session=session, staff_user_id=staff_user_id, reason=reason)
    if appointment.status not in ("booked", "arrived", "no_show"):
        raise BookingError("inactive", f"这个预约目前的状态是“{STATUS_LABELS[appointment.status]}”，不能登记到场情况。")
    _close(appointment, status, staff_user_id=staff_user_id)
    session.flush()
    return appointment


def list_day(day: date, *, session: Session) -> list[Appointment]:
    """A day's appointments by slot time, then code."""
    return list(
        session.scalars(
            select(Appointment)
            .join(BookingSlot)
            .where(Appointment.day == day)
            .order_by(BookingSlot.start_time, Appointment.code)
        )
    )


def cancel_day(day: date, reason: str, *, session: Session, staff_user_id: int) -> list[Appointment]:
    """Cancel every booked appointment of ``day`` (e.g. the office must close); returns them."""
    cancelled = [
        cancel(a, session=session, staff_user_id=staff_user_id, reason=reason)
        for a in list_day(day, session=session)
        if a.status == "booked"
    ]
    return cancelled


CSV_FIELDS = ("预约码", "业务", "日期", "时段", "状态", "当事人1", "身份证尾号1", "当事人2", "身份证尾号2", "联系电话")


def export_csv(day_from: date, day_to: date, *, session: Session, mask_phone: bool = True) -> str:
    """Appointments of a date range as CSV (UTF-8 with BOM so Excel opens it), phones masked by default."""

    rows = session.scalars(
        select(Appointment)
        .join(BookingSlot)
        .where(and_(Appointment.day >= day_from, Appointment.day <= day_to))
        .order_by(Appointment.day, BookingSlot.start_time, Appointment.code)
    )
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for a in rows:
        parties = list(a.parties) + [None, None]
        writer.writerow(
            [
                a.code,
                KIND_LABELS[a.kind],
                a.day.isoformat(),
                a.slot.label,
                STATUS_LABELS[a.status],
                *[v for p in parties[:2] for v in ((p.name, p.id_last6) if p else ("", ""))],
                masked_phone(a.phone) if mask_phone else a.phone,
            ]
        )
    return out.getvalue()

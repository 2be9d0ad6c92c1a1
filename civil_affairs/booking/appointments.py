"""Booking an appointment (one per person, capacity checked by the database), and no-shows."""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from civil_affairs import clock
from civil_affairs.booking.capacity import check_day, effective_capacity, overrides_between, take_place
from civil_affairs.booking.date_parsing import describe_date
from civil_affairs.booking.rules import (
    BOOK_RETRIES,
    CODE_ATTEMPTS,
    CODE_PREFIX,
    DEFAULT_RULES,
    BookingError,
    BookingRequest,
    BookingRules,
)
from civil_affairs.booking.work_calendar import CalendarYearMissing, load_calendar
from civil_affairs.identity import id_hash
from civil_affairs.models import Appointment, AppointmentParty, BookingSlot
from civil_affairs.ops import metrics

logger = logging.getLogger(__name__)


# --- no-shows -----------------------------------------------------------------------------------------


def no_show_block_until(
    hashes: list[str], *, session: Session, today: date, rules: BookingRules = DEFAULT_RULES
) -> date | None:
    """The last blocked day when one of these people missed too many appointments; else None.

    Rule: ``no_show_limit`` no-shows within ``no_show_lookback_days`` → no new bookings for
    ``no_show_block_days`` counted from the latest no-show.
    """
    since = today - timedelta(days=rules.no_show_lookback_days)
    for person in hashes:
        days = list(
            session.scalars(
                select(Appointment.day)
                .join(AppointmentParty)
                .where(AppointmentParty.id_hash == person, Appointment.status == "no_show", Appointment.day >= since)
                .order_by(Appointment.day.desc())
            )
        )
        if len(days) >= rules.no_show_limit:
            until = days[0] + timedelta(days=rules.no_show_block_days)
            if until >= today:
                return until
    return None


def no_show_message(until: date, rules: BookingRules = DEFAULT_RULES) -> str:
    """The explanation a blocked resident reads.

    It names no date: whoever types an ID number reads it, and the end of the block would tell them
    when that person last missed an appointment. Staff (or the office) can say how long it lasts.
    """
    return (
        f"系统记录显示，{rules.no_show_lookback_days}天内有{rules.no_show_limit}次预约后未到场、"
        f"也没有提前取消。按照预约规则，暂时不能在线预约（最长{rules.no_show_block_days}天）。"
        f"如有特殊情况，可以直接到婚姻登记处现场办理，或说“转人工”联系工作人员。"
    )


# --- booking --------------------------------------------------------------------------------------------


def new_code(day: date, *, session: Session) -> str:
    """YY20261208-417: the day plus 3 random digits not yet used that day."""
    prefix = f"{CODE_PREFIX}{day:%Y%m%d}-"
    for _ in range(CODE_ATTEMPTS):
        code = f"{prefix}{secrets.randbelow(1000):03d}"
        if session.scalar(select(Appointment.id).where(Appointment.code == code)) is None:
            return code
    raise BookingError("codes", "当天预约号已用完，请换一个日期。")


def reminder_due(day: date, rules: BookingRules = DEFAULT_RULES) -> datetime:
    """When the reminder is due, stored as naive UTC: the day before at ``rules.reminder_time``."""
    return clock.to_utc(datetime.combine(day - timedelta(days=1), rules.reminder_time))


def slot_by_code(code: str, *, session: Session) -> BookingSlot:
    slot = session.scalar(select(BookingSlot).where(BookingSlot.code == code, BookingSlot.active == True))  # noqa: E712
    if slot is None:
        raise BookingError("slot", "这个时段不存在或已停用，请重新选择时段。")
    return slot


def book(
    request: BookingRequest,
    *,
    session: Session,
    secret_key: str,
    now: datetime,
    rules: BookingRules = DEFAULT_RULES,
    check_rules: bool = True,
) -> Appointment:
    """Book one appointment in the caller's transaction.

    Args:
        request: the checked booking request.
        session: the caller's transaction; on BookingError the caller should roll it back.
        secret_key: key of the ID hashes (settings.secret_key).
        now: local time, for the booking window and the same-day cutoff.
        rules: booking rules.
        check_rules: check the window, the calendar and the no-show rule (benchmarks turn it off).

    Returns:
        The new appointment, flushed (it has its id and code).

    Raises:
        BookingError: the day is not bookable, the slot is full, a person already has an active
            appointment or is blocked after no-shows.
    """
    if len({p.id_number.value for p in request.parties}) != len(request.parties):
        raise BookingError("same_person", "两位当事人的身份证号码相同，请核对后重新填写。")
    hashes = [id_hash(p.id_number.value, secret_key) for p in request.parties]
    slot = slot_by_code(request.slot_code, session=session)
    calendar = load_calendar(session=session)
    if check_rules:
        problem = check_day(
            request.day,
            session=session,
            now=now,
            rules=rules,
            kind=request.kind,
            application_date=request.application_date,
            calendar=calendar,
        )
        if problem:
            raise BookingError("day", problem)
        blocked = no_show_block_until(hashes, session=session, today=now.date(), rules=rules)
        if blocked:
            raise BookingError("no_show", no_show_message(blocked, rules))
    if _active_for(hashes, session=session):
        raise BookingError(
            "active",
            "您（或对方）已经有一个未完成的预约，每人同一时间只能有一个预约。"
            "如需换时间，请说“改约”；如不再需要，请说“取消预约”。",
        )
    try:
        capacity = effective_capacity(
            request.day, slot, calendar, overrides_between(request.day, request.day, session=session)
        )
    except CalendarYearMissing:
        capacity = 0
    if not take_place(request.day, slot, capacity, session=session):
        raise BookingError("full", f"{describe_date(request.day)} {slot.label} 这个时段刚刚约满了，请换一个时段。")
    appointment = Appointment(
        code=new_code(request.day, session=session),
        kind=request.kind,
        day=request.day,
        slot=slot,
        status="booked",
        sender_id=request.sender_id,
        phone=request.phone,
        application_date=request.application_date,
        reminder_state="pending",
        reminder_due_at=reminder_due(request.day, rules),
        submission_key=request.submission_key,
    )
    appointment.parties = [
        AppointmentParty(
            position=i + 1, name=p.name, id_hash=h, id_last6=p.id_number.last6, sex=p.id_number.sex, active=True
        )
        for i, (p, h) in enumerate(zip(request.parties, hashes, strict=False))
    ]
    session.add(appointment)
    try:
        session.flush()
    except IntegrityError as exc:
        raise BookingError("conflict", "您（或对方）已经有一个未完成的预约，每人同一时间只能有一个预约。") from exc
    return appointment


def book_with_retry(
    sessions: sessionmaker,
    request: BookingRequest,
    *,
    secret_key: str,
    now: datetime,
    rules: BookingRules = DEFAULT_RULES,
    check_rules: bool = True,
) -> Appointment:
    """Book in a transaction of its own, retrying the rare booking-code collision between processes.

    A request whose ``submission_key`` already booked returns that appointment instead of a second.
    """
    for attempt in range(BOOK_RETRIES):
        earlier = _earlier_submission(sessions, request)
        if earlier is not None:
            return earlier
        try:
            with sessions.begin() as session:
                appointment = book(
                    request, session=session, secret_key=secret_key, now=now, rules=rules, check_rules=check_rules
                )
            metrics.BOOKINGS.labels(outcome="booked").inc()
            return appointment
        except BookingError as exc:
            # A retry of the same submission that lost the race to the first one gets the first one.
            earlier = _earlier_submission(sessions, request)
            if earlier is not None:
                return earlier
            if exc.code != "conflict" or attempt == BOOK_RETRIES - 1:
                metrics.BOOKINGS.labels(outcome=exc.code).inc()
                raise
            with sessions.begin() as session:  # a person's real double booking is not a collision
                if _active_for([id_hash(p.id_number.value, secret_key) for p in request.parties], session=session):
                    raise
    raise BookingError("conflict", "系统繁忙，请稍后再试。")


def _earlier_submission(sessions: sessionmaker, request: BookingRequest) -> Appointment | None:
    """The appointment an earlier run of this submission made (None without a submission key)."""
    if not request.submission_key:
        return None
    with sessions.begin() as session:
        earlier = find_submission(request.submission_key, session=session)
    if earlier is not None:
        logger.info("submission repeated; returning booking %s", earlier.code)
        metrics.BOOKINGS.labels(outcome="repeated").inc()
    return earlier


def find_submission(key: str, *, session: Session) -> Appointment | None:
    """The appointment an earlier submission with ``key`` made, if any."""
    return session.scalars(select(Appointment).where(Appointment.submission_key == key)).one_or_none()


def _active_for(hashes: list[str], *, session: Session) -> bool:
    return (
        session.scalar(
            select(func.count(AppointmentParty.id)).where(
                AppointmentParty.id_hash.in_(hashes), AppointmentParty.active == True
            )
        )
        > 0
    )  # noqa: E712


def find_active_by_person(id_value: str, *, session: Session, secret_key: str) -> Appointment | None:
    """The person's active appointment, found by keyed hash."""
    party = session.scalar(
        select(AppointmentParty).where(
            AppointmentParty.id_hash == id_hash(id_value, secret_key), AppointmentParty.active == True
        )
    )  # noqa: E712
    return party.appointment if party else None

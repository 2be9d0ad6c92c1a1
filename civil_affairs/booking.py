"""Marriage-registration appointments (婚姻登记预约): availability, booking, cancelling, rescheduling, no-shows.

Functions take a keyword-only ``session`` and never commit: the caller frames one transaction, so a
booking with its capacity check is a single unit. Capacity is enforced by the database with a
conditional update of the (day, slot) counter row; "one active appointment per person" by a partial
unique index on the keyed ID hash. Times are China local time (naive) unless a name says ``utc``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from civil_affairs import throttle
from civil_affairs.config import Settings
from civil_affairs.errors import ExplainedError
from civil_affairs.date_parsing import describe_date
from civil_affairs.identity import IdNumber, id_hash
from civil_affairs.models import Appointment, AppointmentParty, BookingSlot, CapacityOverride, SlotDay
from civil_affairs.models.base import utcnow
from civil_affairs.models.booking import KIND_LABELS, STATUS_LABELS
from civil_affairs.ops import metrics
from civil_affairs.work_calendar import CalendarYearMissing, WorkCalendar, load_calendar

logger = logging.getLogger(__name__)

CHINA_OFFSET = timedelta(hours=8)
CODE_PREFIX = "YY"
CODE_ATTEMPTS = 8
BOOK_RETRIES = 5

# Which FAQ entries tell the resident what to bring, per kind (looked up in the FAQ store, never
# written here, so staff keep one text up to date).
DOCUMENT_FAQ_KEYS = {
    "marriage": ("marriage-documents",),
    "divorce_application": ("divorce-documents",),
    "divorce_certificate": ("divorce-documents",),
    "certificate_reissue": ("marriage-certificate-reissue",),
}


@dataclass(frozen=True)
class BookingRules:
    """Tunable booking rules; built from the BOOKING_* settings by ``rules_from_settings``."""

    min_days_ahead: int = 1          # 1 = from tomorrow; 0 allows same-day booking until the cutoff
    max_days_ahead: int = 15
    same_day_cutoff: time = time(11, 0)
    no_show_limit: int = 2           # no-shows within the lookback that trigger a block
    no_show_lookback_days: int = 180
    no_show_block_days: int = 30
    reminder_time: time = time(10, 0)  # local time on the day before the appointment
    verify_max_failures: int = 5     # wrong "last 6" answers per booking code (existing or not) per window
    verify_lock_minutes: int = 30    # the window of the per-code and per-chat counts
    cooling_off_days: int = 30       # 民法典第1077条
    certificate_window_days: int = 30


DEFAULT_RULES = BookingRules()


def rules_from_settings(settings: Settings) -> BookingRules:
    """The booking rules configured by the BOOKING_* settings."""
    return BookingRules(
        min_days_ahead=settings.booking_min_days_ahead,
        max_days_ahead=settings.booking_max_days_ahead,
        same_day_cutoff=time.fromisoformat(settings.booking_same_day_cutoff),
        no_show_limit=settings.booking_no_show_limit,
        no_show_lookback_days=settings.booking_no_show_lookback_days,
        no_show_block_days=settings.booking_no_show_block_days,
        reminder_time=time.fromisoformat(settings.booking_reminder_time),
    )


class BookingError(ExplainedError):
    """A booking request cannot be carried out; ``message`` is kind Chinese for the resident."""


@dataclass(frozen=True)
class Party:
    """One person of a booking request, with the checked ID number."""

    name: str
    id_number: IdNumber


@dataclass(frozen=True)
class BookingRequest:
    """Everything a booking needs; ``application_date`` only for the divorce certificate visit."""

    kind: str
    day: date
    slot_code: str
    parties: tuple[Party, ...]
    phone: str
    sender_id: str = ""
    application_date: date | None = None
    # The same key twice books once: a confirmation retried after a failure gets the first booking.
    submission_key: str | None = None


@dataclass(frozen=True)
class SlotAvailability:
    """One slot on one day: its capacity, places taken and left."""

    slot_code: str
    label: str
    start: time
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


@dataclass(frozen=True)
class DayAvailability:
    """A bookable day with its free places over all slots."""

    day: date
    free: int
    slots: list[SlotAvailability] = field(default_factory=list)


def local_now(now_utc: datetime | None = None) -> datetime:
    """China local time, naive (the office has one time zone and no daylight saving)."""
    return (now_utc or utcnow()) + CHINA_OFFSET


def to_utc(local: datetime) -> datetime:
    """Naive local → naive UTC, as timestamps are stored."""
    return local - CHINA_OFFSET


# --- calendar and capacity ------------------------------------------------------------------------

def active_slots(*, session: Session) -> list[BookingSlot]:
    """The office's active slots in time order."""
    return list(session.scalars(select(BookingSlot).where(BookingSlot.active == True)  # noqa: E712
                                .order_by(BookingSlot.start_time)))


def all_slots(*, session: Session) -> list[BookingSlot]:
    """Every slot, offered or not, in time order (for the capacity page)."""
    return list(session.scalars(select(BookingSlot).order_by(BookingSlot.start_time)))


def _overrides(day_from: date, day_to: date, *, session: Session) -> dict[tuple[date, int], int]:
    rows = session.scalars(select(CapacityOverride).where(CapacityOverride.day >= day_from,
                                                          CapacityOverride.day <= day_to))
    return {(r.day, r.slot_id): r.capacity for r in rows}


def day_is_open(day: date, calendar: WorkCalendar, overrides: dict[tuple[date, int], int]) -> bool:
    """Open on official working days, and on other days only where staff set a capacity override."""
    if any(d == day and capacity > 0 for (d, _), capacity in overrides.items()):
        return True
    return calendar.is_workday(day)


def effective_capacity(day: date, slot: BookingSlot, calendar: WorkCalendar,
                       overrides: dict[tuple[date, int], int]) -> int:
    """Places of ``slot`` on ``day``: the override if any, the default on working days, else 0."""
    if (day, slot.id) in overrides:
        return overrides[(day, slot.id)]
    if any(d == day for d, _ in overrides) and not calendar.is_workday(day):
        return 0  # a specially opened non-working day offers only the slots staff opened
    return slot.capacity if calendar.is_workday(day) else 0


def booking_window(now: datetime, rules: BookingRules = DEFAULT_RULES) -> tuple[date, date]:
    """First and last day a resident may book at local time ``now``."""
    today = now.date()
    first = today + timedelta(days=rules.min_days_ahead)
    if rules.min_days_ahead == 0 and now.time() >= rules.same_day_cutoff:
        first = today + timedelta(days=1)
    return first, today + timedelta(days=rules.max_days_ahead)


def divorce_certificate_window(application_date: date, calendar: WorkCalendar,
                               rules: BookingRules = DEFAULT_RULES) -> tuple[date, date]:
    """Days on which the divorce certificate may be collected after the cooling-off period.

    The 30-day cooling-off period (民法典第1077条) starts the day after the office received the
    application (第201条: the first day is not counted) and, when its last day is not a working day,
    ends on the next working day (第203条). The certificate must then be requested within the next
    30 days, whose last day is extended the same way.
    """
    cooling_end = calendar.next_workday(application_date + timedelta(days=rules.cooling_off_days))
    first = cooling_end + timedelta(days=1)
    last = calendar.next_workday(cooling_end + timedelta(days=rules.certificate_window_days))
    return first, last


def slot_availability(day: date, *, session: Session, calendar: WorkCalendar | None = None,
                      now: datetime | None = None) -> list[SlotAvailability]:
    """Every active slot of ``day`` with places left (slots already begun today have none)."""
    calendar = calendar or load_calendar(session=session)
    overrides = _overrides(day, day, session=session)
    counters = {r.slot_id: r for r in session.scalars(select(SlotDay).where(SlotDay.day == day))}
    result = []
    for slot in active_slots(session=session):
        capacity = effective_capacity(day, slot, calendar, overrides)
        booked = counters[slot.id].booked if slot.id in counters else 0
        if now is not None and day == now.date() and slot.start_time <= now.time():
            capacity = min(capacity, booked)
        result.append(SlotAvailability(slot.code, slot.label, slot.start_time, capacity, booked))
    return result


def available_days(*, session: Session, now: datetime, rules: BookingRules = DEFAULT_RULES,
                   kind: str = "marriage", application_date: date | None = None,
                   limit: int | None = None) -> list[DayAvailability]:
    """Days in the booking window (and, for the divorce certificate, the legal window) with free places.

    Days of a year missing from the holiday table are left out (logged), never guessed.
    """
    calendar = load_calendar(session=session)
    first, last = booking_window(now, rules)
    if kind == "divorce_certificate" and application_date is not None:
        try:
            legal_first, legal_last = divorce_certificate_window(application_date, calendar, rules)
        except CalendarYearMissing:
            return []
        first, last = max(first, legal_first), min(last, legal_last)
    days = []
    day = first
    while day <= last:
        try:
            slots = slot_availability(day, session=session, calendar=calendar, now=now)
            open_day = day_is_open(day, calendar, _overrides(day, day, session=session))
        except CalendarYearMissing as exc:
            logger.warning("booking: %s", exc)
            break
        free = sum(s.free for s in slots)
        if open_day and free > 0:
            days.append(DayAvailability(day, free, slots))
            if limit and len(days) >= limit:
                break
        day += timedelta(days=1)
    return days


def check_day(day: date, *, session: Session, now: datetime, rules: BookingRules = DEFAULT_RULES,
              kind: str = "marriage", application_date: date | None = None) -> str | None:
    """Why ``day`` cannot be booked, in kind Chinese; None when it can."""
    first, last = booking_window(now, rules)
    label = describe_date(day, now.date())
    if day < now.date():
        return f"{label}已经过去了，请换一个日期。"
    if day < first:
        return f"当天的预约已经截止，最早可以预约{describe_date(first, now.date())}。"
    calendar = load_calendar(session=session)
    if kind == "divorce_certificate" and application_date is not None:
        try:
            legal_first, legal_last = divorce_certificate_window(application_date, calendar, rules)
        except CalendarYearMissing:
            return "这个日期的节假日安排还没有公布，暂时不能预约，请换一个日期或稍后再试。"
        if not legal_first <= day <= legal_last:
            return (f"按冷静期规定，您可以领取离婚证的日期是{describe_date(legal_first)}至"
                    f"{describe_date(legal_last)}，{label}不在这个范围内。")
    if day > last:
        return f"目前只能预约{rules.max_days_ahead}天以内的日期（最晚{describe_date(last)}），请换一个日期。"
    try:
        overrides = _overrides(day, day, session=session)
        if not day_is_open(day, calendar, overrides):
            name = calendar.holiday_name(day)
            reason = f"是{name}假期" if name else "是休息日"
            return f"{label}{reason}，婚姻登记处不办公，请换一个工作日。"
        slots = slot_availability(day, session=session, calendar=calendar, now=now)
    except CalendarYearMissing:
        return "这个日期的节假日安排还没有公布，暂时不能预约，请换一个日期或稍后再试。"
    if sum(s.free for s in slots) == 0:
        return f"{label}已经约满了，请换一个日期。"
    return None


def _counter(day: date, slot: BookingSlot, capacity: int, *, session: Session) -> None:
    """Make sure the (day, slot) counter row exists; concurrent creators do not conflict."""
    dialect = session.get_bind().dialect.name
    values = {"day": day, "slot_id": slot.id, "capacity": capacity, "booked": 0}
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(SlotDay).values(**values).on_conflict_do_nothing(
        index_elements=["day", "slot_id"]))


def _take_place(day: date, slot: BookingSlot, capacity: int, *, session: Session) -> bool:
    """Take one place of (day, slot) in the caller's transaction; False when the slot is full."""
    _counter(day, slot, capacity, session=session)
    result = session.execute(
        update(SlotDay).where(SlotDay.day == day, SlotDay.slot_id == slot.id,
                              SlotDay.booked < SlotDay.capacity)
        .values(booked=SlotDay.booked + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _release_place(day: date, slot_id: int, *, session: Session) -> None:
    session.execute(update(SlotDay).where(SlotDay.day == day, SlotDay.slot_id == slot_id,
                                          SlotDay.booked > 0)
                    .values(booked=SlotDay.booked - 1).execution_options(synchronize_session=False))


def refresh_capacity(day_from: date, *, session: Session) -> int:
    """Recompute ``slot_day.capacity`` from slots and overrides for counters from ``day_from`` on."""
    calendar = load_calendar(session=session)
    slots = {s.id: s for s in session.scalars(select(BookingSlot))}
    rows = list(session.scalars(select(SlotDay).where(SlotDay.day >= day_from)))
    if not rows:
        return 0
    overrides = _overrides(min(r.day for r in rows), max(r.day for r in rows), session=session)
    for row in rows:
        slot = slots[row.slot_id]
        try:
            row.capacity = effective_capacity(row.day, slot, calendar, overrides) if slot.active else 0
        except CalendarYearMissing:
            row.capacity = overrides.get((row.day, slot.id), 0)
    session.flush()
    return len(rows)


# --- no-shows -----------------------------------------------------------------------------------------

def no_show_block_until(hashes: list[str], *, session: Session, today: date,
                        rules: BookingRules = DEFAULT_RULES) -> date | None:
    """The last blocked day when one of these people missed too many appointments; else None.

    Rule: ``no_show_limit`` no-shows within ``no_show_lookback_days`` → no new bookings for
    ``no_show_block_days`` counted from the latest no-show.
    """
    since = today - timedelta(days=rules.no_show_lookback_days)
    for person in hashes:
        days = list(session.scalars(
            select(Appointment.day).join(AppointmentParty).where(
                AppointmentParty.id_hash == person, Appointment.status == "no_show",
                Appointment.day >= since).order_by(Appointment.day.desc())))
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
    return (f"系统记录显示，{rules.no_show_lookback_days}天内有{rules.no_show_limit}次预约后未到场、"
            f"也没有提前取消。按照预约规则，暂时不能在线预约（最长{rules.no_show_block_days}天）。"
            f"如有特殊情况，可以直接到婚姻登记处现场办理，或说“转人工”联系工作人员。")


# --- booking --------------------------------------------------------------------------------------------

def _new_code(day: date, *, session: Session) -> str:
    """YY20261208-417: the day plus 3 random digits not yet used that day."""
    prefix = f"{CODE_PREFIX}{day:%Y%m%d}-"
    for _ in range(CODE_ATTEMPTS):
        code = f"{prefix}{secrets.randbelow(1000):03d}"
        if session.scalar(select(Appointment.id).where(Appointment.code == code)) is None:
            return code
    raise BookingError("codes", "当天预约号已用完，请换一个日期。")


def reminder_due(day: date, rules: BookingRules = DEFAULT_RULES) -> datetime:
    """When the reminder is due, stored as naive UTC: the day before at ``rules.reminder_time``."""
    return to_utc(datetime.combine(day - timedelta(days=1), rules.reminder_time))


def _slot_by_code(code: str, *, session: Session) -> BookingSlot:
    slot = session.scalar(select(BookingSlot).where(BookingSlot.code == code,
                                                    BookingSlot.active == True))  # noqa: E712
    if slot is None:
        raise BookingError("slot", "这个时段不存在或已停用，请重新选择时段。")
    return slot


def book(request: BookingRequest, *, session: Session, secret_key: str, now: datetime,
         rules: BookingRules = DEFAULT_RULES, check_rules: bool = True) -> Appointment:
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
    slot = _slot_by_code(request.slot_code, session=session)
    calendar = load_calendar(session=session)
    if check_rules:
        problem = check_day(request.day, session=session, now=now, rules=rules, kind=request.kind,
                            application_date=request.application_date)
        if problem:
            raise BookingError("day", problem)
        blocked = no_show_block_until(hashes, session=session, today=now.date(), rules=rules)
        if blocked:
            raise BookingError("no_show", no_show_message(blocked, rules))
    if _active_for(hashes, session=session):
        raise BookingError("active", "您（或对方）已经有一个未完成的预约，每人同一时间只能有一个预约。"
                                     "如需换时间，请说“改约”；如不再需要，请说“取消预约”。")
    try:
        capacity = effective_capacity(request.day, slot, calendar,
                                      _overrides(request.day, request.day, session=session))
    except CalendarYearMissing:
        capacity = 0
    if not _take_place(request.day, slot, capacity, session=session):
        raise BookingError("full", f"{describe_date(request.day)} {slot.label} 这个时段刚刚约满了，请换一个时段。")
    appointment = Appointment(
        code=_new_code(request.day, session=session), kind=request.kind, day=request.day,
        slot=slot, status="booked", sender_id=request.sender_id, phone=request.phone,
        application_date=request.application_date, reminder_state="pending",
        reminder_due_at=reminder_due(request.day, rules), submission_key=request.submission_key)
    appointment.parties = [
        AppointmentParty(position=i + 1, name=p.name, id_hash=h, id_last6=p.id_number.last6,
                         sex=p.id_number.sex, active=True)
        for i, (p, h) in enumerate(zip(request.parties, hashes))]
    session.add(appointment)
    try:
        session.flush()
    except IntegrityError as exc:
        raise BookingError("conflict", "您（或对方）已经有一个未完成的预约，每人同一时间只能有一个预约。") from exc
    return appointment


def book_with_retry(sessions: sessionmaker, request: BookingRequest, *, secret_key: str,
                    now: datetime, rules: BookingRules = DEFAULT_RULES,
                    check_rules: bool = True) -> Appointment:
    """Book in a transaction of its own, retrying the rare booking-code collision between processes.

    A request whose ``submission_key`` already booked returns that appointment instead of a second.
    """
    for attempt in range(BOOK_RETRIES):
        earlier = _earlier_submission(sessions, request)
        if earlier is not None:
            return earlier
        try:
            with sessions.begin() as session:
                appointment = book(request, session=session, secret_key=secret_key, now=now, rules=rules,
                                   check_rules=check_rules)
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
                if _active_for([id_hash(p.id_number.value, secret_key) for p in request.parties],
                               session=session):
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
    return session.scalar(select(func.count(AppointmentParty.id)).where(
        AppointmentParty.id_hash.in_(hashes), AppointmentParty.active == True)) > 0  # noqa: E712


def find_active_by_person(id_value: str, *, session: Session, secret_key: str) -> Appointment | None:
    """The person's active appointment, found by keyed hash."""
    party = session.scalar(select(AppointmentParty).where(
        AppointmentParty.id_hash == id_hash(id_value, secret_key), AppointmentParty.active == True))  # noqa: E712
    return party.appointment if party else None


# --- verification, cancelling, rescheduling -------------------------------------------------------------

VERIFY_FAILED_TEXT = "预约码或身份证号后6位不正确，请核对后重新输入。"
VERIFY_LOCKED_TEXT = "验证失败次数过多，已暂停验证{minutes}分钟。请稍后再试，或说“转人工”联系工作人员。"
VERIFY_MAX_FAILURES_PER_CHAT = 5
VERIFY_MAX_FAILURES_PER_ADDRESS = 20
VERIFY_MAX_FAILURES_GLOBAL = 200   # per hour over every chat: the brake on spread-out code guessing
VERIFY_GLOBAL_WINDOW = timedelta(hours=1)


_CODE_FORMAT = re.compile(r"YY\d{8}-\d{3}")


def normalize_code(code: str) -> str:
    """``yy20261208417`` / ``YY20261208－417`` → ``YY20261208-417`` (other text is returned as typed)."""
    code = (code or "").strip().upper().replace("－", "-")
    if code and "-" not in code and len(code) == 13:
        code = code[:10] + "-" + code[10:]
    return code[:40]


def verify_limits(code: str, *, sender_id: str = "", client_address: str | None = None,
                  rules: BookingRules = DEFAULT_RULES) -> list[throttle.Limit]:
    """Failure allowances of a code check: the code as typed (whether or not it exists), the chat,
    the client address (web chats without one share an allowance) and the whole service."""
    window = timedelta(minutes=rules.verify_lock_minutes)
    limits = [throttle.Limit("booking-code", code, rules.verify_max_failures, window)]
    if sender_id:
        limits.append(throttle.Limit("booking-chat", sender_id, VERIFY_MAX_FAILURES_PER_CHAT, window))
    address = client_address or (None if not sender_id or sender_id.startswith("tg-") else "web:unknown-address")
    if address:
        limits.append(throttle.Limit("booking-address", address, VERIFY_MAX_FAILURES_PER_ADDRESS,
                                     VERIFY_GLOBAL_WINDOW))
    limits.append(throttle.Limit("booking-global", "all", VERIFY_MAX_FAILURES_GLOBAL, VERIFY_GLOBAL_WINDOW))
    return limits


def verify(code: str, last6: str, *, session: Session, now_utc: datetime | None = None,
           rules: BookingRules = DEFAULT_RULES, sender_id: str = "",
           client_address: str | None = None) -> Appointment:
    """The booked appointment with ``code`` when ``last6`` matches either party's ID.

    Like ``check_code``, but raises the error. Careful: raising inside ``sessions.begin()`` rolls the
    counted failure back; callers that own the transaction should use ``check_code``.

    Raises:
        BookingError: ``verify`` (wrong pair), ``locked`` or ``inactive``.
    """
    appointment, error = check_code(code, last6, session=session, now_utc=now_utc, rules=rules,
                                    sender_id=sender_id, client_address=client_address)
    if error is not None:
        raise error
    assert appointment is not None
    return appointment


def check_code(code: str, last6: str, *, session: Session, now_utc: datetime | None = None,
               rules: BookingRules = DEFAULT_RULES, sender_id: str = "",
               client_address: str | None = None) -> tuple[Appointment | None, BookingError | None]:
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
    appointment = (session.scalar(select(Appointment).where(Appointment.code == code))
                   if _CODE_FORMAT.fullmatch(code) else None)
    parties = list(appointment.parties) if appointment is not None else []
    # Compare against a dummy when the code is unknown, so both cases do the same work.
    matches = [secrets.compare_digest(p.id_last6, last6) for p in parties] or [
        secrets.compare_digest("~~~~~~", last6)]
    if appointment is None or not any(matches):
        session.flush()
        return None, BookingError("verify", VERIFY_FAILED_TEXT)
    throttle.give_back(limits, session=session)
    if appointment.status != "booked":
        return None, BookingError("inactive", f"这个预约目前的状态是“{STATUS_LABELS[appointment.status]}”，不能再修改。")
    return appointment, None


def _close(appointment: Appointment, status: str, *, staff_user_id: int | None = None,
           reason: str = "") -> None:
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


def cancel(appointment: Appointment, *, session: Session, staff_user_id: int | None = None,
           reason: str = "") -> Appointment:
    """Cancel a booked appointment and give its place back."""
    if appointment.status != "booked":
        raise BookingError("inactive", f"这个预约目前的状态是“{STATUS_LABELS[appointment.status]}”，不能取消。")
    _close(appointment, "cancelled", staff_user_id=staff_user_id, reason=reason)
    _release_place(appointment.day, appointment.slot_id, session=session)
    session.flush()
    return appointment


def reschedule(appointment: Appointment, day: date, slot_code: str, *, session: Session, now: datetime,
               rules: BookingRules = DEFAULT_RULES) -> Appointment:
    """Move an appointment: the old one becomes ``rescheduled`` and a new one (new code) is booked.

    Both happen in the caller's transaction, so a full target slot leaves the old booking intact.
    """
    if appointment.status != "booked":
        raise BookingError("inactive", f"这个预约目前的状态是“{STATUS_LABELS[appointment.status]}”，不能改约。")
    problem = check_day(day, session=session, now=now, rules=rules, kind=appointment.kind,
                        application_date=appointment.application_date)
    if problem:
        raise BookingError("day", problem)
    slot = _slot_by_code(slot_code, session=session)
    if day == appointment.day and slot.id == appointment.slot_id:
        raise BookingError("same", "新选的日期和时段与原预约相同，请换一个。")
    calendar = load_calendar(session=session)
    capacity = effective_capacity(day, slot, calendar, _overrides(day, day, session=session))
    if not _take_place(day, slot, capacity, session=session):
        raise BookingError("full", f"{describe_date(day)} {slot.label} 这个时段刚刚约满了，请换一个时段。")
    parties = [(p.position, p.name, p.id_hash, p.id_last6, p.sex) for p in appointment.parties]
    _close(appointment, "rescheduled")
    _release_place(appointment.day, appointment.slot_id, session=session)
    session.flush()  # the old parties must be inactive before the new ones enter the unique index
    new = Appointment(code=_new_code(day, session=session), kind=appointment.kind, day=day,
                      slot=slot, status="booked", sender_id=appointment.sender_id,
                      phone=appointment.phone, application_date=appointment.application_date,
                      reminder_state="pending", reminder_due_at=reminder_due(day, rules))
    new.parties = [AppointmentParty(position=pos, name=name, id_hash=h, id_last6=l6, sex=sex, active=True)
                   for pos, name, h, l6, sex in parties]
    session.add(new)
    session.flush()
    appointment.rescheduled_to_id = new.id
    session.flush()
    return new


STAFF_STATUSES = ("arrived", "no_show", "cancelled")


def set_status(appointment: Appointment, status: str, *, session: Session, staff_user_id: int,
               reason: str = "") -> Appointment:
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
    return list(session.scalars(select(Appointment).join(BookingSlot).where(Appointment.day == day)
                                .order_by(BookingSlot.start_time, Appointment.code)))


def cancel_day(day: date, reason: str, *, session: Session, staff_user_id: int) -> list[Appointment]:
    """Cancel every booked appointment of ``day`` (e.g. the office must close); returns them."""
    cancelled = [cancel(a, session=session, staff_user_id=staff_user_id, reason=reason)
                 for a in list_day(day, session=session) if a.status == "booked"]
    return cancelled


CSV_FIELDS = ("预约码", "业务", "日期", "时段", "状态", "当事人1", "身份证尾号1", "当事人2", "身份证尾号2", "联系电话")


def export_csv(day_from: date, day_to: date, *, session: Session, mask_phone: bool = True) -> str:
    """Appointments of a date range as CSV (UTF-8 with BOM so Excel opens it), phones masked by default."""
    from civil_affairs.identity import mask_phone as _mask

    rows = session.scalars(select(Appointment).join(BookingSlot).where(
        and_(Appointment.day >= day_from, Appointment.day <= day_to))
        .order_by(Appointment.day, BookingSlot.start_time, Appointment.code))
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for a in rows:
        parties = list(a.parties) + [None, None]
        writer.writerow([a.code, KIND_LABELS[a.kind], a.day.isoformat(), a.slot.label, STATUS_LABELS[a.status],
                         *[v for p in parties[:2] for v in ((p.name, p.id_last6) if p else ("", ""))],
                         _mask(a.phone) if mask_phone else a.phone])
    return out.getvalue()


# --- slots, overrides and seed ------------------------------------------------------------------------

def set_slot_capacity(slot_id: int, capacity: int, *, session: Session, active: bool | None = None,
                      today: date | None = None) -> BookingSlot | None:
    """Change a slot's default capacity (and whether it is offered); future counters follow."""
    slot = session.get(BookingSlot, slot_id)
    if slot is None:
        return None
    if capacity < 0:
        raise BookingError("capacity", "名额不能小于0")
    slot.capacity = capacity
    if active is not None:
        slot.active = active
    session.flush()
    refresh_capacity(today or local_now().date(), session=session)
    return slot


def set_override(day: date, slot_id: int, capacity: int | None, note: str = "", *,
                 session: Session) -> None:
    """Set (or with None remove) the capacity of one slot on one date; the counter follows."""
    row = session.scalar(select(CapacityOverride).where(CapacityOverride.day == day,
                                                        CapacityOverride.slot_id == slot_id))
    if capacity is None:
        if row is not None:
            session.delete(row)
    elif capacity < 0:
        raise BookingError("capacity", "名额不能小于0")
    elif row is None:
        session.add(CapacityOverride(day=day, slot_id=slot_id, capacity=capacity, note=note[:100]))
    else:
        row.capacity, row.note = capacity, note[:100]
    session.flush()
    refresh_capacity(day, session=session)


def list_overrides(day_from: date, *, session: Session) -> list[CapacityOverride]:
    """Capacity overrides from ``day_from`` on."""
    return list(session.scalars(select(CapacityOverride).where(CapacityOverride.day >= day_from)
                                .order_by(CapacityOverride.day, CapacityOverride.slot_id)))


def load_booking_seed(*, session: Session, path: Path) -> int:
    """Add slots and date overrides from ``seed/booking.yml`` that are missing (staff edits are kept).

    Returns:
        How many rows were added.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    added = 0
    for raw in data.get("slots") or []:
        if session.scalar(select(BookingSlot).where(BookingSlot.code == raw["code"])) is None:
            session.add(BookingSlot(code=str(raw["code"]), start_time=time.fromisoformat(str(raw["start"])),
                                    end_time=time.fromisoformat(str(raw["end"])),
                                    capacity=int(raw["capacity"]), active=bool(raw.get("active", True))))
            added += 1
    session.flush()
    slots = {s.code: s.id for s in session.scalars(select(BookingSlot))}
    for raw in data.get("overrides") or []:
        day = raw["date"] if isinstance(raw["date"], date) else date.fromisoformat(str(raw["date"]))
        for code in raw.get("slots") or list(slots):
            exists = session.scalar(select(CapacityOverride).where(
                CapacityOverride.day == day, CapacityOverride.slot_id == slots[code]))
            if exists is None:
                session.add(CapacityOverride(day=day, slot_id=slots[code], capacity=int(raw["capacity"]),
                                             note=str(raw.get("note", ""))[:100]))
                added += 1
    session.flush()
    return added

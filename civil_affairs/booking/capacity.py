"""Calendar and capacity: which days and slots are open, and the per-(day, slot) counters."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civil_affairs.booking.date_parsing import describe_date
from civil_affairs.booking.rules import DEFAULT_RULES, BookingRules, DayAvailability, SlotAvailability
from civil_affairs.booking.work_calendar import CalendarYearMissing, WorkCalendar, load_calendar
from civil_affairs.models import BookingSlot, CapacityOverride, SlotDay

logger = logging.getLogger(__name__)


# --- calendar and capacity ------------------------------------------------------------------------


def active_slots(*, session: Session) -> list[BookingSlot]:
    """The office's active slots in time order."""
    return list(
        session.scalars(
            select(BookingSlot)
            .where(BookingSlot.active == True)  # noqa: E712
            .order_by(BookingSlot.start_time)
        )
    )


def all_slots(*, session: Session) -> list[BookingSlot]:
    """Every slot, offered or not, in time order (for the capacity page)."""
    return list(session.scalars(select(BookingSlot).order_by(BookingSlot.start_time)))


def overrides_between(day_from: date, day_to: date, *, session: Session) -> dict[tuple[date, int], int]:
    rows = session.scalars(
        select(CapacityOverride).where(CapacityOverride.day >= day_from, CapacityOverride.day <= day_to)
    )
    return {(r.day, r.slot_id): r.capacity for r in rows}


def day_is_open(day: date, calendar: WorkCalendar, overrides: dict[tuple[date, int], int]) -> bool:
    """Open on official working days, and on other days only where staff set a capacity override."""
    if any(d == day and capacity > 0 for (d, _), capacity in overrides.items()):
        return True
    return calendar.is_workday(day)


def effective_capacity(
    day: date, slot: BookingSlot, calendar: WorkCalendar, overrides: dict[tuple[date, int], int]
) -> int:
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


def divorce_certificate_window(
    application_date: date, calendar: WorkCalendar, rules: BookingRules = DEFAULT_RULES
) -> tuple[date, date]:
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


def counters_between(day_from: date, day_to: date, *, session: Session) -> dict[tuple[date, int], int]:
    """Places taken per (day, slot id), from the counters."""
    rows = session.execute(
        select(SlotDay.day, SlotDay.slot_id, SlotDay.booked).where(SlotDay.day >= day_from, SlotDay.day <= day_to)
    )
    return {(day, slot_id): booked for day, slot_id, booked in rows}


def _day_slots(
    day: date,
    slots: list[BookingSlot],
    calendar: WorkCalendar,
    overrides: dict[tuple[date, int], int],
    taken: dict[tuple[date, int], int],
    now: datetime | None,
) -> list[SlotAvailability]:
    """Every slot of ``day`` with places left, from rows already read (slots already begun today have none)."""
    result = []
    for slot in slots:
        capacity = effective_capacity(day, slot, calendar, overrides)
        booked = taken.get((day, slot.id), 0)
        if now is not None and day == now.date() and slot.start_time <= now.time():
            capacity = min(capacity, booked)
        result.append(SlotAvailability(slot.code, slot.label, slot.start_time, capacity, booked))
    return result


def slot_availability(
    day: date, *, session: Session, calendar: WorkCalendar | None = None, now: datetime | None = None
) -> list[SlotAvailability]:
    """Every active slot of ``day`` with places left (slots already begun today have none)."""
    calendar = calendar or load_calendar(session=session)
    return _day_slots(
        day,
        active_slots(session=session),
        calendar,
        overrides_between(day, day, session=session),
        counters_between(day, day, session=session),
        now,
    )


def available_days(
    *,
    session: Session,
    now: datetime,
    rules: BookingRules = DEFAULT_RULES,
    kind: str = "marriage",
    application_date: date | None = None,
    limit: int | None = None,
) -> list[DayAvailability]:
    """Days in the booking window (and, for the divorce certificate, the legal window) with free places.

    Days of a year missing from the holiday table are left out (logged), never guessed. The window's
    rows are read in five queries whatever its length: this runs each time the date is asked.
    """
    calendar = load_calendar(session=session)
    first, last = booking_window(now, rules)
    if kind == "divorce_certificate" and application_date is not None:
        try:
            legal_first, legal_last = divorce_certificate_window(application_date, calendar, rules)
        except CalendarYearMissing:
            return []
        first, last = max(first, legal_first), min(last, legal_last)
    if first > last:
        return []
    slots = active_slots(session=session)
    overrides = overrides_between(first, last, session=session)
    taken = counters_between(first, last, session=session)
    days = []
    day = first
    while day <= last:
        day_overrides = {key: capacity for key, capacity in overrides.items() if key[0] == day}
        try:
            day_slots = _day_slots(day, slots, calendar, day_overrides, taken, now)
            open_day = day_is_open(day, calendar, day_overrides)
        except CalendarYearMissing as exc:
            logger.warning("booking: %s", exc)
            break
        free = sum(s.free for s in day_slots)
        if open_day and free > 0:
            days.append(DayAvailability(day, free, day_slots))
            if limit and len(days) >= limit:
                break
        day += timedelta(days=1)
    return days


def check_day(
    day: date,
    *,
    session: Session,
    now: datetime,
    rules: BookingRules = DEFAULT_RULES,
    kind: str = "marriage",
    application_date: date | None = None,
    calendar: WorkCalendar | None = None,
) -> str | None:
    """Why ``day`` cannot be booked, in kind Chinese; None when it can (``calendar``: if the caller read it)."""
    first, last = booking_window(now, rules)
    label = describe_date(day, now.date())
    if day < now.date():
        return f"{label}已经过去了，请换一个日期。"
    if day < first:
        return f"当天的预约已经截止，最早可以预约{describe_date(first, now.date())}。"
    calendar = calendar or load_calendar(session=session)
    if kind == "divorce_certificate" and application_date is not None:
        try:
            legal_first, legal_last = divorce_certificate_window(application_date, calendar, rules)
        except CalendarYearMissing:
            return "这个日期的节假日安排还没有公布，暂时不能预约，请换一个日期或稍后再试。"
        if not legal_first <= day <= legal_last:
            return (
                f"按冷静期规定，您可以领取离婚证的日期是{describe_date(legal_first)}至"
                f"{describe_date(legal_last)}，{label}不在这个范围内。"
            )
    if day > last:
        return f"目前只能预约{rules.max_days_ahead}天以内的日期（最晚{describe_date(last)}），请换一个日期。"
    try:
        overrides = overrides_between(day, day, session=session)
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
    session.execute(insert(SlotDay).values(**values).on_conflict_do_nothing(index_elements=["day", "slot_id"]))


def take_place(day: date, slot: BookingSlot, capacity: int, *, session: Session) -> bool:
    """Take one place of (day, slot) in the caller's transaction; False when the slot is full."""
    _counter(day, slot, capacity, session=session)
    result = session.execute(
        update(SlotDay)
        .where(SlotDay.day == day, SlotDay.slot_id == slot.id, SlotDay.booked < SlotDay.capacity)
        .values(booked=SlotDay.booked + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_place(day: date, slot_id: int, *, session: Session) -> None:
    session.execute(
        update(SlotDay)
        .where(SlotDay.day == day, SlotDay.slot_id == slot_id, SlotDay.booked > 0)
        .values(booked=SlotDay.booked - 1)
        .execution_options(synchronize_session=False)
    )


def refresh_capacity(day_from: date, *, session: Session) -> int:
    """Recompute ``slot_day.capacity`` from slots and overrides for counters from ``day_from`` on."""
    calendar = load_calendar(session=session)
    slots = {s.id: s for s in session.scalars(select(BookingSlot))}
    rows = list(session.scalars(select(SlotDay).where(SlotDay.day >= day_from)))
    if not rows:
        return 0
    overrides = overrides_between(min(r.day for r in rows), max(r.day for r in rows), session=session)
    for row in rows:
        slot = slots[row.slot_id]
        try:
            row.capacity = effective_capacity(row.day, slot, calendar, overrides) if slot.active else 0
        except CalendarYearMissing:
            row.capacity = overrides.get((row.day, slot.id), 0)
    session.flush()
    return len(rows)

"""Slot capacities, date overrides and the work calendar of the registry (supervisors)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response, status
from fastapi.responses import RedirectResponse

from civil_affairs import audit, booking, clock
from civil_affairs.booking import work_calendar
from console.appointments import parse_day
from console.deps import (
    StaffContext,
    client_ip,
    csrf_and_role,
    render,
    require_role,
    sessions,
)

router = APIRouter()


@router.get("/staff/appointments/capacity", include_in_schema=False)
def capacity_page(
    request: Request, error: str = "", staff: StaffContext = Depends(require_role("supervisor"))
) -> Response:
    """Slots with default capacities and the date overrides."""
    with sessions(request).begin() as session:
        slots = booking.all_slots(session=session)
        overrides = booking.list_overrides(clock.local_today(), session=session)
        return render(
            request,
            "staff/appointments_capacity.html",
            {
                "nav": "appointments",
                "slots": slots,
                "overrides": overrides,
                "error": error,
                "slot_labels": {s.id: s.label for s in slots},
            },
            staff=staff,
        )


@router.post("/staff/appointments/capacity/slot/{slot_id}", include_in_schema=False)
def capacity_slot_submit(
    request: Request,
    slot_id: int,
    capacity: int = Form(...),
    active: str = Form(""),
    staff: StaffContext = Depends(csrf_and_role("supervisor")),
) -> Response:
    """Change one slot's default capacity (and whether it is offered)."""
    with sessions(request).begin() as session:
        try:
            slot = booking.set_slot_capacity(slot_id, capacity, active=bool(active), session=session)
        except booking.BookingError as exc:
            return RedirectResponse(
                f"/staff/appointments/capacity?error={exc.message}", status_code=status.HTTP_303_SEE_OTHER
            )
        if slot is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个时段")
        audit.record(
            audit.APPOINTMENT_CAPACITY,
            session=session,
            staff_user_id=staff.user_id,
            target_type="booking_slot",
            target_id=slot.code,
            detail=f"名额 {capacity}，{'启用' if active else '停用'}",
            ip=client_ip(request),
        )
    return RedirectResponse("/staff/appointments/capacity", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/staff/appointments/capacity/override", include_in_schema=False)
def capacity_override_submit(
    request: Request,
    day: str = Form(...),
    slot_id: int = Form(...),
    capacity: str = Form(""),
    note: str = Form(""),
    staff: StaffContext = Depends(csrf_and_role("supervisor")),
) -> Response:
    """Set (or, with an empty capacity, remove) the capacity of one slot on one date."""
    when = parse_day(day)
    raw = capacity.strip()
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else None  # "²" is a digit too
    with sessions(request).begin() as session:
        booking.set_override(when, slot_id, value, note, session=session)
        audit.record(
            audit.APPOINTMENT_CAPACITY,
            session=session,
            staff_user_id=staff.user_id,
            target_type="capacity_override",
            target_id=f"{when} #{slot_id}",
            detail=f"名额 {value if value is not None else '恢复默认'} {note}",
            ip=client_ip(request),
        )
    return RedirectResponse("/staff/appointments/capacity", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/staff/appointments/calendar", include_in_schema=False)
def calendar_page(
    request: Request,
    year: int | None = None,
    error: str = "",
    staff: StaffContext = Depends(require_role("supervisor")),
) -> Response:
    """The holiday table: covered years, one year's exceptions, and years still missing."""
    today = clock.local_today()
    year = year or today.year
    with sessions(request).begin() as session:
        years = work_calendar.covered_years(session=session)
        covered = {y.year for y in years}
        _, window_end = booking.booking_window(clock.local_now(), request.app.state.booking_rules)
        missing = [y for y in range(today.year, window_end.year + 2) if y not in covered]
        return render(
            request,
            "staff/appointments_calendar.html",
            {
                "nav": "appointments",
                "year": year,
                "years": years,
                "missing": missing,
                "window_missing": [y for y in missing if y <= window_end.year],
                "package_years": work_calendar.package_years(),
                "error": error,
                "days": work_calendar.list_exceptions(year, session=session),
            },
            staff=staff,
        )


@router.post("/staff/appointments/calendar/seed", include_in_schema=False)
def calendar_seed_submit(
    request: Request,
    year: int = Form(...),
    replace: str = Form(""),
    staff: StaffContext = Depends(csrf_and_role("supervisor")),
) -> Response:
    """Load a year from the chinese_calendar package, or start an empty year to fill by hand."""
    with sessions(request).begin() as session:
        if year in work_calendar.package_years():
            count = work_calendar.seed_year_from_package(year, session=session, replace=bool(replace))
            detail = f"从日历包导入 {year} 年，{count} 天"
        else:
            work_calendar.add_year_manually(year, session=session)
            detail = f"新建 {year} 年（手工录入）"
        booking.refresh_capacity(date(year, 1, 1), session=session)
        audit.record(
            audit.APPOINTMENT_CALENDAR,
            session=session,
            staff_user_id=staff.user_id,
            target_type="calendar_year",
            target_id=year,
            detail=detail,
            ip=client_ip(request),
        )
    return RedirectResponse(f"/staff/appointments/calendar?year={year}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/staff/appointments/calendar/day", include_in_schema=False)
def calendar_day_submit(
    request: Request,
    day: str = Form(...),
    kind: str = Form(""),
    name: str = Form(""),
    staff: StaffContext = Depends(csrf_and_role("supervisor")),
) -> Response:
    """Make a date a holiday, a make-up working day, or (empty kind) an ordinary day."""
    when = parse_day(day)
    with sessions(request).begin() as session:
        try:
            work_calendar.set_day(when, kind or None, name, session=session)
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from exc
        booking.refresh_capacity(when, session=session)
        audit.record(
            audit.APPOINTMENT_CALENDAR,
            session=session,
            staff_user_id=staff.user_id,
            target_type="calendar_day",
            target_id=when.isoformat(),
            detail={"holiday": "设为节假日", "workday": "设为调休上班"}.get(kind, "恢复普通日") + f" {name}",
            ip=client_ip(request),
        )
    return RedirectResponse(f"/staff/appointments/calendar?year={when.year}", status_code=status.HTTP_303_SEE_OTHER)

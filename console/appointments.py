"""Marriage-registration appointments (婚姻登记预约) for staff: day view, check-in, no-shows, cancelling,
capacity, the holiday calendar, CSV export, and the JSON API.

Every read or change of residents' data leaves an audit record. Cancelling tells the residents in
their own chat (Telegram or web chat) through ``Delivery``. Pages and the API call the same
``civil_affairs.booking`` functions; state-changing requests pass ``check_csrf``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from civil_affairs import audit, booking, clock
from civil_affairs.booking import work_calendar
from civil_affairs.booking.date_parsing import describe_date
from civil_affairs.models import Appointment
from civil_affairs.models.booking import KIND_LABELS, STATUS_LABELS
from civil_affairs.privacy import mask_name, mask_phone
from console.deps import (
    StaffContext,
    check_csrf,
    client_ip,
    csrf_and_role,
    current_staff,
    render,
    sessions,
)

router = APIRouter()

NOT_FOUND_TEXT = "没有这个预约"
BAD_DATE_TEXT = "日期格式应为 YYYY-MM-DD"
MAX_EXPORT_DAYS = 92
CANCEL_NOTICE = (
    "非常抱歉，您预约的{day} {slot} {kind}（预约码 {code}）因{reason}已被登记处取消。"
    "请重新预约其他日期，给您带来不便敬请谅解。如有疑问可说“转人工”。"
)
SINGLE_CANCEL_REASON = "登记处工作安排调整"
BAD_STATUS_TEXT = "status 必须是 arrived、no_show 或 cancelled"


class StatusChangeIn(BaseModel):
    """A staff status change posted to the JSON API; the reason is told to a resident whose booking is cancelled."""

    status: str | None = None
    reason: str | None = None


def parse_day(value: str | None, default: date | None = None) -> date:
    if not value:
        if default is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, BAD_DATE_TEXT)
        return default
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, BAD_DATE_TEXT) from exc


def appointment_json(a: Appointment) -> dict[str, Any]:
    """One appointment for the API: names shown (staff check people in), IDs as last 4, phone masked."""
    return {
        "id": a.id,
        "code": a.code,
        "kind": a.kind,
        "kind_label": KIND_LABELS[a.kind],
        "date": a.day.isoformat(),
        "slot": a.slot.code,
        "slot_label": a.slot.label,
        "status": a.status,
        "status_label": STATUS_LABELS[a.status],
        "parties": [{"name": p.name, "id_last4": p.id_last6[-4:]} for p in a.parties],
        "phone": mask_phone(a.phone),
        "reminder": a.reminder_state,
    }


def day_view(day: date, *, session: Session) -> dict[str, Any]:
    """Slots with counts and the day's appointments; a missing calendar year is reported, not raised."""
    calendar_error = ""
    try:
        slots = booking.slot_availability(day, session=session)
        calendar = work_calendar.load_calendar(session=session)
        workday = calendar.is_workday(day)
        holiday = calendar.holiday_name(day)
    except work_calendar.CalendarYearMissing as exc:
        slots, workday, holiday, calendar_error = [], False, "", str(exc)
    return {
        "slots": slots,
        "appointments": booking.list_day(day, session=session),
        "workday": workday,
        "holiday": holiday,
        "calendar_error": calendar_error,
    }


async def _notify_cancelled(request: Request, notices: list[tuple[str, str]]) -> int:
    """Tell each resident in their chat; returns how many were delivered."""
    conversations = getattr(request.app.state, "conversations", None)
    if conversations is None:
        return 0
    delivered = 0
    for sender_id, text in notices:
        if sender_id:
            delivered += bool(await conversations.delivery.to_resident(sender_id, text))
    return delivered


def _notice(a: Appointment, reason: str) -> tuple[str, str]:
    return a.sender_id, CANCEL_NOTICE.format(
        day=describe_date(a.day), slot=a.slot.label, kind=KIND_LABELS[a.kind], code=a.code, reason=reason
    )


def _change_status(
    request: Request, appointment_id: int, new_status: str, reason: str, staff: StaffContext
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Apply one staff status change with its audit record; raises HTTPException for bad requests."""
    with sessions(request).begin() as session:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
        try:
            booking.set_status(appointment, new_status, session=session, staff_user_id=staff.user_id, reason=reason)
        except booking.BookingError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, exc.message) from exc
        audit.record(
            audit.APPOINTMENT_STATUS,
            session=session,
            staff_user_id=staff.user_id,
            target_type="appointment",
            target_id=appointment.code,
            detail=f"{STATUS_LABELS[new_status]} {reason}".strip(),
            ip=client_ip(request),
        )
        notices = [_notice(appointment, reason or SINGLE_CANCEL_REASON)] if new_status == "cancelled" else []
        return appointment_json(appointment), notices


# --- JSON API ---------------------------------------------------------------------------------------


@router.get("/api/staff/appointments")
def api_day(
    request: Request,
    date: str | None = None,  # noqa: A002 - the documented parameter name
    staff: StaffContext = Depends(current_staff),
) -> JSONResponse:
    """A day's slots and appointments."""
    day = parse_day(date, clock.local_today())
    with sessions(request).begin() as session:
        view = day_view(day, session=session)
        audit.record(
            audit.APPOINTMENT_VIEW,
            session=session,
            staff_user_id=staff.user_id,
            target_type="appointment_day",
            target_id=day.isoformat(),
            ip=client_ip(request),
        )
        body = {
            "date": day.isoformat(),
            "workday": view["workday"],
            "holiday": view["holiday"],
            "calendar_error": view["calendar_error"],
            "slots": [
                {"slot": s.slot_code, "label": s.label, "capacity": s.capacity, "booked": s.booked, "free": s.free}
                for s in view["slots"]
            ],
            "appointments": [appointment_json(a) for a in view["appointments"]],
        }
    return JSONResponse(body)


@router.post("/api/staff/appointments/{appointment_id}/status")
async def api_status(
    request: Request,
    appointment_id: int,
    payload: StatusChangeIn,
    staff: StaffContext = Depends(check_csrf),
) -> JSONResponse:
    """Mark arrived / no_show, or cancel (the resident is told in their chat)."""
    new_status = payload.status or ""
    if new_status not in booking.STAFF_STATUSES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, BAD_STATUS_TEXT)
    reason = (payload.reason or "")[:100]
    body, notices = await run_in_threadpool(_change_status, request, appointment_id, new_status, reason, staff)
    delivered = await _notify_cancelled(request, notices)
    return JSONResponse({"appointment": body, "notified": delivered})


# --- pages ------------------------------------------------------------------------------------------


@router.get("/staff/appointments", include_in_schema=False)
def appointments_page(
    request: Request,
    date: str | None = None,
    done: str = "",  # noqa: A002
    staff: StaffContext = Depends(current_staff),
) -> Response:
    """Appointments of one day by slot, with check-in, no-show and cancel buttons."""
    day = parse_day(date, clock.local_today())
    with sessions(request).begin() as session:
        view = day_view(day, session=session)
        audit.record(
            audit.APPOINTMENT_VIEW,
            session=session,
            staff_user_id=staff.user_id,
            target_type="appointment_day",
            target_id=day.isoformat(),
            ip=client_ip(request),
        )
        return render(
            request,
            "staff/appointments.html",
            {
                "nav": "appointments",
                "day": day,
                "day_label": describe_date(day),
                "previous": day - timedelta(days=1),
                "next": day + timedelta(days=1),
                "kind_labels": KIND_LABELS,
                "status_labels": STATUS_LABELS,
                "mask_phone": mask_phone,
                "mask_name": mask_name,
                "done": done,
                **view,
            },
            staff=staff,
        )


@router.post("/staff/appointments/{appointment_id}/status", include_in_schema=False)
async def status_submit(
    request: Request,
    appointment_id: int,
    new_status: str = Form(..., alias="status"),
    reason: str = Form(""),
    day: str = Form(""),
    staff: StaffContext = Depends(check_csrf),
) -> Response:
    """The page's check-in / no-show / cancel buttons."""
    if new_status not in booking.STAFF_STATUSES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "未知状态")
    _, notices = await run_in_threadpool(_change_status, request, appointment_id, new_status, reason[:100], staff)
    await _notify_cancelled(request, notices)
    return RedirectResponse(f"/staff/appointments?date={day}&done={new_status}", status_code=status.HTTP_303_SEE_OTHER)


def _cancel_day(request: Request, day: date, reason: str, staff: StaffContext) -> list[tuple[str, str]]:
    with sessions(request).begin() as session:
        cancelled = booking.cancel_day(day, reason, session=session, staff_user_id=staff.user_id)
        audit.record(
            audit.APPOINTMENT_CANCEL_DAY,
            session=session,
            staff_user_id=staff.user_id,
            target_type="appointment_day",
            target_id=day.isoformat(),
            detail=f"取消 {len(cancelled)} 个预约：{reason}",
            ip=client_ip(request),
        )
        return [_notice(a, reason) for a in cancelled]


@router.post("/staff/appointments/cancel-day", include_in_schema=False)
async def cancel_day_submit(
    request: Request,
    day: str = Form(...),
    reason: str = Form(...),
    staff: StaffContext = Depends(csrf_and_role("supervisor")),
) -> Response:
    """Cancel every booked appointment of a day and tell the residents."""
    when = parse_day(day)
    reason = reason.strip()[:100] or SINGLE_CANCEL_REASON
    notices = await run_in_threadpool(_cancel_day, request, when, reason, staff)
    delivered = await _notify_cancelled(request, notices)
    return RedirectResponse(
        f"/staff/appointments?date={when.isoformat()}&done=cancel_day_{len(notices)}_{delivered}",
        status_code=status.HTTP_303_SEE_OTHER,
    )


@router.get("/staff/appointments/export.csv", include_in_schema=False)
def export_submit(
    request: Request,
    start: str | None = None,
    end: str | None = None,
    full_phone: str = "",
    staff: StaffContext = Depends(current_staff),
) -> Response:
    """CSV of a date range (phones masked unless a supervisor asks for full numbers)."""
    first = parse_day(start, clock.local_today())
    last = parse_day(end, first)
    if last < first or (last - first).days > MAX_EXPORT_DAYS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"导出范围应在{MAX_EXPORT_DAYS}天以内")
    show_phone = bool(full_phone) and staff.has_role("supervisor")
    with sessions(request).begin() as session:
        content = booking.export_csv(first, last, session=session, mask_phone=not show_phone)
        audit.record(
            audit.APPOINTMENT_EXPORT,
            session=session,
            staff_user_id=staff.user_id,
            target_type="appointment_day",
            target_id=f"{first}~{last}",
            detail="含完整电话" if show_phone else "电话已遮挡",
            ip=client_ip(request),
        )
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="appointments-{first}-{last}.csv"',
            "Cache-Control": "no-store",
        },
    )

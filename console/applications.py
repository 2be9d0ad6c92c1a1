"""Applications (办件管理): search, create, change status (subscribers are told), CSV import; pages and JSON API.

Pages and API call the same ``civil_affairs.applications`` functions. Every view of applicants'
data and every change leaves an audit record; ID numbers are never shown (only the last 6) and never
returned. Subscribers are notified after the change has committed, as a background task of the
response, through the console's ``Delivery``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    Form,
    HTTPException,
    Request,
    Response,
    status,
)
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civil_affairs import audit
from civil_affairs.applications.lookup import describe
from civil_affairs.applications.notify import notify_subscribers, subscribers
from civil_affairs.applications.numbers import format_number
from civil_affairs.applications.records import (
    ApplicationError,
    change_status,
    check_application,
    create_application,
    find_application,
    search_applications,
)
from civil_affairs.applications.types import (
    APPLICATION_TYPES,
    STATUS_LABELS,
    STATUSES,
    STATUSES_NEEDING_NOTE,
    TYPES_BY_CODE,
)
from civil_affairs.conversations.delivery import Delivery
from civil_affairs.models import Application
from civil_affairs.privacy import mask_name
from console.deps import StaffContext, check_csrf, client_ip, current_staff, render, sessions

router = APIRouter()

MAX_IMPORT_BYTES = 5 * 1024 * 1024
NOT_FOUND_TEXT = "没有这个申请编号"
TARGET = "application"
CREATE_ATTEMPTS = 3


class ApplicationIn(BaseModel):
    """A new application posted to the JSON API; ``type`` is a code (DB) or a name (低保)."""

    type: str
    applicant_name: str
    id_number: str
    phone: str | None = None
    office: str = ""
    note: str = ""


class StatusIn(BaseModel):
    """A status change posted to the JSON API; ``status`` is a code (review) or a label (审核)."""

    status: str
    note: str = ""


def _delivery(request: Request) -> Delivery:
    """The console's Delivery (shared with the conversation service)."""
    delivery = getattr(request.app.state, "delivery", None)
    return delivery or request.app.state.conversations.delivery


def schedule_notice(request: Request, tasks: BackgroundTasks, numbers: list[str]) -> None:
    """Tell subscribers after the response (and so after the commit) of the change."""
    for number in numbers:
        tasks.add_task(notify_subscribers, number, sessions=sessions(request), delivery=_delivery(request))


def _type_name(code: str) -> str:
    app_type = TYPES_BY_CODE.get(code)
    return app_type.name if app_type else code


def summary_json(application: Application) -> dict[str, Any]:
    """An application as listed by the API (name masked, no ID number)."""
    return {
        "number": application.number,
        "display_number": format_number(application.number),
        "type": application.type_code,
        "type_name": _type_name(application.type_code),
        "applicant_name": mask_name(application.applicant_name),
        "id_last6": application.id_last6,
        "phone": application.phone_masked,
        "office": application.office,
        "status": application.status,
        "status_label": STATUS_LABELS.get(application.status, ""),
        "status_at": application.status_at.isoformat(),
    }


def detail_json(application: Application, *, session: Session) -> dict[str, Any]:
    """One application with its history and subscriber count (staff see the full name)."""
    data = summary_json(application)
    data["applicant_name"] = application.applicant_name
    data["history"] = [
        {
            "status": e.status,
            "status_label": STATUS_LABELS.get(e.status, ""),
            "at": e.at.isoformat(),
            "note": e.note,
            "source": e.source,
        }
        for e in application.events
    ]
    data["subscribers"] = len(subscribers(application.id, session=session))
    return data


def _create(body: dict[str, Any], staff: StaffContext, request: Request, *, session: Session) -> Application:
    """Check and store a new application, audited; raises ApplicationError."""
    data = check_application(
        type_name=body.get("type", ""),
        applicant_name=body.get("applicant_name", ""),
        id_number=body.get("id_number", ""),
        phone=body.get("phone"),
        office=body.get("office", ""),
        secret_key=request.app.state.settings.secret_key,
    )
    application = create_application(
        data, session=session, staff_user_id=staff.user_id, note=body.get("note", "") or ""
    )
    audit.record(
        audit.APPLICATION_CREATE,
        session=session,
        staff_user_id=staff.user_id,
        target_type=TARGET,
        target_id=application.number,
        detail=f"{_type_name(data.type_code)} {mask_name(data.applicant_name)}",
        ip=client_ip(request),
    )
    return application


def create_committed(body: dict[str, Any], staff: StaffContext, request: Request) -> str:
    """Create in its own transaction; a number taken by a concurrent window is retried with the next."""
    for attempt in range(CREATE_ATTEMPTS):
        try:
            with sessions(request).begin() as session:
                return _create(body, staff, request, session=session).number
        except IntegrityError:
            if attempt == CREATE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def change_application_status(
    number: str, status_text: str, note: str, staff: StaffContext, request: Request, *, session: Session
) -> Application:
    """Change one application's status, audited; raises HTTPException 404 or ApplicationError."""
    application = find_application(number, session=session)
    if application is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
    before = application.status
    event = change_status(application, status_text, note, session=session, staff_user_id=staff.user_id)
    audit.record(
        audit.APPLICATION_STATUS,
        session=session,
        staff_user_id=staff.user_id,
        target_type=TARGET,
        target_id=application.number,
        detail=f"{STATUS_LABELS.get(before, before)} → {STATUS_LABELS[event.status]}"
        + (f"：{note.strip()}" if note.strip() else ""),
        ip=client_ip(request),
    )
    return application


def audited_search(
    request: Request, staff: StaffContext, q: str, type_code: str, status_code: str
) -> list[Application]:
    """Search, audited (the list shows applicants' names)."""
    with sessions(request).begin() as session:
        rows = search_applications(
            q,
            session=session,
            secret_key=request.app.state.settings.secret_key,
            type_code=type_code if type_code in TYPES_BY_CODE else "",
            status=status_code if status_code in STATUS_LABELS else "",
        )
        # The query may be an ID number: the audit detail passes through masking.
        audit.record(
            audit.APPLICATION_SEARCH,
            session=session,
            staff_user_id=staff.user_id,
            target_type=TARGET,
            detail=f"“{q.strip()}” {len(rows)} 条",
            ip=client_ip(request),
        )
        session.expunge_all()
    return rows


# --- pages ------------------------------------------------------------------------------------------


def page_context(**extra: Any) -> dict[str, Any]:
    return {
        "nav": "applications",
        "types": APPLICATION_TYPES,
        "statuses": STATUSES,
        "status_labels": STATUS_LABELS,
        "needs_note": STATUSES_NEEDING_NOTE,
        "type_name": _type_name,
        "mask_name": mask_name,
        "format_number": format_number,
        **extra,
    }


@router.get("/staff/applications", include_in_schema=False)
def applications_page(
    request: Request, q: str = "", type: str = "", status_code: str = "", staff: StaffContext = Depends(current_staff)
) -> Response:
    """Search by number, ID number, name or last 6; newest changes first."""
    rows = audited_search(request, staff, q, type, status_code)
    return render(
        request,
        "staff/applications_list.html",
        page_context(rows=rows, q=q, type_code=type, status_code=status_code),
        staff=staff,
    )


@router.get("/staff/applications/new", include_in_schema=False)
def application_new_page(request: Request, staff: StaffContext = Depends(current_staff)) -> Response:
    """The form for a new application."""
    return render(request, "staff/applications_new.html", page_context(values={}, problem=""), staff=staff)


@router.post("/staff/applications/new", include_in_schema=False)
def application_new_submit(
    request: Request,
    type: str = Form(""),
    applicant_name: str = Form(""),
    id_number: str = Form(""),
    phone: str = Form(""),
    office: str = Form(""),
    note: str = Form(""),
    staff: StaffContext = Depends(check_csrf),
) -> Response:
    """Create an application and show it (its number goes on the resident's receipt)."""
    body = {
        "type": type,
        "applicant_name": applicant_name,
        "id_number": id_number,
        "phone": phone,
        "office": office,
        "note": note,
    }
    try:
        number = create_committed(body, staff, request)
    except ApplicationError as exc:
        # The ID number is not echoed back into the form.
        values = {k: v for k, v in body.items() if k != "id_number"}
        return render(
            request,
            "staff/applications_new.html",
            page_context(values=values, problem=str(exc)),
            staff=staff,
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return RedirectResponse(f"/staff/applications/{quote(number)}?saved=1", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/staff/applications/{number}", include_in_schema=False)
def application_page(
    request: Request, number: str, saved: str = "", problem: str = "", staff: StaffContext = Depends(current_staff)
) -> Response:
    """One application: details, history, subscribers, and the status change form."""
    with sessions(request).begin() as session:
        application = find_application(number, session=session)
        if application is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
        view = describe(application, session=session)
        events = list(application.events)
        subscriber_count = len(subscribers(application.id, session=session))
        audit.record(
            audit.APPLICATION_VIEW,
            session=session,
            staff_user_id=staff.user_id,
            target_type=TARGET,
            target_id=application.number,
            ip=client_ip(request),
        )
        session.expunge_all()
    return render(
        request,
        "staff/applications_detail.html",
        page_context(
            application=application,
            view=view,
            events=events,
            saved=saved,
            problem=problem,
            subscriber_count=subscriber_count,
        ),
        staff=staff,
    )


@router.post("/staff/applications/{number}/status", include_in_schema=False)
def application_status_submit(
    request: Request,
    number: str,
    tasks: BackgroundTasks,
    status_code: str = Form("", alias="status"),
    note: str = Form(""),
    staff: StaffContext = Depends(check_csrf),
) -> Response:
    """Change the status; subscribed residents are told after the response."""
    try:
        with sessions(request).begin() as session:
            canonical = change_application_status(number, status_code, note, staff, request, session=session).number
    except ApplicationError as exc:
        return RedirectResponse(
            f"/staff/applications/{quote(number)}?problem={quote(str(exc))}", status_code=status.HTTP_303_SEE_OTHER
        )
    schedule_notice(request, tasks, [canonical])
    return RedirectResponse(f"/staff/applications/{quote(canonical)}?saved=1", status_code=status.HTTP_303_SEE_OTHER)


# --- JSON API ----------------------------------------------------------------------------------------

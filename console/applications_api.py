"""The JSON API of applications (list, create, read, change status), with the pages' checks and audit."""

from __future__ import annotations

from typing import Any

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    HTTPException,
    Request,
    status,
)
from fastapi.responses import JSONResponse

from civil_affairs import audit
from civil_affairs.applications.notify import subscribers
from civil_affairs.applications.numbers import format_number
from civil_affairs.applications.records import (
    ApplicationError,
    find_application,
)
from civil_affairs.applications.types import (
    STATUS_LABELS,
)
from console.applications import (
    NOT_FOUND_TEXT,
    TARGET,
    ApplicationIn,
    StatusIn,
    audited_search,
    change_application_status,
    create_committed,
    detail_json,
    schedule_notice,
    summary_json,
)
from console.deps import StaffContext, check_csrf, client_ip, current_staff, sessions

router = APIRouter()


@router.get("/api/staff/applications")
def api_applications(
    request: Request, q: str = "", type: str = "", status_code: str = "", staff: StaffContext = Depends(current_staff)
) -> dict[str, Any]:
    """Applications matching a number, ID number, name or last 6 (names masked)."""
    return {"applications": [summary_json(a) for a in audited_search(request, staff, q, type, status_code)]}


@router.post("/api/staff/applications")
def api_application_create(
    request: Request, body: ApplicationIn, staff: StaffContext = Depends(check_csrf)
) -> JSONResponse:
    """Create an application; answers 201 with its number."""
    try:
        number = create_committed(body.dict(), staff, request)
    except ApplicationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from exc
    return JSONResponse(
        {"number": number, "display_number": format_number(number)}, status_code=status.HTTP_201_CREATED
    )


@router.get("/api/staff/applications/{number}")
def api_application(request: Request, number: str, staff: StaffContext = Depends(current_staff)) -> dict[str, Any]:
    """One application with its history."""
    with sessions(request).begin() as session:
        application = find_application(number, session=session)
        if application is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
        audit.record(
            audit.APPLICATION_VIEW,
            session=session,
            staff_user_id=staff.user_id,
            target_type=TARGET,
            target_id=application.number,
            ip=client_ip(request),
        )
        return detail_json(application, session=session)


@router.post("/api/staff/applications/{number}/status")
def api_application_status(
    request: Request, number: str, body: StatusIn, tasks: BackgroundTasks, staff: StaffContext = Depends(check_csrf)
) -> dict[str, Any]:
    """Change the status; subscribed residents are told right after the response."""
    try:
        with sessions(request).begin() as session:
            application = change_application_status(number, body.status, body.note, staff, request, session=session)
            result = {
                "number": application.number,
                "status": application.status,
                "status_label": STATUS_LABELS[application.status],
                "subscribers": len(subscribers(application.id, session=session)),
            }
    except ApplicationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from exc
    schedule_notice(request, tasks, [result["number"]])
    return result

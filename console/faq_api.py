"""The FAQ's JSON API and the unanswered-question list staff work through to grow the FAQ."""

from __future__ import annotations

from typing import Any

from fastapi import (
    APIRouter,
    Depends,
    HTTPException,
    Request,
    Response,
    status,
)
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel

from civil_affairs import audit
from civil_affairs.faq.store import (
    FaqValidationError,
    find_entry,
    list_faq,
    list_unanswered,
    parse_faq,
    resolve_unanswered,
)
from civil_affairs.models import UnansweredQuestion
from console.deps import StaffContext, check_csrf, client_ip, current_staff, render, sessions
from console.faq import NOT_FOUND_TEXT, UNANSWERED_LIMIT, entry_json, save_entry, set_entry_active

router = APIRouter()


class FaqIn(BaseModel):
    """An entry posted to the JSON API, in ``entry_json``'s fields; lists may also be one string, a line each.

    Only the types are checked here; ``parse_faq`` (shared with the editor and the file import) checks
    the meaning and names every problem at once. Fields left out keep ``parse_faq``'s defaults.
    """

    key: str | None = None
    category: str | None = None
    question: str | None = None
    answer: str | None = None
    alternatives: list[str] | str | None = None
    keywords: list[str] | str | None = None
    source: str | None = None
    locality: str | None = None
    reviewed: str | None = None
    active: bool | None = None
    variants: list[str] | str | None = None
    near_misses: list[dict[str, str]] | str | None = None
    choices: list[str] | str | None = None


def _unanswered_rows(request: Request, staff: StaffContext) -> list[UnansweredQuestion]:
    """Open unanswered questions, most frequent first; viewing them is audited."""
    with sessions(request).begin() as session:
        rows = list_unanswered(session=session, limit=UNANSWERED_LIMIT)
        audit.record(
            audit.UNANSWERED_VIEW,
            session=session,
            staff_user_id=staff.user_id,
            target_type="unanswered",
            detail=f"{len(rows)} 条",
            ip=client_ip(request),
        )
    return rows


@router.get("/staff/unanswered", include_in_schema=False)
def unanswered_page(request: Request, staff: StaffContext = Depends(current_staff)) -> Response:
    """Questions the bot could not answer, to turn into FAQ entries or mark resolved."""
    return render(
        request, "staff/unanswered.html", {"nav": "unanswered", "rows": _unanswered_rows(request, staff)}, staff=staff
    )


@router.post("/staff/unanswered/{question_id}/resolve", include_in_schema=False)
def unanswered_resolve_submit(
    request: Request, question_id: int, staff: StaffContext = Depends(check_csrf)
) -> Response:
    """Take a question off the list (it returns if residents ask it again)."""
    with sessions(request).begin() as session:
        if resolve_unanswered(question_id, session=session) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个问题")
        audit.record(
            audit.UNANSWERED_RESOLVE,
            session=session,
            staff_user_id=staff.user_id,
            target_type="unanswered",
            target_id=question_id,
            detail="标记为已处理",
            ip=client_ip(request),
        )
    return RedirectResponse("/staff/unanswered", status_code=status.HTTP_303_SEE_OTHER)


# --- JSON API ----------------------------------------------------------------------------------------


@router.get("/api/staff/faq")
def api_faq_list(
    request: Request, q: str = "", category: str = "", staff: StaffContext = Depends(current_staff)
) -> dict[str, Any]:
    """Entries filtered by a text and a category."""
    with sessions(request).begin() as session:
        entries = list_faq(session=session, query=q.strip(), category=category)
        return {"entries": [entry_json(e) for e in entries]}


@router.post("/api/staff/faq")
def api_faq_save(request: Request, body: FaqIn, staff: StaffContext = Depends(check_csrf)) -> JSONResponse:
    """Create or update the entry with ``body.key`` (201 when created)."""
    try:
        data = parse_faq(body.dict(exclude_unset=True))
        with sessions(request).begin() as session:
            created = find_entry(data.key, session=session) is None
            entry = save_entry(data, created, staff, client_ip(request), session=session)
            payload = {"created": created, "entry": entry_json(entry)}
    except FaqValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, exc.problems) from exc
    return JSONResponse(payload, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@router.post("/api/staff/faq/{key}/deactivate")
def api_faq_deactivate(request: Request, key: str, staff: StaffContext = Depends(check_csrf)) -> dict[str, Any]:
    """Stop answering with an entry."""
    with sessions(request).begin() as session:
        entry = set_entry_active(key, False, staff, client_ip(request), session=session)
        if entry is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
        return {"entry": entry_json(entry)}


@router.get("/api/staff/unanswered")
def api_unanswered(request: Request, staff: StaffContext = Depends(current_staff)) -> dict[str, Any]:
    """Open unanswered questions, most frequent first."""
    rows = _unanswered_rows(request, staff)
    return {
        "questions": [
            {
                "id": r.id,
                "text": r.text,
                "count": r.count,
                "intent": r.intent,
                "first_seen": r.first_seen.isoformat(),
                "last_seen": r.last_seen.isoformat(),
            }
            for r in rows
        ]
    }

"""The handoff page's form posts (reply, note, claim, assign, resolve), answered with the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response, status
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from console.deps import StaffContext, check_csrf
from console.handoffs import (
    NOT_DELIVERED_TEXT,
    ReplyOutcome,
    add_staff_note,
    claim_handoff,
    clean_staff_text,
    handoff_page_view,
    parse_id,
    resolve_handoff,
    send_reply,
)

router = APIRouter()


async def page_action(
    request: Request, handoff_id: str, staff: StaffContext, notice: str, action: Callable[[int], Any]
) -> Response:
    """Run a form action; on success back to the page (POST/redirect/GET), else the page with the error."""
    number = parse_id(handoff_id)
    try:
        result = action(number)
        if hasattr(result, "__await__"):
            result = await result
    except HTTPException as exc:
        if exc.status_code == status.HTTP_404_NOT_FOUND:
            raise
        error, code = str(exc.detail), exc.status_code
        return await run_in_threadpool(lambda: handoff_page_view(request, number, staff, error=error, code=code))
    if isinstance(result, ReplyOutcome) and not result.delivered:
        return await run_in_threadpool(
            lambda: handoff_page_view(
                request, number, staff, error=NOT_DELIVERED_TEXT, code=status.HTTP_502_BAD_GATEWAY
            )
        )
    return RedirectResponse(f"/staff/handoffs/{number}?notice={notice}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/staff/handoffs/{handoff_id}/reply", include_in_schema=False)
async def reply_submit(
    request: Request, handoff_id: str, text: str = Form(""), staff: StaffContext = Depends(check_csrf)
) -> Response:
    """Reply from the page's form."""
    return await page_action(
        request, handoff_id, staff, "replied", lambda n: send_reply(request, n, staff, clean_staff_text(text))
    )


@router.post("/staff/handoffs/{handoff_id}/note", include_in_schema=False)
async def note_submit(
    request: Request, handoff_id: str, text: str = Form(""), staff: StaffContext = Depends(check_csrf)
) -> Response:
    """Add an internal note from the page's form."""
    return await page_action(
        request,
        handoff_id,
        staff,
        "noted",
        lambda n: run_in_threadpool(add_staff_note, request, n, staff, clean_staff_text(text)),
    )


@router.post("/staff/handoffs/{handoff_id}/claim", include_in_schema=False)
async def claim_submit(request: Request, handoff_id: str, staff: StaffContext = Depends(check_csrf)) -> Response:
    """Claim the conversation for oneself."""
    return await page_action(
        request, handoff_id, staff, "claimed", lambda n: run_in_threadpool(claim_handoff, request, n, staff, None)
    )


@router.post("/staff/handoffs/{handoff_id}/assign", include_in_schema=False)
async def assign_submit(
    request: Request, handoff_id: str, staff_user_id: str = Form(""), staff: StaffContext = Depends(check_csrf)
) -> Response:
    """Assign the conversation to a colleague (supervisors and admins)."""
    raw = staff_user_id
    assignee = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 12 else -1
    return await page_action(
        request, handoff_id, staff, "assigned", lambda n: run_in_threadpool(claim_handoff, request, n, staff, assignee)
    )


@router.post("/staff/handoffs/{handoff_id}/resolve", include_in_schema=False)
async def resolve_submit(request: Request, handoff_id: str, staff: StaffContext = Depends(check_csrf)) -> Response:
    """End the human service; the bot takes over and asks for a rating."""
    return await page_action(request, handoff_id, staff, "resolved", lambda n: resolve_handoff(request, n, staff))

"""The JSON API of the handoff queue (``/api/staff/handoffs``): the same checks, audit and errors as the pages
in ``console.handoffs``, for the console's own polling and for integrations.

Bodies are pydantic models (an empty body is the same as ``{}``); the text is then checked by
``clean_staff_text``, as the page's form posts are.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, StrictInt, StrictStr

from civil_affairs import audit
from civil_affairs.conversations.handoff_views import (
    handoff_row,
    new_messages,
    notes_of,
    staff_names,
    viewed_recently,
)
from console.conversations import search_rows
from console.deps import StaffContext, check_csrf, client_ip, current_staff, sessions
from console.handoffs import (
    MAX_SEARCH_CHARS,
    NOT_DELIVERED_TEXT,
    add_staff_note,
    audited_view,
    checked_status,
    claim_handoff,
    clean_staff_text,
    handoff_or_404,
    parse_id,
    queue_rows,
    resolve_handoff,
    send_reply,
)

logger = logging.getLogger(__name__)
router = APIRouter()


class TextIn(BaseModel):
    """A reply to the resident or an internal note."""

    text: StrictStr | None = None

    class Config:
        schema_extra = {"example": {"text": "您好"}}


class ClaimIn(BaseModel):
    """Claim for oneself (no ``staff_user_id``), or assign to that colleague (supervisors and admins)."""

    staff_user_id: StrictInt | None = None

    class Config:
        schema_extra = {"example": {"staff_user_id": 7}}


@router.get("/api/staff/handoffs")
def api_queue(
    request: Request, status_name: str = Query("open", alias="status"), staff: StaffContext = Depends(current_staff)
) -> dict[str, Any]:
    """Handoffs of one status: emergencies first, then the longest waiting (resolved: newest first)."""
    rows, counts = queue_rows(request, checked_status(status_name))
    return {"status": status_name, "counts": counts, "handoffs": rows}


@router.get("/api/staff/handoffs/{handoff_id}")
def api_handoff(
    request: Request,
    handoff_id: str,
    after_text: str = Query("0", alias="after"),
    staff: StaffContext = Depends(current_staff),
) -> dict[str, Any]:
    """A handoff with its conversation's transcript and notes; ``after`` = only newer lines (polling)."""
    number = parse_id(handoff_id)
    after = int(after_text) if after_text.isascii() and after_text.isdigit() and len(after_text) <= 12 else 0
    if after <= 0:
        with sessions(request).begin() as session:
            state = handoff_row(handoff_or_404(session, number), staff_names(session=session))
        view = audited_view(request, staff, state["conversation_id"], audit.HANDOFF_VIEW, "handoff", number)
        messages, notes = view.messages, view.notes[number]
    else:
        with sessions(request).begin() as session:
            handoff = handoff_or_404(session, number)
            names = staff_names(session=session)
            state = handoff_row(handoff, names)
            messages = new_messages(handoff.conversation_id, after, session=session, names=names)
            notes = notes_of(number, session=session, names=names)
            # The page's polling continues an audited full view; any other ``after=`` read is audited.
            if not viewed_recently(number, staff.user_id, session=session, action=audit.HANDOFF_VIEW):
                audit.record(
                    audit.HANDOFF_VIEW,
                    session=session,
                    staff_user_id=staff.user_id,
                    target_type="handoff",
                    target_id=number,
                    detail=f"会话 #{handoff.conversation_id}，{len(messages)} 条消息（after={after}）",
                    ip=client_ip(request),
                )
    last_id = messages[-1]["id"] if messages else max(after, 0)
    return {"handoff": state, "messages": messages, "notes": notes, "last_id": last_id}


@router.post("/api/staff/handoffs/{handoff_id}/reply")
async def api_reply(
    request: Request, handoff_id: str, body: TextIn | None = None, staff: StaffContext = Depends(check_csrf)
) -> dict[str, Any]:
    """Send ``{"text"}`` to the resident; 409 when the handoff is already resolved."""
    number = parse_id(handoff_id)
    text = clean_staff_text(body.text if body else None)
    outcome = await send_reply(request, number, staff, text)
    return {
        "handoff": outcome.handoff,
        "delivered": outcome.delivered,
        "warning": "" if outcome.delivered else NOT_DELIVERED_TEXT,
    }


@router.post("/api/staff/handoffs/{handoff_id}/note")
def api_note(
    request: Request, handoff_id: str, body: TextIn | None = None, staff: StaffContext = Depends(check_csrf)
) -> dict[str, Any]:
    """Add the internal note ``{"text"}``."""
    number = parse_id(handoff_id)
    text = clean_staff_text(body.text if body else None)
    return {"note": add_staff_note(request, number, staff, text)}


@router.post("/api/staff/handoffs/{handoff_id}/claim")
def api_claim(
    request: Request, handoff_id: str, body: ClaimIn | None = None, staff: StaffContext = Depends(check_csrf)
) -> dict[str, Any]:
    """Claim for oneself; ``{"staff_user_id": n}`` assigns to someone else (supervisors and admins)."""
    assignee = body.staff_user_id if body else None
    return {"handoff": claim_handoff(request, parse_id(handoff_id), staff, assignee)}


@router.post("/api/staff/handoffs/{handoff_id}/resolve")
async def api_resolve(request: Request, handoff_id: str, staff: StaffContext = Depends(check_csrf)) -> dict[str, Any]:
    """End the human service: the bot answers again and the resident is asked for a 1–5 rating."""
    return {"handoff": await resolve_handoff(request, parse_id(handoff_id), staff)}


@router.get("/api/staff/conversations")
def api_conversations(request: Request, q: str = "", staff: StaffContext = Depends(current_staff)) -> dict[str, Any]:
    """Conversations whose (masked) transcript contains ``q``; without ``q`` the most recent ones."""
    return {"conversations": search_rows(request, staff, q.strip()[:MAX_SEARCH_CHARS])}

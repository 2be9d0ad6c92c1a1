"""Escalated conversations (转人工): the queue, the conversation view and search (their JSON API: handoffs_api).

Staff read the whole transcript (the bot's part before the escalation included), reply through the
resident's own channel (Telegram chat or web chat), leave internal notes, claim or assign, and
resolve, which hands the conversation back to the bot and asks the resident for a 1–5 rating.
Every read or write of a resident's conversation leaves an audit record; the page's polling for new
lines does not, but only when that staff member's full view of the handoff is on record (polling
without one is audited like a full view, so ``?after=1`` cannot read a transcript unseen). Writes need the CSRF
token (form field, or the ``X-CSRF-Token`` header for the API). Errors are short Chinese JSON
(``{"detail": "…"}``) for the API and a message on the page for forms.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from civil_affairs import audit
from civil_affairs.conversations.handoff import (
    HandoffError,
    add_note,
    claim,
    handoff_counts,
    note_staff_reply,
    queue,
    resolve,
)
from civil_affairs.conversations.handoff_views import (
    STATUS_LABELS,
    assignable_staff,
    conversation_view,
    handoff_row,
    note_row,
    queue_row,
    sender_of,
    staff_names,
)
from civil_affairs.models import Handoff, StaffUser
from console.deps import StaffContext, client_ip, current_staff, render, sessions

logger = logging.getLogger(__name__)
router = APIRouter()

QUEUE_STATUSES = ("open", "assigned", "resolved")
MAX_TEXT_CHARS = 2000  # well under Telegram's 4096 per message; long answers belong in several
MAX_SEARCH_CHARS = 50
POLL_SECONDS = 2.5

NO_HANDOFF_TEXT = "没有这个转人工会话"
NO_CONVERSATION_TEXT = "没有这个会话"
BAD_STATUS_TEXT = "status 只能是 open（待处理）、assigned（处理中）或 resolved（已结束）"
EMPTY_TEXT = "内容不能为空"
TOO_LONG_TEXT = f"内容太长（最多 {MAX_TEXT_CHARS} 字），请分几条发送"
BAD_ASSIGNEE_TEXT = "请选择一位在岗的工作人员"
ASSIGN_ROLE_TEXT = "只有主管或管理员可以把会话分配给其他工作人员"
NOT_DELIVERED_TEXT = "回复已记录，但未能送达居民的 Telegram（网络或 Telegram 拒绝），请稍后再发一次"


@dataclass(frozen=True)
class ReplyOutcome:
    """What became of a staff reply."""

    handoff: dict[str, Any]
    delivered: bool


# --- shared steps (run in a worker thread: they hold a database transaction) -------------------------


def parse_id(value: str, missing: str = NO_HANDOFF_TEXT) -> int:
    """A numeric id from the path; anything else is simply not found."""
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing)
    return int(value)


def clean_staff_text(value: str | None) -> str:
    """The reply or note text (from the page's form or the API's ``TextIn``), or 422 with a Chinese message."""
    if value is None or not value.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, EMPTY_TEXT)
    text = value.strip()
    if len(text) > MAX_TEXT_CHARS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, TOO_LONG_TEXT)
    return text


def handoff_or_404(session: Any, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_HANDOFF_TEXT)
    return handoff


def _conflict(exc: HandoffError) -> HTTPException:
    """A state conflict (e.g. replying to a resolved handoff) as 409 with the domain's message."""
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


def _prepare_reply(request: Request, handoff_id: int, staff: StaffContext, text: str) -> str:
    """Check the handoff can take a reply, stop its waiting clock, audit; returns the sender id."""
    with sessions(request).begin() as session:
        handoff = handoff_or_404(session, handoff_id)
        try:
            note_staff_reply(handoff, staff.user_id)
        except HandoffError as exc:
            raise _conflict(exc) from exc
        audit.record(
            audit.HANDOFF_REPLY,
            session=session,
            staff_user_id=staff.user_id,
            target_type="handoff",
            target_id=handoff_id,
            detail=text[:100],
            ip=client_ip(request),
        )
        return sender_of(handoff, session=session)


async def send_reply(request: Request, handoff_id: int, staff: StaffContext, text: str) -> ReplyOutcome:
    """Send a staff reply to the resident's chat (recorded in the transcript first)."""
    sender_id = await run_in_threadpool(_prepare_reply, request, handoff_id, staff, text)
    delivered = await request.app.state.conversations.delivery.to_resident(
        sender_id, text, author="staff", staff_user_id=staff.user_id
    )
    if not delivered:
        logger.warning("staff reply on handoff %s recorded but not delivered", handoff_id)
    return ReplyOutcome(await run_in_threadpool(_handoff_state, request, handoff_id), delivered)


def _handoff_state(request: Request, handoff_id: int) -> dict[str, Any]:
    with sessions(request).begin() as session:
        return handoff_row(handoff_or_404(session, handoff_id), staff_names(session=session))


def add_staff_note(request: Request, handoff_id: int, staff: StaffContext, text: str) -> dict[str, Any]:
    """Add an internal note (never shown to the resident) and audit it."""
    with sessions(request).begin() as session:
        handoff_or_404(session, handoff_id)
        note = add_note(handoff_id, staff.user_id, text, session=session)
        audit.record(
            audit.HANDOFF_NOTE,
            session=session,
            staff_user_id=staff.user_id,
            target_type="handoff",
            target_id=handoff_id,
            detail=text[:100],
            ip=client_ip(request),
        )
        return note_row(note, staff_names(session=session))


def claim_handoff(request: Request, handoff_id: int, staff: StaffContext, assignee_id: int | None) -> dict[str, Any]:
    """Claim for oneself, or (supervisor and above) assign to another active member; audited."""
    assignee_id = staff.user_id if assignee_id is None else assignee_id
    if assignee_id != staff.user_id and not staff.has_role("supervisor"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, ASSIGN_ROLE_TEXT)
    with sessions(request).begin() as session:
        handoff_or_404(session, handoff_id)
        assignee = session.get(StaffUser, assignee_id)
        if assignee is None or not assignee.active:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, BAD_ASSIGNEE_TEXT)
        try:
            handoff = claim(handoff_id, assignee_id, session=session)
        except HandoffError as exc:
            raise _conflict(exc) from exc
        own = assignee_id == staff.user_id
        audit.record(
            audit.HANDOFF_CLAIM if own else audit.HANDOFF_ASSIGN,
            session=session,
            staff_user_id=staff.user_id,
            target_type="handoff",
            target_id=handoff_id,
            detail="认领" if own else f"分配给 {assignee.username}",
            ip=client_ip(request),
        )
        return handoff_row(handoff, staff_names(session=session))


def _prepare_resolve(request: Request, handoff_id: int, staff: StaffContext) -> tuple[str, dict[str, Any]]:
    """Close the handoff and audit it; returns the sender id and the new state."""
    with sessions(request).begin() as session:
        handoff_or_404(session, handoff_id)
        try:
            handoff = resolve(handoff_id, staff.user_id, session=session)
        except HandoffError as exc:
            raise _conflict(exc) from exc
        audit.record(
            audit.HANDOFF_RESOLVE,
            session=session,
            staff_user_id=staff.user_id,
            target_type="handoff",
            target_id=handoff_id,
            ip=client_ip(request),
        )
        return sender_of(handoff, session=session), handoff_row(handoff, staff_names(session=session))


async def resolve_handoff(request: Request, handoff_id: int, staff: StaffContext) -> dict[str, Any]:
    """Hand the conversation back to the bot, then ask the resident for a rating."""
    sender_id, state = await run_in_threadpool(_prepare_resolve, request, handoff_id, staff)
    await request.app.state.conversations.ask_for_rating(sender_id)
    return state


def queue_rows(request: Request, status_name: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Queue rows of one status and the count per status (for the tabs)."""
    with sessions(request).begin() as session:
        names = staff_names(session=session)
        rows = [queue_row(item, names) for item in queue(session=session, status=status_name)]
        counts = {name: 0 for name in QUEUE_STATUSES}
        counts.update(handoff_counts(session=session))
        return rows, counts


def checked_status(value: str) -> str:
    if value not in QUEUE_STATUSES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, BAD_STATUS_TEXT)
    return value


def audited_view(
    request: Request, staff: StaffContext, conversation_id: int, action: str, target_type: str, target_id: int
) -> Any:
    """A conversation's view, audited as a read of personal data."""
    with sessions(request).begin() as session:
        view = conversation_view(conversation_id, session=session)
        if view is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NO_CONVERSATION_TEXT)
        audit.record(
            action,
            session=session,
            staff_user_id=staff.user_id,
            target_type=target_type,
            target_id=target_id,
            detail=f"会话 #{conversation_id}，{len(view.messages)} 条消息",
            ip=client_ip(request),
        )
        return view


# --- pages ------------------------------------------------------------------------------------------


@router.get("/staff/handoffs", include_in_schema=False)
def queue_page(
    request: Request, status_name: str = Query("open", alias="status"), staff: StaffContext = Depends(current_staff)
) -> Response:
    """The queue of one status; the page's script refreshes it every few seconds."""
    status_name = status_name if status_name in QUEUE_STATUSES else "open"
    rows, counts = queue_rows(request, status_name)
    return render(
        request,
        "staff/handoffs.html",
        {
            "nav": "handoffs",
            "rows": rows,
            "counts": counts,
            "current": status_name,
            "labels": STATUS_LABELS,
            "poll_ms": int(POLL_SECONDS * 1000),
        },
        staff=staff,
    )


def handoff_page_view(
    request: Request,
    handoff_id: int,
    staff: StaffContext,
    *,
    error: str = "",
    notice: str = "",
    code: int = status.HTTP_200_OK,
) -> Response:
    with sessions(request).begin() as session:
        handoff = handoff_or_404(session, handoff_id)
        conversation_id = handoff.conversation_id
        assignees = [{"id": u.id, "name": u.display_name or u.username} for u in assignable_staff(session=session)]
    view = audited_view(request, staff, conversation_id, audit.HANDOFF_VIEW, "handoff", handoff_id)
    current = next(h for h in view.handoffs if h["id"] == handoff_id)
    return render(
        request,
        "staff/handoff_view.html",
        {
            "nav": "handoffs",
            "view": view,
            "handoff": current,
            "notes": view.notes[handoff_id],
            "assignees": assignees,
            "error": error,
            "notice": notice,
            "poll_ms": int(POLL_SECONDS * 1000),
        },
        staff=staff,
        status_code=code,
    )


@router.get("/staff/handoffs/{handoff_id}", include_in_schema=False)
def handoff_page(
    request: Request, handoff_id: str, notice: str = "", staff: StaffContext = Depends(current_staff)
) -> Response:
    """The conversation of one handoff: transcript, reply box, notes, claim/assign, resolve."""
    notices = {
        "replied": "已发送给居民",
        "noted": "备注已保存",
        "claimed": "已认领",
        "assigned": "已分配",
        "resolved": "已结束人工服务，已请居民评价",
    }
    return handoff_page_view(request, parse_id(handoff_id), staff, notice=notices.get(notice, ""))

"""All conversations: search over transcript text and one conversation's view, audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from civil_affairs import audit
from civil_affairs.conversations.handoff import (
    search_conversations,
)
from civil_affairs.conversations.handoff_views import (
    conversation_rows,
)
from console.deps import StaffContext, client_ip, current_staff, render, sessions
from console.handoffs import MAX_SEARCH_CHARS, NO_CONVERSATION_TEXT, audited_view, parse_id

router = APIRouter()


@router.get("/staff/conversations", include_in_schema=False)
def conversations_page(request: Request, q: str = "", staff: StaffContext = Depends(current_staff)) -> Response:
    """Search past conversations by their (masked) text; without a query, the most recent ones."""
    q = q.strip()[:MAX_SEARCH_CHARS]
    rows = search_rows(request, staff, q)
    return render(request, "staff/conversations.html", {"nav": "conversations", "rows": rows, "q": q}, staff=staff)


def search_rows(request: Request, staff: StaffContext, q: str) -> list[dict[str, Any]]:
    with sessions(request).begin() as session:
        found = search_conversations(q, session=session)
        rows = conversation_rows(found, session=session)
        audit.record(
            audit.CONVERSATION_SEARCH,
            session=session,
            staff_user_id=staff.user_id,
            target_type="conversation",
            detail=f"“{q}”：{len(rows)} 条" if q else f"最近会话：{len(rows)} 条",
            ip=client_ip(request),
        )
        return rows


@router.get("/staff/conversations/{conversation_id}", include_in_schema=False)
def conversation_page(request: Request, conversation_id: str, staff: StaffContext = Depends(current_staff)) -> Response:
    """Any conversation's transcript, read-only, with links to its handoffs."""
    number = parse_id(conversation_id, NO_CONVERSATION_TEXT)
    view = audited_view(request, staff, number, audit.CONVERSATION_VIEW, "conversation", number)
    return render(request, "staff/conversation_view.html", {"nav": "conversations", "view": view}, staff=staff)


# --- JSON API ----------------------------------------------------------------------------------------

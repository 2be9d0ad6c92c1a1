"""Resident web chat: a page without login that talks to the same Rasa conversation logic.

Each browser gets a random, http-only cookie; its Rasa sender id is ``web-<cookie>``, so the
conversation continues across page reloads and never mixes with another visitor's.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy import select

from civil_affairs.models import Conversation
from civil_affairs.rasa_client import MessageLost, RasaUnavailable
from civil_affairs.throttle import CURRENT_CLIENT_ADDRESS, client_digest
from civil_affairs.transcripts import transcript

logger = logging.getLogger(__name__)
router = APIRouter()

COOKIE_NAME = "webchat_id"
MAX_MESSAGE_CHARS = 2000
BUSY_TEXT = "系统繁忙，请稍后再试"
RESEND_TEXT = "抱歉，刚才这条消息没有处理成功，请您再发一次。"
TOO_LONG_TEXT = "您的消息太长了，请分几次简短地说。"
EMPTY_TEXT = "请先输入您的问题。"


class ChatIn(BaseModel):
    """A resident's message from the web chat page."""

    message: str = ""


def _chat_id(request: Request) -> tuple[str, bool]:
    """The visitor's chat id from the cookie, or a new one (second value: newly made)."""
    existing = request.cookies.get(COOKIE_NAME, "")
    if existing.isalnum() and 16 <= len(existing) <= 64:
        return existing, False
    return secrets.token_hex(16), True


def _reply(messages: list[dict], chat_id: str, new: bool, code: int = status.HTTP_200_OK) -> JSONResponse:
    response = JSONResponse({"messages": messages}, status_code=code)
    if new:
        response.set_cookie(COOKIE_NAME, chat_id, httponly=True, samesite="lax", max_age=30 * 86400)
    return response


@router.get("/", include_in_schema=False)
async def index() -> RedirectResponse:
    """The root opens the web chat."""
    return RedirectResponse("/chat", status_code=status.HTTP_302_FOUND)


@router.get("/chat", response_class=HTMLResponse)
async def chat_page(request: Request) -> Response:
    """The web chat page."""
    return request.app.state.templates.TemplateResponse(request, "chat.html", {})


@router.post("/api/chat")
async def chat_message(body: ChatIn, request: Request) -> JSONResponse:
    """Forward one message to Rasa and return the bot's answers as JSON."""
    chat_id, new = _chat_id(request)
    text = body.message.strip()
    if not text:
        return _reply([{"text": EMPTY_TEXT}], chat_id, new)
    if len(text) > MAX_MESSAGE_CHARS:
        return _reply([{"text": TOO_LONG_TEXT}], chat_id, new)
    # The actions limit guessing per client address too (a cookie is the visitor's to change).
    address = CURRENT_CLIENT_ADDRESS.set(client_digest(request.client.host if request.client else "",
                                                       request.app.state.settings.secret_key))
    try:
        answers = await request.app.state.conversations.send(f"web-{chat_id}", text)
    except MessageLost:
        return _reply([{"text": RESEND_TEXT}], chat_id, new, status.HTTP_503_SERVICE_UNAVAILABLE)
    except RasaUnavailable:
        return _reply([{"text": BUSY_TEXT}], chat_id, new, status.HTTP_503_SERVICE_UNAVAILABLE)
    finally:
        CURRENT_CLIENT_ADDRESS.reset(address)
    messages = [
        {
            "text": answer.text,
            "image": answer.image,
            "buttons": [{"title": b.title, "payload": b.payload} for b in answer.buttons],
            "document": answer.document,
        }
        for answer in answers
    ]
    return _reply(messages, chat_id, new)


@router.get("/api/chat/updates")
async def chat_updates(request: Request, after: int = -1) -> JSONResponse:
    """Messages from staff (and rating requests) newer than ``after``; ``after=-1`` only syncs the cursor.

    The web chat page polls this every few seconds, which is how staff replies reach a browser.
    """
    chat_id, new = _chat_id(request)
    if new:
        return _reply_updates([], 0, chat_id, new)
    with request.app.state.sessions.begin() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.sender_id == f"web-{chat_id}")
        ).one_or_none()
        if conversation is None:
            return _reply_updates([], 0, chat_id, new)
        lines = transcript(conversation.id, session=session, after_id=max(after, 0))
        last_id = lines[-1].id if lines else max(after, 0)
        if after < 0:
            return _reply_updates([], last_id, chat_id, new)
        messages = [{"text": line.text, "buttons": line.buttons or [], "author": line.author}
                    for line in lines if line.author in ("staff", "system")]
    return _reply_updates(messages, last_id, chat_id, new)


def _reply_updates(messages: list[dict], last_id: int, chat_id: str, new: bool) -> JSONResponse:
    response = JSONResponse({"messages": messages, "last_id": last_id})
    if new:
        response.set_cookie(COOKIE_NAME, chat_id, httponly=True, samesite="lax", max_age=30 * 86400)
    return response

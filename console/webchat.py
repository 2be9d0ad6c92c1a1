"""Resident web chat: a page without login that talks to the same Rasa conversation logic.

Each browser gets a random, http-only cookie (``Secure`` over HTTPS). Its Rasa sender id is
``web-<SHA-256 of the cookie>``: the conversation continues across page reloads and never mixes
with another visitor's, while nothing stored (transcripts, Rasa's tracker store, the staff console)
holds the cookie itself.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, StrictStr
from sqlalchemy import select
from starlette.exceptions import HTTPException

from civil_affairs.conversations.rasa_client import MessageLost, RasaUnavailable
from civil_affairs.conversations.rate_limit import RateLimited
from civil_affairs.conversations.texts import BUSY_TEXT, EMPTY_TEXT, RESEND_TEXT
from civil_affairs.conversations.texts import WEBCHAT_BAD_REQUEST_TEXT as BAD_REQUEST_TEXT
from civil_affairs.conversations.texts import WEBCHAT_TOO_LONG_TEXT as TOO_LONG_TEXT
from civil_affairs.conversations.transcripts import clean_text, transcript, web_sender_id
from civil_affairs.models import Conversation
from civil_affairs.throttle import CURRENT_CLIENT_ADDRESS, client_digest
from console.deps import client_ip
from console.security import is_https

logger = logging.getLogger(__name__)

COOKIE_NAME = "webchat_id"
COOKIE_MAX_AGE = 30 * 86400
MAX_MESSAGE_CHARS = 2000
MAX_CURSOR = 2**62  # message ids beyond this do not exist; larger numbers would overflow SQLite


def _chat_id(request: Request) -> tuple[str, bool]:
    """The visitor's chat id from the cookie, or a new one (second value: newly made)."""
    existing = request.cookies.get(COOKIE_NAME, "")
    if existing.isascii() and existing.isalnum() and 16 <= len(existing) <= 64:
        return existing, False
    return secrets.token_hex(16), True


def _respond(
    request: Request, payload: dict[str, Any], chat_id: str, new: bool, code: int = status.HTTP_200_OK
) -> JSONResponse:
    response = JSONResponse(payload, status_code=code)
    if new:
        response.set_cookie(
            COOKIE_NAME, chat_id, httponly=True, samesite="lax", max_age=COOKIE_MAX_AGE, secure=is_https(request)
        )
    return response


def _reply(
    request: Request, messages: list[dict], chat_id: str, new: bool, code: int = status.HTTP_200_OK
) -> JSONResponse:
    return _respond(request, {"messages": messages}, chat_id, new, code)


class ChatIn(BaseModel):
    """One message typed by the resident; ``{}`` is an empty message."""

    message: StrictStr = ""

    @classmethod
    def validate(cls, value: Any) -> ChatIn:
        """Only a JSON object: pydantic 1 would read a list of pairs as one (``[]`` as ``{}``)."""
        if not isinstance(value, (dict, cls)):
            raise TypeError("not an object")
        return super().validate(value)


class ChatRoute(APIRoute):
    """A body the chat cannot read is answered as a chat message: the page shows bubbles, not ``detail``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_unreadable(request: Request) -> Response:
            try:
                return await handler(request)
            except (RequestValidationError, HTTPException) as exc:
                # FastAPI answers 400 to a body its JSON parser gives up on (invalid UTF-8, deep nesting).
                if isinstance(exc, HTTPException) and exc.status_code != status.HTTP_400_BAD_REQUEST:
                    raise
                chat_id, new = _chat_id(request)
                return _reply(request, [{"text": BAD_REQUEST_TEXT}], chat_id, new, status.HTTP_422_UNPROCESSABLE_ENTITY)

        return answer_unreadable


router = APIRouter(route_class=ChatRoute)


@router.get("/", include_in_schema=False)
async def index() -> RedirectResponse:
    """The root opens the web chat."""
    return RedirectResponse("/chat", status_code=status.HTTP_302_FOUND)


@router.get("/chat", response_class=HTMLResponse)
async def chat_page(request: Request) -> Response:
    """The web chat page."""
    return request.app.state.templates.TemplateResponse(request, "chat.html", {})


@router.post("/api/chat")
async def chat_message(request: Request, body: ChatIn) -> JSONResponse:
    """Forward one message to Rasa and return the bot's answers as JSON."""
    chat_id, new = _chat_id(request)
    text = clean_text(body.message)
    if not text:
        return _reply(request, [{"text": EMPTY_TEXT}], chat_id, new)
    if len(text) > MAX_MESSAGE_CHARS:
        return _reply(request, [{"text": TOO_LONG_TEXT}], chat_id, new)
    # The actions limit guessing per client address too (a cookie is the visitor's to change).
    address = CURRENT_CLIENT_ADDRESS.set(client_digest(client_ip(request), request.app.state.settings.secret_key))
    try:
        answers = await request.app.state.conversations.send(web_sender_id(chat_id), text, raise_when_limited=True)
    except RateLimited as limited:
        return _reply(
            request, [{"text": m.text} for m in limited.reply], chat_id, new, status.HTTP_429_TOO_MANY_REQUESTS
        )
    except MessageLost:
        return _reply(request, [{"text": RESEND_TEXT}], chat_id, new, status.HTTP_503_SERVICE_UNAVAILABLE)
    except RasaUnavailable:
        return _reply(request, [{"text": BUSY_TEXT}], chat_id, new, status.HTTP_503_SERVICE_UNAVAILABLE)
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
    return _reply(request, messages, chat_id, new)


@router.get("/api/chat/updates")
def chat_updates(request: Request, after: str = "-1") -> JSONResponse:
    """Messages from staff (and rating requests) newer than ``after``; ``after=-1`` only syncs the cursor.

    The web chat page polls this every few seconds, which is how staff replies reach a browser.
    """
    chat_id, new = _chat_id(request)
    try:
        cursor = min(int(after), MAX_CURSOR) if len(after) <= 20 else -1
    except ValueError:
        cursor = -1
    if new:
        return _respond(request, {"messages": [], "last_id": 0}, chat_id, new)
    with request.app.state.sessions.begin() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.sender_id == web_sender_id(chat_id))
        ).one_or_none()
        if conversation is None:
            return _respond(request, {"messages": [], "last_id": 0}, chat_id, new)
        lines = transcript(conversation.id, session=session, after_id=max(cursor, 0))
        last_id = lines[-1].id if lines else max(cursor, 0)
        if cursor < 0:
            return _respond(request, {"messages": [], "last_id": last_id}, chat_id, new)
        messages = [
            {"text": line.text, "buttons": line.buttons or [], "author": line.author}
            for line in lines
            if line.author in ("staff", "system")
        ]
    return _respond(request, {"messages": messages, "last_id": last_id}, chat_id, new)

"""Messages that do not come from Rasa: staff replies, rating requests, status updates, staff alerts.

Every message to a resident is recorded in the transcript first. A Telegram resident then gets it
through the Bot API (``TELEGRAM_API_BASE_URL`` + token, as the bot itself uses); a web chat visitor
gets it the next time the page polls ``/api/chat/updates``, which reads the transcript.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from sqlalchemy.orm import sessionmaker

from civil_affairs.config import Settings
from civil_affairs.conversations.transcripts import record_message, telegram_chat_id

logger = logging.getLogger(__name__)

TELEGRAM_DEFAULT_BASE_URL = "https://api.telegram.org/bot"


def inline_keyboard(buttons: list[dict[str, str]] | None) -> dict[str, Any] | None:
    """Telegram reply_markup with one button per row (buttons carry Rasa-style payloads)."""
    if not buttons:
        return None
    return {"inline_keyboard": [[{"text": b["title"], "callback_data": b["payload"]}] for b in buttons]}


class Delivery:
    """Sends messages to residents' chats and alerts to the staff chat."""

    def __init__(self, settings: Settings, sessions: sessionmaker, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self._given_http = http
        # One client per event loop: the action server runs actions on several threads' loops, and
        # an httpx client's connections belong to the loop that opened them.
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._given_http is not None:
            return self._given_http
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = httpx.AsyncClient(timeout=10)
        return client

    async def aclose(self) -> None:
        """Close the client of the running loop (and the one given to the constructor)."""
        if self._given_http is not None:
            await self._given_http.aclose()
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def to_resident(
        self,
        sender_id: str,
        text: str,
        *,
        author: str = "system",
        buttons: list[dict[str, str]] | None = None,
        staff_user_id: int | None = None,
    ) -> bool:
        """Record the message in the transcript and deliver it; False when Telegram refused it."""

        def record() -> None:  # in a thread: the event loop keeps serving other residents meanwhile
            with self.sessions.begin() as session:
                record_message(sender_id, author, text, session=session, buttons=buttons, staff_user_id=staff_user_id)

        await asyncio.to_thread(record)
        chat_id = telegram_chat_id(sender_id)
        if chat_id is None:
            return True  # web chat: the page picks it up from the transcript
        return await self._telegram(
            "sendMessage", {"chat_id": chat_id, "text": text, "reply_markup": inline_keyboard(buttons)}
        )

    async def to_staff_chat(self, text: str, link: str) -> bool:
        """Announce something in the staff Telegram chat, when STAFF_TELEGRAM_CHAT_ID is set."""
        chat_id = self.settings.staff_telegram_chat_id
        if not chat_id:
            return False
        return await self._telegram(
            "sendMessage",
            {
                "chat_id": chat_id,
                "text": f"{text}\n{link}",
                "reply_markup": {"inline_keyboard": [[{"text": "打开会话", "url": link}]]}
                if link.startswith("https://")
                else None,
            },
        )

    async def _telegram(self, method: str, params: dict[str, Any]) -> bool:
        token = self.settings.telegram_bot_token
        if not token:
            logger.warning("telegram %s skipped: TELEGRAM_BOT_TOKEN is not set", method)
            return False
        base = self.settings.telegram_api_base_url or TELEGRAM_DEFAULT_BASE_URL
        body = {k: v for k, v in params.items() if v is not None}
        try:
            response = await self._http.post(f"{base}{token}/{method}", json=body)
            ok = response.status_code == 200 and response.json().get("ok", False)
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("telegram %s failed: %s", method, type(exc).__name__)
            return False
        if not ok:
            logger.warning("telegram %s refused with HTTP %s", method, response.status_code)
        return ok

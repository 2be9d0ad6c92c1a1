"""Async client for Rasa's REST channel (``POST /webhooks/rest/webhook``), which needs ``RASA_REST_TOKEN``."""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from civil_affairs.config import Settings
from civil_affairs.ops.tracker_events import MESSAGE_ID_KEY
from civil_affairs.throttle import CLIENT_ADDRESS_KEY, CURRENT_CLIENT_ADDRESS
from civil_affairs.tokens import REST_TOKEN_HEADER

logger = logging.getLogger(__name__)

REST_WEBHOOK_PATH = "/webhooks/rest/webhook"
REST_SECONDS = 5.0
# Idle keep-alive connections to Rasa and to the action server are dropped after this, before the
# servers (Sanic: 5 s) close them, so that a message is never written into a closing connection.
IDLE_CONNECTION_SECONDS = 3.0
_INVALID_JSON = object()


class RasaUnavailable(Exception):
    """Rasa could not be reached, answered too slowly, or answered with an error."""


class RasaMaybeProcessed(RasaUnavailable):
    """A Rasa replica failed after the message reached it: it may have handled it, or not."""

    def __init__(self, reason: str, *, replica: int, dropped: bool) -> None:
        super().__init__(reason)
        self.replica = replica
        self.dropped = dropped  # the connection broke (the replica probably died), no error answer


class MessageLost(RasaUnavailable):
    """The message may not have been handled and nothing can be said for it: ask the resident to resend."""


@dataclass(frozen=True)
class RasaButton:
    """One quick-reply button of a Rasa message: a title shown, a payload sent back."""

    title: str
    payload: str


@dataclass(frozen=True)
class RasaMessage:
    """One bot message returned by the REST channel."""

    text: str | None = None
    buttons: tuple[RasaButton, ...] = field(default_factory=tuple)
    image: str | None = None
    document: dict[str, str] | None = None  # from a custom payload {"document": {filename, content}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RasaMessage:
        """Read one element of the REST channel's answer, ignoring what the bot cannot show."""
        buttons = tuple(
            RasaButton(title=str(button.get("title", "")), payload=str(button.get("payload", "")))
            for button in data.get("buttons") or ()
            if isinstance(button, dict) and (button.get("title") or button.get("payload"))
        )
        text = data.get("text")
        image = data.get("image")
        custom = data.get("custom")
        document = custom.get("document") if isinstance(custom, dict) else None
        return cls(
            text=str(text) if text else None,
            buttons=buttons,
            image=str(image) if image else None,
            document={k: str(v) for k, v in document.items()}
            if isinstance(document, dict) and document.get("content")
            else None,
        )


class RasaClient:
    """Sends one resident message to Rasa and returns the bot's answers.

    With several Rasa replicas a conversation goes to the replica this process has fewest messages
    waiting at, and among equally busy ones to its own (by its sender id): a hash alone left one
    replica with most of the conversations under load while the other idled. Any replica can serve
    any conversation, because they share the tracker store and the lock store (which keeps one
    conversation's messages in order). A replica that refuses the connection
    never saw the message, so the next one is tried at once and the refusing one rests a few
    seconds. A replica that fails after the message was sent may or may not have handled it:
    ``RasaMaybeProcessed`` tells the caller to find out before sending it again. Every message
    carries ``rest_token`` (``RASA_REST_TOKEN``): Rasa's channel refuses messages without it.
    """

    def __init__(
        self,
        base_url: str | Sequence[str],
        timeout_seconds: float,
        *,
        rest_token: str,
        rest_seconds: float = REST_SECONDS,
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ValueError("RasaClient needs at least one Rasa URL")
        if not rest_token:
            logger.warning("RASA_REST_TOKEN is not set: Rasa will refuse every message (the launcher sets it)")
        self._headers = {REST_TOKEN_HEADER: rest_token}
        self._urls = [url.rstrip("/") + REST_WEBHOOK_PATH for url in urls]
        self._timeout = timeout_seconds
        self._http: aiohttp.ClientSession | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._rest_seconds = rest_seconds
        self._resting_until = [0.0] * len(self._urls)
        self._in_flight = [0] * len(self._urls)

    @classmethod
    def for_settings(cls, settings: Settings) -> RasaClient:
        """The client of a channel process: every replica of ``RASA_URL``, its timeout and token."""
        return cls(settings.rasa_urls, settings.rasa_timeout_seconds, rest_token=settings.rasa_rest_token)

    @property
    def replicas(self) -> int:
        return len(self._urls)

    async def aclose(self) -> None:
        """Close the underlying HTTP connection pool."""
        if self._http is not None:
            await self._http.close()

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._http is None or self._http.closed or self._http_loop is not loop:
            # Only connecting has a timeout of its own (a replica that never accepts is skipped);
            # ``send`` bounds the whole exchange.
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, connect=self._timeout),
                connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_CONNECTION_SECONDS),
            )
            self._http_loop = loop
        return self._http

    async def _post(self, url: str, body: dict[str, Any]) -> tuple[int, Any]:
        """(HTTP status, decoded JSON answer or ``_INVALID_JSON``); the body is read only on success."""
        async with self._session().post(url, json=body, headers=self._headers) as response:
            if not 200 <= response.status < 300:
                return response.status, None
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, _INVALID_JSON

    def _order(self, sender_id: str, avoid: int | None) -> list[int]:
        """Replicas to try: the least busy first (the conversation's own among equals), resting
        ones and ``avoid`` last."""
        first = zlib.crc32(sender_id.encode("utf-8")) % len(self._urls)
        order = [(first + i) % len(self._urls) for i in range(len(self._urls))]
        now = time.monotonic()
        return sorted(order, key=lambda i: (i == avoid, self._resting_until[i] > now, self._in_flight[i]))

    async def send(
        self,
        sender_id: str,
        text: str,
        *,
        message_id: str | None = None,
        avoid: int | None = None,
        extra_seconds: float = 0.0,
    ) -> list[RasaMessage]:
        """Post ``text`` as ``sender_id``; raise RasaUnavailable on any failure or timeout.

        ``message_id`` travels in the message's metadata (the tracker store keeps it), so that an
        answer lost on the way can be found again. ``avoid`` is a replica to try last.
        """
        body: dict[str, Any] = {"sender": sender_id, "message": text}
        if message_id:
            body["metadata"] = {MESSAGE_ID_KEY: message_id}
        client = CURRENT_CLIENT_ADDRESS.get()
        if client:  # the web visitor's (digested) address, for the actions' rate limits
            body.setdefault("metadata", {})[CLIENT_ADDRESS_KEY] = client
        timeout = self._timeout + extra_seconds
        for index in self._order(sender_id, avoid):
            self._in_flight[index] += 1
            try:
                # Bounds the whole exchange, so that a slowly trickling answer cannot keep the
                # resident waiting.
                status, payload = await asyncio.wait_for(self._post(self._urls[index], body), timeout=timeout)
            except (aiohttp.ClientConnectorError, aiohttp.ServerTimeoutError):
                # Refused, or not accepted in time (only connecting has its own timeout): never sent.
                logger.warning("Rasa replica %d refused the connection for %s; trying the next", index, sender_id)
                self._resting_until[index] = time.monotonic() + self._rest_seconds
                continue
            except asyncio.TimeoutError as exc:
                logger.warning("Rasa timed out after %.1f s for %s", timeout, sender_id)
                raise RasaUnavailable("timeout") from exc
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError) as exc:
                logger.warning(
                    "Rasa replica %d failed after the message was sent for %s: %s", index, sender_id, type(exc).__name__
                )
                self._resting_until[index] = time.monotonic() + self._rest_seconds
                raise RasaMaybeProcessed(type(exc).__name__, replica=index, dropped=True) from exc
            except aiohttp.ClientError as exc:
                logger.warning("Rasa unreachable for %s: %s", sender_id, type(exc).__name__)
                raise RasaUnavailable(type(exc).__name__) from exc
            finally:
                self._in_flight[index] -= 1
            return self._answers(status, payload, sender_id, index)
        logger.warning("no Rasa replica accepted the connection for %s", sender_id)
        raise RasaUnavailable("unreachable")

    @staticmethod
    def _answers(status: int, payload: Any, sender_id: str, index: int) -> list[RasaMessage]:
        if status >= 500:
            logger.warning("Rasa answered HTTP %s for %s", status, sender_id)
            raise RasaMaybeProcessed(f"HTTP {status}", replica=index, dropped=False)
        if not 200 <= status < 300:
            logger.warning("Rasa answered HTTP %s for %s", status, sender_id)
            raise RasaUnavailable(f"HTTP {status}")
        if payload is _INVALID_JSON:
            logger.warning("Rasa answered invalid JSON for %s", sender_id)
            raise RasaUnavailable("invalid JSON")
        if not isinstance(payload, list):
            logger.warning("Rasa answered an unexpected JSON shape for %s", sender_id)
            raise RasaUnavailable("unexpected JSON shape")
        return [RasaMessage.from_json(item) for item in payload if isinstance(item, dict)]

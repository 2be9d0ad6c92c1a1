"""Async client for Rasa's REST channel (``POST /webhooks/rest/webhook``)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)

REST_WEBHOOK_PATH = "/webhooks/rest/webhook"


class RasaUnavailable(Exception):
    """Rasa could not be reached, answered too slowly, or answered with an error."""


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
    def from_json(cls, data: dict[str, Any]) -> "RasaMessage":
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
            if isinstance(document, dict) and document.get("content") else None,
        )


class RasaClient:
    """Sends one resident message to Rasa and returns the bot's answers."""

    def __init__(self, base_url: str, timeout_seconds: float, *, http: httpx.AsyncClient | None = None) -> None:
        self._url = base_url.rstrip("/") + REST_WEBHOOK_PATH
        self._timeout = timeout_seconds
        self._http = http or httpx.AsyncClient(timeout=timeout_seconds)

    async def aclose(self) -> None:
        """Close the underlying HTTP connection pool."""
        await self._http.aclose()

    async def send(self, sender_id: str, text: str) -> list[RasaMessage]:
        """Post ``text`` as ``sender_id``; raise RasaUnavailable on any failure or timeout."""
        try:
            # httpx's timeout applies per network operation; wait_for bounds the whole exchange
            # so that a slowly trickling answer cannot keep the resident waiting.
            response = await asyncio.wait_for(
                self._http.post(self._url, json={"sender": sender_id, "message": text}),
                timeout=self._timeout,
            )
        except asyncio.TimeoutError as exc:
            logger.warning("Rasa timed out after %.1f s for %s", self._timeout, sender_id)
            raise RasaUnavailable("timeout") from exc
        except httpx.HTTPError as exc:
            logger.warning("Rasa unreachable for %s: %s", sender_id, type(exc).__name__)
            raise RasaUnavailable(type(exc).__name__) from exc
        if not response.is_success:
            logger.warning("Rasa answered HTTP %s for %s", response.status_code, sender_id)
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError as exc:
            logger.warning("Rasa answered invalid JSON for %s", sender_id)
            raise RasaUnavailable("invalid JSON") from exc
        if not isinstance(payload, list):
            logger.warning("Rasa answered an unexpected JSON shape for %s", sender_id)
            raise RasaUnavailable("unexpected JSON shape")
        return [RasaMessage.from_json(item) for item in payload if isinstance(item, dict)]

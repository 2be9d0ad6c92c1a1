"""Rasa's REST channel (``/webhooks/rest/webhook``), refusing every request without the channels' token.

Rasa's own REST channel takes a message from anyone who reaches Rasa's port, under any sender id
(``tg-<chat id>`` is a Telegram resident) and with any metadata (``client_address``, which the
status-lookup and booking rate limits trust), and answers them. This subclass keeps the channel's
name (``rest``, so the URL stays the same) and answers 401 before the body is read unless the
request carries ``X-Rasa-Rest-Token: $RASA_REST_TOKEN`` (generated per start by the launcher and
given to Rasa, the console and the bot through their environment only). ``credentials.yml`` names
it by its module path; Rasa refuses to start when the variable is empty.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from civil_affairs.tokens import REST_TOKEN_HEADER, tokens_match

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "RASA_REST_TOKEN"


class TokenRestInput(RestInput):
    """The REST channel, for callers that present ``RASA_REST_TOKEN`` only."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError(f"{TOKEN_VARIABLE} is empty: the REST channel would take messages from anyone")
        self._token = token

    @classmethod
    def name(cls) -> str:
        """``rest``: the URL (``/webhooks/rest/webhook``) and the messages' input channel stay Rasa's."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        """Rasa builds the channel here at start: without the token, Rasa does not start at all."""
        token = os.environ.get(TOKEN_VARIABLE, "")
        if not token:
            raise SystemExit(
                f"{TOKEN_VARIABLE} is not set: Rasa's REST channel would take messages from anyone "
                "(the launcher sets it; set it yourself when starting Rasa by hand)"
            )
        return cls(token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's routes for the channel, behind the token check."""
        routes = super().blueprint(on_new_message)

        @routes.middleware("request")
        async def require_token(request: Request) -> HTTPResponse | None:
            """Refuse a request without the right token before Rasa sees its body."""
            if tokens_match(self._token, request.headers.get(REST_TOKEN_HEADER)):
                return None
            logger.warning("refused %s %s without a valid %s", request.method, request.path, REST_TOKEN_HEADER)
            return response.json({"error": "unauthorized"}, status=401)

        return routes

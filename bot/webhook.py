"""Webhook mode: a small Starlette app that puts each Telegram update on the Application's queue.

Shaped after python-telegram-bot's ``examples/customwebhookbot/starlettebot.py``: no Updater,
the web server runs inside the running Application, and Telegram's secret header is checked.
"""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot.application import ALLOWED_UPDATES
from bot.lifecycle import running
from civil_affairs.config import Settings

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_PATH = "/telegram"
# Telegram's updates are a few kilobytes; anything far larger is not from Telegram.
MAX_UPDATE_BYTES = 1024 * 1024
# Ids the update ledger can store (signed 64-bit database integers).
_MAX_ID = 2**63 - 1


def plausible_update(data: object) -> bool:
    """A JSON object with a non-negative ``update_id`` and, if present, a chat id the database can hold."""
    if not isinstance(data, dict):
        return False
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id <= _MAX_ID:
        return False
    for value in data.values():
        chat = value.get("chat") if isinstance(value, dict) else None
        if isinstance(chat, dict):
            chat_id = chat.get("id")
            if not isinstance(chat_id, int) or isinstance(chat_id, bool) or abs(chat_id) > _MAX_ID:
                return False
    return True


async def read_limited(request: Request, limit: int = MAX_UPDATE_BYTES) -> bytes | None:
    """The request body, or None when it exceeds ``limit`` (checked while reading, chunked or not)."""
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def webhook_path(webhook_url: str) -> str:
    """The local path to serve: the path of the public webhook URL, or ``/telegram``."""
    path = urlsplit(webhook_url).path.rstrip("/")
    return path or DEFAULT_PATH


def build_webhook_app(application: Application, *, path: str, secret: str) -> Starlette:
    """The ASGI app receiving Telegram's POSTs at ``path`` (plus ``/healthz``)."""

    async def receive_update(request: Request) -> Response:
        """Check the secret header, decode the update and queue it."""
        given = request.headers.get(SECRET_HEADER, "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning("webhook call with a wrong secret token")
            return Response(status_code=403)
        body = await read_limited(request)
        if body is None:
            logger.warning("webhook call with an oversized body")
            return Response(status_code=413)
        try:
            data = json.loads(body)
            if not plausible_update(data):
                raise ValueError("not an update")
            update = Update.de_json(data=data, bot=application.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            logger.warning("webhook call with a malformed update")
            return Response(status_code=400)
        if update is None:
            return Response(status_code=400)
        await application.update_queue.put(update)
        return Response()

    async def health(_: Request) -> Response:
        """Liveness probe for the load balancer."""
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route(path, receive_update, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )


def build_webhook_server(application: Application, settings: Settings) -> uvicorn.Server:
    """The uvicorn server for the webhook app on TELEGRAM_WEBHOOK_LISTEN:TELEGRAM_WEBHOOK_PORT."""
    path = webhook_path(settings.telegram_webhook_url)
    web_app = build_webhook_app(application, path=path, secret=settings.telegram_webhook_secret)
    return uvicorn.Server(
        uvicorn.Config(
            app=web_app,
            host=settings.telegram_webhook_listen,
            port=settings.telegram_webhook_port,
            log_level="warning",
            use_colors=False,
        )
    )


async def serve_webhook(application: Application, settings: Settings, server: uvicorn.Server | None = None) -> None:
    """Register the webhook with Telegram and serve it until the server is asked to stop."""
    if not settings.telegram_webhook_secret:
        if settings.is_production:  # Settings.check refuses this too; never serve it by accident
            raise RuntimeError("TELEGRAM_WEBHOOK_SECRET must be set in production")
        logger.warning("TELEGRAM_WEBHOOK_SECRET is empty: anyone who knows the URL can post updates")
    path = webhook_path(settings.telegram_webhook_url)
    server = server or build_webhook_server(application, settings)
    async with running(application, poll=False):
        await application.bot.set_webhook(
            url=settings.telegram_webhook_url,
            secret_token=settings.telegram_webhook_secret or None,
            allowed_updates=ALLOWED_UPDATES,
        )
        logger.info(
            "webhook serving %s on %s:%s", path, settings.telegram_webhook_listen, settings.telegram_webhook_port
        )
        await server.serve()

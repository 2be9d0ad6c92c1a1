"""Transport-level protections of every console route: body size limit, security headers, HTTPS.

These are plain ASGI middlewares so that they run before FastAPI parses anything: a 20 MB body is
refused with 413 before a byte of it reaches JSON, form or multipart parsing, whether the client
sends ``Content-Length`` or a chunked body without one. Every response, page or API, error or not,
carries the security headers. Whether a request came over HTTPS is decided from the ASGI scheme,
which a trusted reverse proxy may set with ``X-Forwarded-Proto`` (``TRUSTED_PROXIES``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from starlette.requests import Request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Ordinary requests (a chat message is at most 2,000 characters; a FAQ entry a few pages) stay far
# below this; only the two file imports need more, and they get their own ceiling.
DEFAULT_BODY_LIMIT = 64 * 1024
IMPORT_BODY_LIMIT = 5 * 1024 * 1024 + 64 * 1024  # the largest import (applications CSV, 5 MB) + form overhead
LARGE_BODY_PATHS = {"/staff/faq/import": IMPORT_BODY_LIMIT, "/staff/applications/import": IMPORT_BODY_LIMIT}

TOO_LARGE_TEXT = "提交的内容太大，请精简后再试（上限 {limit}）"
BAD_LENGTH_TEXT = "请求头 Content-Length 无效"

# Scripts and styles only from our own /static; no page may be framed (clickjacking on 停用/取消);
# no plugins; forms post only to us. Inline style attributes (the dashboard's bar widths) stay allowed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
HSTS_HEADER = (b"strict-transport-security", b"max-age=31536000")


def _human_size(size: int) -> str:
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


async def _send_json(send: Send, status: int, detail: str, extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Answer 413 to any request whose body exceeds its route's limit, before the app sees the body.

    The body is read here (bounded by the limit) and handed to the app from memory, so a chunked
    upload that never says its length is cut off as soon as it passes the limit.
    """

    def __init__(
        self, app: ASGIApp, default_limit: int = DEFAULT_BODY_LIMIT, path_limits: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.path_limits = LARGE_BODY_PATHS if path_limits is None else path_limits

    def limit_for(self, path: str) -> int:
        """The body limit of one path (imports are larger)."""
        return self.path_limits.get(path.rstrip("/") or "/", self.default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        too_large = TOO_LARGE_TEXT.format(limit=_human_size(limit))
        declared = [v for k, v in scope.get("headers", []) if k == b"content-length"]
        if declared:
            raw = declared[0].strip()
            if not raw.isdigit() or len(raw) > 18:
                await _send_json(send, 400, BAD_LENGTH_TEXT)
                return
            if int(raw) > limit:
                await _send_json(send, 413, too_large)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away before sending everything
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_json(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would

        await self.app(scope, replay, send)


class SecurityHeadersMiddleware:
    """Add CSP, frame-ancestors, nosniff and referrer policy to every response (HSTS over HTTPS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {name for name, _ in SECURITY_HEADERS}
                ]
                headers.extend(SECURITY_HEADERS)
                if https:
                    headers.append(HSTS_HEADER)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TrustedProxyMiddleware:
    """Take the scheme and client address from ``X-Forwarded-Proto``/``-For`` only from trusted proxies.

    Anyone else's forwarded headers are ignored, so a visitor cannot pretend to be another address
    (the audit log and the rate limits key on it) or switch cookie flags.
    """

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = {t.strip() for t in trusted if t.strip()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and (client[0] in self.trusted or "*" in self.trusted):
            headers = dict(scope.get("headers", []))
            proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                scope["scheme"] = proto
            forwarded_for = headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",")[-1].strip()
            if forwarded_for:
                scope["client"] = (forwarded_for, 0)
        await self.app(scope, receive, send)


def is_https(request: Request) -> bool:
    """True when the browser talks to us over HTTPS (directly, via a trusted proxy, or by configuration)."""
    return request.url.scheme == "https" or request.app.state.settings.public_base_url.startswith("https://")

"""A local fake of the Telegram Bot API for tests: updates go in, the bot's calls are recorded.

The server runs an aiohttp app on 127.0.0.1 (a free port) in a background thread with its own
event loop, so it serves any test regardless of pytest-asyncio's loop scope. Point
python-telegram-bot at it with ``ApplicationBuilder().base_url(server.base_url)`` (or the
``TELEGRAM_API_BASE_URL`` setting), then push updates and wait for the bot's answers::

    server = FakeTelegramServer().start()
    server.push_text(1001, "低保怎么申请")
    [reply] = await server.wait_for_messages(1001, 1)
    assert reply.text == "..."
    server.stop()

Parameters are accepted as JSON, form-urlencoded or multipart, as PTB and other clients send them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.helpers.threaded_server import ThreadedServer

BOT_USER_ID = 7000001
BOT_USERNAME = "civil_affairs_test_bot"

# Parameters whose form-encoded value is a JSON document.
_JSON_PARAMS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "entities",
    "caption_entities",
    "link_preview_options",
    "reply_parameters",
    "scope",
    "media",
}
# Parameters that are integers when sent as text.
_INT_PARAMS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "max_connections",
    "cache_time",
    "message_thread_id",
    "reply_to_message_id",
}
_BOOL_PARAMS = {"drop_pending_updates", "show_alert", "disable_notification", "protect_content"}

# Methods that send a message to a chat, as collected by sent_messages / wait_for_messages.
SEND_METHODS = ("sendMessage", "sendPhoto", "sendDocument")


class _ApiError(Exception):
    """A Bot API error answer: HTTP status / error_code and description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class ApiCall:
    """One recorded Bot API request."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    result: Any = None
    ok: bool = True


@dataclass
class SentMessage:
    """A message the bot sent (sendMessage, sendPhoto or sendDocument), parsed for assertions."""

    method: str
    chat_id: int | str
    message_id: int
    text: str | None
    caption: str | None
    photo: Any
    document: Any
    reply_markup: dict[str, Any] | None
    params: dict[str, Any]
    at: float

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard's rows of buttons ({text, callback_data, ...}), or []."""
        if not self.reply_markup:
            return []
        return self.reply_markup.get("inline_keyboard", [])

    @property
    def button_list(self) -> list[tuple[str, str | None]]:
        """All inline buttons flattened into (text, callback_data) pairs."""
        return [(b.get("text", ""), b.get("callback_data")) for row in self.buttons for b in row]


def _free_socket() -> socket.socket:
    """A listening-ready TCP socket bound to a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _coerce(key: str, value: Any) -> Any:
    """Turn a form/multipart string value into the type a JSON client would have sent."""
    if not isinstance(value, str):
        return value
    if key in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in _INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            return value
    if key in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value


class FakeTelegramServer(ThreadedServer):
    """In-process fake Bot API server; thread-safe test API, aiohttp server in its own thread."""

    thread_name = "fake-telegram"

    def __init__(self, token_check: str | None = None) -> None:
        super().__init__()
        self._token_check = token_check
        self._lock = threading.Lock()
        self._calls: list[ApiCall] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_001)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self.webhook_url = ""
        self.commands: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self._new_update: asyncio.Event | None = None
        self._port: int | None = None
        self._closing = False
        self.allowed_updates: list[str] | None = None

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeTelegramServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self) -> None:
        self._new_update = asyncio.Event()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{bot_token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = _free_socket()
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def _cleanup(self) -> None:
        # Wake pending long polls so that shutdown does not wait for their timeouts.
        self._closing = True
        if self._new_update is not None:
            self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()
        await super()._cleanup()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """Bot API base URL in PTB's ``base_url`` form (the token is appended by the client)."""
        return f"{self.root_url}/bot"

    # ----------------------------------------------------------------- recorded calls

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Every recorded request (failed ones too, with ``ok`` False), or those of one method."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent successfully (sendMessage/sendPhoto/sendDocument), optionally to one chat."""
        result = []
        for call in self.calls():
            if call.method not in SEND_METHODS or not call.ok:
                continue
            if chat_id is not None and call.params.get("chat_id") != chat_id:
                continue
            result.append(self._as_sent(call))
        return result

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 5.0) -> list[SentMessage]:
        """Wait until ``count`` messages were sent to ``chat_id``; return the first ``count``."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.sent_messages(chat_id)
            if len(messages) >= count:
                return messages[:count]
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"expected {count} message(s) to chat {chat_id} within {timeout} s, got "
                    f"{len(messages)}: {[m.text or m.caption or m.method for m in messages]}"
                )
            await asyncio.sleep(0.02)

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[ApiCall]:
        """Wait until ``count`` calls of ``method`` were recorded; return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(method)
            if len(found) >= count:
                return found[:count]
            if time.monotonic() >= deadline:
                raise AssertionError(f"expected {count} {method} call(s) within {timeout} s, got {len(found)}")
            await asyncio.sleep(0.02)

    def fail_next(self, method: str, description: str = "Bad Request: simulated failure", code: int = 400) -> None:
        """Make the next call of ``method`` fail with a Bot API error."""
        with self._lock:
            self._failures.setdefault(method, []).append((code, description))

    def clear(self) -> None:
        """Forget the recorded calls."""
        with self._lock:
            self._calls.clear()

    @staticmethod
    def _as_sent(call: ApiCall) -> SentMessage:
        params = call.params
        markup = params.get("reply_markup")
        return SentMessage(
            method=call.method,
            chat_id=params.get("chat_id"),
            message_id=call.result.get("message_id", 0) if isinstance(call.result, dict) else 0,
            text=params.get("text"),
            caption=params.get("caption"),
            photo=params.get("photo"),
            document=params.get("document"),
            reply_markup=markup if isinstance(markup, dict) else None,
            params=params,
            at=call.at,
        )

    # ----------------------------------------------------------------- pushing updates

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (``update_id`` is assigned if missing); return it."""
        with self._lock:
            update.setdefault("update_id", next(self._update_ids))
            self._updates.append(update)
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)
        return update

    def _user(self, chat_id: int) -> dict[str, Any]:
        return {
            "id": chat_id,
            "is_bot": False,
            "first_name": "测试居民",
            "language_code": "zh-hans",
        }

    def _chat(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "private", "first_name": "测试居民"}

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        with self._lock:
            message_id = next(self._message_ids)
        return {
            "message_id": message_id,
            "from": self._user(chat_id),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **content,
        }

    def push_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        """Queue a new message from the resident of a private chat with the given content."""
        return self.push_update({"message": self._message(chat_id, **content)})

    def push_text(self, chat_id: int, text: str) -> dict[str, Any]:
        """Queue a plain text message."""
        return self.push_message(chat_id, text=text)

    def push_command(self, chat_id: int, command: str, args: str = "") -> dict[str, Any]:
        """Queue a bot command such as ``/start`` (with a bot_command entity)."""
        command = command if command.startswith("/") else "/" + command
        text = f"{command} {args}".strip()
        entity = {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
        return self.push_message(chat_id, text=text, entities=[entity])

    def push_callback(self, chat_id: int, data: str, message_id: int | None = None) -> dict[str, Any]:
        """Queue a press of an inline button carrying ``data`` under bot message ``message_id``."""
        with self._lock:
            query_id = str(next(self._callback_ids))
            message_id = message_id if message_id is not None else next(self._message_ids)
        message = {
            "message_id": message_id,
            "from": self.me(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": "请选择：",
        }
        return self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(chat_id),
                    "message": message,
                    "chat_instance": f"ci-{chat_id}",
                    "data": data,
                }
            }
        )

    def push_sticker(self, chat_id: int) -> dict[str, Any]:
        """Queue a sticker."""
        sticker = {
            "file_id": "CAACAgIAAxk-sticker",
            "file_unique_id": "AgADsticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self.push_message(chat_id, sticker=sticker)

    def push_photo(self, chat_id: int, caption: str | None = None) -> dict[str, Any]:
        """Queue a photo (two sizes), optionally with a caption."""
        sizes = [
            {"file_id": "AgACAgIAAxk-photo-s", "file_unique_id": "AQADs", "width": 90, "height": 90, "file_size": 1200},
            {
                "file_id": "AgACAgIAAxk-photo-m",
                "file_unique_id": "AQADm",
                "width": 800,
                "height": 800,
                "file_size": 64000,
            },
        ]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.push_message(chat_id, **content)

    def push_voice(self, chat_id: int) -> dict[str, Any]:
        """Queue a voice note."""
        voice = {"file_id": "AwACAgIAAxk-voice", "file_unique_id": "AgADvoice", "duration": 4, "mime_type": "audio/ogg"}
        return self.push_message(chat_id, voice=voice)

    def push_document(self, chat_id: int, file_name: str = "申请表.pdf") -> dict[str, Any]:
        """Queue a document."""
        document = {
            "file_id": "BQACAgIAAxk-doc",
            "file_unique_id": "AgADdoc",
            "file_name": file_name,
            "mime_type": "application/pdf",
            "file_size": 20480,
        }
        return self.push_message(chat_id, document=document)

    def push_location(self, chat_id: int, latitude: float = 28.44, longitude: float = 118.19) -> dict[str, Any]:
        """Queue a shared location (default: Guangfeng district)."""
        return self.push_message(chat_id, location={"latitude": latitude, "longitude": longitude})

    def push_contact(self, chat_id: int, phone_number: str = "13800000000") -> dict[str, Any]:
        """Queue a shared contact."""
        return self.push_message(chat_id, contact={"phone_number": phone_number, "first_name": "联系人"})

    def push_edited_message(self, chat_id: int, text: str, message_id: int | None = None) -> dict[str, Any]:
        """Queue an edit of an earlier text message."""
        message = self._message(chat_id, text=text, edit_date=int(time.time()))
        if message_id is not None:
            message["message_id"] = message_id
        return self.push_update({"edited_message": message})

    # ----------------------------------------------------------------- the Bot API

    def me(self) -> dict[str, Any]:
        """The bot's own User object."""
        return {
            "id": BOT_USER_ID,
            "is_bot": True,
            "first_name": "民政便民服务",
            "username": BOT_USERNAME,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = {
                            "filename": value.filename,
                            "content_type": value.content_type,
                            "size": len(value.file.read()),
                        }
                    else:
                        params[key] = value
        return {key: _coerce(key, value) for key, value in params.items()}

    async def _handle(self, request: web.Request) -> web.Response:
        bot_token = request.match_info["bot_token"]
        method = request.match_info["method"]
        if not bot_token.startswith("bot"):
            return self._error(404, "Not Found")
        if self._token_check is not None and bot_token[3:] != self._token_check:
            return self._error(401, "Unauthorized")
        try:
            params = await self._read_params(request)
        except ValueError:
            return self._error(400, "Bad Request: can't parse parameters")
        if method.lower() == "getupdates":
            # Long polls are not recorded one by one: they would drown the interesting calls.
            return await self._get_updates(params)
        with self._lock:
            call = ApiCall(method=method, params=params)
            self._calls.append(call)
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
        if failure is not None:
            call.ok = False
            return self._error(*failure)
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            call.ok = False
            return self._error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except _ApiError as exc:
            call.ok = False
            return self._error(exc.code, exc.description)
        call.result = result
        return self._ok(result)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str) -> web.Response:
        return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            return self._error(409, "Conflict: can't use getUpdates method while webhook is active")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            # Like Telegram: a list replaces the stored choice, an empty list means every kind.
            self.allowed_updates = allowed or None
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        with self._lock:
            if offset:
                # Telegram forgets every update below the offset: they are confirmed.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        assert self._new_update is not None
        while True:
            # Clear before looking: a push after the look sets the event again, so none is missed.
            self._new_update.clear()
            with self._lock:
                pending = [u for u in self._updates if u["update_id"] >= offset and self._wanted(u)][:limit]
            remaining = deadline - time.monotonic()
            if pending or remaining <= 0 or self._closing:
                return self._ok(pending)
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout=min(remaining, 1.0))
            except asyncio.TimeoutError:
                pass

    def _wanted(self, update: dict[str, Any]) -> bool:
        """Whether the bot asked for this kind of update (Telegram never delivers the others)."""
        return self.allowed_updates is None or any(kind in update for kind in self.allowed_updates)

    def _sent_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        with self._lock:
            message_id = next(self._message_ids)
        chat_id = params.get("chat_id")
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self.me(),
            "chat": self._chat(chat_id if isinstance(chat_id, int) else 0),
            "date": int(time.time()),
            **content,
        }
        if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _api_getme(self, params: dict[str, Any]) -> Any:
        return self.me()

    async def _api_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            with self._lock:
                self._updates.clear()
        return True

    async def _api_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = str(params.get("url", ""))
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        with self._lock:
            pending = len(self._updates)
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": pending}

    async def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        if not params.get("text"):
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(str(params["text"])) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._sent_message(params, text=params["text"])

    async def _api_sendphoto(self, params: dict[str, Any]) -> Any:
        if not params.get("photo"):
            raise _ApiError(400, "Bad Request: there is no photo in the request")
        photo = [{"file_id": "AgACAgIAAxk-sent-photo", "file_unique_id": "AQADsent", "width": 800, "height": 600}]
        content: dict[str, Any] = {"photo": photo}
        if params.get("caption"):
            content["caption"] = params["caption"]
        return self._sent_message(params, **content)

    async def _api_senddocument(self, params: dict[str, Any]) -> Any:
        if not params.get("document"):
            raise _ApiError(400, "Bad Request: there is no document in the request")
        document = {"file_id": "BQACAgIAAxk-sent-doc", "file_unique_id": "AgADsentdoc", "file_name": "file"}
        content: dict[str, Any] = {"document": document}
        if params.get("caption"):
            content["caption"] = params["caption"]
        return self._sent_message(params, **content)

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise _ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return True

    async def _api_editmessagetext(self, params: dict[str, Any]) -> Any:
        message = self._edited(params, text=params.get("text", ""))
        return message

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        return self._edited(params, text="（已更新）")

    def _edited(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        message: dict[str, Any] = {
            "message_id": params.get("message_id", 0),
            "from": self.me(),
            "chat": self._chat(chat_id if isinstance(chat_id, int) else 0),
            "date": int(time.time()),
            "edit_date": int(time.time()),
            **content,
        }
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _api_sendchataction(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        self.commands = commands if isinstance(commands, list) else []
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> Any:
        return self.commands

    async def _api_deletemycommands(self, params: dict[str, Any]) -> Any:
        self.commands = []
        return True

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_logout(self, params: dict[str, Any]) -> Any:
        return True

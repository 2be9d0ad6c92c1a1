"""Masking of personal numbers (PIPL) and secrets: ID numbers, phone numbers and tokens never appear
in full in logs, transcripts, the unanswered-question list or the console.

Numbers are recognised however they are typed: ``110105 19491231 002X``, ``110105-19491231-002X``,
``138 1234 5678``, ``+86-138-1234-5678``, full-width digits. Secrets are Telegram bot tokens
(``bot123456:ABC…`` in API URLs, or bare ``123456:ABC…``), ``token=`` query parameters (Rasa's HTTP
API), ``Bearer`` credentials and ``--auth-token`` arguments. Over-masking a long run of digits is
accepted; letting a number through is not.

Logging: ``install_record_masking`` masks every log record when it is created, so handlers that a
library adds later (Rasa's coloured handler) and tracebacks are covered too; ``MaskingFilter`` does
the same per handler for configurations that only take filters.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

# Between two characters of a number: up to three spaces (ASCII, no-break, ideographic), tabs or
# hyphens/dashes. Line breaks are not separators.
_GAP = r"[ \t\u00a0\u3000\-\u2010-\u2015]{0,3}"
_ID18_RE = re.compile(rf"(?<![0-9A-Za-z])\d(?:{_GAP}\d){{16}}{_GAP}[0-9Xx](?![0-9A-Za-z])")
_ID15_RE = re.compile(rf"(?<![0-9A-Za-z])\d(?:{_GAP}\d){{14}}(?![0-9A-Za-z])")
# Mainland mobile numbers, optionally with +86; landlines with an area code.
_MOBILE_RE = re.compile(rf"(?<!\d)(?:\+?86{_GAP})?1{_GAP}[3-9](?:{_GAP}\d){{9}}(?!\d)")
_LANDLINE_RE = re.compile(rf"(?<!\d)(0\d{{2,3}}){_GAP}(\d(?:{_GAP}\d){{6,7}})(?!\d)")

# Secrets. The bot's numeric id is public (it is the bot's user id); the part after the colon is not.
_BOT_TOKEN_RE = re.compile(r"(?i)(\bbot\d{3,})(?::|%3A)[A-Za-z0-9_\-]+")
_BARE_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9])(\d{5,})(?::|%3A)[A-Za-z0-9_\-]{30,}")
_QUERY_TOKEN_RE = re.compile(r"(?i)([?&](?:token|auth_token|secret_token|access_token)=)[^&\s'\"#]+")
_BEARER_RE = re.compile(r"(?i)(\bBearer\s+)[A-Za-z0-9._~+/=\-]+")
_NAMED_SECRET_RE = re.compile(
    r"(?i)(--auth-token(?:=|\s+)|(?:secret[-_]?token|auth[-_]?token|action[-_]?server[-_]?token|x-action-token"
    r"|bot[-_]?token|webhook[-_]?secret|secret[-_]?key)['\"]?\s*[:=]\s*['\"]?)(?!\*\*\*)[^'\"\s,}&]+"
)
# Error bodies quoted in tracebacks (aiohttp/Rasa ``ClientResponseError: 500, …, body='…'``) may
# hold a whole conversation tracker.
_RESPONSE_BODY_RE = re.compile(r"(\bbody=)(['\"]).*?\2(?=\s*$)", re.MULTILINE)

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ＋－", "0123456789Xx+-")
MASK = "***"


def _digits(value: str) -> str:
    return re.sub(r"[^0-9Xx]", "", value)


def _mask_id(match: re.Match[str]) -> str:
    value = _digits(match.group(0))
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return digits[-11:-8] + "****" + digits[-4:] if len(digits) >= 11 else "*" * len(digits)


def _mask_landline(match: re.Match[str]) -> str:
    return match.group(1) + "****" + re.sub(r"\D", "", match.group(2))[-2:]


def mask_id(value: str) -> str:
    """One ID number shown masked: 361122199709043751 → 361***********3751 (as in every log line)."""
    digits = _digits((value or "").translate(_FULLWIDTH_DIGITS))
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


def mask_phone(value: str) -> str:
    """One phone number shown masked, as in every log line and page: 139****2456, 0793****67."""
    text = (value or "").translate(_FULLWIDTH_DIGITS)
    mobile = _MOBILE_RE.search(text)
    if mobile:
        return _mask_phone(mobile)
    landline = _LANDLINE_RE.search(text)
    if landline:
        return _mask_landline(landline)
    digits = re.sub(r"\D", "", text)
    return "*" * len(digits)


def mask_secrets(text: str) -> str:
    """Replace bot tokens, ``token=`` parameters and bearer credentials by ``***``."""
    text = _BOT_TOKEN_RE.sub(rf"\1:{MASK}", text)
    text = _BARE_TOKEN_RE.sub(rf"\1:{MASK}", text)
    text = _QUERY_TOKEN_RE.sub(rf"\1{MASK}", text)
    text = _BEARER_RE.sub(rf"\1{MASK}", text)
    return _NAMED_SECRET_RE.sub(rf"\1{MASK}", text)


def mask_personal_data(text: str) -> str:
    """Replace ID and phone numbers in ``text`` by masked forms (110***********1234, 138****5678),
    and secrets by ``***``."""
    if not text:
        return text
    text = mask_secrets(text.translate(_FULLWIDTH_DIGITS))
    text = _ID18_RE.sub(_mask_id, text)
    text = _ID15_RE.sub(_mask_id, text)
    text = _MOBILE_RE.sub(_mask_phone, text)
    return _LANDLINE_RE.sub(_mask_landline, text)


def mask_traceback(text: str) -> str:
    """A traceback with personal numbers and secrets masked and quoted HTTP error bodies withheld."""
    if not text:
        return text
    text = _RESPONSE_BODY_RE.sub(
        lambda m: f"{m.group(1)}'<{len(m.group(0)) - len(m.group(1)) - 2} characters withheld>'", text
    )
    return mask_personal_data(text)


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, for showing applicants without revealing them."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


_TRACEBACK_FORMATTER = logging.Formatter()


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record's message, traceback and stack in place (idempotent)."""
    if getattr(record, "_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not lose the record
        message = None
    if message is not None:
        masked = mask_traceback(message)  # messages quote error bodies too ("Error: 500, …, body='…'")
        if masked != message:
            record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_traceback(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_traceback(record.stack_info)
    record._masked = True
    return record


class MaskingFilter(logging.Filter):
    """Masks personal numbers and secrets in every log record that passes through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_record_masking() -> None:
    """Mask every log record of this process when it is created (once per process).

    Unlike a handler filter this also covers handlers installed later by libraries (Rasa's CLI
    installs its coloured handler after any logging configuration) and loggers that do not
    propagate to the root.
    """
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(previous, "masks_personal_data", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    factory.masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def install_uncaught_exception_logging() -> None:
    """Uncaught exceptions (main thread and other threads) are logged, i.e. masked, not printed raw."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        logging.getLogger("uncaught").critical("uncaught exception", exc_info=(kind, value, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        logging.getLogger("uncaught").critical(
            "uncaught exception in thread %s",
            args.thread.name if args.thread else "?",
            exc_info=(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback),
        )

    sys.excepthook = hook
    threading.excepthook = thread_hook


def quiet_url_loggers() -> None:
    """httpx/httpcore log every request URL at INFO, and Telegram URLs contain the bot token."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def install_log_masking(level: str = "INFO") -> None:
    """Configure root logging once per process with masking on every record and handler."""
    install_record_masking()
    install_uncaught_exception_logging()
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
    quiet_url_loggers()


def rasa_logging_filter() -> MaskingFilter:
    """Factory named in Rasa's logging file (``civil_affairs/ops/rasa_logging.yml``).

    ``logging.config.dictConfig`` builds every filter it lists, so naming this factory there
    installs record masking in the Rasa process before Rasa adds its own handler.
    """
    install_record_masking()
    install_uncaught_exception_logging()
    quiet_url_loggers()
    return MaskingFilter()

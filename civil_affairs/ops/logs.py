"""Logging of every process: text or JSON lines (``LOG_FORMAT``), ID and phone numbers always masked.

JSON lines carry the time, level, logger, process name (``PROCESS_NAME``, set by the launcher),
the masked message and a masked traceback. Resident texts are never logged on purpose; the
masking catches numbers that slip into a message or a traceback anyway, and every secret
(bot tokens, ``token=`` parameters, bearer credentials) in any line.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from civil_affairs.config import Settings
from civil_affairs.privacy import (
    MaskingFilter,
    install_record_masking,
    install_uncaught_exception_logging,
    mask_personal_data,
    mask_traceback,
    quiet_url_loggers,
)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskingFormatter(logging.Formatter):
    """The text format, masking the whole formatted line once more (message, traceback, stack)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_traceback(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with personal numbers masked in the message and traceback."""

    def __init__(self, process_name: str = "") -> None:
        super().__init__()
        self.process_name = process_name

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": self.process_name or record.processName,
            "pid": record.process,
            "message": mask_personal_data(record.getMessage()),
        }
        if record.exc_text:
            entry["exception"] = mask_traceback(record.exc_text)
        elif record.exc_info:
            entry["exception"] = mask_traceback(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def formatter(settings: Settings) -> logging.Formatter:
    """The formatter ``LOG_FORMAT`` asks for."""
    if settings.log_format == "json":
        return JsonFormatter(settings.process_name)
    return MaskingFormatter(TEXT_FORMAT)


def formatter_from_env() -> logging.Formatter:
    """The formatter for processes configured by a logging file (Rasa, the action server)."""
    return formatter(Settings.from_env())


def configure_logging(settings: Settings) -> None:
    """Log to stderr at ``LOG_LEVEL`` in ``LOG_FORMAT``, masked (every record, every handler).

    Also routes uncaught exceptions through logging (so their tracebacks are masked too) and keeps
    httpx/httpcore at WARNING: they log request URLs, and Telegram URLs contain the bot token.
    """
    install_record_masking()
    install_uncaught_exception_logging()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    root.setLevel(settings.log_level)
    for handler in root.handlers:
        handler.setFormatter(formatter(settings))
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
    quiet_url_loggers()

"""Masking of personal numbers in any spacing and of secrets, in every process's logs.

Seen in a run of the service: the bot token in ``console.log`` (httpx logs request URLs), ID
numbers typed with spaces or hyphens stored and logged in full, tracebacks unmasked, Rasa logging
a failed action's whole tracker.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest

from civil_affairs.config import PROJECT_ROOT
from civil_affairs.privacy import (
    MaskingFilter,
    install_record_masking,
    mask_personal_data,
    mask_traceback,
)

TOKEN_SECRET = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BOT_URL = f"https://api.telegram.org/bot123456789:{TOKEN_SECRET}/sendMessage"
RASA_LOGGING = PROJECT_ROOT / "civil_affairs" / "ops" / "rasa_logging.yml"
TRACKER_BODY = 'body=\'{\\"request_body\\": {\\"text\\": \\"我叫张三\\"}}\''


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("身份证 110105 19491231 002X 谢谢", "身份证 110***********002X 谢谢"),
        ("身份证110105-19491231-002X", "身份证110***********002X"),
        ("110 105 1949 1231 002 x", "110***********002x"),
        ("身份证：１１０１０５　１９４９１２３１　００２Ｘ", "身份证：110***********002X"),
        ("老号码 110105 491231 002", "老号码 110********1002"),
        ("电话 138-1234-5678", "电话 138****5678"),
        ("电话 1 3 8 1 2 3 4 5 6 7 8", "电话 138****5678"),
        ("电话 +86 138 1234 5678", "电话 138****5678"),
        ("座机 0793 123 4567", "座机 0793****67"),
        (BOT_URL, "https://api.telegram.org/bot123456789:***/sendMessage"),
        (
            "https://api.telegram.org/file/bot123456789%3A" + TOKEN_SECRET + "/x.pdf",
            "https://api.telegram.org/file/bot123456789:***/x.pdf",
        ),
        ("token 123456789:" + TOKEN_SECRET, "token 123456789:***"),
        ("GET http://127.0.0.1:5005/status?token=Zx81-kk_a&x=1", "GET http://127.0.0.1:5005/status?token=***&x=1"),
        ("Authorization: Bearer eyJhbGciOi.abc", "Authorization: Bearer ***"),
        ("rasa run --auth-token q9w8e7r6t5y4u3i2 --port 5005", "rasa run --auth-token *** --port 5005"),
        ("{'X-Action-Token': 'q9w8e7r6t5y4u3i2'}", "{'X-Action-Token': '***'}"),
        # Not personal numbers: kept as they are.
        ("编号 DB202610080021", "编号 DB202610080021"),
        ("预约 2026-12-08 09:00-09:30，热线 12345、110、120", "预约 2026-12-08 09:00-09:30，热线 12345、110、120"),
    ],
)
def test_numbers_in_any_spacing_and_secrets_are_masked(raw: str, expected: str) -> None:
    assert mask_personal_data(raw) == expected


def test_a_failed_calls_quoted_body_is_withheld_from_tracebacks() -> None:
    text = (
        'Traceback (most recent call last):\n  File "x.py", line 1, in f\n'
        "rasa.utils.endpoints.ClientResponseError: 500, Internal Server Error, "
        'body=\'{"error": "x", "request_body": {"tracker": {"latest_message": {"text": "张三"}}}}\'\n'
    )
    masked = mask_traceback(text)
    assert "张三" not in masked and "request_body" not in masked
    assert "ClientResponseError: 500, Internal Server Error, body='<" in masked


def test_an_error_body_quoted_in_a_log_message_is_withheld() -> None:
    record = logging.LogRecord(
        "rasa.core.actions.action",
        logging.ERROR,
        __file__,
        1,
        "Failed to run custom action. Error: %s",
        ('500, Internal Server Error, body=\'{"request_body": {"text": "我叫张三"}}\'',),
        None,
    )
    MaskingFilter().filter(record)
    assert "张三" not in record.getMessage() and "characters withheld" in record.getMessage()


def test_record_masking_covers_handlers_added_later_and_tracebacks() -> None:
    """Rasa adds its handler after any logging configuration: masking must not depend on handlers."""
    previous = logging.getLogRecordFactory()
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(logging.Formatter("%(message)s").format(record))

    logger = logging.getLogger("test.privacy.late")
    logger.propagate = False
    try:
        install_record_masking()
        handler = Collect()  # added after masking was installed, without any filter
        logger.addHandler(handler)
        try:
            raise RuntimeError(f"POST {BOT_URL} for 110105-19491231-002X")
        except RuntimeError:
            logger.exception("call for %s failed", "138 1234 5678")
    finally:
        logging.setLogRecordFactory(previous)
        logger.removeHandler(handler)
    [line] = records
    assert "138****5678" in line and "110***********002X" in line and "bot123456789:***" in line
    assert TOKEN_SECRET not in line and "1234 5678" not in line and "19491231" not in line


def test_the_handler_filter_masks_tracebacks_too() -> None:
    try:
        raise ValueError("id 110105 19491231 002X")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s", (BOT_URL,), sys.exc_info())
    MaskingFilter().filter(record)
    line = logging.Formatter("%(message)s").format(record)
    assert TOKEN_SECRET not in line and "19491231" not in line
    assert "110***********002X" in line


# Each process's logging set-up, as its entry point does it.
SETUPS = {
    "console, action server (text)": (
        "from civil_affairs.config import Settings\n"
        "from civil_affairs.ops.logs import configure_logging\n"
        "configure_logging(Settings.from_env())\n"
    ),
    "console (json)": (
        "import os; os.environ['LOG_FORMAT'] = 'json'\n"
        "from civil_affairs.config import Settings\n"
        "from civil_affairs.ops.logs import configure_logging\n"
        "configure_logging(Settings.from_env())\n"
    ),
    "bot": (
        "from civil_affairs.config import Settings\n"
        "from bot.__main__ import configure_logging\n"
        "configure_logging(Settings.from_env())\n"
    ),
    "actions (in-process services)": (
        "from civil_affairs.privacy import install_log_masking\ninstall_log_masking('INFO')\n"
    ),
    "rasa": (
        "import logging\n"
        "from rasa.utils.common import configure_logging_and_warnings\n"
        "import rasa.utils.io\n"
        f"configure_logging_and_warnings(logging.INFO, logging_config_file={str(RASA_LOGGING)!r})\n"
        "rasa.utils.io.configure_colored_logging('INFO')\n"
    ),
}

EXERCISE = f"""
import logging, httpx
client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json={{"ok": True}})))
client.post({BOT_URL!r}, json={{"chat_id": 1, "text": "hi"}})
log = logging.getLogger("rasa.core.processor")
log.warning("resident typed %s and %s", "110105-19491231-002X", "138 1234 5678")
try:
    try:
        raise RuntimeError("body follows")
    except RuntimeError as inner:
        raise RuntimeError("500, Internal Server Error, {TRACKER_BODY}") from inner
except RuntimeError:
    log.exception("Encountered an exception while running action 'action_x' for {BOT_URL}")
raise RuntimeError("uncaught at {BOT_URL} for 110105 19491231 002X")
"""


@pytest.mark.parametrize("setup", list(SETUPS), ids=list(SETUPS))
def test_no_process_logs_a_token_or_a_raw_number(setup: str) -> None:
    script = SETUPS[setup] + textwrap.dedent(EXERCISE)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "APP_ENV": "test", "LOG_LEVEL": "INFO", "LOG_FORMAT": "text"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    output = done.stdout + done.stderr
    assert "resident typed" in output  # the logging worked at all
    assert "110***********002X" in output and "138****5678" in output
    assert TOKEN_SECRET not in output
    assert "19491231" not in output and "1234 5678" not in output and "1234-5678" not in output
    assert "uncaught" in output and "bot123456789:***" in output
    if setup == "rasa":
        assert "张三" not in output


def test_one_masking_for_a_number_wherever_it_is_shown() -> None:
    """A phone or ID shown on its own is masked exactly as inside a text (one rule, one module)."""
    from civil_affairs.identity import phone_for_storage
    from civil_affairs.privacy import mask_id, mask_personal_data, mask_phone

    for phone in ("0793-1234567", "13979312456", "+86 139 7931 2456"):
        assert mask_phone(phone) == mask_personal_data(phone).strip()
    assert mask_phone("0793-1234567") == "0793****67" == phone_for_storage("0793 1234567")
    assert mask_id("361122199709043751") == mask_personal_data("361122199709043751") == "361***********3751"

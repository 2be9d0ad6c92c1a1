"""Fixtures that run the real bot against a local fake Telegram Bot API server.

Registered for the whole suite (tests/conftest.py ``pytest_plugins``): the bot's own tests pair them
with a scripted fake Rasa, the end-to-end tests with the real Rasa server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import pytest_asyncio
from telegram.ext import Application

from bot import build_application
from bot.application import ALLOWED_UPDATES
from bot.lifecycle import running
from civil_affairs.config import Settings
from tests.helpers.fake_telegram import FakeTelegramServer

TEST_TOKEN = "123456789:TEST-token_for-the-fake-server"
# RASA_REST_TOKEN of the bot's tests: the fake Rasa refuses messages without it, as the real one does.
TEST_REST_TOKEN = "rest-token-of-the-fake-rasa-0123"
# Short enough for fast tests, long enough for a loaded CI machine.
TEST_RASA_TIMEOUT_SECONDS = 1.5


@pytest.fixture
def telegram_server() -> Iterator[FakeTelegramServer]:
    """A fresh fake Telegram Bot API server."""
    server = FakeTelegramServer(token_check=TEST_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def bot_env(telegram_server: FakeTelegramServer, fresh_database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for Settings.from_env pointing the bot at the fake Telegram server (no RASA_URL)."""
    return {
        "APP_ENV": "test",
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": fresh_database_url,
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram_server.base_url,
        "TELEGRAM_MODE": "polling",
        "RASA_TIMEOUT_SECONDS": str(TEST_RASA_TIMEOUT_SECONDS),
        "RASA_REST_TOKEN": TEST_REST_TOKEN,
    }


@pytest_asyncio.fixture
async def start_bot(
    telegram_server: FakeTelegramServer,
) -> AsyncIterator[Callable[[Settings], Awaitable[Application]]]:
    """Factory: build the real Application for settings and run it by long polling until teardown.

    Depends on ``telegram_server`` so that the bot stops before the fake server does.
    """
    async with AsyncExitStack() as stack:

        async def start(settings: Settings) -> Application:
            application = build_application(settings)
            await stack.enter_async_context(
                running(application, poll=True, poll_timeout=1.0, allowed_updates=ALLOWED_UPDATES)
            )
            return application

        yield start

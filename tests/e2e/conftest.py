"""The real service for end-to-end tests: a trained model, the action server, Rasa and the console.

The model is trained once per training-data fingerprint and kept in ``models/`` (git-ignored), so
only the first run after a data change pays for training. The processes are started with the same
command lines as `make run` (launcher.processes) on free ports and a private SQLite database.

The console and the action server send to Telegram (staff replies, rating requests, staff-chat
alerts) through a fake Bot API server that lives as long as the stack (``stack.telegram``). A test
that runs the bot in-process points it at the same server by overriding ``telegram_server`` with
it, so one fake Telegram sees everything both sides send.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from civil_affairs.config import PROJECT_ROOT, Settings
from civil_affairs.rasa_model import ensure_model
from civil_affairs.setup_db import prepare_database
from launcher import processes
from launcher.supervisor import Running, start, stop, wait_ready
from tests.conftest import make_settings
from launcher.ports import free_port
from tests.helpers.fake_telegram import FakeTelegramServer
from tests.helpers.telegram_fixtures import TEST_TOKEN

STAFF_CHAT_ID = -100900  # the staff group chat the stack announces new handoffs in


@dataclass
class Stack:
    """Handles on the running service."""

    settings: Settings
    rasa: Running
    actions: Running
    console: Running | None
    log_dir: Path
    telegram: FakeTelegramServer | None = None

    @property
    def console_url(self) -> str:
        """Base URL of the console (staff pages and the resident web chat)."""
        return f"http://127.0.0.1:{self.settings.console_port}"

    def say(self, sender: str, text: str) -> list[dict]:
        """Send one message through Rasa's REST channel and return the bot's messages."""
        response = httpx.post(f"{self.settings.rasa_url}/webhooks/rest/webhook",
                              json={"sender": sender, "message": text}, timeout=30)
        response.raise_for_status()
        return response.json()

    def say_text(self, sender: str, text: str) -> str:
        """The bot's texts for one message, joined."""
        return "\n".join(m.get("text", "") for m in self.say(sender, text))


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current training data (trained here only if the data changed)."""
    return ensure_model(PROJECT_ROOT / "models")


@pytest.fixture(scope="session")
def stack_telegram() -> Iterator[FakeTelegramServer]:
    """The fake Telegram Bot API of the whole session, which the stack's processes send through."""
    server = FakeTelegramServer(token_check=TEST_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory,
          stack_telegram: FakeTelegramServer) -> Iterator[Stack]:
    """Action server, Rasa server and console running on free ports for the whole session."""
    tmp = tmp_path_factory.mktemp("stack")
    rasa_port, action_port, console_port = free_port(), free_port(), free_port()
    settings = make_settings(
        tmp, RASA_PORT=str(rasa_port), ACTION_PORT=str(action_port),
        CONSOLE_PORT=str(console_port), RASA_TIMEOUT_SECONDS="20",
    )
    prepare_database(settings.database_url)

    log_dir = tmp / "logs"
    started: list[Running] = []
    try:
        for spec in (processes.action_server(settings), processes.rasa_server(settings, trained_model),
                     processes.console(settings)):
            spec.env.update({"DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url,
                             "RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port),
                             "CONSOLE_PORT": str(console_port), "APP_ENV": "test",
                             "RASA_TIMEOUT_SECONDS": "20"})
            if spec.name in ("console", "actions"):
                spec.env.update({"TELEGRAM_BOT_TOKEN": TEST_TOKEN,
                                 "TELEGRAM_API_BASE_URL": stack_telegram.base_url,
                                 "STAFF_TELEGRAM_CHAT_ID": str(STAFF_CHAT_ID)})
            running = start(spec, log_dir)
            started.append(running)
            wait_ready(running, started)
        yield Stack(settings, started[1], started[0], started[2], log_dir, stack_telegram)
    finally:
        for running in reversed(started):
            stop(running)

"""The real service for end-to-end tests: a trained model, the action server, Rasa and the console.

The model is trained once per training-data fingerprint and kept in ``models/`` (git-ignored), so
only the first run after a data change pays for training. The processes are started with the same
command lines as `make run` (launcher.processes, tests.helpers.stacks) on free ports, under the
launcher's supervisor (a process a test kills is restarted). ``E2E_TOPOLOGY=replicas`` runs every
end-to-end test on the replica topology (two Rasa replicas, two action servers, two console
workers, PostgreSQL and Redis; skipped where those are unreachable); ``.ci/run`` runs both.

The console and the action server send to Telegram (staff replies, rating requests, staff-chat
alerts) through a fake Bot API server that lives as long as the stack (``stack.telegram``). A test
that runs the bot in-process points it at the same server by overriding ``telegram_server`` with
it, so one fake Telegram sees everything both sides send.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from civil_affairs.config import PROJECT_ROOT
from civil_affairs.rasa_model import ensure_model
from tests.helpers.fake_telegram import FakeTelegramServer
from tests.helpers.stacks import (
    STAFF_CHAT_ID,
    TOPOLOGIES,
    Stack,
    replicas_unavailable,
    start_stack,
    stop_stack,
)
from tests.helpers.telegram_fixtures import TEST_TOKEN

__all__ = ["STAFF_CHAT_ID", "Stack"]


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
def topology() -> str:
    """The topology the end-to-end tests run on (``E2E_TOPOLOGY``, default ``default``)."""
    chosen = os.environ.get("E2E_TOPOLOGY", "default")
    if chosen not in TOPOLOGIES:
        raise pytest.UsageError(f"E2E_TOPOLOGY must be one of {', '.join(TOPOLOGIES)}, got {chosen!r}")
    if chosen == "replicas" and (why := replicas_unavailable()):
        pytest.skip(f"replica topology: {why}")
    return chosen


@pytest.fixture(scope="session")
def stack(
    trained_model: Path, tmp_path_factory: pytest.TempPathFactory, stack_telegram: FakeTelegramServer, topology: str
) -> Iterator[Stack]:
    """Action server(s), Rasa server(s) and console worker(s) running on free ports for the whole session."""
    running = start_stack(tmp_path_factory.mktemp("stack"), topology, trained_model, stack_telegram)
    try:
        yield running
    finally:
        stop_stack(running)

"""The real service for end-to-end tests, in either topology, started as the launcher starts it.

- ``default``: one action server, one Rasa, one console worker, on a private SQLite file;
- ``replicas``: two action servers (each Rasa replica calls both), two Rasa replicas, two console
  workers, on PostgreSQL (a database of its own beside ``TEST_POSTGRES_URL``) with the conversation
  locks in Redis (``TEST_REDIS_URL`` under a key prefix of its own).

Processes come from ``launcher.processes.all_processes`` and run under the launcher's Supervisor,
whose watch loop runs in a background thread, so a process a test kills is restarted as in
production.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from civil_affairs.config import Settings
from civil_affairs.setup_db import prepare_database
from civil_affairs.tokens import REST_TOKEN_HEADER
from launcher import processes
from launcher.children import Running
from launcher.ports import free_ports
from launcher.supervisor import Child, RestartPolicy, Supervisor
from tests.conftest import POSTGRES_URL, REDIS_URL, fresh_postgres_database, postgres_reachable, redis_reachable
from tests.helpers.fake_telegram import FakeTelegramServer
from tests.helpers.telegram_fixtures import TEST_TOKEN

STAFF_CHAT_ID = -100900  # the staff group chat the stack announces new handoffs in
TOPOLOGIES = ("default", "replicas")
# Restarts in tests: quick, and never given up (a loaded machine makes Rasa slow, not broken).
TEST_POLICY = RestartPolicy(
    backoff_initial=0.5,
    backoff_max=2.0,
    max_fast_failures=1000,
    health_interval=5.0,
    health_max_failures=12,
    stop_grace=15.0,
)


def replicas_unavailable() -> str | None:
    """Why the replica topology cannot run here (None when PostgreSQL and Redis are reachable)."""
    if not postgres_reachable():
        return f"PostgreSQL not reachable at {POSTGRES_URL}"
    if not redis_reachable():
        return f"Redis not reachable at {REDIS_URL}"
    return None


def stack_environment(
    tmp: Path, topology: str, telegram: FakeTelegramServer, *, database_suffix: str = "replicas", **extra: str
) -> dict[str, str]:
    """The settings of a private stack, as environment variables for every process."""
    rasa = free_ports(2)
    actions = free_ports(2)
    env = {
        "APP_ENV": "test",
        "DATA_DIR": str(tmp / "data"),
        "RASA_TIMEOUT_SECONDS": "20",
        "RASA_PORT": str(rasa),
        "ACTION_PORT": str(actions),
        "CONSOLE_PORT": str(free_ports(1)),
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "STAFF_TELEGRAM_CHAT_ID": str(STAFF_CHAT_ID),
        "RUN_ROLES": "actions,rasa,console",
        "STAFF_ADMIN_USERNAME": "",
        "STAFF_ADMIN_PASSWORD": "",
    }
    if topology == "default":
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'data' / 'test.db'}"
        prepare_database(env["DATABASE_URL"])
    else:
        env.update(
            {
                "DATABASE_URL": fresh_postgres_database(database_suffix),
                "REDIS_URL": REDIS_URL,
                "REDIS_KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}",
                "RASA_REPLICAS": "2",
                "ACTION_REPLICAS": "2",
                "CONSOLE_WORKERS": "2",
            }
        )
    env.update(extra)
    return env


def forget_redis_keys(prefix: str) -> None:
    """Delete a stack's Redis keys."""
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


class Watcher:
    """Runs the supervisor's watch loop in a thread, as the launcher's main loop does."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self._stop = threading.Event()
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.3):
            with self.lock:
                self.supervisor.poll()

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@dataclass
class Stack:
    """Handles on the running service."""

    settings: Settings
    supervisor: Supervisor
    log_dir: Path
    telegram: FakeTelegramServer | None = None
    watcher: Watcher | None = None
    env: dict[str, str] = field(default_factory=dict)

    def child(self, name: str) -> Child:
        return next(c for c in self.supervisor.children if c.spec.name == name)

    def running(self, name: str) -> Running:
        running = self.child(name).running
        assert running is not None, f"{name} is not running"
        return running

    def _first(self, role: str) -> Running | None:
        child = next((c for c in self.supervisor.children if c.spec.role == role), None)
        return child.running if child else None

    @property
    def rasa(self) -> Running | None:
        return self._first("rasa")

    @property
    def actions(self) -> Running | None:
        return self._first("actions")

    @property
    def console(self) -> Running | None:
        return self._first("console")

    @property
    def console_url(self) -> str:
        """Base URL of the console (staff pages and the resident web chat)."""
        return f"http://127.0.0.1:{self.settings.console_port}"

    def wait_serving(self, name: str, *, restarts: int, timeout: float = 900.0) -> None:
        """Wait until ``name`` was restarted ``restarts`` times in all and serves again."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            child = self.child(name)
            if child.restarts >= restarts and child.state == "running":
                return
            time.sleep(0.5)
        raise AssertionError(f"{name} not serving again after {timeout:.0f} s: {self.child(name).status()}")

    @property
    def rasa_env(self) -> dict[str, str]:
        """Settings a channel started by a test (the in-process bot, a console) needs to reach Rasa."""
        return {"RASA_URL": self.settings.rasa_url, "RASA_REST_TOKEN": self.settings.rasa_rest_token}

    def say(self, sender: str, text: str) -> list[dict]:
        """Send one message through Rasa's REST channel (with its token) and return the bot's messages."""
        response = httpx.post(
            f"{self.settings.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers={REST_TOKEN_HEADER: self.settings.rasa_rest_token},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def say_text(self, sender: str, text: str) -> str:
        """The bot's texts for one message, joined."""
        return "\n".join(m.get("text", "") for m in self.say(sender, text))


def start_stack(tmp: Path, topology: str, model: Path, telegram: FakeTelegramServer, **extra: str) -> Stack:
    """Start the service as the launcher does, with a watcher that restarts what dies."""
    env = stack_environment(tmp, topology, telegram, **extra)
    # The tokens the launcher would generate, known to the tests (Rasa's HTTP API needs one).
    settings = processes.with_service_tokens(Settings.from_env(env, dotenv=None))
    specs = processes.all_processes(settings, model)
    for spec in specs:
        spec.env.update(env)
    log_dir = tmp / "logs"
    supervisor = Supervisor(
        specs,
        log_dir,
        tmp / "data" / "run" / "supervisor.json",
        TEST_POLICY,
        report=lambda line: print(f"[supervisor] {line}", flush=True),
    )
    try:
        supervisor.start_all()
    except BaseException:
        supervisor.stop_all()
        raise
    return Stack(settings, supervisor, log_dir, telegram, Watcher(supervisor).start(), env)


def stop_stack(stack: Stack) -> None:
    """Stop the watcher, then every process in order; forget the stack's Redis keys."""
    if stack.watcher is not None:
        stack.watcher.stop()
    stack.supervisor.stop_all()
    if "REDIS_KEY_PREFIX" in stack.env:
        forget_redis_keys(stack.env["REDIS_KEY_PREFIX"])

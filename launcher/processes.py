"""The command line, environment and readiness check of each process of the service.

One machine runs the roles in ``RUN_ROLES`` (all of them by default): ``actions`` (``ACTION_REPLICAS``
action servers on consecutive ports from ``ACTION_PORT``), ``rasa`` (``RASA_REPLICAS`` Rasa servers on
consecutive ports from ``RASA_PORT``, plus the loopback action balancer when there are several action
servers), ``console`` (``CONSOLE_WORKERS`` workers sharing one listening socket the launcher holds)
and ``bot`` (only with ``TELEGRAM_BOT_TOKEN``). With one replica of each, the names and ports are
those of a single-machine install: rasa :5005, actions :5055, console :8000.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from civil_affairs.config import PROJECT_ROOT, Settings
from civil_affairs.ops.run_files import heartbeat_path, metrics_dir

BIN = Path(sys.executable).parent
ROLES = ("actions", "balancer", "rasa", "console", "bot")
# Channels stop first (they finish the messages they hold), then Rasa, then what Rasa calls.
STOP_ORDER = ("bot", "console", "rasa", "balancer", "actions")
# Placeholder in a console worker's argv for the number of the listening socket handed to it.
LISTEN_FD = "{listen_fd}"
# The action server's logging (format and masking); Rasa's own CLI installs coloredlogs after any
# logging file, so Rasa keeps its text format.
ACTION_LOGGING_CONFIG = PROJECT_ROOT / "civil_affairs" / "ops" / "action_logging.yml"


@dataclass(frozen=True)
class ProcessSpec:
    """How to start one process, tell it is ready, and tell it is still alive."""

    name: str
    argv: list[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout: float = 180.0
    role: str = ""
    # Liveness while running: an HTTP URL (default: ready_url) or a heartbeat file the process touches.
    health_url: str = ""
    heartbeat_file: str = ""
    # A listening socket the launcher opens once and hands to every worker with this address.
    listen: tuple[str, int] | None = None

    @property
    def liveness_url(self) -> str:
        return self.health_url or self.ready_url


def _replica_name(base: str, index: int, count: int) -> str:
    return base if count == 1 else f"{base}-{index + 1}"


def base_env(settings: Settings, name: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        "ACTION_SERVER_URL": settings.action_server_url,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir(settings)),
    })
    if name:
        env["PROCESS_NAME"] = name
    return env


def rasa_server(settings: Settings, model: Path, interface: str = "127.0.0.1", index: int = 0) -> ProcessSpec:
    """Rasa with the REST channel; the HTTP API is on for `make eval`, bound to loopback only."""
    port = settings.rasa_port + index
    name = _replica_name("rasa", index, settings.rasa_replicas)
    return ProcessSpec(
        name=name,
        argv=[str(BIN / "python"), "-m", "launcher.rasa_server", "run", "--enable-api", "--interface", interface,
              "--port", str(port), "--model", str(model),
              "--endpoints", str(PROJECT_ROOT / "endpoints.yml"),
              "--credentials", str(PROJECT_ROOT / "credentials.yml")],
        ready_url=f"http://127.0.0.1:{port}/status",
        env=base_env(settings, name),
        ready_timeout=420.0,  # Rasa takes 30 s on a quiet machine, minutes on a loaded one
        role="rasa",
    )


def action_server(settings: Settings, index: int = 0) -> ProcessSpec:
    """rasa-sdk's action server loading the ``actions`` package."""
    port = settings.action_port + index
    name = _replica_name("actions", index, settings.action_replicas)
    return ProcessSpec(
        name=name,
        argv=[str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port),
              "--logging-config_file", str(ACTION_LOGGING_CONFIG)],
        ready_url=f"http://127.0.0.1:{port}/health",
        env=base_env(settings, name),
        ready_timeout=120.0,
        role="actions",
    )


def action_balancer(settings: Settings) -> ProcessSpec:
    """The loopback balancer Rasa calls when there are several action servers."""
    port = settings.action_balancer_port
    return ProcessSpec(
        name="action-balancer",
        argv=[str(BIN / "python"), "-m", "civil_affairs.ops.action_balancer"],
        ready_url=f"http://127.0.0.1:{port}/readyz",
        health_url=f"http://127.0.0.1:{port}/healthz",
        env=base_env(settings, "action-balancer"),
        ready_timeout=60.0,
        role="balancer",
    )


def console(settings: Settings, index: int = 0) -> ProcessSpec:
    """A worker of the staff console and resident web chat, serving the launcher's shared socket."""
    name = _replica_name("console", index, settings.console_workers)
    return ProcessSpec(
        name=name,
        argv=[str(BIN / "python"), "-m", "console", "--fd", LISTEN_FD],
        ready_url=f"http://127.0.0.1:{settings.console_port}/readyz",
        health_url=f"http://127.0.0.1:{settings.console_port}/healthz",
        env=base_env(settings, name),
        ready_timeout=90.0,
        role="console",
        listen=(settings.console_host, settings.console_port),
    )


def telegram_bot(settings: Settings) -> ProcessSpec:
    """The Telegram bot (only when TELEGRAM_BOT_TOKEN is set); alive while its heartbeat is fresh."""
    return ProcessSpec(name="bot", argv=[str(BIN / "python"), "-m", "bot"], ready_url="",
                       env=base_env(settings, "bot"), ready_timeout=90.0, role="bot",
                       heartbeat_file=str(heartbeat_path(settings, "bot")))


def all_processes(settings: Settings, model: Path | None) -> list[ProcessSpec]:
    """Every process this machine runs (``RUN_ROLES``), in start order."""
    roles = settings.run_roles
    specs: list[ProcessSpec] = []
    if "actions" in roles:
        specs += [action_server(settings, i) for i in range(settings.action_replicas)]
    if "rasa" in roles:
        if len(settings.action_replica_urls) > 1:
            specs.append(action_balancer(settings))
        if model is None:
            raise ValueError("the rasa role needs a trained model")
        specs += [rasa_server(settings, model, index=i) for i in range(settings.rasa_replicas)]
    if "console" in roles:
        specs += [console(settings, i) for i in range(settings.console_workers)]
    if "bot" in roles and settings.telegram_bot_token:
        specs.append(telegram_bot(settings))
    return specs

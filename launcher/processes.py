"""The command line, environment and readiness check of each process of the service."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from civil_affairs.config import PROJECT_ROOT, Settings

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class ProcessSpec:
    """How to start one process and how to tell it is ready to serve."""

    name: str
    argv: list[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout: float = 420.0  # Rasa takes 30 s on a quiet machine, minutes on a loaded one


def _base_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        "ACTION_SERVER_URL": settings.action_server_url,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    })
    return env


def rasa_server(settings: Settings, model: Path, interface: str = "127.0.0.1") -> ProcessSpec:
    """Rasa with the REST channel; the HTTP API is on for `make eval`, bound to loopback only."""
    return ProcessSpec(
        name="rasa",
        argv=[str(BIN / "rasa"), "run", "--enable-api", "--interface", interface,
              "--port", str(settings.rasa_port), "--model", str(model),
              "--endpoints", str(PROJECT_ROOT / "endpoints.yml"),
              "--credentials", str(PROJECT_ROOT / "credentials.yml")],
        ready_url=f"http://127.0.0.1:{settings.rasa_port}/status",
        env=_base_env(settings),
    )


def action_server(settings: Settings) -> ProcessSpec:
    """rasa-sdk's action server loading the ``actions`` package."""
    return ProcessSpec(
        name="actions",
        argv=[str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
              "--port", str(settings.action_port)],
        ready_url=f"http://127.0.0.1:{settings.action_port}/health",
        env=_base_env(settings),
        ready_timeout=60.0,
    )


def console(settings: Settings) -> ProcessSpec:
    """The staff console and resident web chat."""
    return ProcessSpec(
        name="console",
        argv=[str(BIN / "python"), "-m", "uvicorn", "--factory", "console.app:app_factory",
              "--host", settings.console_host, "--port", str(settings.console_port),
              "--no-access-log"],
        ready_url=f"http://127.0.0.1:{settings.console_port}/healthz",
        env=_base_env(settings),
        ready_timeout=60.0,
    )


def telegram_bot(settings: Settings) -> ProcessSpec:
    """The Telegram bot (only when TELEGRAM_BOT_TOKEN is set)."""
    return ProcessSpec(name="bot", argv=[str(BIN / "python"), "-m", "bot"], ready_url="",
                       env=_base_env(settings))


def all_processes(settings: Settings, model: Path) -> list[ProcessSpec]:
    """Every process `make run` starts, in start order."""
    specs = [action_server(settings), rasa_server(settings, model), console(settings)]
    if settings.telegram_bot_token:
        specs.append(telegram_bot(settings))
    return specs

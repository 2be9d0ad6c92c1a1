"""The command line, environment and readiness check of each process of the service.

One machine runs the roles in ``RUN_ROLES`` (all of them by default): ``actions`` (``ACTION_REPLICAS``
action servers on consecutive ports from ``ACTION_PORT``), ``rasa`` (``RASA_REPLICAS`` Rasa servers on
consecutive ports from ``RASA_PORT``; each spreads its action calls over all the action servers),
``console`` (``CONSOLE_WORKERS`` workers sharing one listening socket the launcher holds)
and ``bot`` (only with ``TELEGRAM_BOT_TOKEN``). With one replica of each, the names and ports are
those of a single-machine install: rasa :5005, actions :5055, console :8000.

Transport security: Rasa and the action servers listen on ``RASA_HOST``/``ACTION_HOST`` (loopback by
default). Rasa's HTTP API needs ``RASA_AUTH_TOKEN``, every action call carries
``ACTION_SERVER_TOKEN`` (header ``X-Action-Token``, sent by Rasa through ``endpoints.yml``) and every
message to Rasa's REST channel carries ``RASA_REST_TOKEN`` (header ``X-Rasa-Rest-Token``, sent by the
console and the bot, checked by ``servers.rest_channel``); all three are generated once per launcher
start when unset (``with_service_tokens``) and reach the processes only through their environment,
never their command line (which every user of the host can read). Each process gets only the
tokens it uses.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from civil_affairs.config import PROJECT_ROOT, ConfigError, Settings
from civil_affairs.ops.run_files import heartbeat_path, metrics_dir

BIN = Path(sys.executable).parent
ROLES = ("actions", "rasa", "console", "bot")
CHANNEL_ROLES = frozenset({"console", "bot"})
# Channels stop first (they finish the messages they hold), then Rasa, then what Rasa calls.
STOP_ORDER = ("bot", "console", "rasa", "actions")
# Placeholder in a console worker's argv for the number of the listening socket handed to it.
LISTEN_FD = "{listen_fd}"
# Rasa's logging file: installs record masking in the Rasa process (Rasa's CLI then adds its own
# coloured handler, so Rasa keeps its text format).
RASA_LOGGING_CONFIG = PROJECT_ROOT / "civil_affairs" / "ops" / "rasa_logging.yml"
# In Rasa's argv, the value of --auth-token: the entry module (servers.rasa_run) replaces it with
# $RASA_AUTH_TOKEN, so the token never shows in `ps`.
AUTH_TOKEN_FROM_ENV = "env:RASA_AUTH_TOKEN"
# Every token the launcher hands out (generated per start when unset), each only to the processes using it.
SERVICE_TOKENS = ("RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "RASA_REST_TOKEN")
# The module that runs `rasa run` with the arguments of ``rasa_run_args``.
RASA_ENTRY = [str(BIN / "python"), "-m", "servers.rasa_run"]


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


def with_service_tokens(settings: Settings) -> Settings:
    """``settings`` with ``RASA_AUTH_TOKEN``, ``ACTION_SERVER_TOKEN`` and ``RASA_REST_TOKEN``,
    generating what is unset.

    A generated token lives as long as this launcher. When the action servers and Rasa run on
    different machines (``RUN_ROLES`` has one without the other), the machines must share
    ``ACTION_SERVER_TOKEN``, so it cannot be generated; the same holds for ``RASA_REST_TOKEN`` when
    Rasa and the channels (console, bot) run on different machines.
    """
    roles = settings.run_roles
    if ("actions" in roles) != ("rasa" in roles) and not settings.action_server_token:
        raise ConfigError(
            "ACTION_SERVER_TOKEN must be set (the same value on every machine) when Rasa and "
            "the action servers run on different machines (RUN_ROLES)"
        )
    if ("rasa" in roles) != bool(CHANNEL_ROLES & set(roles)) and not settings.rasa_rest_token:
        raise ConfigError(
            "RASA_REST_TOKEN must be set (the same value on every machine) when Rasa and "
            "the channels (console, bot) run on different machines (RUN_ROLES)"
        )
    return dataclasses.replace(
        settings,
        rasa_auth_token=settings.rasa_auth_token or secrets.token_hex(24),
        action_server_token=settings.action_server_token or secrets.token_hex(24),
        rasa_rest_token=settings.rasa_rest_token or secrets.token_hex(24),
    )


def local_address(host: str) -> str:
    """The address this machine reaches a server on that listens on ``host``."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host


def _require_tokens(settings: Settings) -> None:
    if not (settings.rasa_auth_token and settings.action_server_token and settings.rasa_rest_token):
        raise ValueError("settings without service tokens: pass them through with_service_tokens() first")


def base_env(settings: Settings, name: str = "", *, tokens: tuple[str, ...] = SERVICE_TOKENS) -> dict[str, str]:
    """The environment of a process: the launcher's, the settings it must agree on, and ``tokens``.

    A token the process does not use is left out, even when the launcher's own environment has it.
    """
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_TOKENS}
    values = {
        "RASA_AUTH_TOKEN": settings.rasa_auth_token,
        "ACTION_SERVER_TOKEN": settings.action_server_token,
        "RASA_REST_TOKEN": settings.rasa_rest_token,
    }
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            "ACTION_SERVER_URL": settings.action_server_url,
            "ACTION_REPLICA_URLS": ",".join(settings.action_replica_urls),
            **{key: values[key] for key in tokens},
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir(settings)),
        }
    )
    if name:
        env["PROCESS_NAME"] = name
    return env


def channel_env(settings: Settings, name: str) -> dict[str, str]:
    """The environment of a channel process (console, bot): only the REST channel's token."""
    return base_env(settings, name, tokens=("RASA_REST_TOKEN",))


def action_env(settings: Settings, name: str) -> dict[str, str]:
    """The environment of an action server: without the REST channel's token."""
    return base_env(settings, name, tokens=("RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN"))


def rasa_run_args(settings: Settings, model: Path, port: int, interface: str | None = None) -> list[str]:
    """Every argument of ``rasa run``, the security ones included: whichever entry module starts
    Rasa gets all of them (it must resolve ``AUTH_TOKEN_FROM_ENV``, see servers.rasa_run).

    The HTTP API (tracker reads for `make eval`, ``/status`` for readiness) needs the token; the
    server listens on ``RASA_HOST`` (loopback by default).
    """
    return [
        "run",
        "--enable-api",
        "--auth-token",
        AUTH_TOKEN_FROM_ENV,
        "--interface",
        interface or settings.rasa_host,
        "--port",
        str(port),
        "--model",
        str(model),
        "--endpoints",
        str(PROJECT_ROOT / "endpoints.yml"),
        "--credentials",
        str(PROJECT_ROOT / "credentials.yml"),
        "--logging-config-file",
        str(RASA_LOGGING_CONFIG),
    ]


def rasa_status_url(settings: Settings, index: int = 0) -> str:
    """Rasa's ``/status`` (model loaded), with the API token."""
    host = local_address(settings.rasa_host)
    return f"http://{host}:{settings.rasa_port + index}/status?token={quote(settings.rasa_auth_token, safe='')}"


def rasa_server(settings: Settings, model: Path, interface: str | None = None, index: int = 0) -> ProcessSpec:
    """Rasa with the REST channel and its token-protected HTTP API, on ``RASA_HOST``."""
    _require_tokens(settings)
    port = settings.rasa_port + index
    name = _replica_name("rasa", index, settings.rasa_replicas)
    return ProcessSpec(
        name=name,
        argv=[*RASA_ENTRY, *rasa_run_args(settings, model, port, interface)],
        ready_url=rasa_status_url(settings, index),
        env=base_env(settings, name),
        ready_timeout=420.0,  # Rasa takes 30 s on a quiet machine, minutes on a loaded one
        role="rasa",
    )


def action_server(settings: Settings, index: int = 0) -> ProcessSpec:
    """rasa-sdk's action server loading the ``actions`` package, on ``ACTION_HOST``, requiring the token."""
    _require_tokens(settings)
    port = settings.action_port + index
    name = _replica_name("actions", index, settings.action_replicas)
    return ProcessSpec(
        name=name,
        argv=[
            str(BIN / "python"),
            "-m",
            "servers.action_server",
            "--actions",
            "actions",
            "--host",
            settings.action_host,
            "--port",
            str(port),
        ],
        ready_url=f"http://{local_address(settings.action_host)}:{port}/health",
        env=action_env(settings, name),
        ready_timeout=120.0,
        role="actions",
    )


def console(settings: Settings, index: int = 0) -> ProcessSpec:
    """A worker of the staff console and resident web chat, serving the launcher's shared socket."""
    name = _replica_name("console", index, settings.console_workers)
    return ProcessSpec(
        name=name,
        argv=[str(BIN / "python"), "-m", "console", "--fd", LISTEN_FD],
        ready_url=f"http://127.0.0.1:{settings.console_port}/readyz",
        health_url=f"http://127.0.0.1:{settings.console_port}/healthz",
        env=channel_env(settings, name),
        ready_timeout=90.0,
        role="console",
        listen=(settings.console_host, settings.console_port),
    )


def telegram_bot(settings: Settings) -> ProcessSpec:
    """The Telegram bot (only when TELEGRAM_BOT_TOKEN is set); alive while its heartbeat is fresh."""
    return ProcessSpec(
        name="bot",
        argv=[str(BIN / "python"), "-m", "bot"],
        ready_url="",
        env=channel_env(settings, "bot"),
        ready_timeout=90.0,
        role="bot",
        heartbeat_file=str(heartbeat_path(settings, "bot")),
    )


def all_processes(settings: Settings, model: Path | None) -> list[ProcessSpec]:
    """Every process this machine runs (``RUN_ROLES``), in start order, sharing one set of tokens."""
    settings = with_service_tokens(settings)
    roles = settings.run_roles
    specs: list[ProcessSpec] = []
    if "actions" in roles:
        specs += [action_server(settings, i) for i in range(settings.action_replicas)]
    if "rasa" in roles:
        if model is None:
            raise ValueError("the rasa role needs a trained model")
        specs += [rasa_server(settings, model, index=i) for i in range(settings.rasa_replicas)]
    if "console" in roles:
        specs += [console(settings, i) for i in range(settings.console_workers)]
    if "bot" in roles and settings.telegram_bot_token:
        specs.append(telegram_bot(settings))
    return specs

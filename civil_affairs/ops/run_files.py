"""Run-time files of one machine, under ``$DATA_DIR/run``: the launcher's status, heartbeats, metrics,
the Rasa API and REST channel tokens it generated (mode 0600).

The launcher and the processes it starts agree on these paths through the settings alone.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from civil_affairs.config import Settings
from civil_affairs.ops.supervisor_status import STATUS_FILE


def run_dir(settings: Settings) -> Path:
    """The machine's run-time folder."""
    return settings.data_dir / "run"


def status_path(settings: Settings) -> Path:
    """The launcher's status file (see supervisor_status)."""
    return run_dir(settings) / STATUS_FILE


def metrics_dir(settings: Settings) -> Path:
    """The shared ``PROMETHEUS_MULTIPROC_DIR`` of every process of this machine."""
    return run_dir(settings) / "metrics"


def heartbeat_path(settings: Settings, name: str) -> Path:
    """The heartbeat file of a process without an HTTP port of its own (the bot in polling mode)."""
    return run_dir(settings) / f"{name}.heartbeat"


def rasa_token_path(settings: Settings) -> Path:
    """Where the launcher leaves the Rasa API token it generated, readable by its user only."""
    return run_dir(settings) / "rasa_auth_token"


def rest_token_path(settings: Settings) -> Path:
    """Where the launcher leaves the REST channel's token it generated, readable by its user only."""
    return run_dir(settings) / "rasa_rest_token"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read (mode 0600 from the start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(handle, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)


def _configured_or_left(configured: str, path: Path) -> str:
    if configured:
        return configured
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def read_rasa_token(settings: Settings) -> str:
    """``RASA_AUTH_TOKEN``, or the one the running launcher generated ("" when neither exists)."""
    return _configured_or_left(settings.rasa_auth_token, rasa_token_path(settings))


def read_rest_token(settings: Settings) -> str:
    """``RASA_REST_TOKEN``, or the one the running launcher generated ("" when neither exists)."""
    return _configured_or_left(settings.rasa_rest_token, rest_token_path(settings))


def write_heartbeat(path: Path, *, ready: bool) -> None:
    """Say "alive (and ready)" with this process's pid and the time, replacing the file in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".heartbeat-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"pid": os.getpid(), "at": time.time(), "ready": ready}, out)
    os.replace(tmp, path)

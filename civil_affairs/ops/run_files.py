"""Run-time files of one machine, under ``$DATA_DIR/run``: the launcher's status, heartbeats, metrics.

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


def write_heartbeat(path: Path, *, ready: bool) -> None:
    """Say "alive (and ready)" with this process's pid and the time, replacing the file in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".heartbeat-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"pid": os.getpid(), "at": time.time(), "ready": ready}, out)
    os.replace(tmp, path)

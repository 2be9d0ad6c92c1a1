"""The launcher's status file (``$DATA_DIR/run/supervisor.json``): what runs, what restarted, what failed.

The launcher rewrites it (atomically) whenever something changes and at least every few seconds;
the console's health page and ``/metrics`` read it. A file not rewritten for a while means the
launcher itself is gone.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATUS_FILE = "supervisor.json"
# The launcher rewrites the file every couple of seconds; older than this, nobody is watching.
STALE_AFTER_SECONDS = 30.0
STATES = ("starting", "running", "backoff", "failed", "stopping", "stopped")
STATE_LABELS = {
    "starting": "启动中",
    "running": "运行中",
    "backoff": "等待重启",
    "failed": "已放弃重启",
    "stopping": "停止中",
    "stopped": "已停止",
}


@dataclass
class ProcessStatus:
    """One supervised process as the status file shows it."""

    name: str
    role: str
    state: str
    pid: int | None = None
    restarts: int = 0
    started_at: float | None = None
    last_exit_code: int | None = None
    last_exit_at: float | None = None
    next_start_at: float | None = None
    message: str = ""

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


@dataclass
class SupervisorStatus:
    """The whole file: the launcher's pid, when it last wrote, and every process."""

    launcher_pid: int
    updated_at: float
    processes: list[ProcessStatus] = field(default_factory=list)

    def is_stale(self, now: float | None = None) -> bool:
        """True when the launcher has not rewritten the file for a while (it is not running)."""
        return (now if now is not None else time.time()) - self.updated_at > STALE_AFTER_SECONDS


def write_status(path: Path, status: SupervisorStatus) -> None:
    """Replace the status file in one step, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(asdict(status), ensure_ascii=False, indent=1)
    handle, tmp = tempfile.mkstemp(prefix=".supervisor-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(payload)
    os.replace(tmp, path)


def read_status(path: Path) -> SupervisorStatus | None:
    """The status the launcher last wrote, or None when there is no (readable) file."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return SupervisorStatus(
            launcher_pid=int(data["launcher_pid"]),
            updated_at=float(data["updated_at"]),
            processes=[ProcessStatus(**item) for item in data.get("processes", [])],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None

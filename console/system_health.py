"""运行状态: the launcher's view of every process on this machine, for supervisors and admins.

Read from the launcher's status file (civil_affairs.ops.supervisor_status): state, restarts, last
exit, and whether the launcher itself still writes the file. Each machine's console shows the
processes of its own machine.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from civil_affairs import clock
from civil_affairs.ops.run_files import status_path
from civil_affairs.ops.supervisor_status import ProcessStatus, SupervisorStatus, read_status
from console.deps import StaffContext, render, require_role

router = APIRouter()


def _local(epoch: float | None) -> str:
    """A Unix time in the bureau's time zone for the page (not the server's)."""
    if epoch is None:
        return ""
    return clock.format_local(datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None), "%Y-%m-%d %H:%M:%S")


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z") if epoch else None


def _process_json(process: ProcessStatus) -> dict[str, Any]:
    return {
        "name": process.name,
        "role": process.role,
        "state": process.state,
        "state_label": process.state_label,
        "pid": process.pid,
        "restarts": process.restarts,
        "started_at": _iso(process.started_at),
        "last_exit_code": process.last_exit_code,
        "last_exit_at": _iso(process.last_exit_at),
        "next_start_at": _iso(process.next_start_at),
        "message": process.message,
    }


def health_json(status: SupervisorStatus | None) -> dict[str, Any]:
    """The status as the JSON API returns it; ``supervised`` is false without a live launcher."""
    if status is None:
        return {"supervised": False, "launcher": "no status file", "processes": []}
    return {
        "supervised": not status.is_stale(),
        "launcher_pid": status.launcher_pid,
        "updated_at": _iso(status.updated_at),
        "launcher": "stale" if status.is_stale() else "running",
        "processes": [_process_json(p) for p in status.processes],
    }


@router.get("/staff/health", include_in_schema=False)
def health_page(request: Request, staff: StaffContext = Depends(require_role("supervisor"))) -> Response:
    """Every process of this machine: state, restarts, last exit."""
    status = read_status(status_path(request.app.state.settings))
    return render(
        request,
        "staff/health.html",
        {"nav": "health", "status": status, "stale": status is None or status.is_stale(), "local": _local},
        staff=staff,
    )


@router.get("/api/staff/health")
def api_health(request: Request, staff: StaffContext = Depends(require_role("supervisor"))) -> dict[str, Any]:
    """The launcher's status of this machine's processes."""
    return health_json(read_status(status_path(request.app.state.settings)))

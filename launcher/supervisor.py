"""Start the service's processes, keep them serving, and stop them cleanly.

- Each child runs in its own session (the terminal's Ctrl-C reaches only the launcher, which then
  stops the children in order), logs to ``$DATA_DIR/logs/<name>.log``, and is started with
  ``PR_SET_PDEATHSIG`` so the kernel kills it when the launcher dies, even by ``kill -9``.
- A child that exits is restarted after a backoff (1 s, doubling up to ``backoff_max``). One that
  keeps dying within a minute of starting is given up after ``max_fast_failures`` tries and shown
  as failed (log and the console's health page); the others keep serving. A child that stops
  answering its liveness check (its health URL, or the bot's heartbeat file) is killed and
  restarted.
- Stopping goes channel by channel: the bot and the console first (they finish the messages they
  hold), then Rasa, then the action servers; SIGTERM, then SIGKILL after a
  grace period.
- ``$DATA_DIR/run/supervisor.json`` says what runs, what restarted and what failed.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from civil_affairs.ops.supervisor_status import ProcessStatus, SupervisorStatus, write_status
from launcher.children import (
    Running,
    close,
    is_alive,
    is_ready,
    listening_socket,
    signal_group,
    start,
    stop_group,
    tail,
    wait_ready,
)
from launcher.processes import STOP_ORDER, ProcessSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestartPolicy:
    """When and how often a dead or hung process is restarted."""

    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    fast_failure_seconds: float = 60.0  # dying sooner than this after a start counts as a fast failure
    max_fast_failures: int = 5  # in a row; then the process is given up
    health_interval: float = 10.0
    health_max_failures: int = 6  # liveness checks failed in a row before a running process is killed
    stop_grace: float = 20.0


@dataclass
class Child:
    """One supervised process and its history."""

    spec: ProcessSpec
    running: Running | None = None
    state: str = "starting"
    restarts: int = 0
    fast_failures: int = 0
    next_start_at: float = 0.0
    started_wall: float | None = None
    last_exit_code: int | None = None
    last_exit_at: float | None = None
    health_failures: int = 0
    next_health_at: float = 0.0
    message: str = ""

    def status(self) -> ProcessStatus:
        return ProcessStatus(
            name=self.spec.name,
            role=self.spec.role,
            state=self.state,
            pid=self.running.popen.pid if self.running and self.running.popen.poll() is None else None,
            restarts=self.restarts,
            started_at=self.started_wall,
            last_exit_code=self.last_exit_code,
            last_exit_at=self.last_exit_at,
            next_start_at=time.time() + max(0.0, self.next_start_at - time.monotonic())
            if self.state == "backoff"
            else None,
            message=self.message,
        )


class Supervisor:
    """Keeps a set of processes serving: restarts with backoff, liveness checks, ordered stop."""

    def __init__(
        self,
        specs: list[ProcessSpec],
        log_dir: Path,
        status_path: Path | None = None,
        policy: RestartPolicy = RestartPolicy(),
        report: Callable[[str], None] = print,
    ) -> None:
        self.children = [Child(spec) for spec in specs]
        self.log_dir = log_dir
        self.status_path = status_path
        self.policy = policy
        self.report = report
        self.sockets: dict[tuple[str, int], socket.socket] = {}
        self._last_status = 0.0

    # --- starting ---------------------------------------------------------------------------------

    def _launch(self, child: Child) -> None:
        spec = child.spec
        if spec.listen is not None and spec.listen not in self.sockets:
            self.sockets[spec.listen] = listening_socket(spec.listen)
        if spec.heartbeat_file:
            Path(spec.heartbeat_file).unlink(missing_ok=True)
        child.running = start(spec, self.log_dir, self.sockets)
        child.state, child.started_wall, child.health_failures = "starting", time.time(), 0
        child.next_health_at = time.monotonic() + self.policy.health_interval
        self.write_status(force=True)

    def start_all(
        self, announce: Callable[[ProcessSpec], None] = lambda spec: None, cancelled: Callable[[], bool] = lambda: False
    ) -> None:
        """Start every process in order and wait until each serves; ProcessFailed if one cannot.

        Replicas of one role start together (Rasa replicas load their model side by side).
        """
        groups: list[list[Child]] = []
        for child in self.children:
            if groups and groups[-1][0].spec.role == child.spec.role and child.spec.role:
                groups[-1].append(child)
            else:
                groups.append([child])
        for group in groups:
            for child in group:
                announce(child.spec)
                self._launch(child)
            for child in group:
                assert child.running is not None
                wait_ready(child.running, [c.running for c in self.children if c.running is not None], cancelled)
                child.state, child.message = "running", ""
                self.write_status(force=True)

    # --- watching ---------------------------------------------------------------------------------

    def poll(self) -> None:
        """One round of watching: notice exits, restart what is due, check readiness and liveness."""
        now = time.monotonic()
        for child in self.children:
            running = child.running
            exited = running is not None and running.popen.poll() is not None
            if child.state in ("starting", "running") and running is not None and exited:
                self._exited(child, running, now)
            elif child.state == "backoff" and now >= child.next_start_at:
                child.restarts += 1
                self.report(f"restarting {child.spec.name} (restart {child.restarts})")
                self._launch(child)
            elif child.state == "starting" and running is not None and is_ready(running):
                child.state, child.message = "running", ""
                child.next_health_at = now + self.policy.health_interval
                self.report(f"{child.spec.name} is serving again")
                self.write_status(force=True)
            elif (
                child.state == "starting"
                and running is not None
                and now - running.started_at > child.spec.ready_timeout
            ):
                self._kill_hung(child, running, f"not ready after {child.spec.ready_timeout:.0f} s")
            elif child.state == "running" and running is not None and now >= child.next_health_at:
                child.next_health_at = now + self.policy.health_interval
                if is_alive(running):
                    child.health_failures = 0
                else:
                    child.health_failures += 1
                    if child.health_failures >= self.policy.health_max_failures:
                        self._kill_hung(child, running, "stopped answering its liveness check")
        self.write_status()

    def _kill_hung(self, child: Child, running: Running, why: str) -> None:
        self.report(f"{child.spec.name} {why}; killing it to restart it")
        signal_group(running, signal.SIGKILL)
        running.popen.wait(timeout=10)
        self._exited(child, running, time.monotonic(), why)

    def _exited(self, child: Child, running: Running, now: float, why: str = "") -> None:
        code = running.popen.returncode
        close(running)
        child.last_exit_code, child.last_exit_at = code, time.time()
        lived = now - running.started_at
        if lived < self.policy.fast_failure_seconds:
            child.fast_failures += 1
        else:
            child.fast_failures = 1
        if child.fast_failures >= self.policy.max_fast_failures:
            child.state = "failed"
            child.message = f"exited {child.fast_failures} times in a row soon after starting; gave up restarting it"
            self.report(
                f"ALERT: {child.spec.name} exited with code {code} and keeps failing; not restarting "
                f"it any more. Last lines of {running.log_path}:\n{tail(running.log_path)}"
            )
        else:
            delay = min(self.policy.backoff_initial * 2 ** (child.fast_failures - 1), self.policy.backoff_max)
            child.state, child.next_start_at = "backoff", now + delay
            child.message = why or f"exited with code {code}"
            self.report(
                f"{child.spec.name} exited with code {code}; restarting in {delay:.0f} s (log {running.log_path})"
            )
        self.write_status(force=True)

    def write_status(self, force: bool = False) -> None:
        """Rewrite the status file when something changed, and every 2 s as a sign of life."""
        if self.status_path is None or (not force and time.monotonic() - self._last_status < 2.0):
            return
        self._last_status = time.monotonic()
        write_status(
            self.status_path,
            SupervisorStatus(
                launcher_pid=os.getpid(), updated_at=time.time(), processes=[c.status() for c in self.children]
            ),
        )

    # --- stopping ---------------------------------------------------------------------------------

    def stop_all(self, force: Callable[[], bool] = lambda: False) -> None:
        """Stop everything in STOP_ORDER; ``force()`` turning true cuts every grace period short."""
        for child in self.children:
            if child.state != "failed":
                child.state = "stopping"
        self.write_status(force=True)
        for role in (*STOP_ORDER, ""):
            group = [c for c in self.children if (c.spec.role or "") == role]
            running = [c.running for c in group if c.running is not None and not c.running.log_file.closed]
            if running:
                stop_group(running, self.policy.stop_grace, force)
            for child in group:
                child.state = "stopped" if child.state != "failed" else child.state
            self.write_status(force=True)
        leftovers = [c.running for c in self.children if c.running is not None and not c.running.log_file.closed]
        if leftovers:
            stop_group(leftovers, 0.0)
        for sock in self.sockets.values():
            sock.close()
        self.sockets.clear()
        self.write_status(force=True)

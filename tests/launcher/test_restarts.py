"""The supervisor restarts what dies or hangs, gives up on what keeps failing, and says so."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from civil_affairs.ops.supervisor_status import read_status
from launcher.ports import free_port
from launcher.processes import ProcessSpec
from launcher.supervisor import RestartPolicy, Supervisor

FAST = RestartPolicy(
    backoff_initial=0.2,
    backoff_max=0.8,
    fast_failure_seconds=30,
    max_fast_failures=3,
    health_interval=0.3,
    health_max_failures=2,
    stop_grace=3,
)


def fake(name: str, tmp_path: Path, *args: str, port: int = 0, heartbeat: bool = False) -> ProcessSpec:
    argv = [
        sys.executable,
        "-m",
        "tests.helpers.fake_service",
        "--name",
        name,
        "--events",
        str(tmp_path / "events.log"),
        *args,
    ]
    beat = str(tmp_path / f"{name}.heartbeat") if heartbeat else ""
    if port:
        argv += ["--port", str(port)]
    if beat:
        argv += ["--heartbeat", beat]
    return ProcessSpec(
        name=name,
        role="rasa",
        argv=argv,
        ready_url=f"http://127.0.0.1:{port}/" if port else "",
        heartbeat_file=beat,
        ready_timeout=20,
    )


def watch(supervisor: Supervisor, until: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.poll()
        if until():
            return
        time.sleep(0.05)
    raise AssertionError([c.status() for c in supervisor.children])


def test_a_process_that_keeps_failing_is_given_up_with_an_alert_while_others_serve(tmp_path: Path) -> None:
    lines: list[str] = []
    steady = fake("steady", tmp_path, port=free_port())
    crashing = fake("crashing", tmp_path, "--exit-after", "1.5", port=free_port())
    supervisor = Supervisor([steady, crashing], tmp_path / "logs", tmp_path / "status.json", FAST, report=lines.append)
    try:
        supervisor.start_all()
        steady_pid = supervisor.children[0].running.popen.pid
        started = time.monotonic()
        watch(supervisor, lambda: supervisor.children[1].state == "failed", timeout=60)
        # Three fast failures: two restarts after 0.2 s and 0.4 s of backoff, then no more.
        assert supervisor.children[1].restarts == 2
        assert time.monotonic() - started > 0.6
        assert any(line.startswith("ALERT: crashing exited with code 3") for line in lines)
        status = read_status(tmp_path / "status.json")
        assert status is not None
        by_name = {p.name: p for p in status.processes}
        assert by_name["crashing"].state == "failed" and by_name["crashing"].last_exit_code == 3
        assert "gave up" in by_name["crashing"].message
        assert by_name["steady"].state == "running" and by_name["steady"].pid == steady_pid
    finally:
        supervisor.stop_all()


def test_a_process_that_stops_answering_is_killed_and_restarted(tmp_path: Path) -> None:
    hanging = fake("hanging", tmp_path, "--hang-after", "1.0", heartbeat=True)
    supervisor = Supervisor([hanging], tmp_path / "logs", None, FAST, report=lambda line: None)
    try:
        supervisor.start_all()
        first_pid = supervisor.children[0].running.popen.pid
        watch(supervisor, lambda: supervisor.children[0].restarts == 1 and supervisor.children[0].state == "running")
        child = supervisor.children[0]
        assert child.running.popen.pid != first_pid
        assert child.last_exit_code == -9  # killed, it never exited by itself
    finally:
        supervisor.stop_all()

"""The launcher as a service manager and a terminal use it: SIGTERM (once, twice, through make),
Ctrl-C, kill -9, and a child that dies. Stand-in processes (tests.helpers.fake_service) note what
happens to them in ``events.log``; the launcher is the real one (launcher.__main__.run).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from civil_affairs.config import PROJECT_ROOT
from civil_affairs.ops.supervisor_status import SupervisorStatus, read_status
from launcher.ports import free_ports

NAMES = ("actions", "rasa", "console", "bot")


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


@dataclass
class Launched:
    """A launcher started in a session of its own, and where it writes."""

    popen: subprocess.Popen
    data_dir: Path
    output: Path

    @property
    def status(self) -> SupervisorStatus | None:
        return read_status(self.data_dir / "run" / "supervisor.json")

    def events(self) -> list[tuple[float, str, str]]:
        lines = (self.data_dir / "events.log").read_text().splitlines()
        return [(float(t), name, what) for t, name, what in (line.split(" ", 2) for line in lines)]

    def first(self, name: str, what: str) -> float:
        return next(t for t, n, w in self.events() if n == name and w.startswith(what))

    def wait_until(self, check: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out; launcher output:\n{self.output.read_text()}")

    def all_running(self) -> bool:
        status = self.status
        return status is not None and [p.state for p in status.processes] == ["running"] * len(NAMES)

    def pids(self) -> dict[str, int]:
        status = self.status
        assert status is not None
        return {p.name: p.pid for p in status.processes if p.pid}

    def every_pid(self) -> list[int]:
        """Children and the grandchild the stand-in Rasa started."""
        grandchildren = [int(w.split()[1]) for _, _, w in self.events() if w.startswith("grandchild")]
        return [*self.pids().values(), *grandchildren]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Launched]]:
    """Start the launcher (directly or through ``make run``) over stand-ins; kill leftovers afterwards."""
    started: list[Launched] = []

    def start(via_make: bool = False) -> Launched:
        data_dir = tmp_path / f"data{len(started)}"
        data_dir.mkdir()
        env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "FAKE_PORT_BASE": str(free_ports(3)),
            "PYTHONPATH": str(PROJECT_ROOT),
            "APP_ENV": "test",
            "DATABASE_URL": f"sqlite:///{data_dir / 'unused.db'}",
        }
        argv = (
            ["make", "--no-print-directory", "run", "LAUNCHER=tests.helpers.fake_launcher"]
            if via_make
            else [sys.executable, "-m", "tests.helpers.fake_launcher"]
        )
        output = data_dir / "launcher.out"
        with output.open("wb") as out:
            popen = subprocess.Popen(
                argv, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        launched = Launched(popen, data_dir, output)
        started.append(launched)
        launched.wait_until(launched.all_running)
        return launched

    yield start
    for launched in started:
        pids = launched.every_pid() if (launched.data_dir / "events.log").exists() else []
        for pid in [launched.popen.pid, *pids]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        launched.popen.wait(timeout=10)


def assert_stopped_in_order(launched: Launched) -> None:
    """Channels first (each finishing its message in flight), then Rasa, then the action server."""
    assert launched.first("console", "exit") <= launched.first("rasa", "term")
    assert launched.first("bot", "exit") <= launched.first("rasa", "term")
    assert launched.first("rasa", "exit") <= launched.first("actions", "term")


def test_sigterm_twice_stops_everything_in_order(launch: Callable[..., Launched]) -> None:
    launched = launch()
    pids = launched.every_pid()
    assert len(pids) == 5
    launched.popen.send_signal(signal.SIGTERM)
    time.sleep(0.3)  # inside the ordered stop, as make's own SIGTERM arrives
    launched.popen.send_signal(signal.SIGTERM)
    assert launched.popen.wait(timeout=60) == 0
    output = launched.output.read_text()
    assert "Traceback" not in output and "all processes stopped." in output
    assert_stopped_in_order(launched)
    assert [pid for pid in pids if alive(pid)] == []


def test_make_run_passes_sigterm_on_to_every_process(launch: Callable[..., Launched]) -> None:
    launched = launch(via_make=True)
    pids = launched.every_pid()
    # What a service manager does on stop: SIGTERM to make's whole process group.
    os.killpg(launched.popen.pid, signal.SIGTERM)
    launched.popen.wait(timeout=60)
    launched.wait_until(lambda: not any(alive(pid) for pid in pids), timeout=30)
    assert "Traceback" not in launched.output.read_text()
    assert_stopped_in_order(launched)


def test_kill_9_of_the_launcher_leaves_no_process_behind(launch: Callable[..., Launched]) -> None:
    launched = launch()
    pids = launched.every_pid()
    launched.popen.kill()
    launched.popen.wait(timeout=10)
    launched.wait_until(lambda: not any(alive(pid) for pid in pids), timeout=10)


def test_a_child_killed_is_restarted_and_the_others_keep_serving(launch: Callable[..., Launched]) -> None:
    launched = launch()
    before = launched.pids()
    os.kill(before["rasa"], signal.SIGKILL)

    def rasa_back() -> bool:
        status = launched.status
        rasa = next(p for p in status.processes if p.name == "rasa") if status else None
        return rasa is not None and rasa.state == "running" and rasa.restarts == 1 and rasa.pid != before["rasa"]

    launched.wait_until(rasa_back, timeout=30)
    after = launched.pids()
    assert {name: after[name] for name in ("actions", "console", "bot")} == {
        name: before[name] for name in ("actions", "console", "bot")
    }
    assert "rasa exited with code -9; restarting" in launched.output.read_text()
    launched.popen.send_signal(signal.SIGINT)  # Ctrl-C
    assert launched.popen.wait(timeout=60) == 0

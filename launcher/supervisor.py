"""Start processes, wait until they serve, report any that dies, and stop them all cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from launcher.processes import ProcessSpec
from civil_affairs.config import PROJECT_ROOT


class ProcessFailed(RuntimeError):
    """A process exited or never became ready; the message says which and where its log is."""


@dataclass
class Running:
    spec: ProcessSpec
    popen: subprocess.Popen
    log_path: Path
    log_file: IO[bytes]


def start(spec: ProcessSpec, log_dir: Path) -> Running:
    """Start ``spec`` in its own process group with output to ``log_dir/<name>.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{spec.name}.log"
    log_file = open(log_path, "ab")
    popen = subprocess.Popen(spec.argv, cwd=PROJECT_ROOT, env=spec.env or None, stdout=log_file,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    return Running(spec, popen, log_path, log_file)


def tail(path: Path, lines: int = 15) -> str:
    """Last lines of a log, for telling the operator why a process died."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_ready(running: Running, others: list[Running] = ()) -> None:  # type: ignore[assignment]
    """Poll the process's ready URL until it answers 200; fail fast if anything exits."""
    if not running.spec.ready_url:
        return
    deadline = time.monotonic() + running.spec.ready_timeout
    while time.monotonic() < deadline:
        for proc in [running, *others]:
            if proc.popen.poll() is not None:
                raise ProcessFailed(
                    f"{proc.spec.name} exited with code {proc.popen.returncode} while starting; "
                    f"log {proc.log_path}:\n{tail(proc.log_path)}"
                )
        try:
            if httpx.get(running.spec.ready_url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise ProcessFailed(f"{running.spec.name} was not ready after {running.spec.ready_timeout:.0f} s; "
                        f"log {running.log_path}:\n{tail(running.log_path)}")


def stop(running: Running, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after ``grace`` seconds."""
    if running.popen.poll() is None:
        try:
            os.killpg(running.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            running.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(running.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            running.popen.wait(timeout=5)
    running.log_file.close()


def stop_all(processes: list[Running]) -> None:
    """Stop in reverse start order."""
    for running in reversed(processes):
        stop(running)


def first_exited(processes: list[Running]) -> Running | None:
    """A process that has exited, if any."""
    return next((p for p in processes if p.popen.poll() is not None), None)

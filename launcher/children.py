"""One child process: start it in its own session (dying with the launcher), check it, signal and stop it.

The supervisor (``launcher.supervisor``) decides when; this module knows how.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from civil_affairs.config import PROJECT_ROOT
from launcher.processes import LISTEN_FD, STOP_ORDER, ProcessSpec

logger = logging.getLogger(__name__)


PR_SET_PDEATHSIG = 1
# A heartbeat older than this means the process hangs (the bot writes one every 2 s).
HEARTBEAT_STALE_SECONDS = 15.0


class ProcessFailed(RuntimeError):
    """A process exited or never became ready; the message says which and where its log is."""


@dataclass
class Running:
    """One started child process."""

    spec: ProcessSpec
    popen: subprocess.Popen
    log_path: Path
    log_file: IO[bytes]
    own_socket: socket.socket | None = None  # opened by ``start`` for this child alone
    started_at: float = field(default_factory=time.monotonic)


# --- one child ----------------------------------------------------------------------------------------


def _libc_prctl() -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _libc_prctl()


def _die_with(parent_pid: int) -> Callable[[], None]:
    """A preexec function: the child gets SIGKILL when the launcher dies (Linux), even by kill -9."""

    def preexec() -> None:
        if _PRCTL is not None:
            _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)
        # The launcher may have died between fork and prctl: then nobody would send the signal.
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


def listening_socket(address: tuple[str, int]) -> socket.socket:
    """A TCP socket listening on ``address``, inheritable by children."""
    host, port = address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def start(spec: ProcessSpec, log_dir: Path, sockets: dict[tuple[str, int], socket.socket] | None = None) -> Running:
    """Start ``spec`` in its own session with output to ``log_dir/<name>.log``.

    A spec with ``listen`` gets the listening socket from ``sockets`` (shared by its workers), or
    one of its own that ``stop`` closes.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{spec.name}.log"
    metrics = spec.env.get("PROMETHEUS_MULTIPROC_DIR")
    if metrics:
        Path(metrics).mkdir(parents=True, exist_ok=True)
    own_socket = None
    argv = list(spec.argv)
    pass_fds: tuple[int, ...] = ()
    if spec.listen is not None:
        sock = (sockets or {}).get(spec.listen)
        if sock is None:
            sock = own_socket = listening_socket(spec.listen)
        argv = [str(sock.fileno()) if part == LISTEN_FD else part for part in argv]
        pass_fds = (sock.fileno(),)
    log_file = open(log_path, "ab")
    popen = subprocess.Popen(
        argv,
        cwd=PROJECT_ROOT,
        env=spec.env or None,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        pass_fds=pass_fds,
        preexec_fn=_die_with(os.getpid()),
    )
    return Running(spec, popen, log_path, log_file, own_socket)


def tail(path: Path, lines: int = 15) -> str:
    """Last lines of a log, for telling the operator why a process died."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def heartbeat_fresh(spec: ProcessSpec, pid: int, *, need_ready: bool) -> bool:
    """The process wrote its heartbeat file recently (and says it is ready, when asked)."""
    try:
        beat = json.loads(Path(spec.heartbeat_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if beat.get("pid") != pid or time.time() - float(beat.get("at", 0)) > HEARTBEAT_STALE_SECONDS:
        return False
    return bool(beat.get("ready")) or not need_ready


def answers(url: str, timeout: float = 2.0) -> bool:
    """``url`` answers 200."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def is_ready(running: Running) -> bool:
    """The process serves: its ready URL answers, or its heartbeat says ready."""
    spec = running.spec
    if spec.heartbeat_file:
        return heartbeat_fresh(spec, running.popen.pid, need_ready=True)
    return not spec.ready_url or answers(spec.ready_url)


def is_alive(running: Running) -> bool:
    """The process still answers its liveness check (health URL or heartbeat)."""
    spec = running.spec
    if spec.heartbeat_file:
        return heartbeat_fresh(spec, running.popen.pid, need_ready=False)
    return not spec.liveness_url or answers(spec.liveness_url)


def wait_ready(
    running: Running, others: list[Running] | None = None, cancelled: Callable[[], bool] = lambda: False
) -> None:
    """Wait until the process serves; fail fast if it or any of ``others`` exits, or if ``cancelled()``."""
    deadline = time.monotonic() + running.spec.ready_timeout
    while time.monotonic() < deadline:
        if cancelled():
            raise ProcessFailed(f"stopped while waiting for {running.spec.name} to start")
        for proc in [running, *(others or [])]:
            if proc.popen.poll() is not None:
                raise ProcessFailed(
                    f"{proc.spec.name} exited with code {proc.popen.returncode} while starting; "
                    f"log {proc.log_path}:\n{tail(proc.log_path)}"
                )
        if is_ready(running):
            return
        time.sleep(0.5)
    raise ProcessFailed(
        f"{running.spec.name} was not ready after {running.spec.ready_timeout:.0f} s; "
        f"log {running.log_path}:\n{tail(running.log_path)}"
    )


def signal_group(running: Running, signum: int) -> None:
    """Send ``signum`` to the child's process group (the child and anything it started)."""
    try:
        os.killpg(running.popen.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def close(running: Running) -> None:
    running.log_file.close()
    if running.own_socket is not None:
        running.own_socket.close()


def stop(running: Running, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after ``grace`` seconds."""
    stop_group([running], grace)


def stop_group(group: list[Running], grace: float, force: Callable[[], bool] = lambda: False) -> None:
    """SIGTERM every process of ``group``, wait up to ``grace`` (or until ``force()``), then SIGKILL."""
    for running in group:
        if running.popen.poll() is None:
            signal_group(running, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(r.popen.poll() is None for r in group) and time.monotonic() < deadline and not force():
        time.sleep(0.1)
    for running in group:
        if running.popen.poll() is None:
            signal_group(running, signal.SIGKILL)
            running.popen.wait(timeout=10)
        # Grandchildren left in the group (normally none) go with it.
        signal_group(running, signal.SIGKILL)
        close(running)


def stop_all(processes: list[Running], grace: float = 10.0) -> None:
    """Stop channels first, then Rasa, then the action servers (see STOP_ORDER)."""
    for role in (*STOP_ORDER, ""):
        group = [r for r in processes if (r.spec.role or "") == role]
        if group:
            stop_group(group, grace)
    rest = [r for r in processes if r.spec.role and r.spec.role not in STOP_ORDER]
    if rest:
        stop_group(rest, grace)


def first_exited(processes: list[Running]) -> Running | None:
    """A process that has exited, if any."""
    return next((p for p in processes if p.popen.poll() is not None), None)


# --- the supervisor -----------------------------------------------------------------------------------

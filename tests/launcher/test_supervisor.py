"""The launcher reports a process that dies and stops the others cleanly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from launcher.children import ProcessFailed, first_exited, start, stop, wait_ready
from launcher.ports import free_port
from launcher.processes import ProcessSpec


def spec(name: str, code: str, ready_url: str = "", timeout: float = 20) -> ProcessSpec:
    return ProcessSpec(name=name, argv=[sys.executable, "-c", code], ready_url=ready_url, ready_timeout=timeout)


def test_a_process_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    dying = start(
        spec(
            "dying",
            "import sys; print('boom: missing model'); sys.exit(3)",
            ready_url=f"http://127.0.0.1:{free_port()}/",
        ),
        tmp_path,
    )
    with pytest.raises(ProcessFailed, match=r"dying exited with code 3[\s\S]*boom: missing model"):
        wait_ready(dying, [dying])
    stop(dying)


def test_a_server_becomes_ready_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    server = start(
        spec(
            "web",
            f"import http.server as h; h.HTTPServer(('127.0.0.1', {port}), h.SimpleHTTPRequestHandler).serve_forever()",
            ready_url=f"http://127.0.0.1:{port}/",
        ),
        tmp_path,
    )
    wait_ready(server, [server])
    assert first_exited([server]) is None
    stop(server, grace=5)
    assert server.popen.returncode is not None


def test_first_exited_names_the_dead_process(tmp_path: Path) -> None:
    alive = start(spec("alive", "import time; time.sleep(30)"), tmp_path)
    dead = start(spec("dead", "pass"), tmp_path)
    dead.popen.wait(10)
    assert first_exited([alive, dead]) is dead
    for running in (alive, dead):
        stop(running, grace=2)

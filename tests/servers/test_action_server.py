"""The action server as the launcher starts it: loopback only, Rasa's token required, errors not echoed.

rasa-sdk's own command line listened on 0.0.0.0 without any authentication, and answered a failing
action with the whole request (the tracker), which Rasa then logged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from civil_affairs.config import Settings
from launcher import processes
from launcher.children import Running, start, stop, wait_ready
from launcher.ports import free_port
from servers.action_server import TOKEN_HEADER

ROOT = Path(__file__).resolve().parents[2]
RAW_ID = "110105 19491231 002X"
SECRET_WORDS = "我的身份证是" + RAW_ID


@dataclass
class ActionServer:
    running: Running
    settings: Settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.action_port}"

    def log(self) -> str:
        return self.running.log_path.read_text(encoding="utf-8", errors="replace")


def action_call(action: str, text: str = "低保怎么申请") -> dict:
    """A call as Rasa sends it (next action and the tracker)."""
    latest = {"text": text, "intent": {"name": "ask_benefits", "confidence": 0.9}, "entities": []}
    return {
        "next_action": action,
        "sender_id": "tg-42",
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": "tg-42",
            "slots": {},
            "latest_message": latest,
            "events": [{"event": "user", "text": text, "parse_data": latest}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    tmp = tmp_path_factory.mktemp("action-server")
    settings = processes.with_service_tokens(
        Settings.from_env(
            {"APP_ENV": "test", "DATA_DIR": str(tmp), "ACTION_PORT": str(free_port()), "LOG_FORMAT": "text"},
            dotenv=None,
        )
    )
    spec = processes.action_server(settings)
    argv = ["tests.helpers.probe_actions" if part == "actions" else part for part in spec.argv]
    env = {
        **spec.env,
        "DATA_DIR": str(tmp),
        "ACTION_PORT": str(settings.action_port),
        "APP_ENV": "test",
        "LOG_FORMAT": "text",
    }
    running = start(processes.ProcessSpec(**{**spec.__dict__, "argv": argv, "env": env}), tmp / "logs")
    try:
        wait_ready(running)
        yield ActionServer(running, settings)
    finally:
        stop(running)


def listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses (hex, as in /proc/net/tcp*) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # LISTEN
                found.add(address)
    return found


def test_the_action_server_listens_on_loopback_only(action_server: ActionServer) -> None:
    assert listening_addresses(action_server.settings.action_port) == {"0100007F"}  # 127.0.0.1


@pytest.mark.parametrize(
    "headers",
    [{}, {TOKEN_HEADER: "wrong-token-of-some-length"}, {TOKEN_HEADER: ""}],
    ids=["no token", "wrong token", "empty token"],
)
def test_an_action_call_without_the_token_is_refused(action_server: ActionServer, headers: dict) -> None:
    answer = httpx.post(f"{action_server.url}/webhook", json=action_call("action_probe_ok"), headers=headers)
    assert answer.status_code == 401
    assert "ran for" not in answer.text
    assert httpx.get(f"{action_server.url}/actions", headers=headers).status_code == 401


def test_an_action_call_with_the_token_runs_and_health_needs_none(action_server: ActionServer) -> None:
    token = action_server.settings.action_server_token
    answer = httpx.post(
        f"{action_server.url}/webhook", json=action_call("action_probe_ok"), headers={TOKEN_HEADER: token}
    )
    assert answer.status_code == 200
    assert answer.json()["responses"][0]["text"] == "ran for tg-42"
    assert httpx.get(f"{action_server.url}/health").status_code == 200


def test_a_failing_action_is_answered_without_the_tracker_and_logged_masked(action_server: ActionServer) -> None:
    token = action_server.settings.action_server_token
    answer = httpx.post(
        f"{action_server.url}/webhook",
        json=action_call("action_probe_fail", SECRET_WORDS),
        headers={TOKEN_HEADER: token},
    )
    assert answer.status_code == 500
    assert answer.json() == {"error": "action failed", "action_name": "action_probe_fail"}
    deadline = time.monotonic() + 10
    while "action_probe_fail failed" not in action_server.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    log = action_server.log()
    assert "action action_probe_fail failed: ValueError" in log
    assert "110***********002X" in log  # the traceback is there, masked
    assert RAW_ID not in log and "110105" not in log
    assert token not in log


def test_an_action_waiting_for_the_database_does_not_hold_up_the_others(action_server: ActionServer) -> None:
    headers = {TOKEN_HEADER: action_server.settings.action_server_token}
    slow_answer: list[httpx.Response] = []
    slow = threading.Thread(
        target=lambda: slow_answer.append(
            httpx.post(f"{action_server.url}/webhook", json=action_call("action_probe_slow"), headers=headers)
        )
    )
    slow.start()
    time.sleep(0.3)  # the slow action is running
    started = time.monotonic()
    fast = httpx.post(f"{action_server.url}/webhook", json=action_call("action_probe_ok"), headers=headers)
    waited = time.monotonic() - started
    slow.join()
    assert fast.json()["responses"][0]["text"] == "ran for tg-42"
    assert slow_answer[0].json()["responses"][0]["text"] == "slow done"
    assert waited < 0.5  # not held until the slow action's second is over


def test_blas_runs_on_the_calling_thread_only() -> None:
    """numpy's OpenBLAS would hand the FAQ ranker's products to a worker thread that then spins
    after each one (10-22% of an action server's CPU under load): the app limits BLAS and OpenMP to
    the calling thread once the actions, and with them numpy, are imported."""
    code = (
        "import json, numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "before = threadpool_info()\n"
        "from servers.action_server import build_app\n"
        "build_app('tests.helpers.probe_actions', 'a-token-of-some-length')\n"
        "print(json.dumps([before, threadpool_info()]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    before, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert any(pool["user_api"] == "blas" for pool in after)
    assert all(pool["num_threads"] == 1 for pool in after)
    if (os.cpu_count() or 1) > 1 and "OPENBLAS_NUM_THREADS" not in os.environ:
        assert any(pool["num_threads"] > 1 for pool in before)  # what the limit changes

"""Metrics summed over processes (multiprocess mode) with the launcher's view; JSON logs stay masked."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from prometheus_client import generate_latest

from civil_affairs.config import PROJECT_ROOT
from civil_affairs.ops.logs import JsonFormatter
from civil_affairs.ops.metrics import machine_registry
from civil_affairs.ops.supervisor_status import (
    ProcessStatus,
    SupervisorStatus,
    write_status,
)

COUNT = (
    "from civil_affairs.ops import metrics; "
    "metrics.MESSAGES.labels(channel='web', outcome='answered').inc({n}); "
    "metrics.MESSAGE_SECONDS.labels(channel='web').observe(0.08)"
)


def test_counters_of_several_processes_and_restarts_are_exposed_together(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(PROJECT_ROOT)}
    for n in (2, 3):  # two console workers
        subprocess.run([sys.executable, "-c", COUNT.format(n=n)], env=env, check=True)
    status = tmp_path / "supervisor.json"
    write_status(
        status,
        SupervisorStatus(
            launcher_pid=1,
            updated_at=time.time(),
            processes=[
                ProcessStatus(name="rasa-1", role="rasa", state="running", restarts=2),
                ProcessStatus(name="bot", role="bot", state="backoff", restarts=1),
            ],
        ),
    )
    text = generate_latest(machine_registry(directory, status)).decode()
    assert 'civil_affairs_messages_total{channel="web",outcome="answered"} 5.0' in text
    assert 'civil_affairs_message_seconds_count{channel="web"} 2.0' in text
    assert 'civil_affairs_process_restarts_total{process="rasa-1"} 2.0' in text
    assert 'civil_affairs_process_up{process="bot"} 0.0' in text


def test_json_log_lines_mask_personal_numbers_in_messages_and_tracebacks() -> None:
    formatter = JsonFormatter("console-2")
    try:
        raise ValueError("bad id 110105194912310021")
    except ValueError:
        record = logging.LogRecord(
            "civil_affairs.x", logging.ERROR, __file__, 1, "call from %s", ("13812345678",), sys.exc_info()
        )
    line = json.loads(formatter.format(record))
    assert line["process"] == "console-2" and line["level"] == "ERROR"
    assert line["message"] == "call from 138****5678"
    assert "110***********0021" in line["exception"] and "110105194912310021" not in line["exception"]

"""`make bench-load --quick` runs the whole service under load and reports what it measured.

Behaviour, not speed: the report and the plot are written, every path at every load has numbers,
every conversation (greeting, question, booking, status lookup) got its answers, and the memory of
each process is there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from civil_affairs.config import PROJECT_ROOT
from civil_affairs.rasa_model import ensure_model

pytestmark = pytest.mark.model


def test_quick_bench_writes_a_report_with_every_figure(tmp_path: Path) -> None:
    model = ensure_model(PROJECT_ROOT / "models")
    done = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "scripts" / "bench_load.py"),
            "--quick",
            "--model",
            str(model),
            "--output-dir",
            str(tmp_path),
        ],
        check=False,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    report = json.loads((tmp_path / "bench-load.json").read_text(encoding="utf-8"))
    png = (tmp_path / "bench-load.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000

    runs = {(r["path"], r["concurrency"]): r for r in report["runs"]}
    assert set(runs) == {(path, n) for path in ("rest", "web", "telegram") for n in (1, 2)}
    steps = report["conversation_steps"]
    for (_path, concurrency), run in runs.items():
        assert run["topology"] == "default"
        assert run["conversations"] == concurrency
        # Every step of every conversation was sent and answered (buttons found, nothing busy).
        assert run["turns"] == steps * concurrency, run
        assert run["errors"] == 0, run
        assert run["messages_per_second"] > 0
        assert 0 < run["p50_ms"] <= run["p95_ms"] <= run["p99_ms"]
    assert {r["path"] for r in report["ratios"]} == {"web", "telegram"}
    memory = report["memory"]["default"]
    assert {"rasa", "actions", "console", "bot"} <= set(memory)
    assert all(memory[name]["rss_mb"] > 0 for name in ("rasa", "actions", "console", "bot"))
    assert len(report["growth"]["default"]["median_ms_per_block"]) == 4
    assert "[default] web" in done.stdout and "msg/s" in done.stdout

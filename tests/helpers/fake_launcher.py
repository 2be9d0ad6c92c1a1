"""The real launcher (launcher.__main__.run) over stand-ins: ``python -m tests.helpers.fake_launcher``.

Used by the launcher tests (and by ``make run LAUNCHER=tests.helpers.fake_launcher``) to check
signals, restarts and ``kill -9`` without Rasa. ``DATA_DIR`` says where logs, the status file and
``events.log`` (what the stand-ins noted) go; ``FAKE_PORT_BASE`` gives four free consecutive ports.
"""

from __future__ import annotations

import os
import sys

from civil_affairs.config import Settings
from launcher.__main__ import run
from launcher.processes import LISTEN_FD, ProcessSpec, base_env
from launcher.supervisor import RestartPolicy

FAKE = [sys.executable, "-m", "tests.helpers.fake_service"]


def specs(settings: Settings, base_port: int) -> list[ProcessSpec]:
    """Stand-ins for actions, Rasa, a console worker and the bot, as the real launcher starts them."""
    events = str(settings.data_dir / "events.log")
    env = base_env(settings)

    def spec(name: str, role: str, port: int, *extra: str, heartbeat_file: str = "") -> ProcessSpec:
        argv = [*FAKE, "--name", name, "--events", events, *extra]
        if port:
            argv += ["--port", str(port)]
        return ProcessSpec(
            name=name,
            role=role,
            argv=argv,
            env={**env, "PROCESS_NAME": name},
            ready_url=f"http://127.0.0.1:{port}/health" if port else "",
            ready_timeout=20,
            heartbeat_file=heartbeat_file,
        )

    heartbeat = settings.data_dir / "run" / "bot.heartbeat"
    return [
        spec("actions", "actions", base_port, "--term-delay", "0.2"),
        spec("rasa", "rasa", base_port + 1, "--term-delay", "0.5", "--spawn-child"),
        ProcessSpec(
            name="console",
            role="console",
            argv=[*FAKE, "--name", "console", "--events", events, "--fd", LISTEN_FD, "--term-delay", "1.0"],
            env={**env, "PROCESS_NAME": "console"},
            ready_url=f"http://127.0.0.1:{base_port + 2}/",
            ready_timeout=20,
            listen=("127.0.0.1", base_port + 2),
        ),
        spec("bot", "bot", 0, "--heartbeat", str(heartbeat), "--term-delay", "0.3", heartbeat_file=str(heartbeat)),
    ]


def main() -> int:
    settings = Settings.from_env()
    policy = RestartPolicy(
        backoff_initial=0.2, backoff_max=1.0, health_interval=0.5, health_max_failures=2, stop_grace=5.0
    )
    return run(settings, specs(settings, int(os.environ["FAKE_PORT_BASE"])), policy)


if __name__ == "__main__":
    sys.exit(main())

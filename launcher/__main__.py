"""`make run`: migrate, seed, train if needed, then start and watch every process of the service."""

from __future__ import annotations

import signal
import sys
import time

from civil_affairs.config import Settings
from civil_affairs.rasa_model import ensure_model
from civil_affairs.setup_db import prepare_database
from launcher.processes import all_processes
from launcher.supervisor import ProcessFailed, Running, first_exited, start, stop_all, tail, wait_ready


class _Stop(Exception):
    """Raised by the signal handler to leave the watch loop."""


def _on_signal(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def prepare(settings: Settings):  # type: ignore[no-untyped-def]
    """Database up to date and seeded, model trained for the current data."""
    print("==> applying database migrations and seed data")
    report = prepare_database(settings.database_url)
    print(f"    FAQ seed: {report.created} new entries")
    print("==> checking the Rasa model (trains only when training data or config changed)")
    return ensure_model(settings.model_dir)


def main() -> int:
    settings = Settings.from_env()
    model = prepare(settings)
    print(f"    model: {model.name}")
    log_dir = settings.data_dir / "logs"
    running: list[Running] = []
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        for spec in all_processes(settings, model):
            print(f"==> starting {spec.name} (log: {log_dir / (spec.name + '.log')})")
            proc = start(spec, log_dir)
            running.append(proc)
            wait_ready(proc, running)
        if not settings.telegram_bot_token:
            print("    TELEGRAM_BOT_TOKEN is not set: the Telegram bot is not started (web chat only)")
        print(f"\n民政便民服务机器人 is running. Open the web chat: {settings.public_base_url}/chat")
        print("Press Ctrl-C to stop everything.\n", flush=True)
        while True:
            dead = first_exited(running)
            if dead:
                print(f"\nERROR: {dead.spec.name} exited with code {dead.popen.returncode}; "
                      f"stopping the service. Last lines of {dead.log_path}:\n{tail(dead.log_path)}",
                      file=sys.stderr)
                return 1
            time.sleep(1)
    except ProcessFailed as exc:
        print(f"\nERROR: {exc}", file=sys.stderr)
        return 1
    except _Stop as exc:
        print(f"\nreceived {exc}; stopping…")
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_all(running)
        print("all processes stopped.")


if __name__ == "__main__":
    sys.exit(main())

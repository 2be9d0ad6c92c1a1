"""`make run`: migrate, seed, train if needed, then start, watch and restart every process of the service."""

from __future__ import annotations

import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from prometheus_client import start_http_server
from sqlalchemy import text

from civil_affairs.config import ConfigError, Settings
from civil_affairs.db import make_engine
from civil_affairs.ops.metrics import machine_registry
from civil_affairs.ops.run_files import metrics_dir, rasa_token_path, rest_token_path, status_path, write_private
from civil_affairs.privacy import install_record_masking, quiet_url_loggers
from civil_affairs.rasa_model import ensure_model
from civil_affairs.setup_db import prepare_database
from launcher.children import ProcessFailed
from launcher.processes import ProcessSpec, all_processes, with_service_tokens
from launcher.supervisor import RestartPolicy, Supervisor

# Any number that other programs sharing the PostgreSQL server are unlikely to pick.
MIGRATION_LOCK_ID = 7_011_011


class StopSignals:
    """Counts SIGINT/SIGTERM instead of raising, so no signal can interrupt the ordered stop.

    A service manager or ``make`` may send SIGTERM twice (make passes its own SIGTERM on to the
    launcher); the third signal cuts the grace periods short.
    """

    FORCE_AFTER = 3

    def __init__(self) -> None:
        self.count = 0
        self.name = ""

    def install(self) -> StopSignals:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        self.name = signal.Signals(signum).name

    @property
    def requested(self) -> bool:
        return self.count > 0

    def force(self) -> bool:
        return self.count >= self.FORCE_AFTER


@contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    """One launcher at a time migrates a shared PostgreSQL database (several machines may start at once)."""
    if not database_url.startswith("postgresql"):
        yield
        return
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
    finally:
        engine.dispose()


def prepare(settings: Settings) -> Path | None:
    """Database up to date and seeded; the model trained for the current data when Rasa runs here."""
    print("==> applying database migrations and seed data")
    with migration_lock(settings.database_url):
        report = prepare_database(settings.database_url)
    print(f"    FAQ seed: {report.created} new entries")
    if "rasa" not in settings.run_roles:
        return None
    print("==> checking the Rasa model (trains only when training data or config changed)")
    return ensure_model(settings.model_dir)


def policy_from(settings: Settings) -> RestartPolicy:
    """The restart policy the settings ask for."""
    return RestartPolicy(
        backoff_max=settings.restart_backoff_max_seconds,
        max_fast_failures=settings.restart_max_fast_failures,
        health_interval=settings.health_check_interval_seconds,
    )


def run(settings: Settings, specs: list[ProcessSpec], policy: RestartPolicy) -> int:
    """Start ``specs``, keep them serving until a stop signal, then stop them in order."""
    signals = StopSignals().install()
    log_dir = settings.data_dir / "logs"
    shutil.rmtree(metrics_dir(settings), ignore_errors=True)  # counters start again with the launcher
    metrics_dir(settings).mkdir(parents=True, exist_ok=True)
    if settings.metrics_port:
        start_http_server(
            settings.metrics_port,
            addr="127.0.0.1",
            registry=machine_registry(metrics_dir(settings), status_path(settings)),
        )
    supervisor = Supervisor(
        specs, log_dir, status_path(settings), policy, report=lambda line: print(line, file=sys.stderr, flush=True)
    )
    try:
        supervisor.start_all(
            announce=lambda spec: print(
                f"==> starting {spec.name} (log: {log_dir / (spec.name + '.log')})", flush=True
            ),
            cancelled=lambda: signals.requested,
        )
        if "bot" in settings.run_roles and not settings.telegram_bot_token:
            print("    TELEGRAM_BOT_TOKEN is not set: the Telegram bot is not started (web chat only)")
        if "console" in settings.run_roles:
            print(f"\n民政便民服务机器人 is running. Open the web chat: {settings.public_base_url}/chat")
        print("Press Ctrl-C to stop everything.\n", flush=True)
        while not signals.requested:
            supervisor.poll()
            time.sleep(0.5)
        print(f"\nreceived {signals.name}; stopping (channels first, then Rasa, then actions)…", flush=True)
        return 0
    except ProcessFailed as exc:
        if signals.requested:
            print(f"\nreceived {signals.name} while starting; stopping…", flush=True)
            return 0
        print(f"\nERROR: {exc}", file=sys.stderr)
        return 1
    finally:
        supervisor.stop_all(force=signals.force)
        print("all processes stopped.", flush=True)


def main() -> int:
    # The launcher's own readiness checks carry Rasa's token in their URLs (httpx logs URLs at INFO).
    install_record_masking()
    quiet_url_loggers()
    try:
        settings = with_service_tokens(Settings.from_env())
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    if "rasa" in settings.run_roles:
        # For scripts of the same user (make eval) that post to Rasa's REST channel and read trackers
        # through Rasa's HTTP API.
        write_private(rasa_token_path(settings), settings.rasa_auth_token)
        write_private(rest_token_path(settings), settings.rasa_rest_token)
    model = prepare(settings)
    if model is not None:
        print(f"    model: {model.name}")
    return run(settings, all_processes(settings, model), policy_from(settings))


if __name__ == "__main__":
    sys.exit(main())

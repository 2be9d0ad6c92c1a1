"""Entry point of one console worker: ``python -m console [--fd N]``.

The launcher opens the console's listening socket once and hands the same socket to every worker
(``--fd``), so ``CONSOLE_WORKERS`` processes share ``CONSOLE_HOST:CONSOLE_PORT``, the kernel spreads
connections over them, and a worker that is restarted never leaves the port closed. Without
``--fd`` the worker binds the address itself.
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn

from civil_affairs.config import ConfigError, Settings
from civil_affairs.ops.logs import configure_logging

# In-flight requests (a resident's message waits for Rasa) get this long after SIGTERM.
GRACEFUL_SHUTDOWN_SECONDS = 20


def main(argv: list[str] | None = None) -> None:
    """Serve the console until SIGTERM/SIGINT, finishing the requests in flight."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fd", type=int, default=None, help="listening socket handed over by the launcher")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        sys.exit(f"配置错误 / configuration error: {exc}")
    configure_logging(settings)
    config = uvicorn.Config(
        "console.app:app_factory",
        factory=True,
        host=settings.console_host,
        port=settings.console_port,
        access_log=False,
        log_config=None,
        # forwarded headers are judged by the app (TRUSTED_PROXIES), not by uvicorn
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    sockets = [socket.socket(fileno=args.fd)] if args.fd is not None else None
    uvicorn.Server(config).run(sockets=sockets)


if __name__ == "__main__":
    main()

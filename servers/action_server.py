"""``python -m servers.action_server``: rasa-sdk's action server, bound to loopback, requiring Rasa's token.

rasa-sdk's own command line listens on 0.0.0.0 and runs any action for anyone who can reach it,
trusting the tracker in the request; a forged ``POST /webhook`` could then act in any resident's
name. This entry module serves the same app with these changes:

- it listens on ``--host`` (``ACTION_HOST``, default 127.0.0.1);
- every request except ``GET /health`` must carry ``X-Action-Token: $ACTION_SERVER_TOKEN``
  (Rasa sends it through ``endpoints.yml``), else 401;
- a failing action answers 500 with the action's name only. rasa-sdk's handler echoes the whole
  request (the tracker, with the resident's messages) back to Rasa, which logs it;
- actions run on worker threads (``servers.action_threads``), so one action's database wait does not
  hold up the others;
- BLAS and OpenMP run on the calling thread only (``single_threaded_blas``). The FAQ ranker's
  vector-matrix products go through numpy's OpenBLAS, which by default hands them to a worker thread
  per core; that worker then spins (``sched_yield`` in a loop) for a while after each product before
  it sleeps: 10-22% of an action server's CPU under the benchmark. Replaying the benchmark's action
  calls one at a time 20 ms apart: 5.98 → 3.97 ms of CPU per call (README "Performance", item 17).
  One small product per question gains nothing from a second thread.

Logging is the service's (``LOG_FORMAT``, masked).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from civil_affairs.config import ConfigError, Settings
from civil_affairs.ops.logs import configure_logging
from civil_affairs.tokens import tokens_match

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Action-Token"
# Paths served without the token: the launcher's liveness checks.
OPEN_PATHS = frozenset({"/health"})


def single_threaded_blas() -> None:
    """Limit every BLAS and OpenMP library loaded so far to the calling thread (for good)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def build_app(actions_package: str, token: str) -> Any:
    """rasa-sdk's Sanic app for ``actions_package`` with the token check and a quiet error handler."""
    if not token:
        raise ValueError("ACTION_SERVER_TOKEN is empty: the action server would run actions for anyone")
    from rasa_sdk.endpoint import create_app
    from sanic import response

    from servers import action_threads

    action_threads.install()
    app = create_app(actions_package, cors_origins="")  # imports the actions, and with them numpy
    single_threaded_blas()

    @app.middleware("request")
    async def require_token(request: Any) -> Any:
        """Refuse every call without Rasa's token (before the body is parsed)."""
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        if not tokens_match(token, request.headers.get(TOKEN_HEADER)):
            logger.warning("refused %s %s without a valid %s", request.method, request.path, TOKEN_HEADER)
            return response.json({"error": "unauthorized"}, status=401)
        return None

    async def action_failed(request: Any, exception: Exception) -> Any:
        """Log the failure (masked) and answer without echoing the request."""
        action_name = None
        try:
            body = request.json
            action_name = body.get("next_action") if isinstance(body, dict) else None
        except Exception:  # an unreadable body is what failed
            pass
        logger.error("action %s failed: %s", action_name, type(exception).__name__, exc_info=exception)
        return response.json({"error": "action failed", "action_name": action_name}, status=500)

    # Replaces rasa-sdk's handler for Exception (the one that echoes the request body).
    app.error_handler.add(Exception, action_failed)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the actions until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default="actions", help="package of the actions")
    parser.add_argument("--port", type=int, default=None, help="default: ACTION_PORT")
    parser.add_argument("--host", default=None, help="default: ACTION_HOST (127.0.0.1)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        sys.exit(f"配置错误 / configuration error: {exc}")
    if not settings.action_server_token:
        sys.exit(
            "ACTION_SERVER_TOKEN is not set: the action server refuses to run actions for anyone "
            "(the launcher sets it; set it yourself when starting the server by hand)"
        )
    configure_logging(settings)
    from rasa_sdk import utils as sdk_utils

    sdk_utils.update_sanic_log_level()
    host = args.host or settings.action_host
    port = args.port or settings.action_port
    app = build_app(args.actions, settings.action_server_token)
    logger.info("action server on %s:%s (calls need %s)", host, port, TOKEN_HEADER)
    app.run(host=host, port=port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()

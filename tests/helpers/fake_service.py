"""A stand-in for one service process in launcher tests: ``python -m tests.helpers.fake_service``.

It answers every GET with 200 (so any ready or health URL works), or writes a heartbeat file like
the bot; on SIGTERM it notes the time in an events file, takes ``--term-delay`` seconds (a message
in flight), notes its exit and exits. ``--exit-after`` makes it die by itself; ``--hang-after``
makes it stop answering (and stop its heartbeat) while staying alive.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import http.server
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path
from types import FrameType


def note(events: Path | None, name: str, what: str) -> None:
    """Append one line ``<time> <name> <what>`` to the events file."""
    if events is not None:
        with events.open("a", encoding="utf-8") as out:
            out.write(f"{time.time():.3f} {name} {what}\n")


class Answer(http.server.BaseHTTPRequestHandler):
    """200 with a tiny JSON body for any GET, unless the service hangs."""

    hung = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        if self.hung.is_set():
            time.sleep(3600)
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fd", type=int, default=None, help="a listening socket handed over")
    parser.add_argument("--events", type=Path, default=None)
    parser.add_argument("--heartbeat", type=Path, default=None)
    parser.add_argument("--term-delay", type=float, default=0.0)
    parser.add_argument("--exit-after", type=float, default=None)
    parser.add_argument("--exit-code", type=int, default=3)
    parser.add_argument("--hang-after", type=float, default=None)
    parser.add_argument("--spawn-child", action="store_true", help="start a grandchild that sleeps")
    args = parser.parse_args()
    note(args.events, args.name, f"start {os.getpid()}")
    if args.spawn_child:
        pid = os.fork()
        if pid == 0:
            # A well-behaved service makes its own workers die with it, as the launcher does for it.
            ctypes.CDLL(ctypes.util.find_library("c")).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            note(args.events, args.name, f"grandchild {os.getpid()}")
            time.sleep(3600)
            os._exit(0)

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        note(args.events, args.name, "term")
        time.sleep(args.term_delay)
        note(args.events, args.name, "exit")
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    server: http.server.HTTPServer | None = None
    if args.fd is not None:
        server = http.server.HTTPServer(("127.0.0.1", 0), Answer, bind_and_activate=False)
        server.socket = socket.socket(fileno=args.fd)
    elif args.port:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Answer)
    if server is not None:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        if args.exit_after is not None and elapsed >= args.exit_after:
            note(args.events, args.name, "crash")
            os._exit(args.exit_code)
        if args.hang_after is not None and elapsed >= args.hang_after:
            Answer.hung.set()
        if args.heartbeat is not None and not Answer.hung.is_set():
            tmp = args.heartbeat.with_suffix(".tmp")
            tmp.write_text(json.dumps({"pid": os.getpid(), "at": time.time(), "ready": True}))
            os.replace(tmp, args.heartbeat)
        time.sleep(0.1)


if __name__ == "__main__":
    main()

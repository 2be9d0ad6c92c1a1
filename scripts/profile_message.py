"""Where the time of one resident message goes: a breakdown by component, measured in-process.

Rasa's agent is loaded here (with ``servers.rasa_fixes``'s fixes, as the launcher runs it; not
with ``--rasa-as-is``) with the service's own tracker store on a private, seeded SQLite
database, and calls the real action server (started as the launcher starts it). Timers wrap the
parts of Rasa a message passes through:

- ``nlu``: parsing the message (``MessageProcessor.parse_message``: jieba, featurisers, classifiers);
- ``tracker read`` / ``tracker write``: rebuilding the conversation from the database, appending
  its new events (``MaskingSQLTrackerStore.retrieve`` / ``save``);
- ``policies``: predicting each next action (``MessageProcessor._predict_next_with_tracker``);
- ``action call``: the HTTP call to the action server and everything the action does there
  (``RemoteAction.run``); of which the FAQ search alone is measured separately on the same data;
- ``rasa other``: the rest of ``Agent.handle_message`` (lock, slot extraction, utterances, events).

Then the part of the channels before and after Rasa (the conversation service's transcript
writes and handoff check) is timed on the same database, and one SQLite transaction on a fresh
connection against a pooled one.

    PYTHONPATH=. .venv/bin/python scripts/profile_message.py [--messages 40] [--same-question 0]

``--same-question N`` sends one question N times in one conversation and prints the breakdown per
quarter of the conversation (how the cost grows, or does not, with the conversation's length).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import httpx
import yaml
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from civil_affairs.config import Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.rasa_model import ensure_model
from civil_affairs.setup_db import prepare_database
from launcher import processes
from launcher.ports import free_ports
from servers import rasa_fixes

COMPONENTS = ("nlu", "tracker read", "policies", "action call", "tracker write", "rasa other")


class Timers:
    """Time spent per component in the current message."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.messages: list[dict[str, float]] = []

    def wrap_async(self, owner: Any, name: str, component: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.current[component] += time.perf_counter() - started

        setattr(owner, name, timed)

    def wrap_sync(self, owner: Any, name: str, component: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.current[component] += time.perf_counter() - started

        setattr(owner, name, timed)

    def finish(self, total: float) -> None:
        parts = {c: self.current.get(c, 0.0) for c in COMPONENTS if c != "rasa other"}
        parts["rasa other"] = max(0.0, total - sum(parts.values()))
        parts["rasa total"] = total
        self.messages.append(parts)
        self.current = defaultdict(float)


def questions(count: int) -> list[str]:
    """Policy questions as residents ask them: the FAQ's own questions (seed/faq)."""
    found: list[str] = []
    for path in sorted((ROOT / "seed" / "faq").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = data.get("entries", data) if isinstance(data, dict) else data
        found += [str(e["question"]) for e in entries or [] if isinstance(e, dict) and e.get("question")]
    return [found[(i * 7) % len(found)] for i in range(count)]


def start_action_server(settings: Settings, env: dict[str, str], log: Path) -> subprocess.Popen:
    spec = processes.action_server(settings)
    popen = subprocess.Popen(
        spec.argv, env={**spec.env, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(spec.ready_url, timeout=2).status_code == 200:
                return popen
        except httpx.HTTPError:
            pass
        if popen.poll() is not None:
            raise RuntimeError(f"the action server exited:\n{log.read_text()[-2000:]}")
        time.sleep(0.5)
    popen.kill()
    raise RuntimeError("the action server did not start")


def median_ms(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(row[key] for row in rows) * 1000


def print_breakdown(title: str, rows: list[dict[str, float]], extra: dict[str, float]) -> None:
    total = median_ms(rows, "rasa total")
    print(f"\n{title} ({len(rows)} messages, median ms per message; load {os.getloadavg()[0]:.2f})")
    print(f"  {'component':38s} {'ms':>7s} {'share':>6s}")
    for component in COMPONENTS:
        value = median_ms(rows, component)
        print(f"  {component:38s} {value:7.1f} {value / total:6.0%}")
    print(f"  {'= Rasa handle_message (median of totals)':38s} {total:7.1f}")
    for name, value in extra.items():
        print(f"  {name:38s} {value:7.1f}")


async def profile(args: argparse.Namespace) -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.log_utils import configure_structlog

    from civil_affairs.conversations.delivery import Delivery
    from civil_affairs.conversations.rasa_client import RasaClient
    from civil_affairs.conversations.service import ConversationService
    from civil_affairs.faq.search import FaqSearcher
    from civil_affairs.ops.tracker_store import MaskingSQLTrackerStore

    # Log as `rasa run` does (INFO): at DEBUG, Rasa would also render every state of the tracker.
    logging.basicConfig(level=logging.WARNING)
    configure_structlog(logging.INFO)
    if not args.rasa_as_is:
        rasa_fixes.install()  # as the launcher starts Rasa
    model = args.model or ensure_model(Settings.from_env().model_dir)
    tmp = Path(tempfile.mkdtemp(prefix="profile-message-"))
    database_url = f"sqlite:///{tmp / 'profile.db'}"
    prepare_database(database_url)
    action_port = args.port or free_ports(1)
    env = {
        "APP_ENV": "test",
        "DATA_DIR": str(tmp / "data"),
        "DATABASE_URL": database_url,
        "ACTION_PORT": str(action_port),
    }
    settings = processes.with_service_tokens(Settings.from_env(env, dotenv=None))
    actions = start_action_server(settings, env, tmp / "actions.log")
    try:
        timers = Timers()
        timers.wrap_async(MessageProcessor, "parse_message", "nlu")
        timers.wrap_sync(MessageProcessor, "_predict_next_with_tracker", "policies")
        timers.wrap_async(RemoteAction, "run", "action call")
        timers.wrap_async(MaskingSQLTrackerStore, "retrieve", "tracker read")
        timers.wrap_async(MaskingSQLTrackerStore, "save", "tracker write")
        store = MaskingSQLTrackerStore(domain=None, url=database_url)
        agent = Agent.load(
            str(model),
            tracker_store=store,
            action_endpoint=EndpointConfig(
                f"http://127.0.0.1:{action_port}/webhook", headers={"X-Action-Token": settings.action_server_token}
            ),
        )
        if args.same_question:
            texts = [questions(1)[0]] * args.same_question
        else:
            texts = questions(args.messages)
        sender = f"profile-{os.getpid()}"
        for warm in questions(3):  # load lazily built parts (jieba, the FAQ index) outside the figures
            await agent.handle_text(warm, sender_id=f"{sender}-warm")
        for message in texts:
            started = time.perf_counter()
            await agent.handle_text(message, sender_id=sender)
            timers.finish(time.perf_counter() - started)

        # The FAQ search alone, in this process, on the same database and questions.
        engine = make_engine(database_url)
        sessions = make_session_factory(engine)
        searcher = FaqSearcher()
        search_ms = []
        for message in texts:
            started = time.perf_counter()
            with sessions.begin() as session:
                searcher.search(session, message)
            search_ms.append((time.perf_counter() - started) * 1000)

        # The conversation service's own work around Rasa: transcript, handoff check, answers.
        service = ConversationService(
            settings,
            sessions,
            RasaClient("http://127.0.0.1:9", 1.0, rest_token="never-sent"),
            Delivery(settings, sessions),
        )
        channel_ms = []
        for message in texts:
            started = time.perf_counter()
            _outcome, _handoff, conversation_id = service._before_bot("web-profile", message)
            channel_ms.append((time.perf_counter() - started) * 1000)
            from civil_affairs.conversations.rasa_client import RasaMessage

            started = time.perf_counter()
            await service._say("web-profile", [RasaMessage(text="答复" * 40)], conversation_id)
            channel_ms[-1] += (time.perf_counter() - started) * 1000
        await service.rasa.aclose()
        await service.delivery.aclose()

        # One small transaction on a new SQLite connection (SQLAlchemy 1.4's default) and a pooled one.
        transaction_ms = {}
        for name, kwargs in (("new connection", {"poolclass": NullPool}), ("pooled", {})):
            probe = make_engine(database_url, **kwargs)
            factory = make_session_factory(probe)
            for _ in range(10):
                with factory.begin() as session:
                    session.execute(text("select 1"))
            started = time.perf_counter()
            for _ in range(200):
                with factory.begin() as session:
                    session.execute(text("select 1"))
            transaction_ms[name] = (time.perf_counter() - started) / 200 * 1000
            probe.dispose()
        engine.dispose()

        extra = {
            "  of the action call: FAQ search alone": statistics.median(search_ms),
            "channel: transcript + handoff check": statistics.median(channel_ms),
            "SQLite transaction, new connection": transaction_ms["new connection"],
            "SQLite transaction, pooled": transaction_ms["pooled"],
        }
        rows = timers.messages
        print(
            f"model {model.name}, {len(rows)} messages in one conversation"
            + (", Rasa as installed (no servers.rasa_fixes fixes)" if args.rasa_as_is else "")
        )
        print_breakdown("all messages", rows, extra)
        if args.same_question:
            quarter = max(1, len(rows) // 4)
            for i in range(0, len(rows), quarter):
                block = rows[i : i + quarter]
                parts = "  ".join(f"{c} {median_ms(block, c):.1f}" for c in COMPONENTS)
                print(
                    f"  turns {i + 1:3d}-{i + len(block):3d}: total {median_ms(block, 'rasa total'):6.1f} ms | {parts}"
                )
    finally:
        actions.terminate()
        try:
            actions.wait(timeout=20)
        except subprocess.TimeoutExpired:
            actions.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Breakdown of the time of one resident message.")
    parser.add_argument("--messages", type=int, default=40, help="policy questions in one conversation")
    parser.add_argument(
        "--same-question",
        type=int,
        default=0,
        help="instead, one question this many times (growth with the conversation)",
    )
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument(
        "--rasa-as-is", action="store_true", help="without servers.rasa_fixes's fixes (to see what they save)"
    )
    parser.add_argument("--port", type=int, default=0, help="the action server's port (default: a free one)")
    args = parser.parse_args(argv)
    asyncio.run(profile(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

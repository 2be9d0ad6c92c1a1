"""CPU of the console's web chat path per message, in one process, with a stub Rasa.

Drives ``POST /api/chat`` of the real console app (ASGI, no sockets) on a fresh SQLite database
(or ``--database-url``), Rasa replaced by a stub that answers at once; reports the process's CPU
(all threads: the event loop and the ``asyncio.to_thread`` database work) per message, and the
database statements and transactions per message. Run it on two checkouts alternately to compare::

    PYTHONPATH=. .venv/bin/python scripts/bench_webchat_db.py --rounds 5 --messages 400

``--compare`` alternates, in the same process, rounds with the database work as it was before
README item 18 (two ORM transactions, the conversation looked up in each) and as it is now.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import event

from civil_affairs.config import Settings
from civil_affairs.conversations import service as service_module
from civil_affairs.conversations.handoff import active_handoff, escalate, rate_last_resolved
from civil_affairs.conversations.rasa_client import RasaMessage
from civil_affairs.conversations.service import ConversationService, parse_rating
from civil_affairs.conversations.transcripts import record_lines, stored_line
from civil_affairs.models.conversation import PRIORITY_EMERGENCY
from civil_affairs.setup_db import prepare_database
from console.app import create_app

QUESTIONS = ["你好", "结婚登记要带什么", "身份证 110105194912310021 电话 13912345678 低保怎么申请", "那离婚呢？"]


def old_before_bot(self: ConversationService, sender_id: str, text: str) -> tuple[str, int | None, None]:
    """``_before_bot`` before item 18 (five statements through the ORM session)."""
    with self.sessions.begin() as session:
        record_lines(sender_id, [stored_line("resident", text)], session=session)
        active = active_handoff(sender_id, session=session)
        if active is not None and service_module.looks_urgent(text):
            raised = active.priority != PRIORITY_EMERGENCY
            escalate(sender_id, "emergency", session=session, summary=text)
            return ("urgent-raised" if raised else "urgent-held"), active.id, None
        if active is None and service_module.is_self_harm(text):
            handoff, new = escalate(sender_id, "emergency", session=session, summary=text)
            return ("emergency-new" if new else "emergency"), handoff.id, None
        rating = parse_rating(text)
        if rating is not None:
            rated = rate_last_resolved(sender_id, rating, session=session)
            return ("rated" if rated else "rated-before"), None, None
        if active is not None:
            return "paused", active.id, None
        if service_module.is_sensitive(text):
            handoff, new = escalate(sender_id, "sensitive", session=session, summary=text)
            return "sensitive", handoff.id if new else None, None
    return "bot", None, None  # no conversation id: ``_say`` looks it up through the ORM, as before


NEW_BEFORE_BOT = ConversationService._before_bot


class StubRasa:
    replicas = 1

    async def send(self, sender_id: str, text: str, **_options: object) -> list[RasaMessage]:
        return [RasaMessage(text=f"回答：{text}"), RasaMessage(text="还有什么可以帮您？")]

    async def aclose(self) -> None:
        return None


async def run(database_url: str, rounds: int, messages: int, chats: int, compare: bool) -> None:
    settings = Settings.from_env(
        {
            "APP_ENV": "test",
            "DATA_DIR": str(Path(tempfile.mkdtemp()) / "data"),
            "DATABASE_URL": database_url,
            "CHAT_RATE_LIMIT": "100000/10",
            "LOG_LEVEL": "WARNING",
        },
        dotenv=None,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        app.state.conversations.rasa = StubRasa()
        engine = app.state.sessions.kw["bind"]
        counts = {"statements": 0, "transactions": 0}

        def statement(*_args: object) -> None:
            counts["statements"] += 1

        def transaction(*_args: object) -> None:
            counts["transactions"] += 1

        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "commit", transaction)
        transport = httpx.ASGITransport(app=app)
        browsers = [
            httpx.AsyncClient(transport=transport, base_url="http://test", cookies={"webchat_id": f"{n:032x}"})
            for n in range(chats)
        ]
        per_message: dict[str, list[float]] = {"before": [], "now": []}
        for round_ in range(rounds * (2 if compare else 1) + 1):
            code = "before" if compare and round_ % 2 else "now"
            ConversationService._before_bot = old_before_bot if code == "before" else NEW_BEFORE_BOT  # type: ignore[method-assign,assignment]
            counts.update(statements=0, transactions=0)
            cpu = time.process_time()
            for i in range(messages):
                response = await browsers[i % chats].post("/api/chat", json={"message": QUESTIONS[i % len(QUESTIONS)]})
                assert response.status_code == 200, response.text
            spent = (time.process_time() - cpu) / messages * 1000
            if round_:  # the first round warms up
                per_message[code].append(spent)
            print(
                f"round {round_} ({code}): {spent:.3f} ms CPU/msg, "
                f"{counts['statements'] / messages:.2f} statements/msg, "
                f"{counts['transactions'] / messages:.2f} commits/msg{' (warm-up)' if not round_ else ''}"
            )
        for code, spent_per_message in per_message.items():
            if spent_per_message:
                print(
                    f"{code}: median {statistics.median(spent_per_message):.3f} ms CPU/msg "
                    f"over {rounds} rounds of {messages}"
                )
        for browser in browsers:
            await browser.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a migrated database (default: a fresh SQLite file)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--compare", action="store_true", help="alternate rounds of the code before item 18")
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
        prepare_database(url)
    asyncio.run(run(url, args.rounds, args.messages, args.chats, args.compare))


if __name__ == "__main__":
    main()

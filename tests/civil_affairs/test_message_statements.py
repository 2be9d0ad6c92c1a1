"""The database work of one resident message (README "Performance", item 18).

A message answered by the bot costs two transactions (the resident's line before Rasa, so it is
kept when Rasa fails; the answers after) and five statements: the conversation touched, looked up
with its active handoff in one SELECT, the resident's line added; then the answers added and the
conversation touched, by the id the first transaction found. Before it was seven, through the ORM
session (the conversation looked up in each transaction, the handoff in a statement of its own).
Run on SQLite and, when reachable, PostgreSQL (the outer join's ordering differs in NULL placement).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from civil_affairs.conversations.delivery import Delivery
from civil_affairs.conversations.handoff import active_handoff, escalate
from civil_affairs.conversations.rasa_client import RasaUnavailable
from civil_affairs.conversations.service import ConversationService
from civil_affairs.conversations.transcripts import web_sender_id
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import Conversation, ConversationMessage, Handoff
from civil_affairs.models.conversation import PRIORITY_EMERGENCY
from tests.civil_affairs.test_conversation_safety import FakeRasa
from tests.conftest import (
    POSTGRES_URL,
    drop_postgres_database,
    fresh_postgres_database,
    make_settings,
    postgres_reachable,
)

SENDER = web_sender_id("f" * 32)
ID_NUMBER = "110105194912310021"
PHONE = "13912345678"


class Counter:
    """Statements sent and transactions committed on an engine."""

    def __init__(self, engine: Engine) -> None:
        self.statements: list[str] = []
        self.commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.statements.append(statement.split()[0].upper())

    def _commit(self, _conn: object) -> None:
        self.commits += 1

    def reset(self) -> None:
        self.statements.clear()
        self.commits = 0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, fresh_database_url: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield fresh_database_url
        return
    if not postgres_reachable():
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    url = fresh_postgres_database(f"statements_{request.node.name[-40:].replace('[', '_').replace(']', '')}")
    yield url
    drop_postgres_database(url)


@pytest_asyncio.fixture
async def service(database: str, tmp_path: Path) -> AsyncIterator[ConversationService]:
    settings = make_settings(tmp_path, DATABASE_URL=database)
    engine = make_engine(database)
    sessions = make_session_factory(engine)
    service = ConversationService(settings, sessions, FakeRasa(), Delivery(settings, sessions))
    service.alerts = []  # type: ignore[attr-defined]

    async def to_staff_chat(text: str, link: str) -> bool:
        service.alerts.append(text)  # type: ignore[attr-defined]
        return True

    service.delivery.to_staff_chat = to_staff_chat  # type: ignore[method-assign]
    yield service
    await service.aclose()
    engine.dispose()


def lines(service: ConversationService) -> list[tuple[str, str]]:
    with service.sessions() as session:
        return [
            (m.author, m.text)
            for m in session.scalars(
                select(ConversationMessage)
                .join(Conversation, Conversation.id == ConversationMessage.conversation_id)
                .where(Conversation.sender_id == SENDER)
                .order_by(ConversationMessage.id)
            )
        ]


def touched_at(service: ConversationService):  # type: ignore[no-untyped-def]
    with service.sessions() as session:
        return session.scalars(select(Conversation.last_message_at).where(Conversation.sender_id == SENDER)).one()


async def test_an_answered_message_costs_two_transactions_and_five_statements(service: ConversationService) -> None:
    counter = Counter(service.sessions.kw["bind"])
    await service.send(SENDER, "你好")  # first contact opens the conversation (more statements, once)
    first_touch = touched_at(service)
    counter.reset()
    answers = await service.send(SENDER, f"身份证 {ID_NUMBER} 电话 {PHONE} 低保怎么申请")
    assert [a.text for a in answers] == [f"回答：身份证 {ID_NUMBER} 电话 {PHONE} 低保怎么申请"]
    assert counter.commits == 2  # the resident's line is committed before Rasa is asked
    assert counter.statements == ["UPDATE", "SELECT", "INSERT", "INSERT", "UPDATE"]  # before: 7, two more SELECTs
    stored = lines(service)
    assert [author for author, _ in stored] == ["resident", "bot", "resident", "bot"]
    assert all(ID_NUMBER not in text and PHONE not in text for _, text in stored)  # masked as before
    assert "低保怎么申请" in stored[2][1] and stored[2][1].startswith("身份证")
    assert touched_at(service) >= first_touch


async def test_the_line_is_kept_when_rasa_fails(service: ConversationService) -> None:
    await service.send(SENDER, "你好")
    service.rasa.failure = RasaUnavailable("down")  # type: ignore[attr-defined]
    with pytest.raises(RasaUnavailable):
        await service.send(SENDER, "结婚登记要带什么")
    assert lines(service)[-1] == ("resident", "结婚登记要带什么")


async def test_the_handoff_staff_open_or_resolve_is_seen_by_the_next_message(service: ConversationService) -> None:
    await service.send(SENDER, "你好")
    with service.sessions.begin() as session:  # an earlier handoff, resolved, must not pause the bot
        old, _ = escalate(SENDER, "requested", session=session)
        old.status = "resolved"
    assert await service.send(SENDER, "结婚登记要带什么")
    with service.sessions.begin() as session:  # staff take the conversation
        handoff, new = escalate(SENDER, "requested", session=session)
        assert new
        handoff_id = handoff.id
    counter = Counter(service.sessions.kw["bind"])
    assert await service.send(SENDER, "还在吗") == []  # paused: kept for staff
    assert counter.commits == 1 and counter.statements == ["UPDATE", "SELECT", "INSERT"]
    assert await service.send(SENDER, "我不想活了") != []  # danger words: the open handoff is raised
    with service.sessions() as session:
        raised = session.get(Handoff, handoff_id)
        assert raised is not None and raised.priority == PRIORITY_EMERGENCY
    assert service.alerts and len(service.alerts) == 1  # type: ignore[attr-defined]
    with service.sessions.begin() as session:  # staff resolve it: the bot answers again
        active = active_handoff(SENDER, session=session)
        assert active is not None and active.id == handoff_id
        active.status = "resolved"
    assert [a.text for a in await service.send(SENDER, "低保怎么申请")] == ["回答：低保怎么申请"]
    assert [author for author, _ in lines(service)][-3:] == ["bot", "resident", "bot"]

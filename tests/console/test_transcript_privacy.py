"""Staff reads of transcripts (issue 9 items 8 and 9).

Item 8: ``GET /api/staff/handoffs/{id}?after=1`` returned a whole transcript without an audit record.
Item 9: the conversation search ran ``LIKE '%q%'`` on ``sender_id``, so an agent could recover a web
visitor's cookie (or a Telegram chat id) character by character; web sender ids were the cookie.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from civil_affairs.conversations.transcripts import record_message, web_sender_id
from civil_affairs.db import make_engine
from civil_affairs.models import AuditLog, Conversation, ConversationMessage, TrackerEvent
from civil_affairs.setup_db import alembic_config
from console.app import create_app
from tests.conftest import make_settings
from tests.console.conftest import api_login
from tests.console.test_handoffs import FakeRasa, open_handoff


def _views(factory: sessionmaker, handoff_id: int) -> list[tuple[int, str]]:
    with factory.begin() as session:
        return [
            (row.staff_user_id, row.detail)
            for row in session.scalars(
                select(AuditLog)
                .where(AuditLog.action == "handoff.view", AuditLog.target_id == str(handoff_id))
                .order_by(AuditLog.id)
            )
        ]


# --- item 8 ---------------------------------------------------------------------------------------------


def test_reading_with_after_but_without_a_view_is_audited(
    client: TestClient, factory: sessionmaker, agent: str
) -> None:
    handoff_id = open_handoff(factory, "tg-5005")
    response = client.get(f"/api/staff/handoffs/{handoff_id}", params={"after": 1})
    assert response.status_code == 200 and len(response.json()["messages"]) >= 3
    [(who, detail)] = _views(factory, handoff_id)
    assert who is not None and "after=1" in detail


def test_the_page_polling_after_an_audited_view_is_not_audited_again(
    client: TestClient, factory: sessionmaker, agent: str
) -> None:
    handoff_id = open_handoff(factory, "tg-5006")
    full = client.get(f"/api/staff/handoffs/{handoff_id}").json()
    assert len(_views(factory, handoff_id)) == 1
    with factory.begin() as session:
        record_message("tg-5006", "resident", "还在吗", session=session)
    for _ in range(3):
        polled = client.get(f"/api/staff/handoffs/{handoff_id}", params={"after": full["last_id"]}).json()
    assert [m["text"] for m in polled["messages"]] == ["还在吗"]
    assert len(_views(factory, handoff_id)) == 1


def test_another_agents_polling_is_audited_under_their_own_name(
    client: TestClient, factory: sessionmaker, make_staff, agent: str
) -> None:  # noqa: ANN001
    handoff_id = open_handoff(factory, "tg-5007")
    client.get(f"/api/staff/handoffs/{handoff_id}")  # agent1 viewed it
    other = TestClient(client.app)
    make_staff("agent2")
    api_login(other, "agent2")
    other.get(f"/api/staff/handoffs/{handoff_id}", params={"after": 1})
    assert len({who for who, _ in _views(factory, handoff_id)}) == 2


# --- item 9: search ----------------------------------------------------------------------------------------


def test_search_never_matches_sender_ids(client: TestClient, factory: sessionmaker, agent: str) -> None:
    with factory.begin() as session:
        record_message("tg-987654321", "resident", "你好", session=session)
        record_message(web_sender_id("f00dcafe" * 4), "resident", "你好", session=session)
    for probe in ("9876", "tg-", "web-", "f00d", web_sender_id("f00dcafe" * 4)[4:12]):
        found = client.get("/api/staff/conversations", params={"q": probe}).json()["conversations"]
        assert found == [], probe
    assert len(client.get("/api/staff/conversations", params={"q": "你好"}).json()["conversations"]) == 2


def test_wildcards_in_a_search_match_only_themselves(client: TestClient, factory: sessionmaker, agent: str) -> None:
    with factory.begin() as session:
        record_message("tg-1", "resident", "低保标准提高了5%吗", session=session)
        record_message("tg-2", "resident", "file_name 是什么", session=session)
        record_message("tg-3", "resident", "反斜杠 a\\b", session=session)
        record_message("tg-4", "resident", "普通问题", session=session)

    def count(q: str) -> int:
        return len(client.get("/api/staff/conversations", params={"q": q}).json()["conversations"])

    assert count("%") == 1 and count("_") == 1 and count("5%") == 1 and count("\\") == 1
    assert count("%%") == 0 and count("name_") == 0 and count("普_问题") == 0


# --- item 9: web sender ids ---------------------------------------------------------------------------------


def test_the_cookie_is_stored_nowhere(
    client: TestClient, factory: sessionmaker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.app.state.conversations.rasa = FakeRasa()
    resident = TestClient(client.app)
    assert resident.post("/api/chat", json={"message": "低保怎么申请"}).status_code == 200
    assert resident.post("/api/chat", json={"message": "转人工 我要投诉"}).status_code == 200
    assert resident.get("/api/chat/updates", params={"after": 0}).status_code == 200
    cookie = resident.cookies.get("webchat_id")
    assert cookie and len(cookie) == 32
    with factory.begin() as session:
        senders = list(session.scalars(select(Conversation.sender_id)))
        texts = list(session.scalars(select(ConversationMessage.text)))
    assert senders == [web_sender_id(cookie)]
    assert all(cookie not in value for value in senders + texts)
    assert client.app.state.conversations.rasa.received[0][0] == web_sender_id(cookie)
    assert all(cookie not in record.getMessage() for record in caplog.records)  # nor in any log line


def test_existing_web_conversations_keep_working_after_the_migration(
    tmp_path: Path, seeded_sqlite_template: Path
) -> None:
    """A database at 0007 with ``web-<cookie>`` rows: after the upgrade the same cookie finds its chat."""
    path = tmp_path / "data" / "test.db"
    path.parent.mkdir(parents=True)
    shutil.copyfile(seeded_sqlite_template, path)
    url = f"sqlite:///{path}"
    command.downgrade(alembic_config(url), "0007_operations")
    cookie, old_sender = "0123456789abcdef" * 2, "web-" + "0123456789abcdef" * 2
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO conversation (sender_id, channel, created_at, last_message_at) "
                "VALUES (:s, 'web', '2026-11-01 10:00:00', '2026-11-01 10:00:00')"
            ),
            {"s": old_sender},
        )
        conversation_id = connection.execute(sa.text("SELECT id FROM conversation")).scalar_one()
        connection.execute(
            sa.text(
                "INSERT INTO conversation_message (conversation_id, author, text, at) "
                "VALUES (:c, 'staff', '工作人员的回复', '2026-11-01 10:01:00')"
            ),
            {"c": conversation_id},
        )
        connection.execute(
            sa.text(
                "INSERT INTO rasa_tracker_event (sender_id, type_name, timestamp, data) VALUES (:s, 'user', 1.0, '{}')"
            ),
            {"s": old_sender},
        )
        connection.execute(
            sa.text(
                "INSERT INTO conversation (sender_id, channel, created_at, last_message_at) "
                "VALUES ('tg-77', 'telegram', '2026-11-01 10:00:00', '2026-11-01 10:00:00')"
            )
        )
    command.upgrade(alembic_config(url), "head")
    with engine.begin() as connection:
        senders = set(connection.execute(sa.text("SELECT sender_id FROM conversation")).scalars())
        tracker = set(connection.execute(sa.select(TrackerEvent.sender_id)).scalars())
    engine.dispose()
    assert senders == {web_sender_id(cookie), "tg-77"} and tracker == {web_sender_id(cookie)}

    with TestClient(create_app(make_settings(tmp_path))) as app_client:
        app_client.cookies.set("webchat_id", cookie)
        updates = app_client.get("/api/chat/updates", params={"after": 0}).json()
        assert [m["text"] for m in updates["messages"]] == ["工作人员的回复"]

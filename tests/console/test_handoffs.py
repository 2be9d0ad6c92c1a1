"""The handoff queue, conversation view, search and their JSON API (console/handoffs.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from civil_affairs.config import Settings
from civil_affairs.conversations.handoff import escalate
from civil_affairs.conversations.rasa_client import RasaMessage
from civil_affairs.conversations.texts import RATING_REQUEST
from civil_affairs.conversations.transcripts import get_or_create_conversation, record_message, web_sender_id
from civil_affairs.models import AuditLog, Conversation, ConversationMessage, Handoff, HandoffNote
from console.app import create_app
from tests.conftest import make_settings
from tests.console.conftest import api_login, csrf_headers, hidden_csrf
from tests.helpers.fake_telegram import FakeTelegramServer
from tests.helpers.telegram_fixtures import TEST_TOKEN

ID_NUMBER = "110101199003071234"
PHONE = "13812345678"


class FakeRasa:
    """Stands in for Rasa's REST channel: answers every message with one line and remembers it."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []

    async def send(self, sender_id: str, text: str, **_options: object) -> list[RasaMessage]:
        self.received.append((sender_id, text))
        return [RasaMessage(text=f"机器人回答：{text}")]

    async def aclose(self) -> None:
        return None


@pytest.fixture
def rasa(client: TestClient) -> FakeRasa:
    """Replace the console's Rasa client (no trained model in these tests)."""
    fake = FakeRasa()
    client.app.state.conversations.rasa = fake
    return fake


def open_handoff(
    factory: sessionmaker,
    sender_id: str,
    reason: str = "requested",
    lines: tuple[tuple[str, str], ...] = (
        ("resident", "低保怎么申请"),
        ("bot", "需要带户口本。"),
        ("resident", "转人工"),
    ),
) -> int:
    """A conversation with some transcript, escalated; returns the handoff id."""
    with factory.begin() as session:
        for author, text in lines:
            record_message(sender_id, author, text, session=session)
        handoff, _ = escalate(sender_id, reason, session=session, summary=lines[-1][1])
        handoff_id = handoff.id
    with factory.begin() as session:
        record_message(sender_id, "bot", "已为您转接工作人员，请稍候。", session=session)
    return handoff_id


def audit_actions(factory: sessionmaker, handoff_id: int) -> list[str]:
    with factory.begin() as session:
        return list(
            session.scalars(
                select(AuditLog.action)
                .where(AuditLog.target_type == "handoff", AuditLog.target_id == str(handoff_id))
                .order_by(AuditLog.id)
            )
        )


def web_resident(client: TestClient) -> tuple[TestClient, str]:
    """A second browser on the same app: the resident's web chat (its own cookie jar)."""
    resident = TestClient(client.app)
    resident.post("/api/chat", json={"message": "你好"})
    return resident, web_sender_id(resident.cookies.get("webchat_id"))


# --- queue ------------------------------------------------------------------------------------------


def test_queue_lists_by_status_with_emergencies_first(client: TestClient, factory: sessionmaker, agent: str) -> None:
    normal = open_handoff(factory, "tg-1001", "requested")
    urgent = open_handoff(factory, "tg-1002", "emergency")
    complaint = open_handoff(factory, "web-" + "a" * 32, "complaint")

    data = client.get("/api/staff/handoffs", params={"status": "open"}).json()
    assert [h["id"] for h in data["handoffs"]] == [urgent, complaint, normal]
    first = data["handoffs"][0]
    assert first["urgent"] and first["priority"] == 1 and first["priority_label"] == "紧急"
    assert first["reason_label"] == "紧急情况" and first["channel"] == "telegram"
    assert first["last_message"] == "转人工" and first["waiting_seconds"] >= 0 and first["assigned_to"] is None
    assert "sender_id" not in first  # a web sender id is the visitor's cookie
    assert data["counts"] == {"open": 3, "assigned": 0, "resolved": 0}

    assert client.post(f"/api/staff/handoffs/{normal}/claim", headers=csrf_headers(agent)).status_code == 200
    assigned = client.get("/api/staff/handoffs", params={"status": "assigned"}).json()["handoffs"]
    assert [h["id"] for h in assigned] == [normal] and assigned[0]["assigned_to_name"] == "agent1"
    client.post(f"/api/staff/handoffs/{complaint}/resolve", headers=csrf_headers(agent))
    resolved = client.get("/api/staff/handoffs", params={"status": "resolved"}).json()
    assert [h["id"] for h in resolved["handoffs"]] == [complaint]
    assert resolved["counts"] == {"open": 1, "assigned": 1, "resolved": 1}


def test_queue_page_shows_urgent_rows_and_polls(client: TestClient, factory: sessionmaker, agent: str) -> None:
    urgent = open_handoff(factory, "tg-1002", "emergency")
    page = client.get("/staff/handoffs")
    assert page.status_code == 200
    assert f'<tr data-id="{urgent}" class="urgent">' in page.text and "紧急" in page.text
    assert "/static/staff_queue.js" in page.text and 'data-status="open"' in page.text
    assert client.get("/static/staff_queue.js").status_code == 200


def test_unknown_status_is_a_chinese_422(client: TestClient, agent: str) -> None:
    response = client.get("/api/staff/handoffs", params={"status": "closed"})
    assert response.status_code == 422 and "status 只能是" in response.json()["detail"]


# --- the conversation ---------------------------------------------------------------------------------


def test_detail_has_the_whole_transcript_masked_and_notes(
    client: TestClient, factory: sessionmaker, agent: str
) -> None:
    handoff_id = open_handoff(factory, "tg-1001")
    with factory.begin() as session:  # a row stored unmasked (older version, hand edit): masked on output
        conversation = get_or_create_conversation("tg-1001", session=session)
        session.add(
            ConversationMessage(
                conversation_id=conversation.id, author="resident", text=f"身份证{ID_NUMBER} 电话{PHONE}"
            )
        )
    data = client.get(f"/api/staff/handoffs/{handoff_id}").json()
    texts = [m["text"] for m in data["messages"]]
    assert texts[:2] == ["低保怎么申请", "需要带户口本。"]  # the bot's part before the escalation
    assert ID_NUMBER not in str(data) and PHONE not in str(data)
    assert "110***********1234" in texts[-1] and "138****5678" in texts[-1]
    assert data["handoff"]["status"] == "open" and data["notes"] == []

    later = client.get(f"/api/staff/handoffs/{handoff_id}", params={"after": data["last_id"]}).json()
    assert later["messages"] == [] and later["last_id"] == data["last_id"]


def test_reply_reaches_the_web_chat_and_claims(
    client: TestClient, factory: sessionmaker, agent: str, rasa: FakeRasa
) -> None:
    resident, sender = web_resident(client)
    cursor = resident.get("/api/chat/updates").json()["last_id"]
    handoff_id = open_handoff(factory, sender, lines=(("resident", "转人工"),))

    response = client.post(
        f"/api/staff/handoffs/{handoff_id}/reply", json={"text": "您好，我是民政局小王。"}, headers=csrf_headers(agent)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["delivered"] is True and body["handoff"]["status"] == "assigned"
    assert body["handoff"]["assigned_to_name"] == "agent1" and body["handoff"]["first_response_at"]

    updates = resident.get("/api/chat/updates", params={"after": cursor}).json()["messages"]
    assert {"text": "您好，我是民政局小王。", "author": "staff", "buttons": []} in updates
    with factory.begin() as session:
        line = session.scalars(select(ConversationMessage).where(ConversationMessage.author == "staff")).one()
        assert line.staff_user_id is not None

    # While staff hold the conversation the bot stays silent and the message waits for staff.
    asked = len(rasa.received)
    assert resident.post("/api/chat", json={"message": "好的谢谢"}).json()["messages"] == []
    assert len(rasa.received) == asked
    detail = client.get(f"/api/staff/handoffs/{handoff_id}", params={"after": 0}).json()
    assert detail["messages"][-1]["text"] == "好的谢谢"


def test_resolve_asks_for_a_rating_and_the_bot_answers_again(
    client: TestClient, factory: sessionmaker, agent: str, rasa: FakeRasa
) -> None:
    resident, sender = web_resident(client)
    cursor = resident.get("/api/chat/updates").json()["last_id"]
    handoff_id = open_handoff(factory, sender, lines=(("resident", "转人工"),))

    response = client.post(f"/api/staff/handoffs/{handoff_id}/resolve", headers=csrf_headers(agent))
    assert response.status_code == 200 and response.json()["handoff"]["status"] == "resolved"
    [rating] = resident.get("/api/chat/updates", params={"after": cursor}).json()["messages"]
    assert rating["text"] == RATING_REQUEST and rating["buttons"][0]["payload"] == "/rate_service:5"

    thanks = resident.post("/api/chat", json={"message": "/rate_service:4"}).json()["messages"]
    assert "感谢" in thanks[0]["text"]
    answer = resident.post("/api/chat", json={"message": "结婚登记要带什么"}).json()["messages"]
    assert answer[0]["text"] == "机器人回答：结婚登记要带什么"
    with factory.begin() as session:
        assert session.get(Handoff, handoff_id).rating == 4

    again = client.post(f"/api/staff/handoffs/{handoff_id}/reply", json={"text": "还在吗"}, headers=csrf_headers(agent))
    assert again.status_code == 409 and again.json()["detail"] == "该会话已结束，请等居民再次发起"
    twice = client.post(f"/api/staff/handoffs/{handoff_id}/resolve", headers=csrf_headers(agent))
    assert twice.status_code == 409 and "已经结束" in twice.json()["detail"]


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"text": "   "}, "内容不能为空"),
        ({}, "内容不能为空"),
        ({"text": 5}, "text：类型不对"),  # the body model names the field (it used to say "内容不能为空")
        ({"text": "字" * 2001}, "内容太长"),
        ("not json", "请求内容须为 JSON"),
        ([1, 2], "请求内容须为 JSON"),
    ],
)
def test_bad_input_is_a_chinese_error_never_a_500(
    client: TestClient, factory: sessionmaker, agent: str, body: object, expected: str
) -> None:
    handoff_id = open_handoff(factory, "tg-1001")
    kwargs = {"content": body} if isinstance(body, str) else {"json": body}
    for path in ("reply", "note"):
        response = client.post(f"/api/staff/handoffs/{handoff_id}/{path}", headers=csrf_headers(agent), **kwargs)
        assert response.status_code == 422 and expected in response.json()["detail"]


def test_unknown_handoffs_are_404(client: TestClient, agent: str) -> None:
    for path in (
        "/api/staff/handoffs/999",
        "/api/staff/handoffs/abc",
        "/staff/handoffs/999",
        "/staff/conversations/999",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
    reply = client.post("/api/staff/handoffs/999/reply", json={"text": "hi"}, headers=csrf_headers(agent))
    assert reply.status_code == 404 and reply.json()["detail"] == "没有这个转人工会话"


def test_notes_stay_internal(client: TestClient, factory: sessionmaker, agent: str) -> None:
    resident, sender = web_resident(client)
    cursor = resident.get("/api/chat/updates").json()["last_id"]
    handoff_id = open_handoff(factory, sender, lines=(("resident", "转人工"),))
    response = client.post(
        f"/api/staff/handoffs/{handoff_id}/note", json={"text": f"已电话联系 {PHONE}"}, headers=csrf_headers(agent)
    )
    assert response.status_code == 200
    assert response.json()["note"]["text"] == "已电话联系 138****5678"
    detail = client.get(f"/api/staff/handoffs/{handoff_id}").json()
    assert [n["text"] for n in detail["notes"]] == ["已电话联系 138****5678"]
    assert detail["notes"][0]["author"] == "agent1"
    assert all("已电话联系" not in m["text"] for m in detail["messages"])
    assert resident.get("/api/chat/updates", params={"after": cursor}).json()["messages"] == []


def test_claim_and_assign(
    client: TestClient, factory: sessionmaker, make_staff: Callable[..., int], agent: str
) -> None:
    handoff_id = open_handoff(factory, "tg-1001")
    colleague = make_staff("agent2")
    mine = client.post(f"/api/staff/handoffs/{handoff_id}/claim", headers=csrf_headers(agent))
    assert mine.status_code == 200 and mine.json()["handoff"]["assigned_to_name"] == "agent1"
    refused = client.post(
        f"/api/staff/handoffs/{handoff_id}/claim", json={"staff_user_id": colleague}, headers=csrf_headers(agent)
    )
    assert refused.status_code == 403 and "主管" in refused.json()["detail"]

    make_staff("boss", role="supervisor")
    boss = api_login(client, "boss")
    given = client.post(
        f"/api/staff/handoffs/{handoff_id}/claim", json={"staff_user_id": colleague}, headers=csrf_headers(boss)
    )
    assert given.status_code == 200 and given.json()["handoff"]["assigned_to"] == colleague
    nobody = client.post(
        f"/api/staff/handoffs/{handoff_id}/claim", json={"staff_user_id": 9999}, headers=csrf_headers(boss)
    )
    assert nobody.status_code == 422 and nobody.json()["detail"] == "请选择一位在岗的工作人员"
    assert audit_actions(factory, handoff_id) == ["handoff.claim", "handoff.assign"]


# --- pages (forms) ------------------------------------------------------------------------------------


def test_page_escapes_resident_html(client: TestClient, factory: sessionmaker, agent: str) -> None:
    handoff_id = open_handoff(factory, "tg-1001", lines=(("resident", "<script>alert(1)</script>"),))
    page = client.get(f"/staff/handoffs/{handoff_id}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    queue = client.get("/staff/handoffs")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in queue.text and "<script>alert(1)" not in queue.text


def test_page_shows_transcript_with_escalation_marker_and_forms(
    client: TestClient, factory: sessionmaker, agent: str
) -> None:
    handoff_id = open_handoff(factory, "tg-1001")
    page = client.get(f"/staff/handoffs/{handoff_id}").text
    assert page.index("低保怎么申请") < page.index(f"转人工 #{handoff_id} 开始") < page.index("已为您转接工作人员")
    assert 'id="reply-form"' in page and 'id="note-form"' in page and "结束人工服务" in page
    assert 'id="assign-form"' not in page  # agents cannot assign to others


def test_page_forms_reply_note_and_resolve(client: TestClient, factory: sessionmaker, agent: str) -> None:
    resident, sender = web_resident(client)
    handoff_id = open_handoff(factory, sender, lines=(("resident", "转人工"),))
    token = hidden_csrf(client.get(f"/staff/handoffs/{handoff_id}").text)

    replied = client.post(
        f"/staff/handoffs/{handoff_id}/reply", data={"text": "请说", "csrf_token": token}, follow_redirects=False
    )
    assert replied.status_code == 303 and replied.headers["location"].endswith("?notice=replied")
    client.post(f"/staff/handoffs/{handoff_id}/note", data={"text": "老人，耐心解释", "csrf_token": token})
    resolved = client.post(f"/staff/handoffs/{handoff_id}/resolve", data={"csrf_token": token})
    assert resolved.status_code == 200 and "已结束人工服务" in resolved.text and "老人，耐心解释" in resolved.text

    late = client.post(f"/staff/handoffs/{handoff_id}/reply", data={"text": "还在吗", "csrf_token": token})
    assert late.status_code == 409 and "该会话已结束" in late.text
    empty = client.post(f"/staff/handoffs/{handoff_id}/note", data={"text": " ", "csrf_token": token})
    assert empty.status_code == 422 and "内容不能为空" in empty.text


def test_supervisor_assigns_from_the_page(
    client: TestClient, factory: sessionmaker, make_staff: Callable[..., int]
) -> None:
    handoff_id = open_handoff(factory, "tg-1001")
    colleague = make_staff("agent2")
    make_staff("boss", role="supervisor")
    api_login(client, "boss")
    page = client.get(f"/staff/handoffs/{handoff_id}").text
    assert 'id="assign-form"' in page
    done = client.post(
        f"/staff/handoffs/{handoff_id}/assign", data={"staff_user_id": str(colleague), "csrf_token": hidden_csrf(page)}
    )
    assert done.status_code == 200 and "已分配" in done.text
    with factory.begin() as session:
        assert session.get(Handoff, handoff_id).assigned_to == colleague


# --- access control -----------------------------------------------------------------------------------


def test_login_is_required(client: TestClient, factory: sessionmaker) -> None:
    handoff_id = open_handoff(factory, "tg-1001")
    for path in (
        "/api/staff/handoffs",
        f"/api/staff/handoffs/{handoff_id}",
        "/api/staff/dashboard",
        "/api/staff/conversations",
    ):
        response = client.get(path)
        assert response.status_code == 401 and response.json()["detail"] == "请先登录", path
    assert client.post(f"/api/staff/handoffs/{handoff_id}/resolve").status_code == 401
    for path in ("/staff/handoffs", f"/staff/handoffs/{handoff_id}", "/staff/conversations", "/staff/dashboard"):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/staff/login?next="), path


def test_agents_cannot_open_supervisor_pages(client: TestClient, agent: str) -> None:
    for path in ("/staff/dashboard", "/api/staff/dashboard", "/staff/audit"):
        response = client.get(path)
        assert response.status_code == 403 and "权限不足" in response.text, path


@pytest.mark.parametrize("path", ["reply", "note", "claim", "resolve"])
def test_writes_without_csrf_token_are_refused(
    client: TestClient, factory: sessionmaker, agent: str, path: str
) -> None:
    handoff_id = open_handoff(factory, "tg-1001")
    response = client.post(f"/api/staff/handoffs/{handoff_id}/{path}", json={"text": "x"})
    assert response.status_code == 403 and "页面已过期" in response.json()["detail"]
    wrong = client.post(f"/api/staff/handoffs/{handoff_id}/{path}", json={"text": "x"}, headers=csrf_headers("forged"))
    assert wrong.status_code == 403
    form = client.post(f"/staff/handoffs/{handoff_id}/{path}", data={"text": "x"})
    assert form.status_code == 403
    with factory.begin() as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff.status == "open" and handoff.first_response_at is None
        assert session.scalars(select(HandoffNote)).first() is None


def test_staff_actions_on_personal_data_are_audited(
    client: TestClient, factory: sessionmaker, agent: str, rasa: FakeRasa
) -> None:
    _, sender = web_resident(client)
    handoff_id = open_handoff(factory, sender, lines=(("resident", "转人工"),))
    client.get(f"/staff/handoffs/{handoff_id}")
    detail = client.get(f"/api/staff/handoffs/{handoff_id}").json()
    client.get(f"/api/staff/handoffs/{handoff_id}", params={"after": detail["last_id"]})  # polling: no record
    client.post(
        f"/api/staff/handoffs/{handoff_id}/reply", json={"text": f"请核对电话 {PHONE}"}, headers=csrf_headers(agent)
    )
    client.post(f"/api/staff/handoffs/{handoff_id}/note", json={"text": "备注"}, headers=csrf_headers(agent))
    client.post(f"/api/staff/handoffs/{handoff_id}/resolve", headers=csrf_headers(agent))
    assert audit_actions(factory, handoff_id) == [
        "handoff.view",
        "handoff.view",
        "handoff.reply",
        "handoff.note",
        "handoff.resolve",
    ]
    with factory.begin() as session:
        records = list(session.scalars(select(AuditLog).where(AuditLog.action.like("handoff.%"))))
        assert all(r.staff_user_id is not None and r.ip == "testclient" for r in records)
        assert PHONE not in " ".join(r.detail for r in records)
    client.get("/staff/conversations", params={"q": "转人工"})
    with factory.begin() as session:
        search = session.scalars(select(AuditLog).where(AuditLog.action == "conversation.search")).one()
        assert "转人工" in search.detail


# --- search and any conversation ---------------------------------------------------------------------


def test_search_finds_conversations_and_opens_their_transcript(
    client: TestClient, factory: sessionmaker, agent: str
) -> None:
    handoff_id = open_handoff(factory, "tg-1001", lines=(("resident", "殡葬补助怎么领"), ("resident", "转人工")))
    with factory.begin() as session:
        record_message("tg-2002", "resident", "高龄津贴多少钱", session=session)
        record_message("tg-2002", "bot", "80周岁以上……", session=session)
        plain = session.scalars(select(Conversation.id).where(Conversation.sender_id == "tg-2002")).one()

    found = client.get("/api/staff/conversations", params={"q": "殡葬"}).json()["conversations"]
    assert len(found) == 1 and found[0]["handoff_id"] == handoff_id
    page = client.get("/staff/conversations", params={"q": "高龄"})
    assert f'href="/staff/conversations/{plain}"' in page.text and "无转人工" in page.text
    assert "殡葬补助" not in page.text

    view = client.get(f"/staff/conversations/{plain}")
    assert view.status_code == 200 and "高龄津贴多少钱" in view.text and "80周岁以上" in view.text
    assert 'id="reply-form"' not in view.text
    with factory.begin() as session:
        assert session.scalars(select(AuditLog.target_id).where(AuditLog.action == "conversation.view")).one() == str(
            plain
        )


# --- Telegram residents and the staff chat ------------------------------------------------------------


@pytest.fixture
def telegram_client(
    tmp_path: Path, fresh_database_url: str, telegram_server: FakeTelegramServer
) -> Iterator[TestClient]:
    """The console with a Telegram token pointing at the fake Bot API and a staff chat configured."""
    settings: Settings = make_settings(
        tmp_path,
        DATABASE_URL=fresh_database_url,
        TELEGRAM_BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_API_BASE_URL=telegram_server.base_url,
        STAFF_TELEGRAM_CHAT_ID="-100777",
    )
    with TestClient(create_app(settings)) as test_client:
        test_client.app.state.conversations.rasa = FakeRasa()
        yield test_client


async def test_telegram_resident_gets_the_reply_and_the_rating_buttons(
    telegram_client: TestClient, telegram_server: FakeTelegramServer, make_staff: Callable[..., int]
) -> None:
    factory = telegram_client.app.state.sessions
    with factory.begin() as session:
        from civil_affairs.staff_accounts import create_user

        create_user("agent1", "correct-horse-battery", session=session)
    token = api_login(telegram_client, "agent1")
    handoff_id = open_handoff(factory, "tg-4242")

    reply = await asyncio.to_thread(
        telegram_client.post,
        f"/api/staff/handoffs/{handoff_id}/reply",
        json={"text": "您好，请讲"},
        headers=csrf_headers(token),
    )
    assert reply.json()["delivered"] is True
    [sent] = await telegram_server.wait_for_messages(4242, 1)
    assert sent.text == "您好，请讲"

    await asyncio.to_thread(
        telegram_client.post, f"/api/staff/handoffs/{handoff_id}/resolve", headers=csrf_headers(token)
    )
    [_, rating] = await telegram_server.wait_for_messages(4242, 2)
    assert rating.text == RATING_REQUEST and ("5分 非常满意", "/rate_service:5") in rating.button_list


async def test_telegram_refusal_is_reported_not_a_500(
    telegram_client: TestClient, telegram_server: FakeTelegramServer
) -> None:
    factory = telegram_client.app.state.sessions
    with factory.begin() as session:
        from civil_affairs.staff_accounts import create_user

        create_user("agent1", "correct-horse-battery", session=session)
    token = api_login(telegram_client, "agent1")
    handoff_id = open_handoff(factory, "tg-4243")
    telegram_server.fail_next("sendMessage", "Forbidden: bot was blocked by the user", 403)
    reply = await asyncio.to_thread(
        telegram_client.post,
        f"/api/staff/handoffs/{handoff_id}/reply",
        json={"text": "您好"},
        headers=csrf_headers(token),
    )
    assert reply.status_code == 200
    assert reply.json()["delivered"] is False and "未能送达" in reply.json()["warning"]


async def test_sensitive_web_message_is_queued_and_announced_to_the_staff_chat(
    telegram_client: TestClient, telegram_server: FakeTelegramServer
) -> None:
    """Staff notification: the queue shows the new handoff at once and the staff chat hears of it."""
    # The resident speaks through the lifespan's client: a bare TestClient runs each request on a new
    # event loop, which the shared HTTP client of Delivery must not be bound to.
    answer = await asyncio.to_thread(telegram_client.post, "/api/chat", json={"message": "我要举报干部受贿"})
    assert "转接工作人员" in answer.json()["messages"][0]["text"]
    [alert] = await telegram_server.wait_for_messages(-100777, 1)
    assert alert.text.startswith("新的转人工会话 #") and "/staff/handoffs/" in alert.text
    with telegram_client.app.state.sessions.begin() as session:
        from civil_affairs.staff_accounts import create_user

        create_user("agent1", "correct-horse-battery", session=session)
    api_login(telegram_client, "agent1")
    rows = telegram_client.get("/api/staff/handoffs").json()["handoffs"]
    assert [r["reason"] for r in rows] == ["sensitive"] and rows[0]["channel"] == "web"

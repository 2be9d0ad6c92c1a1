"""Bad input, tried on purpose, at every console and web-chat entry point (issue 9, "Bad input").

Every route the app registers is sent malformed and oversized JSON, wrong types, huge integers
(SQLite refuses integers past 2**63: that was a 500), control characters, right-to-left marks and
emoji, as an admin (so every handler is reached past login and CSRF) and anonymously. Each answer
must have a correct status (never 5xx), a clear Chinese message for errors, and no traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from civil_affairs.conversations.handoff import escalate
from civil_affairs.conversations.rasa_client import RasaMessage
from civil_affairs.conversations.transcripts import record_message, web_sender_id
from civil_affairs.models import ConversationMessage
from civil_affairs.setup_db import prepare_database
from civil_affairs.staff_accounts import create_user
from console.app import create_app
from console.security import DEFAULT_BODY_LIMIT
from tests.conftest import POSTGRES_URL, make_settings, postgres_reachable, reset_postgres
from tests.console.conftest import PASSWORD, api_login, csrf_headers

HUGE = 10**30
NASTY = "\x00\x07\u202e\u2066\u200f😀👨‍👩‍👧<img src=x onerror=alert(1)>%_'\"\\"
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
PATH_VALUES = ["1", "0", "-1", str(HUGE), "1e400", "²", "%00", "\u202e", "😀", "a" * 300, "..%2F..%2Fetc"]
QUERY = {
    "after": str(HUGE),
    "limit": str(HUGE),
    "status": NASTY,
    "q": NASTY,
    "date": "9999-99-99",
    "period": "-1",
    "year": str(HUGE),
    "next": "//evil.example",
    "action": NASTY,
    "category": "😀",
    "from_unanswered": str(HUGE),
    "notice": NASTY,
    "day": "0000-00-00",
}
FIELDS = [
    "text",
    "message",
    "status",
    "note",
    "question",
    "answer",
    "key",
    "category",
    "username",
    "password",
    "type",
    "applicant_name",
    "id_number",
    "phone",
    "staff_user_id",
    "capacity",
    "slot_id",
    "year",
    "day",
    "date",
    "reason",
    "active",
    "replace",
    "is_workday",
    "name",
    "next",
]
JSON_BODIES: list[bytes] = [
    b"{",
    b"[]",
    b"null",
    b'"text"',
    b"123",
    b"\xff\xfe\x00",
    b'{"text": "\\ud800"}',
    b"[" * 5000 + b"]" * 5000,  # nesting deeper than the parser's recursion limit
    json.dumps({f: HUGE for f in FIELDS}).encode(),
    json.dumps({f: -HUGE for f in FIELDS}).encode(),
    json.dumps({f: [NASTY] for f in FIELDS}).encode(),
    json.dumps({f: {"$gt": ""} for f in FIELDS}).encode(),
    json.dumps({f: NASTY for f in FIELDS}).encode(),
    json.dumps({f: "\ud83d" + NASTY for f in FIELDS}).encode(),  # a lone surrogate (JSON allows it)
    json.dumps({f: 1e308 for f in FIELDS}).encode(),
    json.dumps({f: True for f in FIELDS}).encode(),
]
FORMS: list[dict[str, str]] = [
    {f: NASTY for f in FIELDS},
    {f: str(HUGE) for f in FIELDS},
    {f: "²" for f in FIELDS},
]
SKIPPED = {"/staff/logout", "/api/staff/logout"}  # would end the test's own session; tested below


class FakeRasa:
    """Answers everything (no model in these tests)."""

    async def send(self, sender_id: str, text: str, **_options: object) -> list[RasaMessage]:
        return [RasaMessage(text=f"回答：{text}")]

    async def aclose(self) -> None:
        return None


def routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every route the app registers."""
    found = [
        (method, route.path)
        for route in client.app.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods - {"HEAD"})
    ]
    assert len(found) > 60  # the whole console, not a stale list
    return [(m, p) for m, p in found if p not in SKIPPED]


def fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def check(response: Any, where: str) -> None:
    """A correct status, no traceback, and errors in Chinese."""
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    body = response.text
    assert "Traceback" not in body and 'File "/' not in body, where
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
        data = response.json()
        shown = data.get("detail") if isinstance(data, dict) else None
        if shown is None and isinstance(data, dict) and data.get("messages"):
            shown = data["messages"][0].get("text")
        if isinstance(shown, list):  # the FAQ API lists every problem of an entry, each in Chinese
            shown = "".join(str(item) for item in shown)
        assert isinstance(shown, str) and CJK_RE.search(shown), f"{where}: {body[:300]}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_client(request: pytest.FixtureRequest, tmp_path: Path, fresh_database_url: str) -> Iterator[TestClient]:
    """The console on SQLite, and on PostgreSQL when reachable (NUL characters break only PostgreSQL)."""
    url = fresh_database_url
    if request.param == "postgres":
        if not postgres_reachable():
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
        url = POSTGRES_URL
        reset_postgres(url)
        prepare_database(url)
    with TestClient(create_app(make_settings(tmp_path, DATABASE_URL=url))) as test_client:
        test_client.app.state.conversations.rasa = FakeRasa()
        yield test_client


@pytest.fixture
def admin_client(any_client: TestClient) -> Iterator[tuple[TestClient, str]]:
    client = any_client
    with client.app.state.sessions.begin() as session:
        create_user("admin1", PASSWORD, session=session, role="admin")
    token = api_login(client, "admin1")
    with client.app.state.sessions.begin() as session:
        record_message(web_sender_id("b" * 32), "resident", "转人工", session=session)
        escalate(web_sender_id("b" * 32), "requested", session=session, summary="转人工")
    client.cookies.set("webchat_id", "b" * 32)
    yield client, token


def test_every_route_survives_bad_paths_and_queries(admin_client: tuple[TestClient, str]) -> None:
    client, token = admin_client
    quiet = TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies)
    for method, path in routes(client):
        for value in PATH_VALUES if "{" in path else ["-"]:
            url = fill(path, value)
            response = quiet.request(method, url, params=QUERY, headers=csrf_headers(token), follow_redirects=False)
            check(response, f"{method} {url}")


def test_every_post_survives_bad_json_and_forms(admin_client: tuple[TestClient, str]) -> None:
    client, token = admin_client
    quiet = TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies)
    for method, path in routes(client):
        if method != "POST":
            continue
        url = fill(path, "1")
        for body in JSON_BODIES:
            response = quiet.post(
                url,
                content=body,
                follow_redirects=False,
                headers={**csrf_headers(token), "Content-Type": "application/json"},
            )
            check(response, f"POST {url} json {body[:40]!r}")
        for form in FORMS:
            response = quiet.post(url, data={**form, "csrf_token": token}, follow_redirects=False)
            check(response, f"POST {url} form {list(form.values())[0]!r}")
        oversized = quiet.post(
            url,
            content=b"{" + b" " * DEFAULT_BODY_LIMIT * 2 + b"}",
            headers={**csrf_headers(token), "Content-Type": "application/json"},
        )
        if "import" not in url:
            assert oversized.status_code == 413, url
        check(oversized, f"POST {url} oversized")


def test_anonymous_visitors_get_clear_refusals_everywhere(any_client: TestClient) -> None:
    client = any_client
    quiet = TestClient(client.app, raise_server_exceptions=False)
    for method, path in routes(client) + [("POST", p) for p in sorted(SKIPPED)]:
        url = fill(path, str(HUGE))
        response = quiet.request(
            method,
            url,
            params=QUERY,
            content=JSON_BODIES[8] if method == "POST" else None,
            headers={"Content-Type": "application/json"},
            follow_redirects=False,
        )
        check(response, f"anonymous {method} {url}")
        if path.startswith("/api/staff/") and path != "/api/staff/login":
            assert response.status_code in (401, 403, 422), f"{url}: {response.status_code}"


def test_logout_with_bad_input_still_logs_out(client: TestClient, make_staff) -> None:  # noqa: ANN001
    make_staff("agent7")
    token = api_login(client, "agent7")
    response = client.post("/api/staff/logout", content=b"{", headers=csrf_headers(token))
    assert response.status_code == 200
    assert client.get("/api/staff/me").status_code == 401


# --- the web chat, case by case ------------------------------------------------------------------------


@pytest.fixture
def resident(client: TestClient) -> TestClient:
    client.app.state.conversations.rasa = FakeRasa()
    return client


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b"null",
        b'{"message": 5}',
        b'{"message": ["x"]}',
        b'{"message": {"a": 1}}',
        b'{"message": null}',
        b"\xff\xfe",
        b"[" * 5000 + b"]" * 5000,
        json.dumps({"message": HUGE}).encode(),
    ],
)
def test_web_chat_wrong_input_is_a_polite_chinese_422(resident: TestClient, body: bytes) -> None:
    response = resident.post("/api/chat", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    [message] = response.json()["messages"]
    assert CJK_RE.search(message["text"]) and "Traceback" not in response.text


@pytest.mark.parametrize(
    ("sent", "reaches_rasa"),
    [
        ("😀😀😀", "😀😀😀"),
        ("\u202e低保怎么申请\u202c", "低保怎么申请"),
        ("\u200f特困\u200e供养", "特困供养"),
        ("低\x00保\x07", "低保"),
        ("👨‍👩‍👧 一家三口能办低保吗", "👨‍👩‍👧 一家三口能办低保吗"),
    ],
)
def test_web_chat_odd_characters_are_answered_and_kept(
    resident: TestClient, factory: sessionmaker, sent: str, reaches_rasa: str
) -> None:
    response = resident.post("/api/chat", json={"message": sent})
    assert response.status_code == 200
    assert response.json()["messages"][0]["text"] == f"回答：{reaches_rasa}"
    with factory.begin() as session:
        stored = list(session.scalars(select(ConversationMessage.text).where(ConversationMessage.author == "resident")))
    assert stored == [reaches_rasa]  # nothing lost: the resident's words are in the transcript


@pytest.mark.parametrize("sent", ["", "   ", "\x00\x01", "\u202e"])
def test_web_chat_empty_after_cleaning_asks_for_a_question(resident: TestClient, sent: str) -> None:
    response = resident.post("/api/chat", json={"message": sent})
    assert response.status_code == 200 and response.json()["messages"][0]["text"] == "请先输入您的问题。"


def test_web_chat_too_long_is_polite(resident: TestClient) -> None:
    response = resident.post("/api/chat", json={"message": "低" * 2001})
    assert response.status_code == 200 and "太长" in response.json()["messages"][0]["text"]


@pytest.mark.parametrize("after", [str(HUGE), "-" + str(HUGE), "1e400", "²", "abc", "", "9" * 5000])
def test_web_chat_updates_cursor_never_overflows(resident: TestClient, after: str) -> None:
    resident.post("/api/chat", json={"message": "你好"})
    response = resident.get("/api/chat/updates", params={"after": after})
    assert response.status_code == 200 and isinstance(response.json()["last_id"], int)


@pytest.mark.parametrize("cookie", ["", "短", "a" * 15, "a" * 65, "\u202e" * 20, "abc def ghi jkl mno", "１" * 20])
def test_web_chat_forged_cookies_get_a_fresh_chat(resident: TestClient, cookie: str) -> None:
    response = resident.post("/api/chat", json={"message": "你好"}, headers={"Cookie": f"webchat_id={cookie}".encode()})
    assert response.status_code == 200
    issued = response.cookies.get("webchat_id")
    assert issued and re.fullmatch(r"[0-9a-f]{32}", issued)


def test_web_chat_burst_is_told_to_slow_down_politely(resident: TestClient) -> None:
    statuses = [resident.post("/api/chat", json={"message": "低保怎么申请"}) for _ in range(40)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and all(r.status_code in (200, 429) for r in statuses)
    assert all("太快" in r.json()["messages"][0]["text"] for r in limited)


def test_validation_errors_name_the_field_in_chinese_without_echoing_input(client: TestClient) -> None:
    response = client.post("/api/staff/login", json={"username": ["<script>"], "password": 5})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "username" in detail and "<script>" not in detail and CJK_RE.search(detail)

"""Staff login, lockout, sessions, logout, roles and CSRF on the console (console/auth.py, deps.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from civil_affairs.audit import AuditFilters, list_audit
from civil_affairs.config import Settings
from civil_affairs.models import RateLimitCounter, StaffSession
from civil_affairs.models.base import utcnow
from console.app import create_app
from console.auth import INVALID_TEXT, LOCKED_TEXT, LOGIN_CSRF_COOKIE
from console.deps import CSRF_TEXT, SESSION_COOKIE, safe_next
from tests.console.conftest import PASSWORD, api_login, csrf_headers, hidden_csrf


def _actions(factory: sessionmaker) -> list[str]:
    with factory.begin() as session:
        return [r.action for r in list_audit(session=session)]


def test_api_login_sets_an_http_only_lax_cookie_and_returns_the_csrf_token(
    client: TestClient, make_staff: Callable[..., int]
) -> None:
    make_staff("clerk", role="supervisor")
    response = client.post("/api/staff/login", json={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "httponly" in cookie and "samesite=lax" in cookie
    me = client.get("/api/staff/me").json()
    assert me["username"] == "clerk" and me["role"] == "supervisor"
    assert me["csrf_token"] == response.json()["csrf_token"]


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, make_staff: Callable[..., int], factory: sessionmaker
) -> None:
    make_staff("clerk")
    wrong = client.post("/api/staff/login", json={"username": "clerk", "password": "nope-nope-nope"})
    unknown = client.post("/api/staff/login", json={"username": "ghost", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": INVALID_TEXT}
    with factory.begin() as session:
        failed = list_audit(AuditFilters(action="login_failed"), session=session)
    assert {r.target_id for r in failed} == {"clerk", "ghost"}
    assert all(r.ip == "testclient" for r in failed)


def test_five_failures_lock_the_account_until_the_window_has_passed(
    client: TestClient, make_staff: Callable[..., int], factory: sessionmaker
) -> None:
    make_staff("clerk")
    codes = [
        client.post("/api/staff/login", json={"username": "clerk", "password": "wrong-password"}).status_code
        for _ in range(5)
    ]
    assert codes == [401, 401, 401, 401, 429]
    locked = client.post("/api/staff/login", json={"username": "clerk", "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["detail"] == LOCKED_TEXT

    with factory.begin() as session:  # the window has passed: move the counter's start back
        session.execute(update(RateLimitCounter).values(window_start=utcnow() - timedelta(minutes=16)))
    assert client.post("/api/staff/login", json={"username": "clerk", "password": PASSWORD}).status_code == 200


def test_html_login_with_the_form_token_then_logout(
    client: TestClient, make_staff: Callable[..., int], factory: sessionmaker
) -> None:
    make_staff("clerk")
    form = client.get("/staff/login")
    assert form.status_code == 200 and client.cookies.get(LOGIN_CSRF_COOKIE)
    response = client.post(
        "/staff/login",
        data={
            "username": "clerk",
            "password": PASSWORD,
            "csrf_token": hidden_csrf(form.text),
            "next": "/staff/unanswered",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/staff/unanswered"
    page = client.get("/staff/faq")
    assert page.status_code == 200 and "clerk" in page.text

    out = client.post("/staff/logout", data={"csrf_token": hidden_csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/staff/login"
    assert client.get("/staff/faq", follow_redirects=False).status_code == 303
    assert _actions(factory)[:2] == ["logout", "login"]


def test_html_login_without_the_form_token_is_refused(client: TestClient, make_staff: Callable[..., int]) -> None:
    make_staff("clerk")
    client.get("/staff/login")
    response = client.post(
        "/staff/login", data={"username": "clerk", "password": PASSWORD, "csrf_token": "forged"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_html_login_shows_the_error_in_chinese(client: TestClient, make_staff: Callable[..., int]) -> None:
    make_staff("clerk")
    form = client.get("/staff/login")
    response = client.post(
        "/staff/login", data={"username": "clerk", "password": "wrong-password", "csrf_token": hidden_csrf(form.text)}
    )
    assert response.status_code == 401 and INVALID_TEXT in response.text


def test_html_login_shows_the_lockout_message(client: TestClient, make_staff: Callable[..., int]) -> None:
    make_staff("clerk")
    for _ in range(5):
        client.post("/api/staff/login", json={"username": "clerk", "password": "wrong-password"})
    form = client.get("/staff/login")
    response = client.post(
        "/staff/login", data={"username": "clerk", "password": PASSWORD, "csrf_token": hidden_csrf(form.text)}
    )
    assert response.status_code == 429 and LOCKED_TEXT in response.text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/staff/unanswered", "/staff/unanswered"),
        ("https://evil.example/", "/staff/faq"),
        ("//evil.example/staff", "/staff/faq"),
        ("/chat", "/staff/faq"),
        ("", "/staff/faq"),
    ],
)
def test_after_login_only_staff_pages_are_followed(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_an_expired_session_is_refused_and_deleted(
    client: TestClient, make_staff: Callable[..., int], factory: sessionmaker
) -> None:
    make_staff("clerk")
    api_login(client, "clerk")
    assert client.get("/api/staff/me").status_code == 200
    with factory.begin() as session:
        session.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/staff/me").status_code == 401
    assert client.get("/staff/faq", follow_redirects=False).status_code == 303
    with factory.begin() as session:
        assert session.scalars(select(StaffSession)).all() == []


def test_api_logout_ends_the_session_on_the_server(client: TestClient, make_staff: Callable[..., int]) -> None:
    make_staff("clerk")
    token = api_login(client, "clerk")
    cookie = client.cookies.get(SESSION_COOKIE)
    assert client.post("/api/staff/logout", headers=csrf_headers(token)).status_code == 200
    client.cookies.set(SESSION_COOKIE, cookie)  # a copy of the old cookie no longer works
    assert client.get("/api/staff/me").status_code == 401


@pytest.mark.parametrize(
    "path",
    ["/staff/faq", "/staff/faq/new", "/staff/unanswered", "/staff/audit", "/staff/faq/import", "/staff/faq/export.csv"],
)
def test_pages_without_login_redirect_to_the_login_form(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/staff/me"),
        ("GET", "/api/staff/faq"),
        ("GET", "/api/staff/unanswered"),
        ("POST", "/api/staff/faq"),
        ("POST", "/api/staff/faq/dibao-eligibility/deactivate"),
        ("POST", "/api/staff/logout"),
    ],
)
def test_api_without_login_answers_401(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={})
    assert response.status_code == 401


def test_a_redirected_page_comes_back_after_login(client: TestClient, make_staff: Callable[..., int]) -> None:
    make_staff("clerk")
    first = client.get("/staff/unanswered", follow_redirects=False)
    form = client.get(first.headers["location"])
    assert 'name="next" value="/staff/unanswered"' in form.text
    response = client.post(
        "/staff/login",
        data={
            "username": "clerk",
            "password": PASSWORD,
            "csrf_token": hidden_csrf(form.text),
            "next": "/staff/unanswered",
        },
    )
    assert response.status_code == 200 and "未解答问题" in response.text


def test_an_agent_cannot_open_the_audit_log(client: TestClient, agent: str) -> None:
    assert client.get("/staff/audit").status_code == 403
    assert "审计日志" not in client.get("/staff/faq").text


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_open_the_audit_log(
    client: TestClient, make_staff: Callable[..., int], role: str
) -> None:
    make_staff("boss", role=role)
    api_login(client, "boss")
    page = client.get("/staff/audit")
    assert page.status_code == 200 and "登录" in page.text and "boss" in page.text


def test_form_post_needs_the_sessions_csrf_token(client: TestClient, agent: str) -> None:
    fields = {
        "key": "csrf-probe",
        "category": "other",
        "question": "CSRF 测试问题？",
        "answer": "测试答复。",
        "locality": "national",
        "active": "1",
    }
    refused = client.post("/staff/faq/new", data=fields, follow_redirects=False)
    assert refused.status_code == 403 and refused.json()["detail"] == CSRF_TEXT
    forged = client.post("/staff/faq/new", data={**fields, "csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/api/staff/faq", params={"q": "csrf-probe"}).json()["entries"] == []

    accepted = client.post("/staff/faq/new", data={**fields, "csrf_token": agent}, follow_redirects=False)
    assert accepted.status_code == 303
    assert [e["key"] for e in client.get("/api/staff/faq", params={"q": "csrf-probe"}).json()["entries"]] == [
        "csrf-probe"
    ]


def test_api_writes_need_the_csrf_header(client: TestClient, agent: str) -> None:
    body = {"key": "csrf-api", "category": "other", "question": "问题？", "answer": "答复。"}
    assert client.post("/api/staff/faq", json=body).status_code == 403
    assert client.post("/api/staff/faq", json=body, headers=csrf_headers("x" * 43)).status_code == 403
    assert client.post("/api/staff/faq", json=body, headers=csrf_headers(agent)).status_code == 201
    assert client.post("/api/staff/logout").status_code == 403


def test_another_sessions_csrf_token_is_refused(
    client: TestClient, agent: str, make_staff: Callable[..., int], migrated_settings: Settings
) -> None:
    make_staff("agent2")
    with TestClient(create_app(migrated_settings)) as other:
        other_token = api_login(other, "agent2")
    assert other_token != agent
    response = client.post("/api/staff/faq/dibao-eligibility/deactivate", headers=csrf_headers(other_token))
    assert response.status_code == 403

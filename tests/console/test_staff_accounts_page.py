"""Issue 9 item 6 on the console: unknown names answer like known ones, and an admin lifts a lock."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from civil_affairs.audit import AuditFilters, list_audit
from civil_affairs.staff_accounts import MAX_FAILED_LOGINS
from console.auth import LOCKED_TEXT
from tests.console.conftest import PASSWORD, api_login, csrf_headers, hidden_csrf


def _fail(client: TestClient, username: str, times: int) -> list[tuple[int, dict]]:
    return [
        (r.status_code, r.json())
        for r in (
            client.post("/api/staff/login", json={"username": username, "password": "wrong-password"})
            for _ in range(times)
        )
    ]


def test_unknown_names_are_locked_exactly_like_existing_ones(
    client: TestClient, make_staff: Callable[..., int]
) -> None:
    """Before the fix only existing names got 429, so the lockout listed the real usernames."""
    make_staff("clerk")
    assert _fail(client, "clerk", MAX_FAILED_LOGINS + 1) == _fail(client, "ghost", MAX_FAILED_LOGINS + 1)
    answers = _fail(client, "ghost2", MAX_FAILED_LOGINS + 1)
    assert [code for code, _ in answers] == [401] * (MAX_FAILED_LOGINS - 1) + [429, 429]
    assert answers[-1][1] == {"detail": LOCKED_TEXT}


def test_an_admin_unlocks_a_locked_account_from_the_page(
    client: TestClient, make_staff: Callable[..., int], factory: sessionmaker
) -> None:
    make_staff("boss", role="admin")
    make_staff("clerk")
    _fail(client, "clerk", MAX_FAILED_LOGINS)
    assert client.post("/api/staff/login", json={"username": "clerk", "password": PASSWORD}).status_code == 429

    api_login(client, "boss")
    page = client.get("/staff/accounts")
    assert page.status_code == 200 and "锁定至" in page.text and "解除锁定" in page.text
    listed = {a["username"]: a for a in client.get("/api/staff/accounts").json()["accounts"]}
    assert listed["clerk"]["locked_until"] is not None and listed["boss"]["locked_until"] is None
    done = client.post(
        "/staff/accounts/clerk/unlock", data={"csrf_token": hidden_csrf(page.text)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "锁定至" not in client.get("/staff/accounts").text
    with factory.begin() as session:
        records = list_audit(AuditFilters(action="staff.unlock"), session=session)
    assert [(r.target_id, r.detail) for r in records] == [("clerk", "解除登录锁定")]

    client.cookies.clear()
    assert client.post("/api/staff/login", json={"username": "clerk", "password": PASSWORD}).status_code == 200


def test_unlock_through_the_api_needs_an_admin_and_the_csrf_token(
    client: TestClient, make_staff: Callable[..., int]
) -> None:
    make_staff("boss", role="admin")
    make_staff("lead", role="supervisor")
    make_staff("clerk")
    _fail(client, "clerk", MAX_FAILED_LOGINS)
    token = api_login(client, "lead")
    assert client.get("/staff/accounts").status_code == 403
    assert client.post("/api/staff/accounts/clerk/unlock", headers=csrf_headers(token)).status_code == 403
    client.cookies.clear()
    token = api_login(client, "boss")
    assert client.post("/api/staff/accounts/clerk/unlock").status_code == 403  # no CSRF header
    assert client.post("/api/staff/accounts/nobody/unlock", headers=csrf_headers(token)).status_code == 404
    response = client.post("/api/staff/accounts/clerk/unlock", headers=csrf_headers(token))
    assert response.status_code == 200 and response.json() == {"unlocked": True}

"""Transport-level protections of the console (console/security.py): body limit, headers, HTTPS cookies.

Issue 9 items 4 and 13: a 20 MB JSON body to ``POST /api/chat`` used to be read whole and answered
200; pages had no CSP, nosniff or referrer policy; cookies were never ``Secure`` behind an HTTPS proxy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from civil_affairs.conversations.rasa_client import RasaMessage
from civil_affairs.models import AuditLog
from console.app import create_app
from console.security import DEFAULT_BODY_LIMIT, IMPORT_BODY_LIMIT
from tests.conftest import make_settings
from tests.console.conftest import csrf_headers, hidden_csrf


class FakeRasa:
    """Counts what reaches Rasa: a refused body must never get this far."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def send(self, sender_id: str, text: str, **_options: object) -> list[RasaMessage]:
        self.received.append(text)
        return [RasaMessage(text="好的")]

    async def aclose(self) -> None:
        return None


@pytest.fixture
def rasa(client: TestClient) -> FakeRasa:
    fake = FakeRasa()
    client.app.state.conversations.rasa = fake
    return fake


def _app_client(tmp_path: Path, fresh_database_url: str, **env: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, **env)
    assert settings.database_url == fresh_database_url
    with TestClient(create_app(settings)) as client:
        client.app.state.conversations.rasa = FakeRasa()
        yield client


@pytest.fixture
def proxied(tmp_path: Path, fresh_database_url: str) -> Iterator[TestClient]:
    """The console behind a trusted reverse proxy (TestClient's peer address is ``testclient``)."""
    yield from _app_client(tmp_path, fresh_database_url, TRUSTED_PROXIES="testclient")


# --- body limit (item 4) --------------------------------------------------------------------------------


def test_twenty_megabyte_chat_body_is_refused_before_parsing(client: TestClient, rasa: FakeRasa) -> None:
    body = json.dumps({"message": "低保" * (10 * 1024 * 1024 // 2)})
    response = client.post("/api/chat", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "太大" in response.json()["detail"]
    assert rasa.received == []


def test_chunked_body_without_length_is_cut_off(client: TestClient, rasa: FakeRasa) -> None:
    sent = []

    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(64):  # 64 x 16 KiB, far past the limit, never announced in a header
            sent.append(1)
            yield b"a" * 16 * 1024
        yield b'"}'

    response = client.post("/api/chat", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and rasa.received == []


def test_limit_is_exact(client: TestClient, rasa: FakeRasa) -> None:
    prefix, suffix = b'{"message": "', b'"}'
    fits = prefix + b" " * (DEFAULT_BODY_LIMIT - len(prefix) - len(suffix) - 2) + b"hi" + suffix
    assert len(fits) == DEFAULT_BODY_LIMIT
    assert client.post("/api/chat", content=fits, headers={"Content-Type": "application/json"}).status_code == 200
    too_big = fits[:-2] + b" " + suffix
    assert client.post("/api/chat", content=too_big, headers={"Content-Type": "application/json"}).status_code == 413


def test_staff_routes_and_the_login_form_are_limited_too(client: TestClient, agent: str) -> None:
    big = "x" * (DEFAULT_BODY_LIMIT + 1)
    faq = client.post(
        "/api/staff/faq",
        content=json.dumps({"key": "k", "answer": big}),
        headers={**csrf_headers(agent), "Content-Type": "application/json"},
    )
    assert faq.status_code == 413
    # CVE-2024-47874 was reachable anonymously through the login form's multipart parser.
    anonymous = TestClient(client.app)
    login = anonymous.post("/staff/login", files={"username": (None, big), "password": (None, "x")})
    assert login.status_code == 413
    with client.app.state.sessions.begin() as session:
        assert session.query(AuditLog).filter(AuditLog.action == "login_failed").count() == 0


def test_imports_get_a_larger_limit_but_still_one(client: TestClient, agent: str) -> None:
    page = client.get("/staff/faq/import")
    token = hidden_csrf(page.text)
    half_megabyte = ("key,question,answer\n" + "a" * 500_000).encode()
    accepted = client.post(
        "/staff/faq/import", data={"csrf_token": token}, files={"file": ("faq.csv", half_megabyte, "text/csv")}
    )
    assert accepted.status_code != 413
    huge = b"a" * (IMPORT_BODY_LIMIT + 1)
    refused = client.post(
        "/staff/faq/import", data={"csrf_token": token}, files={"file": ("faq.csv", huge, "text/csv")}
    )
    assert refused.status_code == 413


def test_malformed_content_length_is_400(client: TestClient, rasa: FakeRasa) -> None:
    response = client.post(
        "/api/chat",
        content=b'{"message": "hi"}',
        headers={"Content-Type": "application/json", "Content-Length": "12abc"},
    )
    assert response.status_code == 400 and rasa.received == []


# --- headers on every page (item 13) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/chat"),
        ("GET", "/staff/login"),
        ("GET", "/static/chat.js"),
        ("GET", "/api/chat/updates"),
        ("GET", "/api/staff/handoffs"),
        ("GET", "/staff/handoffs"),
        ("GET", "/no/such/page"),
        ("GET", "/healthz"),
        ("POST", "/api/chat"),
    ],
)
def test_security_headers_on_every_answer(client: TestClient, rasa: FakeRasa, method: str, path: str) -> None:
    response = client.request(
        method, path, json={"message": "你好"} if method == "POST" else None, follow_redirects=False
    )
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "no-referrer"
    assert response.headers.get("x-frame-options") == "DENY"
    assert "strict-transport-security" not in response.headers  # plain HTTP here


def test_refusals_carry_the_headers_too(client: TestClient) -> None:
    response = client.post("/api/chat", content=b"x" * (DEFAULT_BODY_LIMIT + 1))
    assert response.status_code == 413 and "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_no_inline_script_or_handler_in_any_template() -> None:
    """A strict CSP (script-src 'self') would silently break inline scripts and on…= handlers."""
    import re

    templates = Path(__file__).resolve().parents[2] / "console" / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template


# --- Secure cookies over HTTPS (item 13) -----------------------------------------------------------------


def _cookie_headers(response) -> list[str]:  # noqa: ANN001 (httpx.Response)
    return response.headers.get_list("set-cookie")


def test_cookies_are_not_secure_over_plain_http(client: TestClient, rasa: FakeRasa) -> None:
    [cookie] = _cookie_headers(client.post("/api/chat", json={"message": "你好"}))
    assert cookie.startswith("webchat_id=") and "httponly" in cookie.lower() and "secure" not in cookie.lower()


def test_cookies_are_secure_behind_a_trusted_https_proxy(proxied: TestClient, make_staff_in) -> None:  # noqa: ANN001
    https = {"X-Forwarded-Proto": "https"}
    [chat_cookie] = _cookie_headers(proxied.post("/api/chat", json={"message": "你好"}, headers=https))
    assert "; secure" in chat_cookie.lower()
    login_page = proxied.get("/staff/login", headers=https)
    assert all("; secure" in c.lower() for c in _cookie_headers(login_page))
    assert login_page.headers["strict-transport-security"].startswith("max-age=")
    make_staff_in(proxied, "agent9")
    login = proxied.post(
        "/api/staff/login", json={"username": "agent9", "password": "correct-horse-battery"}, headers=https
    )
    [session_cookie] = _cookie_headers(login)
    assert session_cookie.startswith("staff_session=") and "; secure" in session_cookie.lower()


def test_forwarded_headers_from_anyone_else_are_ignored(client: TestClient, rasa: FakeRasa) -> None:
    response = client.post(
        "/api/chat", json={"message": "你好"}, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.9.9"}
    )
    [cookie] = _cookie_headers(response)
    assert "secure" not in cookie.lower() and "strict-transport-security" not in response.headers


def test_https_public_address_makes_cookies_secure(tmp_path: Path, fresh_database_url: str) -> None:
    for client in _app_client(tmp_path, fresh_database_url, PUBLIC_BASE_URL="https://chat.example.gov.cn"):
        [cookie] = _cookie_headers(client.post("/api/chat", json={"message": "你好"}))
        assert "; secure" in cookie.lower()


def test_trusted_proxy_address_reaches_the_audit_log(proxied: TestClient, make_staff_in) -> None:  # noqa: ANN001
    make_staff_in(proxied, "agent8")
    proxied.post(
        "/api/staff/login",
        json={"username": "agent8", "password": "wrong-password-123"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    with proxied.app.state.sessions.begin() as session:
        [entry] = session.query(AuditLog).filter(AuditLog.action == "login_failed").all()
        assert entry.ip == "203.0.113.7"


@pytest.fixture
def make_staff_in():  # noqa: ANN201
    """Create a staff account in a given client's database."""
    from civil_affairs.staff_accounts import create_user

    def make(client: TestClient, username: str) -> None:
        with client.app.state.sessions.begin() as session:
            create_user(username, "correct-horse-battery", session=session, role="agent")

    return make

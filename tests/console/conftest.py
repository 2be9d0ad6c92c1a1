"""Fixtures of the staff console tests: the app with its lifespan running, staff accounts, logins."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from civil_affairs import staff_accounts
from civil_affairs.config import Settings
from civil_affairs.staff_accounts import create_user
from console.app import create_app
from console.deps import CSRF_HEADER

PASSWORD = "correct-horse-battery"
_HIDDEN_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: the real ones cost a third of a second per check on a busy machine."""
    monkeypatch.setattr(staff_accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    staff_accounts._dummy_hash.cache_clear()


@pytest.fixture(autouse=True)
def no_bootstrap_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's STAFF_ADMIN_* variables must not add accounts to test databases."""
    monkeypatch.delenv("STAFF_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("STAFF_ADMIN_PASSWORD", raising=False)


@pytest.fixture
def client(migrated_settings: Settings) -> Iterator[TestClient]:
    """The console app for a migrated, seeded SQLite database, started with its lifespan."""
    with TestClient(create_app(migrated_settings)) as test_client:
        yield test_client


@pytest.fixture
def factory(client: TestClient) -> sessionmaker:
    """The app's own session factory, to arrange and inspect data."""
    return client.app.state.sessions


@pytest.fixture
def make_staff(factory: sessionmaker) -> Callable[..., int]:
    """Create an account and return its id."""

    def make(username: str, role: str = "agent", password: str = PASSWORD) -> int:
        with factory.begin() as session:
            return create_user(username, password, session=session, role=role).id

    return make


def api_login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the JSON API; the client keeps the cookie; returns the CSRF token."""
    response = client.post("/api/staff/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def csrf_headers(token: str) -> dict[str, str]:
    """Headers for a state-changing API request."""
    return {CSRF_HEADER: token}


def hidden_csrf(html: str) -> str:
    """The first hidden csrf_token field of a page."""
    match = _HIDDEN_CSRF_RE.search(html)
    assert match, "page has no csrf_token field"
    return match.group(1)


@pytest.fixture
def agent(client: TestClient, make_staff: Callable[..., int]) -> str:
    """A logged-in agent (坐席); returns the CSRF token."""
    make_staff("agent1")
    return api_login(client, "agent1")

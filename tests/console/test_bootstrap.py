"""The first admin: from STAFF_ADMIN_* at console start-up, and from scripts/create_admin.py."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs.audit import AuditFilters, list_audit
from civil_affairs.config import ConfigError, Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import StaffUser
from console.app import create_app
from console.auth import bootstrap_admin
from scripts import create_admin
from tests.console.conftest import PASSWORD, api_login


def _users(settings: Settings) -> list[tuple[str, str]]:
    engine = make_engine(settings.database_url)
    with make_session_factory(engine).begin() as session:
        users = [(u.username, u.role) for u in session.scalars(select(StaffUser))]
        created = list_audit(AuditFilters(action="staff.create"), session=session)
        assert len(created) == len(users)
    engine.dispose()
    return users


def test_console_start_creates_the_admin_once(migrated_settings: Settings) -> None:
    settings = replace(migrated_settings, staff_admin_username="chief", staff_admin_password=PASSWORD)
    for _ in range(2):
        with TestClient(create_app(settings)) as client:
            api_login(client, "chief")
    assert _users(migrated_settings) == [("chief", "admin")]


def test_a_restart_with_another_password_changes_nothing(session: Session) -> None:
    environ = {"STAFF_ADMIN_USERNAME": "chief", "STAFF_ADMIN_PASSWORD": PASSWORD}
    assert bootstrap_admin(Settings.from_env(environ, dotenv=None), session=session) is True
    before = session.scalars(select(StaffUser).where(StaffUser.username == "chief")).one().password_hash
    environ["STAFF_ADMIN_PASSWORD"] = "another-long-password"
    assert bootstrap_admin(Settings.from_env(environ, dotenv=None), session=session) is False
    after = session.scalars(select(StaffUser).where(StaffUser.username == "chief")).one().password_hash
    assert after == before


def test_nothing_happens_without_the_variables(session: Session) -> None:
    assert bootstrap_admin(Settings.from_env({}, dotenv=None), session=session) is False


@pytest.mark.parametrize(
    "environ",
    [
        {"STAFF_ADMIN_USERNAME": "chief"},
        {"STAFF_ADMIN_PASSWORD": PASSWORD},
        {"STAFF_ADMIN_USERNAME": "chief", "STAFF_ADMIN_PASSWORD": "short"},
    ],
)
def test_half_or_weak_settings_fail_loudly_naming_the_variable(session: Session, environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="STAFF_ADMIN_"):
        bootstrap_admin(Settings.from_env(environ, dotenv=None), session=session)


def test_the_variables_may_come_from_dotenv(session: Session, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"STAFF_ADMIN_USERNAME=chief\nSTAFF_ADMIN_PASSWORD={PASSWORD}\n")
    assert bootstrap_admin(Settings.from_env({}, dotenv=dotenv), session=session) is True


def _environ(settings: Settings) -> dict[str, str]:
    return {"APP_ENV": "test", "DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url}


def test_create_admin_script_creates_the_account_and_is_idempotent(
    migrated_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--username", "chief", "--password-stdin"]
    environ = _environ(migrated_settings)
    assert create_admin.main(argv, environ, io.StringIO(PASSWORD + "\n")) == 0
    assert "已创建账号 chief（admin）" in capsys.readouterr().out
    assert create_admin.main(argv, environ, io.StringIO("different-password\n")) == 0
    assert "已存在" in capsys.readouterr().out
    assert _users(migrated_settings) == [("chief", "admin")]
    with TestClient(create_app(migrated_settings)) as client:
        api_login(client, "chief")


def test_create_admin_script_takes_a_role_and_refuses_a_short_password(
    migrated_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = _environ(migrated_settings)
    assert (
        create_admin.main(
            ["--username", "desk", "--role", "agent", "--password-stdin"], environ, io.StringIO(PASSWORD + "\n")
        )
        == 0
    )
    assert create_admin.main(["--username", "weak", "--password-stdin"], environ, io.StringIO("short\n")) == 1
    assert "密码至少" in capsys.readouterr().err
    assert _users(migrated_settings) == [("desk", "agent")]


def test_create_admin_script_prompts_twice(migrated_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, "typo-" + PASSWORD])
    monkeypatch.setattr(create_admin.getpass, "getpass", lambda _prompt: next(answers))
    assert create_admin.main(["--username", "chief"], _environ(migrated_settings)) == 1
    assert _users(migrated_settings) == []

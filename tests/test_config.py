"""Settings come from the environment with documented defaults and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from civil_affairs.config import ConfigError, Settings


def test_defaults_use_sqlite_under_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)}, dotenv=None)
    assert settings.database_url == f"sqlite:///{tmp_path / 'civil_affairs.db'}"
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.console_port == 8000
    assert settings.telegram_mode == "polling"
    assert settings.bureau.hotline == "12345"


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("CONSOLE_PORT=9000\nBUREAU_NAME=测试民政局\n", encoding="utf-8")
    settings = Settings.from_env({"CONSOLE_PORT": "9100"}, dotenv=dotenv)
    assert settings.console_port == 9100
    assert settings.bureau.name == "测试民政局"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CONSOLE_PORT": "eighty"}, "CONSOLE_PORT"),
        ({"TELEGRAM_MODE": "pigeon"}, "TELEGRAM_MODE"),
        ({"APP_ENV": "production"}, "SECRET_KEY"),
        ({"TELEGRAM_MODE": "webhook", "TELEGRAM_BOT_TOKEN": "1:x"}, "TELEGRAM_WEBHOOK_URL"),
    ],
)
def test_bad_settings_name_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(environ, dotenv=None)


def test_confirm_line_never_invents_a_phone_number() -> None:
    settings = Settings.from_env({}, dotenv=None)
    line = settings.bureau.confirm_line()
    assert "12345" in line and "电话" not in line
    with_phone = Settings.from_env({"BUREAU_PHONE": "0793-0000000"}, dotenv=None).bureau.confirm_line()
    assert "0793-0000000" in with_phone

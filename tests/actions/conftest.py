"""Action tests run against a migrated, seeded SQLite database of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from civil_affairs.config import PROJECT_ROOT, Settings


@pytest.fixture
def action_settings(migrated_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Point the action server's services at the test database."""
    monkeypatch.setenv("DATABASE_URL", migrated_settings.database_url)
    monkeypatch.setenv("DATA_DIR", str(migrated_settings.data_dir))
    monkeypatch.setenv("APP_ENV", "test")
    common.services.cache_clear()
    yield migrated_settings
    common.services.cache_clear()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture(scope="session")
def domain() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))

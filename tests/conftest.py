"""Fixtures shared by the whole suite: settings, databases (SQLite always, PostgreSQL where reachable)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from civil_affairs.config import Settings
from civil_affairs.db import make_engine
from civil_affairs.setup_db import prepare_database
from scripts.bench_booking import postgres_database

pytest_plugins = ["tests.helpers.telegram_fixtures"]

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
# Tests put their keys under a prefix of their own and delete them afterwards.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def postgres_reachable(url: str = POSTGRES_URL) -> bool:
    """True when a PostgreSQL server answers at ``url``."""
    try:
        engine = make_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def redis_reachable(url: str = REDIS_URL) -> bool:
    """True when a Redis server answers at ``url``."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
        return True
    except redis.RedisError:
        return False


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test on the test Redis (skipped when none is reachable); cleaned up after."""
    if not redis_reachable():
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def reset_postgres(url: str) -> None:
    """Drop every table of the test database so migrations start from nothing."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_settings(tmp_path: Path, **overrides: str) -> Settings:
    """Settings for a test, isolated from the developer's environment and .env."""
    environ = {
        "APP_ENV": "test",
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'test.db'}",
        **overrides,
    }
    return Settings.from_env(environ, dotenv=None)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def fresh_postgres_database(suffix: str) -> str:
    """A fresh, migrated and seeded PostgreSQL database beside ``TEST_POSTGRES_URL``'s, named after it."""
    name = f"{make_url(POSTGRES_URL).database}_{suffix}"
    url = postgres_database(POSTGRES_URL, name)
    if url is None:
        raise RuntimeError(f"cannot create the PostgreSQL database {name}")
    reset_postgres(url)
    prepare_database(url)
    return url


def drop_postgres_database(url: str) -> None:
    """Drop the database of ``url`` (its connections too), from the server's ``TEST_POSTGRES_URL`` database."""
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated and seeded database: a SQLite file, and PostgreSQL when one is reachable.

    On PostgreSQL each test session gets a database of its own beside ``TEST_POSTGRES_URL``'s
    (dropped at the end), so two suites on one server never wipe each other's tables.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'suite.db'}"
        prepare_database(url)
        yield url
        return
    if not postgres_reachable():
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    own = fresh_postgres_database(f"suite_{os.getpid()}")
    yield own
    drop_postgres_database(own)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test, so tests never leak data."""
    connection = engine.connect()
    transaction = connection.begin()
    session = sessionmaker(bind=connection, future=True, expire_on_commit=False)()
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(scope="session")
def seeded_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated and seeded SQLite file, built once; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "seeded.db"
    url = f"sqlite:///{path}"
    prepare_database(url)
    return path


@pytest.fixture
def fresh_database_url(seeded_sqlite_template: Path, tmp_path: Path) -> str:
    """A private copy of the seeded SQLite database for a test whose code commits."""
    target = tmp_path / "data" / "test.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seeded_sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def migrated_settings(settings: Settings, fresh_database_url: str) -> Settings:
    """Settings whose SQLite database is migrated and seeded (for code that commits)."""
    assert settings.database_url == fresh_database_url
    return settings

"""Engine and session factory shared by actions, bot and console.

Nothing is created at import: each process calls ``make_engine(settings.database_url)`` once in its
entry point and frames each unit of work with ``with session_factory.begin() as session``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

# SQLite connections kept open per process. SQLAlchemy 1.4 opens a new SQLite connection for every
# transaction of a file database (NullPool), and each new connection re-runs the PRAGMAs below and
# re-reads the schema: measured at a few milliseconds per transaction, several per message.
SQLITE_POOL_SIZE = 5
SQLITE_POOL_OVERFLOW = 20
SQLITE_SYNCHRONOUS = "NORMAL"  # see _configure_sqlite
# A server connection idle for longer than this is tested (``SELECT 1``) before it is handed out.
# SQLAlchemy's ``pool_pre_ping`` tests every checkout: a round trip per transaction, several per
# message, on a connection that served the previous message milliseconds before. A connection the
# server dropped while in use fails that one transaction, and SQLAlchemy then replaces the pool.
PING_AFTER_IDLE_SECONDS = 10.0


def make_engine(database_url: str, **kwargs: object) -> Engine:
    """Create an engine in SQLAlchemy 2.0 style; SQLite gets WAL, foreign keys, a busy timeout and a pool."""
    is_sqlite = database_url.startswith("sqlite")
    if is_sqlite:
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        if path and path != ":memory:" and "poolclass" not in kwargs:
            # Reuse connections across transactions (what SQLAlchemy 2.0 does by default).
            kwargs["poolclass"] = QueuePool
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", SQLITE_POOL_OVERFLOW)
    engine = create_engine(database_url, future=True, **kwargs)
    if is_sqlite:
        event.listen(engine, "connect", _configure_sqlite)
    elif not kwargs.get("pool_pre_ping"):
        event.listen(engine, "connect", _note_checkin)
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Test a connection that sat idle (the server or a firewall may have closed it meanwhile)."""
    if time.monotonic() - record.info.get("checked_in_at", 0.0) <= PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    except Exception as exc:  # any driver error: the pool drops this connection and opens another
        raise DisconnectionError("an idle connection no longer answers") from exc


def _configure_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """WAL lets the console read while an action writes; foreign keys are off by default in SQLite.

    ``synchronous=NORMAL`` is SQLite's recommended setting with WAL: a commit no longer waits for
    the disk (5 ms per commit here, several commits per message); the database stays consistent
    after any crash, and a process killed at any point loses nothing it committed; only a power
    cut or kernel crash may lose the last commits. Use PostgreSQL where that matters.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker:
    """Session factory whose sessions keep loaded values readable after commit."""
    return sessionmaker(bind=engine, class_=Session, future=True, expire_on_commit=False)

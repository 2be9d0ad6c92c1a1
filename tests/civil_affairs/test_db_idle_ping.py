"""Server connections are tested only after sitting idle (civil_affairs/db.py), on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from civil_affairs import db
from tests.conftest import POSTGRES_URL, postgres_reachable

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    if not postgres_reachable():
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    engine = db.make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _drop_pooled_connection(engine: Engine) -> None:
    """The server ends the pool's one connection while it sits idle in the pool."""
    with engine.connect() as connection:
        pid = connection.execute(text("select pg_backend_pid()")).scalar_one()
    admin = db.make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()


def test_a_connection_dropped_while_idle_is_replaced_unnoticed(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _drop_pooled_connection(engine)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", -1.0)  # it has sat idle "long enough"
    with engine.connect() as connection:
        assert connection.execute(text("select 41 + 1")).scalar_one() == 42


def test_a_connection_just_used_is_not_pinged_and_a_drop_costs_one_transaction(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _drop_pooled_connection(engine)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("select 1"))
    with engine.connect() as connection:  # SQLAlchemy replaced the pool after the failure
        assert connection.execute(text("select 1")).scalar_one() == 1

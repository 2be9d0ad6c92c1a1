"""No sequence of concurrent requests can overbook a slot: 200 simultaneous attempts on a slot of
capacity 5 make exactly 5 bookings, with real commits from separate connections.

SQLite runs on a file database of its own; PostgreSQL in a database of its own (``<test database>_booking``,
created when missing) so the session-wide test database is not touched. The race itself is the
one ``make bench-booking`` measures (scripts/bench_booking.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from scripts import bench_booking
from tests.conftest import POSTGRES_URL, postgres_reachable


def _check(result: bench_booking.RaceResult) -> None:
    assert result.other == {}, f"attempts failed with errors: {result.other}"
    assert result.booked == bench_booking.CAPACITY
    assert result.stored == bench_booking.CAPACITY
    assert result.full == bench_booking.ATTEMPTS - bench_booking.CAPACITY


def test_sqlite_file_database_never_overbooks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    bench_booking.prepare(url)
    _check(bench_booking.race(url, bench_booking.ATTEMPTS))


@pytest.mark.postgres
def test_postgresql_never_overbooks() -> None:
    if not postgres_reachable():
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    # A database of its own beside the suite's, named after it so that two checkouts testing on one
    # server at the same time (each with its own TEST_POSTGRES_URL) do not share it.
    name = f"{make_url(POSTGRES_URL).database}_booking"
    url = bench_booking.postgres_database(POSTGRES_URL, name)
    if url is None:
        pytest.skip(f"cannot create the {name} database")
    bench_booking.prepare(url)
    _check(bench_booking.race(url, bench_booking.ATTEMPTS, pool_size=bench_booking.PG_CONNECTIONS))

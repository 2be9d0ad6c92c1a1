"""`make bench-booking`: many simultaneous booking attempts on one slot must never overbook it.

Each attempt is a thread with its own database connection and its own committed transaction,
all released at once by a barrier. On a file SQLite database and (when reachable) on PostgreSQL,
``ATTEMPTS`` attempts race for a slot of capacity ``CAPACITY``; the script checks that exactly
``CAPACITY`` appointments exist afterwards and prints bookings per second and latency percentiles.

PostgreSQL runs in a database of its own (``booking_bench``, created when missing) so the test
suite's database is never touched; its 200 attempts share a pool of 60 connections, because the
server's default max_connections is 100. Set TEST_POSTGRES_URL to point at another server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from civil_affairs import booking
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.identity import check_digit, parse_id_number
from civil_affairs.models import Appointment, BookingSlot
from civil_affairs.setup_db import load_booking_seed, upgrade_database

ROOT = Path(__file__).resolve().parent.parent

ATTEMPTS = 200
CAPACITY = 5
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
# Local time for the race: a Wednesday morning, booking the next day (a working day in the table).
NOW = datetime(2026, 9, 23, 9, 0)
DAY = date(2026, 9, 24)
SLOT = "am1"
SECRET = "bench-secret"
PG_CONNECTIONS = 60  # below PostgreSQL's default max_connections (100), leaving room for others


@dataclass
class RaceResult:
    """What happened to each attempt."""

    booked: int = 0
    full: int = 0
    other: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    booking_latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    stored: int = 0


def person_id(serial: int, male: bool) -> str:
    """A checksum-valid ID number unique per serial."""
    first17 = f"36{serial:04d}19950101{(serial % 90) + 10:02d}{'1' if male else '2'}"[:17]
    return first17 + check_digit(first17)


def request_for(serial: int) -> booking.BookingRequest:
    """A booking request for couple number ``serial``."""
    return booking.BookingRequest(
        kind="marriage",
        day=DAY,
        slot_code=SLOT,
        parties=(
            booking.Party("甲", parse_id_number(person_id(serial, True))),
            booking.Party("乙", parse_id_number(person_id(serial, False))),
        ),
        phone="13800138000",
        sender_id=f"bench-{serial}",
    )


def prepare(url: str) -> None:
    """Migrate, seed, set the slot's capacity and clear earlier runs."""
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        load_booking_seed(session=session)
        session.execute(text("DELETE FROM appointment_party"))
        session.execute(text("DELETE FROM appointment"))
        session.execute(text("DELETE FROM slot_day"))
        slot = session.scalar(select(BookingSlot).where(BookingSlot.code == SLOT))
        booking.set_slot_capacity(slot.id, CAPACITY, session=session, today=NOW.date())
    engine.dispose()


def race(url: str, attempts: int = ATTEMPTS, pool_size: int | None = None) -> RaceResult:
    """``attempts`` threads released together, each booking in its own transaction and connection.

    Without ``pool_size`` every attempt opens a connection of its own; with it, the attempts share
    that many connections (PostgreSQL allows 100 by default, fewer than 200 attempts).
    """
    if pool_size:
        engine = make_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=120)
    else:
        engine = make_engine(url, poolclass=NullPool)  # a fresh connection per attempt
    sessions = make_session_factory(engine)
    barrier = threading.Barrier(attempts)
    result = RaceResult()
    lock = threading.Lock()

    def attempt(serial: int) -> None:
        request = request_for(serial)
        barrier.wait()
        started = time.perf_counter()
        outcome = "booked"
        try:
            booking.book_with_retry(sessions, request, secret_key=SECRET, now=NOW)
        except booking.BookingError as exc:
            outcome = "full" if exc.code == "full" else exc.code
        except Exception as exc:  # counted and shown: a database error is a finding, not a crash
            outcome = type(exc).__name__
        latency = time.perf_counter() - started
        with lock:
            result.latencies.append(latency)
            if outcome == "booked":
                result.booked += 1
                result.booking_latencies.append(latency)
            elif outcome == "full":
                result.full += 1
            else:
                result.other[outcome] = result.other.get(outcome, 0) + 1

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    begun = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - begun
    with sessions.begin() as session:
        result.stored = session.scalar(
            select(func.count(Appointment.id)).where(Appointment.day == DAY, Appointment.status == "booked")
        )
    engine.dispose()
    return result


def postgres_database(base_url: str, name: str) -> str | None:
    """URL of database ``name`` on the server of ``base_url`` (created when missing); None if unreachable."""
    try:
        admin = make_engine(base_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:
        return None
    return str(make_url(base_url).set(database=name))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def report(label: str, result: RaceResult) -> bool:
    """Print one line of figures; True when exactly CAPACITY bookings were made and stored."""
    ok = result.booked == CAPACITY and result.stored == CAPACITY and not result.other
    print(
        f"{label:10} attempts={len(result.latencies)} booked={result.booked} stored={result.stored} "
        f"full={result.full} other={result.other or 0} elapsed={result.elapsed:.2f}s "
        f"attempts/s={len(result.latencies) / result.elapsed:.0f} bookings/s={result.booked / result.elapsed:.1f} "
        f"p50={percentile(result.latencies, 0.5) * 1000:.0f}ms p95={percentile(result.latencies, 0.95) * 1000:.0f}ms "
        f"p95(successful booking)={percentile(result.booking_latencies, 0.95) * 1000:.0f}ms "
        f"mean={statistics.mean(result.latencies) * 1000:.0f}ms  {'OK' if ok else 'OVERBOOKED/FAILED'}"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=ATTEMPTS)
    args = parser.parse_args()
    print(f"{args.attempts} simultaneous attempts on one slot of capacity {CAPACITY}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        prepare(url)
        results.append(report("sqlite", race(url, args.attempts)))
    pg = postgres_database(POSTGRES_URL, "booking_bench")
    if pg is None:
        print(f"postgres   skipped: not reachable at {POSTGRES_URL}")
    else:
        prepare(pg)
        results.append(report("postgres", race(pg, args.attempts, pool_size=PG_CONNECTIONS)))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()

"""Benchmark of the resident's status lookup at the database, with 1,000,000 applications.

Builds the schema through the real migrations in a temporary SQLite file (and, with ``--postgres
URL``, in that PostgreSQL database, which must be a throwaway one: its application tables are
filled and emptied again), bulk-inserts the applications and one status event each, then times
many lookups and prints p50/p95/p99:

* ``by number``: ``get_by_number``, the query the lookup starts with (unique index on the number);
* ``full lookup``: ``lookup_status`` (lockout counts, the number, the keyed-hash comparison, the
  failure row) plus ``describe`` (latest event and stage text), as the action runs them.

Usage: ``.venv/bin/python scripts/bench_status_lookup.py [--rows N] [--lookups N] [--postgres URL]``
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, text
from sqlalchemy.engine import Engine

from civil_affairs.applications.lookup import describe, lookup_status
from civil_affairs.applications.numbers import make_number
from civil_affairs.applications.records import get_by_number
from civil_affairs.applications.types import APPLICATION_TYPES
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.identity import application_id_hash as id_hash
from civil_affairs.models import Application, ApplicationStatusEvent, StatusLookupFailure
from civil_affairs.setup_db import upgrade_database

KEY = "bench-secret-key"
BATCH = 20_000
START_DAY = date(2020, 1, 1)
NOW = datetime(2026, 10, 8, 12, 0)


def rows(count: int) -> list[tuple[str, str, str]]:
    """(number, type code, last 6) for ``count`` applications spread over types and days."""
    codes = [t.code for t in APPLICATION_TYPES]
    out = []
    for i in range(count):
        code = codes[i % len(codes)]
        serial = i // len(codes)
        day = START_DAY + timedelta(days=serial // 200)
        out.append((make_number(code, day, serial % 200 + 1), code, f"{i % 1_000_000:06d}"))
    return out


def fill_sqlite(engine: Engine, data: list[tuple[str, str, str]]) -> None:
    """Bulk insert with executemany in large batches inside one transaction per batch."""
    app_table, event_table = Application.__table__, ApplicationStatusEvent.__table__
    hashed = id_hash("999999195001010010", KEY)
    for start in range(0, len(data), BATCH):
        chunk = data[start : start + BATCH]
        with engine.begin() as connection:
            connection.execute(
                insert(app_table),
                [
                    {
                        "id": start + n + 1,
                        "number": number,
                        "type_code": code,
                        "applicant_name": "测试用户",
                        "id_hash": hashed,
                        "id_last6": last6,
                        "phone_masked": None,
                        "office": "bench",
                        "status": "accepted",
                        "status_at": NOW,
                        "created_at": NOW,
                    }
                    for n, (number, code, last6) in enumerate(chunk)
                ],
            )
            connection.execute(
                insert(event_table),
                [
                    {
                        "application_id": start + n + 1,
                        "status": "accepted",
                        "at": NOW,
                        "note": "",
                        "staff_user_id": None,
                        "source": "import",
                    }
                    for n in range(len(chunk))
                ],
            )


def fill_postgres(engine: Engine, data: list[tuple[str, str, str]]) -> None:
    """COPY both tables (seconds, not minutes, for a million rows)."""
    hashed = id_hash("999999195001010010", KEY)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        buffer = io.StringIO()
        for n, (number, code, last6) in enumerate(data, start=1):
            buffer.write(f"{n}\t{number}\t{code}\t测试用户\t{hashed}\t{last6}\t\\N\tbench\taccepted\t{NOW}\t{NOW}\n")
        buffer.seek(0)
        cursor.copy_expert(
            "COPY application (id, number, type_code, applicant_name, id_hash, id_last6, "
            "phone_masked, office, status, status_at, created_at) FROM STDIN",
            buffer,
        )
        buffer = io.StringIO()
        for n in range(1, len(data) + 1):
            buffer.write(f"{n}\taccepted\t{NOW}\t\t\\N\timport\n")
        buffer.seek(0)
        cursor.copy_expert(
            "COPY application_status_event (application_id, status, at, note, staff_user_id, source) FROM STDIN", buffer
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('application', 'id'), %s)", (len(data),))
        cursor.execute("ANALYZE application; ANALYZE application_status_event")
        raw.commit()
    finally:
        raw.close()


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    q = statistics.quantiles(ms, n=100)
    return f"p50 {q[49]:.3f} ms  p95 {q[94]:.3f} ms  p99 {q[98]:.3f} ms  max {ms[-1]:.3f} ms"


def plan(engine: Engine, number: str) -> str:
    """The database's plan for the lookup by number, to show the index is used."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            result = connection.execute(
                text("EXPLAIN QUERY PLAN SELECT * FROM application WHERE number = :n"), {"n": number}
            )
            return "; ".join(str(row[-1]) for row in result)
        result = connection.execute(text("EXPLAIN SELECT * FROM application WHERE number = :n"), {"n": number})
        return "; ".join(row[0].strip() for row in result)


def bench(engine: Engine, data: list[tuple[str, str, str]], lookups: int) -> None:
    sessions = make_session_factory(engine)
    rng = random.Random(7)
    picks = [rng.choice(data) for _ in range(lookups)]
    by_number, full = [], []
    with sessions() as session:
        for number, _code, _last6 in picks[:50]:  # warm up
            get_by_number(number, session=session)
        for number, _code, _last6 in picks:
            started = time.perf_counter()
            get_by_number(number, session=session)
            by_number.append(time.perf_counter() - started)
        for i, (number, _code, last6) in enumerate(picks):
            wrong = i % 4 == 0  # a quarter of lookups fail, as guesses would
            started = time.perf_counter()
            result = lookup_status(
                f"bench-{i % 500}",
                number,
                "000000" if wrong else last6,
                session=session,
                secret_key=KEY,
                now=NOW + timedelta(hours=i),
            )
            if result.application is not None:
                describe(result.application, session=session)
            full.append(time.perf_counter() - started)
            session.expunge_all()
        session.rollback()
    print(f"  plan: {plan(engine, picks[0][0])}")
    print(f"  by number   ({lookups} lookups): {percentiles(by_number)}")
    print(f"  full lookup ({lookups} lookups): {percentiles(full)}")


def run(url: str, label: str, count: int, lookups: int, postgres: bool) -> None:
    print(f"{label}: {url.split('@')[-1] if postgres else url}")
    upgrade_database(url)
    engine = make_engine(url)
    with engine.begin() as connection:  # a throwaway database: start from empty tables
        for table in (StatusLookupFailure.__table__, ApplicationStatusEvent.__table__, Application.__table__):
            connection.execute(delete(table))
    data = rows(count)
    started = time.perf_counter()
    (fill_postgres if postgres else fill_sqlite)(engine, data)
    print(f"  inserted {count:,} applications + {count:,} status events in {time.perf_counter() - started:.1f} s")
    bench(engine, data, lookups)
    if postgres:
        with engine.begin() as connection:
            for table in (StatusLookupFailure.__table__, ApplicationStatusEvent.__table__, Application.__table__):
                connection.execute(delete(table))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--postgres", metavar="URL", help="also run in this (throwaway) PostgreSQL database")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite (temporary file)", args.rows, args.lookups, False)
    if args.postgres:
        run(args.postgres, "PostgreSQL", args.rows, args.lookups, True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

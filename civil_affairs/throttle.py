"""Rate limits kept in the database: atomic, per subject, identical for subjects that exist and not.

Each limit is one counter row per (scope, key) with a fixed window. ``take`` admits an attempt with
a conditional ``UPDATE … SET count = count + 1 WHERE count < max`` (or a fresh window), so the
database decides: parallel attempts on PostgreSQL wait for the row lock and re-check the condition,
SQLite serialises writers; no read-then-write gap lets a burst through. An attempt that turns out
fine is given back (``give_back``), so only failures stay counted. ``blocked`` is a read-only check
that callers run first, so a throttled request is refused before any expensive work (argon2) and
without a write.

Keys are SHA-256 digests of the subject (username, client address, chat, code), so the table never
holds who tried. The subject's existence plays no part: an unknown username or booking code has a
counter just like a real one, so the answers cannot tell them apart.

Functions take a keyword-only ``session`` and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from civil_affairs.models import RateLimitCounter
from civil_affairs.models.base import utcnow

PURGE_ONE_IN = 500  # about one attempt in this many also deletes counters older than a day

# The message metadata key under which the console passes the web visitor's address to Rasa.
CLIENT_ADDRESS_KEY = "client_address"
# Set by the web chat for the request being handled; the Rasa client adds it to the message metadata
# (a context variable, so the conversation service in between needs no change).
CURRENT_CLIENT_ADDRESS: ContextVar[str | None] = ContextVar("current_client_address", default=None)


def client_digest(address: str, secret_key: str) -> str:
    """What travels and is counted instead of the address: a keyed digest (no IP in the tracker store)."""
    return hmac.new(secret_key.encode("utf-8"), f"client-address:{address}".encode(), hashlib.sha256).hexdigest()[:32]


def client_address(latest_message: Mapping[str, Any] | None) -> str | None:
    """The client address the channel put in the message's metadata, if any (at most 64 chars)."""
    metadata = (latest_message or {}).get("metadata") or {}
    value = metadata.get(CLIENT_ADDRESS_KEY) if isinstance(metadata, Mapping) else None
    return str(value)[:64] if value else None


@dataclass(frozen=True)
class Limit:
    """At most ``max_count`` counted attempts by ``subject`` per ``window`` in ``scope``."""

    scope: str
    subject: str
    max_count: int
    window: timedelta

    @property
    def key(self) -> str:
        return subject_key(self.scope, self.subject)


def subject_key(scope: str, subject: str) -> str:
    """The stored key: a digest, so counters reveal no username, address or chat."""
    return hashlib.sha256(f"{scope}\0{subject}".encode()).hexdigest()


def _ensure(limit: Limit, *, session: Session, now: datetime) -> None:
    """Create the counter row if missing; concurrent creators do not conflict."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(
        insert(RateLimitCounter)
        .values(scope=limit.scope, key=limit.key, window_start=now, count=0)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )


def blocked_until(limit: Limit, *, session: Session, now: datetime | None = None) -> datetime | None:
    """When ``limit`` admits attempts again, or None if it admits one now (read-only)."""
    now = now or utcnow()
    row = session.execute(
        select(RateLimitCounter.window_start, RateLimitCounter.count).where(
            RateLimitCounter.scope == limit.scope, RateLimitCounter.key == limit.key
        )
    ).first()
    if row is None or row.window_start + limit.window <= now or row.count < limit.max_count:
        return None
    return row.window_start + limit.window


def blocked(limits: Iterable[Limit], *, session: Session, now: datetime | None = None) -> Limit | None:
    """The first of ``limits`` that is exhausted now, or None (read-only, no write at all)."""
    for limit in limits:
        if blocked_until(limit, session=session, now=now) is not None:
            return limit
    return None


def _take_one(limit: Limit, *, session: Session, now: datetime) -> bool:
    _ensure(limit, session=session, now=now)
    expired = RateLimitCounter.window_start <= now - limit.window
    result = session.execute(
        update(RateLimitCounter)
        .where(
            RateLimitCounter.scope == limit.scope,
            RateLimitCounter.key == limit.key,
            expired | (RateLimitCounter.count < limit.max_count),
        )
        .values(
            count=case((expired, 1), else_=RateLimitCounter.count + 1),
            window_start=case((expired, now), else_=RateLimitCounter.window_start),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def take(limits: Sequence[Limit], *, session: Session, now: datetime | None = None) -> Limit | None:
    """Count one attempt against every limit; returns the limit that refused it (nothing then counted).

    Returns None when every limit admitted the attempt; the caller gives it back with ``give_back``
    when the attempt succeeds, so that only failures use up the allowance.
    """
    now = now or utcnow()
    if secrets.randbelow(PURGE_ONE_IN) == 0:  # keep the table small without a job of its own
        purge_expired(session=session, now=now)
    taken: list[Limit] = []
    for limit in limits:
        if not _take_one(limit, session=session, now=now):
            give_back(taken, session=session)
            return limit
        taken.append(limit)
    return None


def give_back(limits: Iterable[Limit], *, session: Session) -> None:
    """Undo one counted attempt of each limit (a success is not a failure)."""
    for limit in limits:
        session.execute(
            update(RateLimitCounter)
            .where(RateLimitCounter.scope == limit.scope, RateLimitCounter.key == limit.key, RateLimitCounter.count > 0)
            .values(count=RateLimitCounter.count - 1)
            .execution_options(synchronize_session=False)
        )


def reset(scope: str, subject: str, *, session: Session) -> bool:
    """Forget every counted attempt of ``subject`` in ``scope`` (an admin's unlock); True if any."""
    result = session.execute(
        delete(RateLimitCounter).where(
            RateLimitCounter.scope == scope, RateLimitCounter.key == subject_key(scope, subject)
        )
    )
    return (result.rowcount or 0) > 0


def purge_expired(*, session: Session, older_than: timedelta = timedelta(days=1), now: datetime | None = None) -> int:
    """Delete counters whose window started long ago (every window here is shorter than a day)."""
    result = session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_start < (now or utcnow()) - older_than)
    )
    return result.rowcount or 0

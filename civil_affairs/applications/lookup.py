"""A resident's status lookup (办件进度查询): the number plus the last 6 characters of the ID.

A wrong pair, an unknown number and a malformed number get the same outcome (``failed``) and do the
same work: the number is looked up through its unique index in every case, and the given last 6 are
compared, as keyed hashes and in constant time, with the stored ones or with a dummy when there is
no such application.

Failures are counted (``civil_affairs.throttle``, atomically) per chat, per client address and over
the whole service. The chat is a Telegram chat id, or for the web chat a cookie the visitor can
change at will, so the client address is what holds a web guesser back; a web message that arrives
without an address counts against one shared "unknown address" allowance. The global allowance caps
guessing spread over many chats and addresses. Nothing is locked per application number any more:
a stranger's wrong guesses at a number must not keep its owner, who has the right pair, out.

A successful lookup is recorded in the database (``StatusLookupProof``); subscribing to updates
checks that record (``proven_application``), never something the tracker says.
Functions take a keyword-only ``session`` and never commit.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs import clock, throttle
from civil_affairs.applications.numbers import format_number, try_parse_number
from civil_affairs.applications.records import get_by_number
from civil_affairs.applications.stages import stage_text
from civil_affairs.applications.types import STATUS_LABELS, TYPES_BY_CODE
from civil_affairs.identity import keyed_hash, last6_from_text
from civil_affairs.models import Application, ApplicationStatusEvent, StatusLookupProof
from civil_affairs.models.base import utcnow
from civil_affairs.privacy import mask_name

MAX_FAILURES = 5  # per chat within FAILURE_WINDOW
MAX_FAILURES_PER_ADDRESS = 20  # per client address (many residents may share one)
MAX_FAILURES_GLOBAL = 300  # over every chat and address: the brake on spread-out guessing
FAILURE_WINDOW = timedelta(hours=1)
PROOF_VALID = timedelta(days=1)  # how long a successful lookup lets the chat subscribe
UNKNOWN_WEB_ADDRESS = "web:unknown-address"
# Never a real number (real ones are 14 characters), so an unparsable input still costs one query.
_NO_SUCH_NUMBER = "~"
_DUMMY_LAST6 = "~~~~~~"

LookupOutcome = Literal["found", "failed", "locked"]


@dataclass(frozen=True)
class LookupResult:
    """What a lookup found; ``application`` is set only when ``outcome`` is ``found``."""

    outcome: LookupOutcome
    application: Application | None = None


@dataclass(frozen=True)
class StatusView:
    """What the resident is shown about one application (name masked, no ID or phone)."""

    number: str
    display_number: str
    type_name: str
    masked_name: str
    office: str
    stage: str
    stage_date: str
    note: str
    meaning: str
    next_step: str


def lookup_limits(sender_id: str, client_address: str | None = None) -> list[throttle.Limit]:
    """The allowances a lookup counts against: the chat, the client address, the whole service."""
    limits = [throttle.Limit("lookup-chat", sender_id, MAX_FAILURES, FAILURE_WINDOW)]
    address = client_address or (None if sender_id.startswith("tg-") else UNKNOWN_WEB_ADDRESS)
    if address:
        limits.append(throttle.Limit("lookup-address", address, MAX_FAILURES_PER_ADDRESS, FAILURE_WINDOW))
    limits.append(throttle.Limit("lookup-global", "all", MAX_FAILURES_GLOBAL, FAILURE_WINDOW))
    return limits


def is_locked(
    *, session: Session, sender_id: str, client_address: str | None = None, now: datetime | None = None
) -> bool:
    """True while this chat, its address or the whole service has used up its failures."""
    limits = lookup_limits(sender_id, client_address)
    return throttle.blocked(limits, session=session, now=now) is not None


def lookup_status(
    sender_id: str,
    number_text: str,
    last6_text: str,
    *,
    session: Session,
    secret_key: str,
    client_address: str | None = None,
    now: datetime | None = None,
) -> LookupResult:
    """Check a resident's lookup; a failure stays counted, a success is recorded as proof.

    Args:
        sender_id: the Rasa sender id of the chat (``tg-…`` or ``web-…``).
        number_text: the application number as typed (parsed leniently).
        last6_text: the last 6 characters of the applicant's ID as typed.
        session: the caller's transaction; counters and the proof are written to it.
        secret_key: the key of the keyed hashes (``settings.secret_key``).
        client_address: the web visitor's address as the console saw it, when known.
        now: the current UTC time (default: the clock).

    Returns:
        ``found`` with the application, ``failed`` for any mismatch (wrong pair, unknown or
        malformed number), or ``locked`` while this chat, its address or the service is paused.
    """
    now = now or utcnow()
    limits = lookup_limits(sender_id, client_address)
    if throttle.blocked(limits, session=session, now=now) is not None:
        return LookupResult("locked")
    if throttle.take(limits, session=session, now=now) is not None:
        return LookupResult("locked")
    number = try_parse_number(number_text or "")
    application = get_by_number(number or _NO_SUCH_NUMBER, session=session)
    given = last6_from_text(last6_text or "")
    expected = application.id_last6 if application is not None else _DUMMY_LAST6
    # Compare keyed hashes in constant time, against a dummy when the number is unknown, so the
    # answer takes as long whether or not the number exists.
    matches = hmac.compare_digest(
        keyed_hash("last6:" + expected, secret_key), keyed_hash("last6:" + (given or _DUMMY_LAST6[:5]), secret_key)
    )
    if application is None or given is None or not matches:
        session.flush()
        return LookupResult("failed")
    throttle.give_back(limits, session=session)
    record_proof(sender_id, application, session=session, now=now)
    return LookupResult("found", application)


def record_proof(sender_id: str, application: Application, *, session: Session, now: datetime | None = None) -> None:
    """Remember that this chat presented the right pair for ``application`` (now)."""
    now = now or utcnow()
    proof = session.scalars(
        select(StatusLookupProof).where(
            StatusLookupProof.sender_id == sender_id[:80], StatusLookupProof.application_id == application.id
        )
    ).first()
    if proof is None:
        session.add(StatusLookupProof(sender_id=sender_id[:80], application_id=application.id, at=now))
    else:
        proof.at = now
    session.flush()


def proven_application(
    sender_id: str, number: str | None, *, session: Session, now: datetime | None = None
) -> Application | None:
    """The application this chat proved within PROOF_VALID: ``number``'s, or the latest proven one.

    None when the chat has no such proof: then it must look the application up first.
    """
    since = (now or utcnow()) - PROOF_VALID
    stmt = (
        select(Application)
        .join(StatusLookupProof, StatusLookupProof.application_id == Application.id)
        .where(StatusLookupProof.sender_id == sender_id[:80], StatusLookupProof.at >= since)
    )
    if number is not None:
        stmt = stmt.where(Application.number == number)
    return session.scalars(stmt.order_by(StatusLookupProof.at.desc(), StatusLookupProof.id.desc()).limit(1)).first()


def beijing_date(moment: datetime) -> str:
    """A stored naive-UTC time as a Beijing date for residents: 2026年10月8日."""
    local = clock.to_local(moment)
    return f"{local.year}年{local.month}月{local.day}日"


def describe(application: Application, *, session: Session) -> StatusView:
    """The resident's view of an application: stage, date, note and what to do next."""
    latest = session.scalars(
        select(ApplicationStatusEvent)
        .where(ApplicationStatusEvent.application_id == application.id)
        .order_by(ApplicationStatusEvent.id.desc())
        .limit(1)
    ).first()
    status = latest.status if latest else application.status
    at = latest.at if latest else application.status_at
    text = stage_text(application.type_code, status, session=session)
    app_type = TYPES_BY_CODE.get(application.type_code)
    return StatusView(
        number=application.number,
        display_number=format_number(application.number),
        type_name=app_type.name if app_type else application.type_code,
        masked_name=mask_name(application.applicant_name),
        office=application.office or "（未登记）",
        stage=STATUS_LABELS.get(status, status),
        stage_date=beijing_date(at),
        note=(latest.note if latest else "") or "",
        meaning=text.meaning,
        next_step=text.next_step,
    )

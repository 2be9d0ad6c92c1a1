"""A resident's status lookup (办件进度查询): the number plus the last 6 characters of the ID.

A wrong pair, an unknown number and a malformed number get the same outcome (``failed``) and do the
same work: the number is looked up through its unique index in every case, and the given last 6 are
compared, as keyed hashes and in constant time, with the stored ones or with a dummy when there is
no such application. Every failure is recorded; once ``MAX_FAILURES`` failures fall within
``FAILURE_WINDOW`` for one chat or for one number, lookups from that chat and of that number are
refused (``locked``), even with the right pair, until the oldest failure leaves the window.
Functions take a keyword-only ``session`` and never commit.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civil_affairs.applications.identity import keyed_hash, last6_from_text
from civil_affairs.applications.numbers import format_number, try_parse_number
from civil_affairs.applications.records import BEIJING_OFFSET, get_by_number
from civil_affairs.applications.stages import stage_text
from civil_affairs.applications.types import STATUS_LABELS, TYPES_BY_CODE
from civil_affairs.models import Application, ApplicationStatusEvent, StatusLookupFailure
from civil_affairs.models.base import utcnow
from civil_affairs.privacy import mask_name

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
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


def recent_failures(*, session: Session, sender_id: str, number: str | None,
                    now: datetime | None = None) -> int:
    """Failures within the window from this chat or (when given) of this number, whichever is more."""
    since = (now or utcnow()) - FAILURE_WINDOW
    counts = [session.scalar(select(func.count()).select_from(StatusLookupFailure).where(
        StatusLookupFailure.sender_id == sender_id, StatusLookupFailure.at >= since))]
    if number:
        counts.append(session.scalar(select(func.count()).select_from(StatusLookupFailure).where(
            StatusLookupFailure.number == number, StatusLookupFailure.at >= since)))
    return max(int(c or 0) for c in counts)


def is_locked(*, session: Session, sender_id: str, number: str | None, now: datetime | None = None) -> bool:
    """True while this chat or this number has MAX_FAILURES failures within the window."""
    return recent_failures(session=session, sender_id=sender_id, number=number, now=now) >= MAX_FAILURES


def lookup_status(sender_id: str, number_text: str, last6_text: str, *, session: Session,
                  secret_key: str, now: datetime | None = None) -> LookupResult:
    """Check a resident's lookup and record a failure when it does not match.

    Args:
        sender_id: the Rasa sender id of the chat (``tg-…`` or ``web-…``).
        number_text: the application number as typed (parsed leniently).
        last6_text: the last 6 characters of the applicant's ID as typed.
        session: the caller's transaction; a failure is added to it.
        secret_key: the key of the keyed hashes (``settings.secret_key``).
        now: the current UTC time (default: the clock).

    Returns:
        ``found`` with the application, ``failed`` for any mismatch (wrong pair, unknown or
        malformed number), or ``locked`` while lookups are paused for this chat or number.
    """
    now = now or utcnow()
    number = try_parse_number(number_text or "")
    if is_locked(session=session, sender_id=sender_id, number=number, now=now):
        return LookupResult("locked")
    application = get_by_number(number or _NO_SUCH_NUMBER, session=session)
    given = last6_from_text(last6_text or "")
    expected = application.id_last6 if application is not None else _DUMMY_LAST6
    # Compare keyed hashes in constant time, against a dummy when the number is unknown, so the
    # answer takes as long whether or not the number exists.
    matches = hmac.compare_digest(keyed_hash("last6:" + expected, secret_key),
                                  keyed_hash("last6:" + (given or _DUMMY_LAST6[:5]), secret_key))
    if application is None or given is None or not matches:
        session.add(StatusLookupFailure(sender_id=sender_id[:80], number=number, at=now))
        session.flush()
        return LookupResult("failed")
    return LookupResult("found", application)


def beijing_date(moment: datetime) -> str:
    """A stored naive-UTC time as a Beijing date for residents: 2026年10月8日."""
    local = moment + BEIJING_OFFSET
    return f"{local.year}年{local.month}月{local.day}日"


def describe(application: Application, *, session: Session) -> StatusView:
    """The resident's view of an application: stage, date, note and what to do next."""
    latest = session.scalars(select(ApplicationStatusEvent)
                             .where(ApplicationStatusEvent.application_id == application.id)
                             .order_by(ApplicationStatusEvent.id.desc()).limit(1)).first()
    status = latest.status if latest else application.status
    at = latest.at if latest else application.status_at
    text = stage_text(application.type_code, status, session=session)
    app_type = TYPES_BY_CODE.get(application.type_code)
    return StatusView(number=application.number, display_number=format_number(application.number),
                      type_name=app_type.name if app_type else application.type_code,
                      masked_name=mask_name(application.applicant_name),
                      office=application.office or "（未登记）", stage=STATUS_LABELS.get(status, status),
                      stage_date=beijing_date(at), note=(latest.note if latest else "") or "",
                      meaning=text.meaning, next_step=text.next_step)

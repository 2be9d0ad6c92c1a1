"""Creating, finding and changing applications; shared by the console, the CSV import and scripts.

Numbers are allocated per type and day (``numbers.make_number``). Two windows allocating at the
same moment could pick the same number: the unique index refuses the second, whose whole
transaction fails with IntegrityError and is retried by the caller (``console.applications``).
No savepoints are used, because pysqlite commits a SAVEPOINT opened outside a transaction on
RELEASE. Functions take a keyword-only ``session`` and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from civil_affairs import clock
from civil_affairs.applications.numbers import NumberError, make_number, number_prefix, try_parse_number
from civil_affairs.applications.types import STATUS_LABELS, STATUSES_NEEDING_NOTE, resolve_status, resolve_type
from civil_affairs.identity import IdentityError, application_id_hash, normalize_id_number, phone_for_storage
from civil_affairs.models import Application, ApplicationStatusEvent
from civil_affairs.models.base import utcnow

MAX_NAME_CHARS = 64
MAX_NOTE_CHARS = 1000
MAX_OFFICE_CHARS = 100
SEARCH_LIMIT = 100


class ApplicationError(ValueError):
    """An application or status change that cannot be accepted; the message is Chinese for staff."""


@dataclass(frozen=True)
class NewApplication:
    """A checked application before it is stored (the ID number already reduced to hash + last 6)."""

    type_code: str
    applicant_name: str
    id_hash: str
    id_last6: str
    phone_masked: str | None
    office: str


def check_application(
    *, type_name: str, applicant_name: str, id_number: str, phone: str | None, office: str, secret_key: str
) -> NewApplication:
    """Validate staff input; raises ApplicationError naming the first problem."""
    app_type = resolve_type(type_name)
    if app_type is None:
        raise ApplicationError(f"未知的业务类型：{type_name}")
    name = " ".join((applicant_name or "").split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise ApplicationError("请填写申请人姓名（64字以内）")
    try:
        canonical_id = normalize_id_number(id_number)
        phone_masked = phone_for_storage(phone or "")
    except IdentityError as exc:
        raise ApplicationError(str(exc)) from exc
    return NewApplication(
        app_type.code,
        name,
        application_id_hash(canonical_id, secret_key),
        canonical_id[-6:],
        phone_masked,
        (office or "").strip()[:MAX_OFFICE_CHARS],
    )


def beijing_day(moment: datetime) -> date:
    """The date in Beijing of a stored naive-UTC time (numbers carry the local acceptance date)."""
    return clock.local_today(moment)


def next_number(type_code: str, day: date, *, session: Session) -> str:
    """The next free number of ``type_code`` on ``day``."""
    prefix = number_prefix(type_code, day)
    last = session.scalars(
        select(Application.number)
        .where(Application.number.like(prefix + "%"))
        .order_by(Application.number.desc())
        .limit(1)
    ).first()
    return make_number(type_code, day, int(last[-4:]) + 1 if last else 1)


def create_application(
    data: NewApplication,
    *,
    session: Session,
    staff_user_id: int | None = None,
    note: str = "",
    number: str | None = None,
    at: datetime | None = None,
    source: str = "console",
) -> Application:
    """Store an application in status 受理 with its first history entry.

    Args:
        data: checked input (``check_application``).
        session: the caller's transaction.
        staff_user_id: who accepted it, for the history.
        note: a note for the resident on the 受理 entry.
        number: a number given by the bureau's system (CSV import); None to allocate one.
        at: when it was accepted (naive UTC; default now).
        source: ``console``, ``import`` or ``demo``.

    Returns:
        The new application, flushed.
    """
    at = at or utcnow()
    if number is not None and get_by_number(number, session=session) is not None:
        raise ApplicationError(f"申请编号 {number} 已存在")
    application = Application(
        number=number or next_number(data.type_code, beijing_day(at), session=session),
        type_code=data.type_code,
        applicant_name=data.applicant_name,
        id_hash=data.id_hash,
        id_last6=data.id_last6,
        phone_masked=data.phone_masked,
        office=data.office,
        status="accepted",
        status_at=at,
        created_at=at,
    )
    application.events.append(
        ApplicationStatusEvent(
            status="accepted", at=at, note=note[:MAX_NOTE_CHARS], staff_user_id=staff_user_id, source=source
        )
    )
    session.add(application)
    session.flush()
    return application


def get_by_number(number: str, *, session: Session) -> Application | None:
    """The application with a canonical ``number`` (uses the unique index on ``number``)."""
    return session.scalars(select(Application).where(Application.number == number)).one_or_none()


def find_application(text: str, *, session: Session) -> Application | None:
    """The application whose number is in ``text`` (typed leniently), or None."""
    number = try_parse_number(text)
    return get_by_number(number, session=session) if number else None


def change_status(
    application: Application,
    status: str,
    note: str = "",
    *,
    session: Session,
    staff_user_id: int | None = None,
    at: datetime | None = None,
    source: str = "console",
) -> ApplicationStatusEvent:
    """Add a status to the history and make it current; 未批准 and 需补充材料 need a note.

    Raises:
        ApplicationError: unknown status, or a missing reason / list of missing materials.
    """
    code = resolve_status(status)
    if code is None:
        raise ApplicationError(f"未知的办理环节：{status}")
    note = (note or "").strip()
    if code in STATUSES_NEEDING_NOTE and not note:
        raise ApplicationError(f"“{STATUS_LABELS[code]}”须填写{STATUSES_NEEDING_NOTE[code]}")
    at = at or utcnow()
    event = ApplicationStatusEvent(
        application=application,
        status=code,
        at=at,
        note=note[:MAX_NOTE_CHARS],
        staff_user_id=staff_user_id,
        source=source,
    )
    session.add(event)
    application.status = code
    application.status_at = at
    session.flush()
    return event


def search_applications(
    query: str, *, session: Session, secret_key: str, type_code: str = "", status: str = "", limit: int = SEARCH_LIMIT
) -> list[Application]:
    """Applications matching a number, a full ID number, a name or a last-6, newest first."""
    stmt = select(Application).order_by(Application.status_at.desc(), Application.id.desc()).limit(limit)
    if type_code:
        stmt = stmt.where(Application.type_code == type_code)
    if status:
        stmt = stmt.where(Application.status == status)
    query = (query or "").strip()
    if query:
        number = try_parse_number(query)
        try:
            hashed = application_id_hash(normalize_id_number(query), secret_key)
        except IdentityError:
            hashed = None
        if number:
            stmt = stmt.where(Application.number == number)
        elif hashed:
            stmt = stmt.where(Application.id_hash == hashed)
        else:
            stmt = stmt.where(
                or_(Application.applicant_name.contains(query, autoescape=True), Application.id_last6 == query.upper())
            )
    return list(session.scalars(stmt))


__all__ = [
    "ApplicationError",
    "NewApplication",
    "NumberError",
    "beijing_day",
    "change_status",
    "check_application",
    "create_application",
    "find_application",
    "get_by_number",
    "next_number",
    "search_applications",
]

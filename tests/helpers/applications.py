"""Factories for application tests: fictitious ID numbers with valid checksums, stored applications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from civil_affairs.applications.records import check_application, create_application
from civil_affairs.identity import check_digit
from civil_affairs.models import Application

# 999999 is no real administrative division, so these can never be someone's ID number.
FICTITIOUS_REGION = "999999"


def fictitious_id(sequence: int, birth: str = "19600101") -> str:
    """A fictitious ID number with a valid check digit (region 999999, sequence 001–999)."""
    body = f"{FICTITIOUS_REGION}{birth}{sequence % 1000:03d}"
    return body + check_digit(body)


def add_application(
    session: Session,
    *,
    secret_key: str,
    sequence: int = 1,
    type_name: str = "低保",
    name: str = "测试用户一",
    office: str = "测试镇",
    at: datetime | None = None,
) -> Application:
    """Store one application with a fictitious applicant."""
    data = check_application(
        type_name=type_name,
        applicant_name=name,
        id_number=fictitious_id(sequence),
        phone=None,
        office=office,
        secret_key=secret_key,
    )
    return create_application(data, session=session, at=at)

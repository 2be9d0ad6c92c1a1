"""Staff accounts of the console: argon2 passwords, lockout after repeated failures, server-side sessions.

Functions take a keyword-only ``session`` and never commit: the caller frames the transaction.
Times are naive UTC (``utcnow``); functions that depend on the clock take an optional ``now`` so
tests can move time instead of waiting.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civil_affairs.models import StaffSession, StaffUser
from civil_affairs.models.base import utcnow
from civil_affairs.models.staff import ROLES

MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15
SESSION_IDLE_MINUTES = 60 * 8
SESSION_MAX_HOURS = 24
MIN_PASSWORD_LENGTH = 10
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")

LoginStatus = Literal["ok", "invalid", "locked"]

_hasher = PasswordHasher()


class StaffAccountError(ValueError):
    """A staff account cannot be created as asked; the message is shown to staff in Chinese."""


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt; ``user`` is set whenever the username exists."""

    status: LoginStatus
    user: StaffUser | None = None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the username is unknown, built once on first use."""
    return _hasher.hash(secrets.token_urlsafe(24))


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` with the library's recommended parameters."""
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; a malformed stored hash counts as a mismatch."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """The stored id of a session token: its SHA-256, so the database never holds a usable cookie."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def get_user(username: str, *, session: Session) -> StaffUser | None:
    """The account named ``username``, or None."""
    return session.scalars(select(StaffUser).where(StaffUser.username == username)).one_or_none()


def create_user(username: str, password: str, *, session: Session, role: str = "agent",
                display_name: str = "") -> StaffUser:
    """Create an account; raises StaffAccountError for a bad name, role, short password or taken name."""
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise StaffAccountError("用户名须为3–64位字母、数字或 _ . -")
    if role not in ROLES:
        raise StaffAccountError(f"角色必须是 {', '.join(ROLES)} 之一")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffAccountError(f"密码至少{MIN_PASSWORD_LENGTH}位")
    if get_user(username, session=session) is not None:
        raise StaffAccountError(f"用户名 {username} 已存在")
    user = StaffUser(username=username, display_name=display_name.strip() or username,
                     password_hash=hash_password(password), role=role, active=True,
                     failed_logins=0)
    session.add(user)
    session.flush()
    return user


def ensure_user(username: str, password: str, *, session: Session, role: str = "agent",
                display_name: str = "") -> tuple[StaffUser, bool]:
    """The account ``username``, created if missing (second value: newly created); never changes one."""
    existing = get_user(username.strip(), session=session)
    if existing is not None:
        return existing, False
    return create_user(username, password, session=session, role=role,
                       display_name=display_name), True


def ensure_bootstrap_admin(username: str, password: str, *,
                           session: Session) -> tuple[StaffUser, bool]:
    """The first admin, created unless the username exists (second value: created now)."""
    return ensure_user(username, password, session=session, role="admin")


def authenticate(username: str, password: str, *, session: Session,
                 now: datetime | None = None) -> LoginResult:
    """Check a login; locks the account for LOCKOUT_MINUTES after MAX_FAILED_LOGINS failures in a row.

    Args:
        username: as typed; unknown names get the same answer as a wrong password.
        password: as typed.
        session: the caller's transaction; failure counts and the lock are written to it.
        now: the current UTC time (default: the clock).

    Returns:
        ``ok`` with the user, ``invalid`` for unknown name, wrong password or inactive account,
        ``locked`` while the account is locked (even with the right password).
    """
    now = now or utcnow()
    user = get_user(username.strip(), session=session)
    # Verify against a dummy hash for unknown names, so the answer takes as long as a real check.
    matches = _verify(user.password_hash if user else _dummy_hash(), password)
    if user is None or not user.active:
        return LoginResult("invalid", user)
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult("locked", user)
    if not matches:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            # Counting restarts once the lock is over, so the next window again allows five tries.
            user.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
            user.failed_logins = 0
            session.flush()
            return LoginResult("locked", user)
        session.flush()
        return LoginResult("invalid", user)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return LoginResult("ok", user)


def create_session(user: StaffUser, *, session: Session, now: datetime | None = None,
                   idle_minutes: int = SESSION_IDLE_MINUTES) -> tuple[str, StaffSession]:
    """Open a login for ``user``; returns the cookie token (shown once, stored only hashed) and the row."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = StaffSession(id=token_digest(token), user_id=user.id, user=user,
                       csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now,
                       expires_at=now + timedelta(minutes=idle_minutes))
    session.add(row)
    session.flush()
    return token, row


def validate_session(token: str, *, session: Session, now: datetime | None = None,
                     idle_minutes: int = SESSION_IDLE_MINUTES,
                     max_hours: int = SESSION_MAX_HOURS) -> StaffSession | None:
    """The live session for ``token``, its idle timer restarted; None (and deleted) when expired.

    A session ends after ``idle_minutes`` without use, after ``max_hours`` in any case, and as soon
    as its account is deactivated.
    """
    if not token:
        return None
    now = now or utcnow()
    row = session.get(StaffSession, token_digest(token))
    if row is None:
        return None
    expired = (row.expires_at <= now or row.created_at + timedelta(hours=max_hours) <= now
               or not row.user.active)
    if expired:
        session.delete(row)
        session.flush()
        return None
    row.last_seen_at = now
    row.expires_at = now + timedelta(minutes=idle_minutes)
    session.flush()
    return row


def revoke_session(token: str, *, session: Session) -> bool:
    """End the session for ``token`` (logout); True when there was one."""
    row = session.get(StaffSession, token_digest(token)) if token else None
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def revoke_user_sessions(user_id: int, *, session: Session) -> int:
    """End every session of one account (after a password change or deactivation); returns how many."""
    result = session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    return result.rowcount or 0


def purge_expired_sessions(*, session: Session, now: datetime | None = None) -> int:
    """Delete sessions past their idle expiry; returns how many."""
    result = session.execute(delete(StaffSession).where(StaffSession.expires_at <= (now or utcnow())))
    return result.rowcount or 0

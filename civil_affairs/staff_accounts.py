"""Staff accounts of the console: argon2 passwords, login throttles, server-side sessions.

Failed logins are counted in ``civil_affairs.throttle`` per username (whether or not it exists) and
per client address, atomically in the database; a throttled attempt is refused before the user is
looked up or any argon2 work is done, so it is cheap and says nothing about the name. An admin can
lift a username's lock (``unlock``).

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

from civil_affairs import throttle
from civil_affairs.models import StaffSession, StaffUser
from civil_affairs.models.base import utcnow
from civil_affairs.models.staff import ROLES

MAX_FAILED_LOGINS = 5  # per username, known or not, within LOCKOUT_MINUTES
MAX_FAILED_LOGINS_PER_ADDRESS = 30  # per client address (a whole office may share one)
LOCKOUT_MINUTES = 15
LOGIN_NAME_SCOPE = "login-name"
LOGIN_ADDRESS_SCOPE = "login-address"
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


def create_user(
    username: str, password: str, *, session: Session, role: str = "agent", display_name: str = ""
) -> StaffUser:
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
    user = StaffUser(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def ensure_user(
    username: str, password: str, *, session: Session, role: str = "agent", display_name: str = ""
) -> tuple[StaffUser, bool]:
    """The account ``username``, created if missing (second value: newly created); never changes one."""
    existing = get_user(username.strip(), session=session)
    if existing is not None:
        return existing, False
    return create_user(username, password, session=session, role=role, display_name=display_name), True


def ensure_bootstrap_admin(username: str, password: str, *, session: Session) -> tuple[StaffUser, bool]:
    """The first admin, created unless the username exists (second value: created now)."""
    return ensure_user(username, password, session=session, role="admin")


def _name_subject(username: str) -> str:
    """One counter for every spelling of a name that could be tried ("Admin", " admin ")."""
    return username.strip().lower()[:256]


def login_limits(username: str, address: str = "") -> list[throttle.Limit]:
    """The throttles a login attempt counts against: the username and, when known, the client address."""
    window = timedelta(minutes=LOCKOUT_MINUTES)
    limits = [throttle.Limit(LOGIN_NAME_SCOPE, _name_subject(username), MAX_FAILED_LOGINS, window)]
    if address:
        limits.append(throttle.Limit(LOGIN_ADDRESS_SCOPE, address, MAX_FAILED_LOGINS_PER_ADDRESS, window))
    return limits


def authenticate(
    username: str, password: str, *, session: Session, address: str = "", now: datetime | None = None
) -> LoginResult:
    """Check a login against the throttles, then the password.

    Args:
        username: as typed; unknown names are counted and answered exactly like known ones.
        password: as typed.
        session: the caller's transaction; the counted failure is written to it (commit it).
        address: the client address, throttled on its own so one machine cannot try many names.
        now: the current UTC time (default: the clock).

    Returns:
        ``ok`` with the user; ``invalid`` for an unknown name, a wrong password or an inactive account
        (``user`` set when the name exists, for the audit log); ``locked`` when the name or the
        address has used up its failures: refused unchecked (``user`` None), or this very failure
        used the allowance up.
    """
    now = now or utcnow()
    limits = login_limits(username, address)
    # Refuse a throttled attempt before any lookup or hashing: cheap, and the same for every name.
    if throttle.blocked(limits, session=session, now=now) is not None:
        return LoginResult("locked")
    if throttle.take(limits, session=session, now=now) is not None:
        return LoginResult("locked")
    # A name no account can have (control characters, NUL, 10,000 characters) is not looked up:
    # PostgreSQL would refuse a NUL outright. It is answered like any unknown name.
    name = username.strip()
    user = get_user(name, session=session) if USERNAME_RE.match(name) else None
    # Verify against a dummy hash for unknown names, so the answer takes as long as a real check.
    matches = _verify(user.password_hash if user else _dummy_hash(), password)
    if user is None or not user.active or not matches:
        session.flush()
        # The failure that uses up the allowance already answers "locked", for every name alike.
        if throttle.blocked(limits, session=session, now=now) is not None:
            return LoginResult("locked", user)
        return LoginResult("invalid", user)
    throttle.give_back(limits, session=session)
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return LoginResult("ok", user)


def locked_until(username: str, *, session: Session, now: datetime | None = None) -> datetime | None:
    """Until when logins as ``username`` are refused (naive UTC), or None."""
    return throttle.blocked_until(login_limits(username)[0], session=session, now=now)


def unlock(username: str, *, session: Session) -> bool:
    """Lift the lock on a username (an admin's action); True when failures were forgotten."""
    return throttle.reset(LOGIN_NAME_SCOPE, _name_subject(username), session=session)


def list_users(*, session: Session) -> list[StaffUser]:
    """Every account, by username (for the admins' accounts page)."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def create_session(
    user: StaffUser, *, session: Session, now: datetime | None = None, idle_minutes: int = SESSION_IDLE_MINUTES
) -> tuple[str, StaffSession]:
    """Open a login for ``user``; returns the cookie token (shown once, stored only hashed) and the row."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = StaffSession(
        id=token_digest(token),
        user_id=user.id,
        user=user,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(minutes=idle_minutes),
    )
    session.add(row)
    session.flush()
    return token, row


def validate_session(
    token: str,
    *,
    session: Session,
    now: datetime | None = None,
    idle_minutes: int = SESSION_IDLE_MINUTES,
    max_hours: int = SESSION_MAX_HOURS,
) -> StaffSession | None:
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
    expired = row.expires_at <= now or row.created_at + timedelta(hours=max_hours) <= now or not row.user.active
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

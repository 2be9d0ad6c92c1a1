"""Staff accounts of the console, their server-side login sessions, and the audit log of staff actions."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from civil_affairs.models.base import Base, utcnow

ROLES = ("agent", "supervisor", "admin")
ROLE_LABELS = {"agent": "坐席", "supervisor": "主管", "admin": "管理员"}


class StaffUser(Base):
    """A console user (坐席/主管/管理员); the password is kept only as an argon2 hash."""

    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint("role IN ('agent', 'supervisor', 'admin')", name="role"),)

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(64), nullable=False, default="")
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default="agent")
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime, nullable=True)


class StaffSession(Base):
    """A login; ``id`` is the SHA-256 of the cookie token, so a database dump yields no usable cookie."""

    __tablename__ = "staff_session"

    id = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False, index=True)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)

    user = relationship(StaffUser, lazy="joined")


class AuditLog(Base):
    """One staff action or login attempt; ``detail`` is short and has personal numbers masked."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    staff_user_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True,
                           index=True)
    action = Column(String(40), nullable=False, index=True)
    target_type = Column(String(40), nullable=False, default="")
    target_id = Column(String(80), nullable=False, default="")
    detail = Column(String(500), nullable=False, default="")
    ip = Column(String(45), nullable=False, default="")

    staff_user = relationship(StaffUser, lazy="joined")

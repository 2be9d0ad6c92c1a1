"""Dependencies of the staff side: who is logged in, which role they need, and the CSRF check.

Every staff route declares its minimum role in its signature: ``current_staff`` (any member) or
``require_role`` to read, ``check_csrf`` (any member) or ``csrf_and_role`` to change something.
Pages answer a missing login with a redirect to the login form; ``/api/*`` answers 401 JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response, status
from sqlalchemy.orm import sessionmaker

from civil_affairs import clock
from civil_affairs.models import StaffSession
from civil_affairs.models.staff import ROLE_LABELS, ROLES
from civil_affairs.staff_accounts import validate_session
from civil_affairs.tokens import tokens_match

SESSION_COOKIE = "staff_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_PATH = "/staff/login"
HOME_PATH = "/staff/faq"

NOT_LOGGED_IN_TEXT = "请先登录"
FORBIDDEN_TEXT = "权限不足"
CSRF_TEXT = "页面已过期或请求来源不明，请刷新页面后重试"


@dataclass(frozen=True)
class StaffContext:
    """The logged-in staff member of one request, detached from any database session."""

    user_id: int
    username: str
    display_name: str
    role: str
    csrf_token: str

    @classmethod
    def from_session(cls, row: StaffSession) -> StaffContext:
        """The context of a validated session row."""
        user = row.user
        return cls(user.id, user.username, user.display_name or user.username, user.role, row.csrf_token)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def has_role(self, role: str) -> bool:
        """True when this member's role is ``role`` or above (agent < supervisor < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def sessions(request: Request) -> sessionmaker:
    """The session factory opened by the lifespan."""
    return request.app.state.sessions


def client_ip(request: Request) -> str:
    """The peer address for the audit log (a reverse proxy's own address when behind one)."""
    return request.client.host if request.client else ""


def is_api(request: Request) -> bool:
    """True for JSON endpoints, which answer errors as JSON instead of redirecting."""
    return request.url.path.startswith("/api/")


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other sites, ``//host``) goes home."""
    if target and target.startswith("/staff") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME_PATH


def format_time(value: datetime | None) -> str:
    """A stored naive-UTC time as Beijing time for staff pages."""
    return clock.format_local(value)


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    staff: StaffContext | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    """A staff page with what base.html needs; never cached (Back after logout shows nothing), never framed."""
    full = {"staff": staff, "csrf_token": staff.csrf_token if staff else "", "format_time": format_time, **context}
    response = request.app.state.templates.TemplateResponse(request, template, full, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"  # a framed page could trick a click on 停用
    return response


def _not_logged_in(request: Request) -> HTTPException:
    """401 for the API; for pages a 303 to the login form, which comes back to a GET page afterwards."""
    if is_api(request):
        return HTTPException(status.HTTP_401_UNAUTHORIZED, NOT_LOGGED_IN_TEXT)
    location = LOGIN_PATH
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location += f"?next={quote(target, safe='')}"
    return HTTPException(status.HTTP_303_SEE_OTHER, NOT_LOGGED_IN_TEXT, headers={"Location": location})


def current_staff(request: Request) -> StaffContext:
    """The logged-in staff member; restarts the session's idle timer on every request."""
    token = request.cookies.get(SESSION_COOKIE, "")
    staff: StaffContext | None = None
    if token:
        with sessions(request).begin() as session:
            row = validate_session(token, session=session)
            staff = StaffContext.from_session(row) if row else None
    if staff is None:
        raise _not_logged_in(request)
    return staff


def _checked_role(role: str) -> str:
    """``role`` itself; a typo in a route's declaration fails at import, not at the first request."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return role


def _with_role(staff: StaffContext, role: str) -> StaffContext:
    """``staff`` if their role is ``role`` or above, else 403."""
    if not staff.has_role(role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, FORBIDDEN_TEXT)
    return staff


def require_role(role: str) -> Callable[..., StaffContext]:
    """A dependency that lets through ``role`` and the roles above it, and answers 403 to others."""
    role = _checked_role(role)

    def dependency(staff: StaffContext = Depends(current_staff)) -> StaffContext:
        """The logged-in member, if their role is high enough."""
        return _with_role(staff, role)

    return dependency


async def check_csrf(request: Request, staff: StaffContext = Depends(current_staff)) -> StaffContext:
    """Refuse a state-changing request unless it carries the session's CSRF token (header or form)."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not tokens_match(staff.csrf_token, given):
        raise HTTPException(status.HTTP_403_FORBIDDEN, CSRF_TEXT)
    return staff


def csrf_and_role(role: str) -> Callable[..., Awaitable[StaffContext]]:
    """``check_csrf``, then ``require_role``'s check: for state-changing requests that need ``role``."""
    role = _checked_role(role)

    async def dependency(staff: StaffContext = Depends(check_csrf)) -> StaffContext:
        """The logged-in member, if the request carries their CSRF token and their role is high enough."""
        return _with_role(staff, role)

    return dependency

"""Staff login and logout (form and JSON), the first admin from the environment, and the audit log page.

A login opens a server-side session whose random token travels in the http-only ``staff_session``
cookie; logout deletes the row, so the cookie stops working at once. The login form, used before any
session exists, is protected by a double-submit token: a cookie and a hidden field that must match.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from civil_affairs import audit
from civil_affairs.config import ConfigError, Settings
from civil_affairs.staff_accounts import (
    StaffAccountError,
    authenticate,
    create_session,
    ensure_bootstrap_admin,
    revoke_session,
    validate_session,
)
from civil_affairs.tokens import tokens_match
from console.deps import (
    HOME_PATH,
    LOGIN_PATH,
    SESSION_COOKIE,
    StaffContext,
    check_csrf,
    client_ip,
    current_staff,
    render,
    require_role,
    safe_next,
    sessions,
)
from console.security import is_https

logger = logging.getLogger(__name__)
router = APIRouter()

LOGIN_CSRF_COOKIE = "staff_login_csrf"
ADMIN_USERNAME_KEY = "STAFF_ADMIN_USERNAME"
ADMIN_PASSWORD_KEY = "STAFF_ADMIN_PASSWORD"
AUDIT_PAGE_LIMITS = (50, 200, 1000)

INVALID_TEXT = "用户名或密码错误"
LOCKED_TEXT = "登录失败次数过多，请15分钟后再试"
LOGIN_FORM_EXPIRED_TEXT = "登录页面已过期，请重新输入"


class LoginIn(BaseModel):
    """Credentials posted to the JSON login."""

    username: str
    password: str


def bootstrap_admin(settings: Settings, *, session: Session) -> bool:
    """Create the first admin from STAFF_ADMIN_USERNAME/STAFF_ADMIN_PASSWORD if set; True if created.

    An existing account of that name is left as it is, so restarts are no-ops.
    """
    username = settings.staff_admin_username.strip()
    password = settings.staff_admin_password
    if not username and not password:
        return False
    if not username or not password:
        raise ConfigError(f"{ADMIN_USERNAME_KEY} and {ADMIN_PASSWORD_KEY} must be set together")
    try:
        user, created = ensure_bootstrap_admin(username, password, session=session)
    except StaffAccountError as exc:
        raise ConfigError(f"{ADMIN_USERNAME_KEY}/{ADMIN_PASSWORD_KEY}: {exc}") from exc
    if created:
        audit.record(
            audit.STAFF_CREATE,
            session=session,
            staff_user_id=user.id,
            target_type="staff_user",
            target_id=user.username,
            detail=f"控制台启动时根据 {ADMIN_USERNAME_KEY} 创建管理员",
        )
        logger.info("bootstrap admin account %s created", user.username)
    return created


def _secure_cookies(request: Request) -> bool:
    """Mark cookies Secure when the console is served over HTTPS (directly or via a trusted proxy)."""
    return is_https(request)


def _set_session_cookie(response: Response, request: Request, token: str) -> None:
    """A browser-session cookie; the server decides expiry, so no max_age is sent."""
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/", secure=_secure_cookies(request))


def _login(request: Request, username: str, password: str) -> tuple[str, str | None, StaffContext | None]:
    """Check credentials, open a session and audit the attempt; returns (status, token, staff)."""
    ip = client_ip(request)
    previous = request.cookies.get(SESSION_COOKIE, "")
    with sessions(request).begin() as session:
        result = authenticate(username, password, session=session, address=ip)
        if result.status != "ok" or result.user is None:
            audit.record(
                audit.LOGIN_FAILED,
                session=session,
                staff_user_id=result.user.id if result.user else None,
                target_type="staff_user",
                target_id=_printable(username)[:64],
                detail=LOCKED_TEXT if result.status == "locked" else INVALID_TEXT,
                ip=ip,
            )
            return result.status, None, None
        if previous:
            revoke_session(previous, session=session)
        token, row = create_session(result.user, session=session)
        audit.record(
            audit.LOGIN,
            session=session,
            staff_user_id=result.user.id,
            target_type="staff_user",
            target_id=result.user.username,
            ip=ip,
        )
        return "ok", token, StaffContext.from_session(row)


def _printable(text: str) -> str:
    """A typed username as it can be stored: no control characters (PostgreSQL refuses NUL)."""
    return "".join(ch for ch in text.strip() if ch.isprintable())


def _logout(request: Request, staff: StaffContext) -> None:
    """Delete the session row and audit it."""
    with sessions(request).begin() as session:
        revoke_session(request.cookies.get(SESSION_COOKIE, ""), session=session)
        audit.record(
            audit.LOGOUT,
            session=session,
            staff_user_id=staff.user_id,
            target_type="staff_user",
            target_id=staff.username,
            ip=client_ip(request),
        )


def _logged_in(request: Request) -> bool:
    """True when the request carries a live session cookie."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return False
    with sessions(request).begin() as session:
        return validate_session(token, session=session) is not None


def _login_page(
    request: Request, next_path: str, error: str = "", username: str = "", code: int = status.HTTP_200_OK
) -> Response:
    """The login form with a fresh double-submit token in a cookie and a hidden field."""
    form_token = secrets.token_urlsafe(32)
    response = render(
        request,
        "staff/login.html",
        {"form_token": form_token, "next": next_path, "error": error, "username": username},
        status_code=code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        form_token,
        httponly=True,
        samesite="strict",
        path=LOGIN_PATH,
        max_age=3600,
        secure=_secure_cookies(request),
    )
    return response


@router.get(LOGIN_PATH, include_in_schema=False)
def login_form(request: Request, next: str = "") -> Response:
    """The login page; a member who is already logged in goes straight on."""
    if _logged_in(request):
        return RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    return _login_page(request, safe_next(next))


@router.post(LOGIN_PATH, include_in_schema=False)
def login_submit(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    """Log in from the form and go to the page asked for, or show the error on the form again."""
    next_path = safe_next(next)
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
        return _login_page(request, next_path, LOGIN_FORM_EXPIRED_TEXT, username, status.HTTP_403_FORBIDDEN)
    outcome, token, _staff = _login(request, username, password)
    if outcome == "locked":
        return _login_page(request, next_path, LOCKED_TEXT, username, status.HTTP_429_TOO_MANY_REQUESTS)
    if token is None:
        return _login_page(request, next_path, INVALID_TEXT, username, status.HTTP_401_UNAUTHORIZED)
    response = RedirectResponse(next_path, status_code=status.HTTP_303_SEE_OTHER)
    _set_session_cookie(response, request, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=LOGIN_PATH)
    return response


@router.post("/staff/logout", include_in_schema=False)
def logout_submit(request: Request, staff: StaffContext = Depends(check_csrf)) -> Response:
    """Log out from the nav button and return to the login page."""
    _logout(request, staff)
    response = RedirectResponse(LOGIN_PATH, status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/api/staff/login")
def api_login(body: LoginIn, request: Request) -> JSONResponse:
    """Log in with JSON; the session cookie is set and the CSRF token for later writes returned."""
    outcome, token, staff = _login(request, body.username, body.password)
    if outcome == "locked":
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, LOCKED_TEXT)
    if token is None or staff is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, INVALID_TEXT)
    response = JSONResponse({"csrf_token": staff.csrf_token, "user": _me(staff)})
    _set_session_cookie(response, request, token)
    return response


@router.post("/api/staff/logout")
def api_logout(request: Request, staff: StaffContext = Depends(check_csrf)) -> JSONResponse:
    """Log out with JSON (needs the X-CSRF-Token header)."""
    _logout(request, staff)
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _me(staff: StaffContext) -> dict[str, str]:
    return {"username": staff.username, "display_name": staff.display_name, "role": staff.role}


@router.get("/api/staff/me")
def api_me(staff: StaffContext = Depends(current_staff)) -> dict[str, object]:
    """Who is logged in, with the CSRF token a script needs for writes."""
    return {**_me(staff), "csrf_token": staff.csrf_token}


@router.get("/staff", include_in_schema=False)
def staff_home() -> RedirectResponse:
    """The staff side opens on the FAQ list."""
    return RedirectResponse(HOME_PATH, status_code=status.HTTP_303_SEE_OTHER)


@router.get("/staff/audit", include_in_schema=False)
def audit_page(
    request: Request, action: str = "", limit: int = 200, staff: StaffContext = Depends(require_role("supervisor"))
) -> Response:
    """Recent audit records, newest first (supervisors and admins only)."""
    limit = limit if limit in AUDIT_PAGE_LIMITS else 200
    action = action if action in audit.ACTION_LABELS else ""
    with sessions(request).begin() as session:
        records = audit.list_audit(audit.AuditFilters(action=action), session=session, limit=limit)
        audit.record(
            audit.AUDIT_VIEW,
            session=session,
            staff_user_id=staff.user_id,
            target_type="audit_log",
            detail=f"筛选：{action or '全部'}",
            ip=client_ip(request),
        )
        rows = [
            {
                "at": r.at,
                "user": r.staff_user.username if r.staff_user else "",
                "action": r.action,
                "label": audit.ACTION_LABELS.get(r.action, r.action),
                "target": f"{r.target_type}:{r.target_id}" if r.target_id else r.target_type,
                "detail": r.detail,
                "ip": r.ip,
            }
            for r in records
        ]
    return render(
        request,
        "staff/audit.html",
        {
            "nav": "audit",
            "rows": rows,
            "action": action,
            "limit": limit,
            "limits": AUDIT_PAGE_LIMITS,
            "actions": audit.ACTION_LABELS,
        },
        staff=staff,
    )

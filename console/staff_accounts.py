"""员工账号 (admins only): every account with its login lock, and the admin's unlock.

A username's lock comes from the login throttle (``civil_affairs.staff_accounts``); anyone can run
a name into it by guessing, so an admin must be able to lift it at once rather than wait.
Unlocking is audited.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import RedirectResponse

from civil_affairs import audit
from civil_affairs.models.base import utcnow
from civil_affairs.models.staff import ROLE_LABELS
from civil_affairs.staff_accounts import get_user, list_users, locked_until, unlock
from console.deps import StaffContext, client_ip, csrf_and_role, render, require_role, sessions

router = APIRouter()

ACCOUNTS_PATH = "/staff/accounts"
UNKNOWN_ACCOUNT_TEXT = "没有这个账号"


def _accounts(request: Request) -> list[dict[str, object]]:
    now = utcnow()
    with sessions(request).begin() as session:
        return [
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "role_label": ROLE_LABELS.get(u.role, u.role),
                "active": u.active,
                "last_login_at": u.last_login_at,
                "locked_until": locked_until(u.username, session=session, now=now),
            }
            for u in list_users(session=session)
        ]


def _unlock(request: Request, username: str, staff: StaffContext) -> bool:
    """Forget the username's failed logins; 404 for a name that is not an account."""
    with sessions(request).begin() as session:
        user = get_user(username, session=session)
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, UNKNOWN_ACCOUNT_TEXT)
        lifted = unlock(user.username, session=session)
        audit.record(
            audit.STAFF_UNLOCK,
            session=session,
            staff_user_id=staff.user_id,
            target_type="staff_user",
            target_id=user.username,
            detail="解除登录锁定" if lifted else "账号未被锁定",
            ip=client_ip(request),
        )
    return lifted


@router.get(ACCOUNTS_PATH, include_in_schema=False)
def accounts_page(request: Request, staff: StaffContext = Depends(require_role("admin"))) -> Response:
    """The accounts with their lock state, and an unlock button for each locked one."""
    rows = _accounts(request)
    return render(request, "staff/accounts.html", {"nav": "accounts", "rows": rows}, staff=staff)


@router.post(ACCOUNTS_PATH + "/{username}/unlock", include_in_schema=False)
def unlock_submit(
    username: str,
    request: Request,
    staff: StaffContext = Depends(csrf_and_role("admin")),
) -> Response:
    """Unlock from the page's button and come back to the list."""
    _unlock(request, username, staff)
    return RedirectResponse(ACCOUNTS_PATH, status_code=status.HTTP_303_SEE_OTHER)


@router.get("/api/staff/accounts")
def api_accounts(request: Request, staff: StaffContext = Depends(require_role("admin"))) -> dict[str, object]:
    """The accounts as JSON: username, role, active, last login and ``locked_until`` (UTC or null)."""
    rows = _accounts(request)
    return {
        "accounts": [
            {**r, "last_login_at": _iso(r["last_login_at"]), "locked_until": _iso(r["locked_until"])} for r in rows
        ]
    }


@router.post("/api/staff/accounts/{username}/unlock")
def api_unlock(
    username: str,
    request: Request,
    staff: StaffContext = Depends(csrf_and_role("admin")),
) -> dict[str, object]:
    """Lift the username's login lock; ``{"unlocked": true}`` when it was locked."""
    return {"unlocked": _unlock(request, username, staff)}


def _iso(value: object) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if isinstance(value, datetime) else None

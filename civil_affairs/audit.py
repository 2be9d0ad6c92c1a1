"""The audit log (审计日志): who did what in the console, when and from where.

Details are short and pass through ``mask_personal_data``, so the log never holds full ID or phone
numbers. Functions take a keyword-only ``session`` and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs.models import AuditLog
from civil_affairs.privacy import mask_personal_data

LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGOUT = "logout"
STAFF_CREATE = "staff.create"
STAFF_UNLOCK = "staff.unlock"
STAFF_LIST = "staff.list"
FAQ_CREATE = "faq.create"
FAQ_UPDATE = "faq.update"
FAQ_DEACTIVATE = "faq.deactivate"
FAQ_ACTIVATE = "faq.activate"
FAQ_IMPORT = "faq.import"
FAQ_EXPORT = "faq.export"
UNANSWERED_VIEW = "unanswered.view"
UNANSWERED_RESOLVE = "unanswered.resolve"
AUDIT_VIEW = "audit.view"
APPOINTMENT_VIEW = "appointment.view"
APPOINTMENT_STATUS = "appointment.status"
APPOINTMENT_CANCEL_DAY = "appointment.cancel_day"
APPOINTMENT_EXPORT = "appointment.export"
APPOINTMENT_CAPACITY = "appointment.capacity"
APPOINTMENT_CALENDAR = "appointment.calendar"
APPLICATION_SEARCH = "application.search"
APPLICATION_VIEW = "application.view"
APPLICATION_CREATE = "application.create"
APPLICATION_STATUS = "application.status"
APPLICATION_IMPORT = "application.import"
HANDOFF_VIEW = "handoff.view"
HANDOFF_REPLY = "handoff.reply"
HANDOFF_NOTE = "handoff.note"
HANDOFF_CLAIM = "handoff.claim"
HANDOFF_ASSIGN = "handoff.assign"
HANDOFF_RESOLVE = "handoff.resolve"
CONVERSATION_VIEW = "conversation.view"
CONVERSATION_SEARCH = "conversation.search"

ACTION_LABELS = {
    LOGIN: "登录",
    LOGIN_FAILED: "登录失败",
    LOGOUT: "退出",
    STAFF_CREATE: "创建账号",
    STAFF_UNLOCK: "解除登录锁定",
    STAFF_LIST: "查看员工账号",
    FAQ_CREATE: "新增问答",
    FAQ_UPDATE: "修改问答",
    FAQ_DEACTIVATE: "停用问答",
    FAQ_ACTIVATE: "启用问答",
    FAQ_IMPORT: "导入问答",
    FAQ_EXPORT: "导出问答",
    UNANSWERED_VIEW: "查看未解答问题",
    UNANSWERED_RESOLVE: "处理未解答问题",
    AUDIT_VIEW: "查看审计日志",
    APPOINTMENT_VIEW: "查看预约名单",
    APPOINTMENT_STATUS: "登记预约到场/爽约/取消",
    APPOINTMENT_CANCEL_DAY: "取消整天预约",
    APPOINTMENT_EXPORT: "导出预约名单",
    APPOINTMENT_CAPACITY: "修改预约名额",
    APPOINTMENT_CALENDAR: "修改节假日日历",
    APPLICATION_SEARCH: "查询办件",
    APPLICATION_VIEW: "查看办件",
    APPLICATION_CREATE: "新建办件",
    APPLICATION_STATUS: "变更办件进度",
    APPLICATION_IMPORT: "导入办件",
    HANDOFF_VIEW: "查看转人工会话",
    HANDOFF_REPLY: "回复居民",
    HANDOFF_NOTE: "添加内部备注",
    HANDOFF_CLAIM: "认领会话",
    HANDOFF_ASSIGN: "分配会话",
    HANDOFF_RESOLVE: "结束人工服务",
    CONVERSATION_VIEW: "查看会话记录",
    CONVERSATION_SEARCH: "搜索会话记录",
}

MAX_DETAIL_CHARS = 500
MAX_TARGET_ID_CHARS = 80
DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class AuditFilters:
    """Which audit records to list; empty fields do not filter."""

    action: str = ""
    staff_user_id: int | None = None
    target_type: str = ""
    target_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _clip(text: str, limit: int) -> str:
    """Masked and cut to ``limit`` characters (masking first, so a cut never leaves digits exposed)."""
    text = mask_personal_data(" ".join(str(text or "").split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record(
    action: str,
    *,
    session: Session,
    staff_user_id: int | None = None,
    target_type: str = "",
    target_id: str | int = "",
    detail: str = "",
    ip: str = "",
) -> AuditLog:
    """Add one audit record to the caller's transaction.

    Args:
        action: what happened, e.g. ``faq.update`` (see the constants of this module).
        session: the caller's transaction, so the record commits or rolls back with the action.
        staff_user_id: who did it; None for a failed login under an unknown name.
        target_type: the kind of thing acted on, e.g. ``faq`` or ``staff_user``.
        target_id: which one (a FAQ key, a question id); masked like ``detail``.
        detail: a short description; personal numbers are masked, long text is cut.
        ip: the client address as the console saw it.

    Returns:
        The new record, flushed so it has an id.
    """
    entry = AuditLog(
        action=action,
        staff_user_id=staff_user_id,
        target_type=target_type[:40],
        target_id=_clip(str(target_id), MAX_TARGET_ID_CHARS),
        detail=_clip(detail, MAX_DETAIL_CHARS),
        ip=(ip or "")[:45],
    )
    session.add(entry)
    session.flush()
    return entry


def list_audit(filters: AuditFilters | None = None, *, session: Session, limit: int = DEFAULT_LIMIT) -> list[AuditLog]:
    """Audit records matching ``filters``, newest first, at most ``limit``."""
    filters = filters or AuditFilters()
    stmt = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    if filters.action:
        stmt = stmt.where(AuditLog.action == filters.action)
    if filters.staff_user_id is not None:
        stmt = stmt.where(AuditLog.staff_user_id == filters.staff_user_id)
    if filters.target_type:
        stmt = stmt.where(AuditLog.target_type == filters.target_type)
    if filters.target_id:
        stmt = stmt.where(AuditLog.target_id == filters.target_id)
    if filters.since is not None:
        stmt = stmt.where(AuditLog.at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(AuditLog.at < filters.until)
    return list(session.scalars(stmt))

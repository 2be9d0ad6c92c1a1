"""The application types (业务类型) and statuses (办理环节) — the one place to change either list.

Each type has a 2-letter code used as the prefix of its application numbers. Statuses follow the
usual path of a social-assistance application: 受理 → 入户调查 → 审核 → 公示 → 审批 → 已批准, or it
ends as 未批准 (with the reason) or waits at 需补充材料 (with what is missing).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApplicationType:
    """One kind of application: its number prefix, its official name and names residents use."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()


APPLICATION_TYPES: tuple[ApplicationType, ...] = (
    ApplicationType("DB", "低保", ("最低生活保障", "城乡低保", "低保申请")),
    ApplicationType("TK", "特困供养", ("特困", "特困人员救助供养", "五保")),
    ApplicationType("LS", "临时救助", ("临时救助金",)),
    ApplicationType("GL", "高龄津贴", ("高龄补贴", "高龄老人津贴")),
    ApplicationType("CJ", "残疾人两项补贴", ("两项补贴", "残疾补贴", "困难残疾人生活补贴", "重度残疾人护理补贴")),
    ApplicationType(
        "GE", "孤儿/事实无人抚养儿童基本生活费", ("孤儿基本生活费", "事实无人抚养儿童基本生活费", "孤儿生活费")
    ),
    ApplicationType("BZ", "惠民殡葬补贴", ("殡葬补贴", "殡葬补助", "惠民殡葬", "丧葬补助")),
)
TYPES_BY_CODE = {t.code: t for t in APPLICATION_TYPES}

# (code, label shown to residents and staff); the model's check constraint lists the same codes.
STATUSES: tuple[tuple[str, str], ...] = (
    ("accepted", "受理"),
    ("home_visit", "入户调查"),
    ("review", "审核"),
    ("publicity", "公示"),
    ("approval", "审批"),
    ("approved", "已批准"),
    ("rejected", "未批准"),
    ("needs_documents", "需补充材料"),
)
STATUS_LABELS = dict(STATUSES)
# These need a note for the resident: the reason, or what is missing.
STATUSES_NEEDING_NOTE = {"rejected": "未批准的原因", "needs_documents": "需要补充的材料"}


def resolve_type(value: str) -> ApplicationType | None:
    """The type named by a code ("DB", "db") or a Chinese name or alias ("低保"); None if unknown."""
    value = (value or "").strip()
    if not value:
        return None
    found = TYPES_BY_CODE.get(value.upper())
    if found:
        return found
    for app_type in APPLICATION_TYPES:
        if value == app_type.name or value in app_type.aliases:
            return app_type
    return None


def resolve_status(value: str) -> str | None:
    """The status code named by a code ("review") or a label ("审核"); None if unknown."""
    value = (value or "").strip()
    if value in STATUS_LABELS:
        return value
    for code, label in STATUSES:
        if value == label:
            return code
    return None

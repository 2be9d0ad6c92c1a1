"""The audit log itself (civil_affairs/audit.py) and its page (supervisors and admins)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civil_affairs import audit
from civil_affairs.audit import AuditFilters, list_audit, record
from civil_affairs.models.base import utcnow
from tests.console.conftest import api_login


def test_details_and_targets_are_masked_and_short(session: Session) -> None:
    entry = record(
        "faq.update",
        session=session,
        target_type="faq",
        target_id="13812345678",
        detail="居民 110101199003071234 电话 13812345678 " + "长" * 600,
        ip="10.0.0.1",
    )
    assert entry.target_id == "138****5678"
    assert "110101199003071234" not in entry.detail and "13812345678" not in entry.detail
    assert "110***********1234" in entry.detail and "138****5678" in entry.detail
    assert len(entry.detail) == audit.MAX_DETAIL_CHARS and entry.detail.endswith("…")


def test_list_filters_and_orders_newest_first(session: Session) -> None:
    start = utcnow() - timedelta(seconds=1)
    first = record("faq.create", session=session, target_type="faq", target_id="a")
    second = record("faq.update", session=session, target_type="faq", target_id="a")
    record("faq.update", session=session, target_type="faq", target_id="b")
    ours = list_audit(AuditFilters(since=start, target_id="a"), session=session)
    assert [r.id for r in ours] == [second.id, first.id]
    updates = list_audit(AuditFilters(action="faq.update", since=start), session=session, limit=1)
    assert len(updates) == 1 and updates[0].target_id == "b"
    assert list_audit(AuditFilters(since=start, until=start), session=session) == []


def test_the_page_lists_records_and_filters_by_action(client: TestClient, make_staff: Callable[..., int]) -> None:
    make_staff("boss", role="supervisor")
    client.post("/api/staff/login", json={"username": "boss", "password": "wrong-password"})
    api_login(client, "boss")
    page = client.get("/staff/audit")
    assert "登录失败" in page.text and "testclient" in page.text
    only_failures = client.get("/staff/audit", params={"action": "login_failed"})
    assert "登录失败" in only_failures.text and "<td>登录</td>" not in only_failures.text

"""Staff side of appointments (console/appointments.py): day view, status API, cancelling with notice,
capacity, calendar, CSV, audit records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from civil_affairs import booking
from civil_affairs.audit import list_audit
from civil_affairs.models import Appointment, ConversationMessage
from tests.console.conftest import api_login, csrf_headers
from tests.helpers.booking_factory import make_request

NOW = datetime(2026, 9, 23, 9, 0)
DAY = date(2026, 9, 24)


@pytest.fixture
def booked(factory: sessionmaker) -> list[Appointment]:
    """Two appointments on DAY, one from a web-chat resident."""
    return [
        booking.book_with_retry(
            factory, make_request(DAY, slot, serial=serial, sender_id=sender), secret_key="k", now=NOW
        )
        for slot, serial, sender in (("am1", 21, "web-abc"), ("pm1", 22, "web-def"))
    ]


def test_api_needs_login(client: TestClient) -> None:
    assert client.get("/api/staff/appointments", params={"date": DAY.isoformat()}).status_code == 401


def test_api_lists_the_day_with_masked_data(client: TestClient, agent: str, booked: list[Appointment]) -> None:
    body = client.get("/api/staff/appointments", params={"date": DAY.isoformat()}).json()
    assert [a["code"] for a in body["appointments"]] == [booked[0].code, booked[1].code]
    first = body["appointments"][0]
    assert first["phone"] == "139****2456" and len(first["parties"][0]["id_last4"]) == 4
    assert "13979312456" not in str(body)
    am1 = next(s for s in body["slots"] if s["slot"] == "am1")
    assert am1["booked"] == 1 and am1["free"] == am1["capacity"] - 1


def test_api_rejects_bad_dates_and_statuses(client: TestClient, agent: str, booked: list[Appointment]) -> None:
    assert client.get("/api/staff/appointments", params={"date": "24.9."}).status_code == 422
    url = f"/api/staff/appointments/{booked[0].id}/status"
    assert client.post(url, json={"status": "vanished"}, headers=csrf_headers(agent)).status_code == 422
    assert (
        client.post(
            "/api/staff/appointments/999999/status", json={"status": "arrived"}, headers=csrf_headers(agent)
        ).status_code
        == 404
    )


def test_status_change_needs_the_csrf_token(client: TestClient, agent: str, booked: list[Appointment]) -> None:
    url = f"/api/staff/appointments/{booked[0].id}/status"
    assert client.post(url, json={"status": "arrived"}).status_code == 403
    assert client.post(url, json={"status": "arrived"}, headers=csrf_headers("wrong")).status_code == 403


def test_arrival_no_show_and_cancel_with_notice(
    client: TestClient, agent: str, booked: list[Appointment], factory: sessionmaker
) -> None:
    first, second = booked
    arrived = client.post(
        f"/api/staff/appointments/{first.id}/status", json={"status": "arrived"}, headers=csrf_headers(agent)
    )
    assert arrived.status_code == 200 and arrived.json()["appointment"]["status"] == "arrived"
    no_show = client.post(
        f"/api/staff/appointments/{first.id}/status", json={"status": "no_show"}, headers=csrf_headers(agent)
    )
    assert no_show.json()["appointment"]["status_label"] == "未到场（爽约）"
    cancelled = client.post(
        f"/api/staff/appointments/{second.id}/status",
        json={"status": "cancelled", "reason": "窗口设备检修"},
        headers=csrf_headers(agent),
    )
    assert cancelled.status_code == 200 and cancelled.json()["notified"] == 1
    again = client.post(
        f"/api/staff/appointments/{second.id}/status", json={"status": "arrived"}, headers=csrf_headers(agent)
    )
    assert again.status_code == 409
    with factory.begin() as session:
        texts = list(session.scalars(select(ConversationMessage.text).order_by(ConversationMessage.id.desc())))
        actions = [r.action for r in list_audit(session=session)]
    assert any(second.code in t and "窗口设备检修" in t for t in texts)
    assert actions.count("appointment.status") == 3


def test_day_page_and_cancel_whole_day(
    client: TestClient, make_staff: Callable[..., int], booked: list[Appointment], factory: sessionmaker
) -> None:
    make_staff("boss", role="supervisor")
    token = api_login(client, "boss")
    page = client.get("/staff/appointments", params={"date": DAY.isoformat()})
    assert page.status_code == 200 and booked[0].code in page.text and "139****2456" in page.text
    response = client.post(
        "/staff/appointments/cancel-day",
        follow_redirects=False,
        data={"day": DAY.isoformat(), "reason": "系统维护暂停办理", "csrf_token": token},
    )
    assert response.status_code == 303
    with factory.begin() as session:
        statuses = set(session.scalars(select(Appointment.status).where(Appointment.day == DAY)))
        notices = [t for t in session.scalars(select(ConversationMessage.text)) if "系统维护暂停办理" in t]
    assert statuses == {"cancelled"} and len(notices) == 2


def test_agents_cannot_cancel_a_day_or_edit_capacity(client: TestClient, agent: str) -> None:
    assert (
        client.post(
            "/staff/appointments/cancel-day", data={"day": DAY.isoformat(), "reason": "x", "csrf_token": agent}
        ).status_code
        == 403
    )
    assert client.get("/staff/appointments/capacity").status_code == 403


def test_capacity_and_calendar_editing(
    client: TestClient, make_staff: Callable[..., int], factory: sessionmaker
) -> None:
    make_staff("boss", role="supervisor")
    token = api_login(client, "boss")
    with factory.begin() as session:
        slot = booking.active_slots(session=session)[0]
    assert client.get("/staff/appointments/capacity").status_code == 200
    client.post(
        f"/staff/appointments/capacity/slot/{slot.id}", data={"capacity": "9", "active": "1", "csrf_token": token}
    )
    client.post(
        "/staff/appointments/capacity/override",
        data={"day": "2026-09-26", "slot_id": str(slot.id), "capacity": "12", "note": "测试加开", "csrf_token": token},
    )
    with factory.begin() as session:
        capacities = {s.slot_code: s.capacity for s in booking.slot_availability(date(2026, 9, 26), session=session)}
        assert capacities[slot.code] == 12
        assert booking.active_slots(session=session)[0].capacity == 9
    calendar = client.get("/staff/appointments/calendar", params={"year": 2026})
    assert calendar.status_code == 200 and "国庆节" in calendar.text
    client.post("/staff/appointments/calendar/seed", data={"year": "2031", "csrf_token": token})
    client.post(
        "/staff/appointments/calendar/day",
        data={"day": "2031-10-01", "kind": "holiday", "name": "国庆节", "csrf_token": token},
    )
    assert "2031-10-01" in client.get("/staff/appointments/calendar", params={"year": 2031}).text
    with factory.begin() as session:
        actions = [r.action for r in list_audit(session=session)]
    assert actions.count("appointment.capacity") == 2 and actions.count("appointment.calendar") == 2


def test_csv_export_masks_phones_and_is_audited(
    client: TestClient, agent: str, booked: list[Appointment], factory: sessionmaker
) -> None:
    response = client.get("/staff/appointments/export.csv", params={"start": DAY.isoformat(), "end": DAY.isoformat()})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert booked[0].code in response.text and "13979312456" not in response.text
    with factory.begin() as session:
        assert list_audit(session=session, limit=1)[0].action == "appointment.export"

"""The dashboard page and its JSON (console/dashboard.py), for supervisors and admins."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from civil_affairs.conversations.handoff import escalate
from civil_affairs.conversations.transcripts import record_message
from tests.console.conftest import api_login


def arrange(factory: sessionmaker) -> None:
    with factory.begin() as session:
        for n in range(4):
            record_message(f"tg-{n}", "resident", "你好", session=session)
        handoff, _ = escalate("tg-0", "complaint", session=session)
        handoff.status, handoff.rating = "resolved", 5


def test_json_figures(client: TestClient, factory: sessionmaker, make_staff: Callable[..., int]) -> None:
    arrange(factory)
    make_staff("boss", role="supervisor")
    api_login(client, "boss")
    data = client.get("/api/staff/dashboard", params={"period": "7"}).json()
    assert data["period"] == "7" and data["conversations"] == 4 and data["contained"] == 3
    assert data["containment_rate"] == 0.75 and data["handoff_rate"] == 0.25
    assert {"reason": "complaint", "label": "投诉", "count": 1} in data["handoffs_by_reason"]
    assert data["ratings"][0] == {"score": 5, "count": 1} and data["rating_average"] == 5
    assert set(data["waiting"]) == {"answered", "median_seconds", "p90_seconds"}
    assert isinstance(data["top_unanswered"], list)


def test_page_draws_charts_without_outside_scripts(
    client: TestClient, factory: sessionmaker, make_staff: Callable[..., int]
) -> None:
    arrange(factory)
    make_staff("root1", role="admin")
    api_login(client, "root1")
    page = client.get("/staff/dashboard")
    assert page.status_code == 200
    assert "数据看板" in page.text and "<svg" in page.text and "75.0%" in page.text
    assert 'class="bar" style="width: 100%"' in page.text  # 投诉 is the largest reason
    assert "<script" not in page.text and "http" not in page.text.split("<body", 1)[1].replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )

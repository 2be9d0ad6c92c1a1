"""Liveness, readiness and metrics of a console worker, and the 运行状态 page of the launcher's status."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from civil_affairs.config import Settings
from civil_affairs.ops.run_files import status_path
from civil_affairs.ops.supervisor_status import ProcessStatus, SupervisorStatus, write_status
from tests.console.conftest import api_login


def test_liveness_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


async def test_metrics_are_for_scrapers_on_this_machine_only(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 403  # the test client is not on loopback
    transport = httpx.ASGITransport(app=client.app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as local:
        response = await local.get("/metrics")
    assert response.status_code == 200 and "# HELP" in response.text


def test_the_health_page_shows_restarts_and_failures(
    client: TestClient, migrated_settings: Settings, make_staff: Callable[..., int]
) -> None:
    write_status(
        status_path(migrated_settings),
        SupervisorStatus(
            launcher_pid=4242,
            updated_at=time.time(),
            processes=[
                ProcessStatus(name="rasa-1", role="rasa", state="running", pid=5151, restarts=2),
                ProcessStatus(
                    name="bot",
                    role="bot",
                    state="failed",
                    restarts=4,
                    last_exit_code=1,
                    message="gave up restarting it",
                ),
            ],
        ),
    )
    make_staff("agent7")
    api_login(client, "agent7")
    assert client.get("/api/staff/health").status_code == 403  # agents do not see it
    make_staff("boss7", role="supervisor")
    api_login(client, "boss7")
    data = client.get("/api/staff/health").json()
    assert data["supervised"] is True and data["launcher_pid"] == 4242
    assert [(p["name"], p["state"], p["restarts"]) for p in data["processes"]] == [
        ("rasa-1", "running", 2),
        ("bot", "failed", 4),
    ]
    page = client.get("/staff/health").text
    assert "已放弃重启" in page and "gave up restarting it" in page and "5151" in page


def test_without_a_launcher_the_page_says_so(client: TestClient, make_staff: Callable[..., int]) -> None:
    make_staff("boss8", role="supervisor")
    api_login(client, "boss8")
    assert client.get("/api/staff/health").json()["supervised"] is False
    assert "没有找到启动器的状态文件" in client.get("/staff/health").text

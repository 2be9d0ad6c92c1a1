"""The real Rasa and action servers as the launcher starts them: loopback only, tokens required.

Before: Rasa's HTTP API answered anyone on the host (every tracker, event injection), its REST
channel took messages as any sender id with any metadata, and the action server listened on
0.0.0.0 and ran forged action calls.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select

from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import TrackerEvent
from civil_affairs.throttle import CLIENT_ADDRESS_KEY
from civil_affairs.tokens import REST_TOKEN_HEADER
from tests.e2e.conftest import Stack
from tests.servers.test_action_server import action_call, listening_addresses

pytestmark = pytest.mark.model

LOOPBACK = "0100007F"


def test_rasa_and_the_action_servers_listen_on_loopback_only(stack: Stack) -> None:
    settings = stack.settings
    for index in range(settings.rasa_replicas):
        assert listening_addresses(settings.rasa_port + index) == {LOOPBACK}
    for index in range(settings.action_replicas):
        assert listening_addresses(settings.action_port + index) == {LOOPBACK}


def test_rasa_http_api_refuses_calls_without_the_token(stack: Stack) -> None:
    sender = f"auth-{uuid.uuid4().hex[:8]}"
    stack.say(sender, "低保怎么申请")
    base = stack.settings.rasa_url
    token = stack.settings.rasa_auth_token
    assert httpx.get(f"{base}/status", timeout=30).status_code == 401
    assert httpx.get(f"{base}/conversations/{sender}/tracker", timeout=30).status_code == 401
    assert httpx.get(f"{base}/conversations/{sender}/tracker", params={"token": "wrong"}, timeout=30).status_code == 401
    injected = httpx.post(
        f"{base}/conversations/{sender}/tracker/events",
        json={"event": "slot", "name": "status_verified_numbers", "value": ["DB202610080021"]},
        timeout=30,
    )
    assert injected.status_code == 401
    assert httpx.post(f"{base}/model/parse", json={"text": "低保"}, timeout=30).status_code == 401
    # With the token the API works (make eval reads trackers this way).
    tracker = httpx.get(f"{base}/conversations/{sender}/tracker", params={"token": token}, timeout=30)
    assert tracker.status_code == 200 and tracker.json()["sender_id"] == sender
    assert tracker.json().get("slots", {}).get("status_verified_numbers") != ["DB202610080021"]


def test_forged_action_calls_are_refused_and_rasas_own_calls_carry_the_token(stack: Stack) -> None:
    for index in range(stack.settings.action_replicas):
        action_url = f"http://127.0.0.1:{stack.settings.action_port + index}/webhook"
        forged = httpx.post(action_url, json=action_call("action_answer_faq", "低保怎么申请"), timeout=30)
        assert forged.status_code == 401
    # Rasa's own calls go through: the FAQ answer comes from the action server.
    text = stack.say_text(f"auth-{uuid.uuid4().hex[:8]}", "低保怎么申请")
    assert "低保" in text and "系统繁忙" not in text


def stored_events(stack: Stack, sender: str) -> int:
    """How many events Rasa's tracker store holds for ``sender`` (read from the database, not through
    Rasa's API, which would create the tracker it is asked for)."""
    engine = make_engine(stack.settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            query = select(func.count()).select_from(TrackerEvent).where(TrackerEvent.sender_id == sender)
            return int(session.scalar(query) or 0)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "headers",
    [{}, {REST_TOKEN_HEADER: "wrong-token-of-some-length"}, {REST_TOKEN_HEADER: ""}],
    ids=["no token", "wrong token", "empty token"],
)
def test_the_rest_channel_refuses_messages_without_the_token(stack: Stack, headers: dict) -> None:
    # A forger posing as a Telegram resident, choosing the address the rate limits trust.
    sender = f"tg-{uuid.uuid4().int % 10**9}"
    forged = {"sender": sender, "message": "低保怎么申请", "metadata": {CLIENT_ADDRESS_KEY: "forged"}}
    url = f"{stack.settings.rasa_url}/webhooks/rest/webhook"
    for refused in (
        httpx.post(url, json=forged, headers=headers, timeout=30),
        httpx.post(url, json=forged, headers=headers, params={"stream": "true"}, timeout=30),
    ):
        assert refused.status_code == 401
        assert refused.json() == {"error": "unauthorized"}  # nothing about the token or the channel
    token = stack.settings.rasa_rest_token
    assert token not in refused.text
    # The message never reached the model: Rasa stored nothing for that sender.
    assert stored_events(stack, sender) == 0


def test_the_rest_channel_answers_with_the_token(stack: Stack) -> None:
    sender = f"auth-{uuid.uuid4().hex[:8]}"
    text = stack.say_text(sender, "低保怎么申请")  # stack.say sends the launcher's token
    assert "低保" in text
    assert stored_events(stack, sender) > 0

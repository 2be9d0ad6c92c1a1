"""A message that is only a booking code, inside and outside the forms that ask for one.

The trained model's dialogue and the real actions (in process, on a seeded database), as in
test_offer_deny_rasa.py. A bare code such as "YY20261205-003" looks like a request about that
booking, so the model may read it as cancel_appointment (or reschedule/check_status/book): the
intent of the code message is set by the test so that every reading is covered. Inside the
reschedule and cancel forms, which ask "请发送预约码", the code must fill the form's slot whatever
the intent (before the fix a cancel_appointment reading ended the reschedule form with "已退出预约");
outside a form (read as inform, as nlu/ labels it) the bot asks what to do with that booking and
the chosen button carries the code into the reschedule or cancel form.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from unittest import mock

import pytest
from rasa.utils.endpoints import EndpointConfig

from actions import booking as booking_actions
from actions import common, texts
from civil_affairs import booking
from civil_affairs.config import Settings
from tests.actions.test_form_questions_rasa import in_process_actions
from tests.helpers.booking_factory import make_request
from tests.helpers.rasa_agent import trained_agent, turn

NOW = datetime(2026, 9, 23, 9, 0)
DAY = date(2026, 9, 24)
CODE_READINGS = ["cancel_appointment", "reschedule_appointment", "check_status", "book_appointment", "inform"]


@pytest.fixture(scope="module")
def loaded_agent() -> Any:
    """The trained model (loaded once: each test talks as residents of its own)."""
    return trained_agent()


@pytest.fixture
def agent(loaded_agent: Any, action_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The model, its actions run here on the test's database, on a pinned day."""
    monkeypatch.setattr(booking_actions.answers, "now", lambda: NOW)
    with mock.patch.object(EndpointConfig, "request", in_process_actions([])):
        yield loaded_agent


def booked(serial: int) -> tuple[str, str]:
    """(code, last 6 characters of the bride's ID) of a fresh appointment."""
    request = make_request(DAY, serial=serial)
    with common.services().sessions.begin() as session:
        appointment = booking.book(request, session=session, secret_key=common.services().settings.secret_key, now=NOW)
        return appointment.code, request.parties[1].id_number.value[-6:]


def messages(agent: Any, sender: str, text: str, intent: str | None = None) -> list[dict]:
    """The bot's messages for one turn; ``intent`` overrides what the model understood."""
    return turn(agent, sender, text, intent, confidence=0.95)


def say(agent: Any, sender: str, text: str, intent: str | None = None) -> list[str]:
    """The texts the bot sends for one turn."""
    return [m.get("text") or "" for m in messages(agent, sender, text, intent)]


def active_loop(agent: Any, sender: str) -> str | None:
    tracker = asyncio.run(agent.tracker_store.retrieve(sender))
    return tracker.active_loop_name


@pytest.mark.parametrize("intent", CODE_READINGS)
def test_a_bare_code_fills_the_reschedule_form_whatever_the_intent(agent: Any, intent: str) -> None:
    code, last6 = booked(serial=60 + CODE_READINGS.index(intent))
    sender = f"reschedule-{intent}"
    assert texts.ASK_BOOKING_CODE in say(agent, sender, "我想改一下预约时间", "reschedule_appointment")
    replies = say(agent, sender, code, intent)
    assert texts.STOPPED not in replies
    assert replies[-1] == texts.ASK_BOOKING_ID_LAST6
    assert active_loop(agent, sender) == "reschedule_form"
    assert any("已找到您的预约" in r for r in say(agent, sender, last6, "inform"))


@pytest.mark.parametrize("intent", CODE_READINGS)
def test_a_bare_code_fills_the_cancel_form_whatever_the_intent(agent: Any, intent: str) -> None:
    code, _ = booked(serial=70 + CODE_READINGS.index(intent))
    sender = f"cancel-{intent}"
    assert texts.ASK_BOOKING_CODE in say(agent, sender, "取消预约", "cancel_appointment")
    replies = say(agent, sender, code, intent)
    assert replies[-1] == texts.ASK_BOOKING_ID_LAST6
    assert active_loop(agent, sender) == "cancel_booking_form"


@pytest.mark.parametrize("form,chosen", [("reschedule_form", 0), ("cancel_booking_form", 1)])
def test_a_bare_code_outside_a_form_asks_what_to_do_and_the_choice_keeps_the_code(
    agent: Any, form: str, chosen: int
) -> None:
    """Before: "收到。请问您想办理什么事情？…" (the code forgotten), or a cancel form when read as cancel."""
    code, _ = booked(serial=80 + chosen)
    sender = f"outside-{form}"
    [asked] = messages(agent, sender, code, "inform")
    assert asked["text"] == texts.BOOKING_CODE_WHAT_TO_DO.format(code=code)
    assert [b["title"] for b in asked["buttons"]] == [b["title"] for b in texts.BOOKING_CODE_ACTIONS]
    assert active_loop(agent, sender) is None
    # The chosen button starts that form with the code already taken: the next question is the last 6.
    assert say(agent, sender, asked["buttons"][chosen]["payload"]) == [texts.ASK_BOOKING_ID_LAST6]
    assert active_loop(agent, sender) == form

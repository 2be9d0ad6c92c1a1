"""The validation actions send the question Rasa asks next (actions/asking.py ``AsksNextQuestion``).

``slot_rasa_requests`` is checked against Rasa 3.6's own ``FormAction.request_next_slot``; the
validations are run on trackers shaped as Rasa sends them (the form's ``ActionExecuted`` last, the
activation's ``ActiveLoop`` after the resident's message) against the seeded database.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from unittest import mock

import pytest
from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop
from rasa.shared.core.events import SlotSet as RasaSlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import booking as booking_actions
from actions import texts
from actions.asking import FORM_QUESTION_KEY, RASA_TAKES_QUESTIONS_KEY, slot_rasa_requests
from actions.status_lookup import ValidateStatusLookupForm
from civil_affairs.config import PROJECT_ROOT, Settings

BOOKED_UP_TO_NAMES = {"booking_kind": "marriage", "booking_date": "2026-09-24", "booking_slot": "am1"}
ALL_BOOKING = {
    **BOOKED_UP_TO_NAMES,
    "party1_name": "王强",
    "party1_id": "x",
    "party2_name": "赵敏",
    "party2_id": "y",
    "booking_phone": "z",
    "booking_confirmed": True,
}


def rasa_requests(form: str, slots: dict[str, Any], events: list[dict[str, Any]]) -> str | None:
    """The slot Rasa's own ``request_next_slot`` asks for (None: it asks nothing)."""
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    tracker = DialogueStateTracker("x", domain.slots)
    tracker.update(ActiveLoop(form))
    for name, value in slots.items():
        tracker.update(RasaSlotSet(name, value))
    asked: list[str] = []

    async def record(self: Any, domain: Any, nlg: Any, output: Any, slot_name: str, tracker: Any) -> list[Any]:
        asked.append(slot_name)
        return []

    with mock.patch.object(FormAction, "_ask_for_slot", record):
        asyncio.run(
            FormAction(form, None).request_next_slot(
                tracker,
                domain,
                CollectingOutputChannel(),
                TemplatedNaturalLanguageGenerator(domain.responses),
                [RasaSlotSet(e["name"], e["value"]) for e in events],
            )
        )
    return asked[0] if asked else None


@pytest.mark.parametrize(
    ("form", "slots", "events"),
    [
        ("booking_form", {"booking_kind": "marriage"}, []),  # the domain's order, when no requested_slot
        ("booking_form", {"booking_kind": "marriage"}, [SlotSet("requested_slot", "booking_slot")]),
        ("booking_form", {}, [SlotSet("requested_slot", None)]),  # the validation ends the form
        ("booking_form", {}, [SlotSet("requested_slot", "party1_id"), SlotSet("requested_slot", None)]),
        ("booking_form", {}, [SlotSet("requested_slot", None), SlotSet("requested_slot", "party1_id")]),
        ("booking_form", ALL_BOOKING, [SlotSet("booking_phone", None)]),  # a refused answer: asked again
        ("booking_form", {**ALL_BOOKING, "divorce_application_date": "2026-01-01", "booking_abort": "x"}, []),
        ("status_lookup_form", {}, []),
        ("status_lookup_form", {}, [SlotSet("application_number", "DB1")]),
        ("status_lookup_form", {"application_number": "DB1"}, [SlotSet("id_last6", "123456")]),  # all filled
        ("status_lookup_form", {"application_number": "DB1"}, [SlotSet("id_last6", None)]),
    ],
)
def test_the_next_slot_is_the_one_rasa_requests(form: str, slots: dict[str, Any], events: list[Any]) -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml")).as_dict()
    assert slot_rasa_requests(form, slots, events, domain) == rasa_requests(form, slots, events)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch, action_settings: Settings) -> None:
    monkeypatch.setattr(booking_actions.answers, "now", lambda: datetime(2026, 9, 23, 9, 0))


@pytest.fixture
def rasa_domain(domain: dict) -> dict:
    """The domain as Rasa sends it to validation actions once it takes their questions."""
    return {**domain, RASA_TAKES_QUESTIONS_KEY: True}


def sent(form: str, text: str, requested: str | None, intent: str = "inform", activating: bool = False, **slots: Any):
    """A tracker as Rasa sends it to ``validate_<form>`` after the resident said ``text``."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": [], "intent_ranking": []}
    events: list[dict[str, Any]] = [{"event": "user", "text": text, "parse_data": latest}]
    if activating:
        events.append({"event": "active_loop", "name": form})
    events += [{"event": "slot", "name": "requested_slot", "value": requested}, {"event": "action", "name": form}]
    values = {"requested_slot": requested, **slots}
    return Tracker("web-1", values, latest, events, False, None, {"name": form}, form)


async def validate(action: Any, tracker: Tracker, domain: dict) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher.messages, events


def questions(messages: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(m.get(FORM_QUESTION_KEY), m["text"]) for m in messages]


async def test_nothing_is_asked_unless_rasa_takes_the_questions(domain: dict) -> None:
    messages, events = await validate(
        ValidateStatusLookupForm(), sent("status_lookup_form", "查进度", None, activating=True), domain
    )
    assert messages == [] and events == []


async def test_the_activation_asks_the_first_question(rasa_domain: dict) -> None:
    form = ValidateStatusLookupForm()
    messages, events = await validate(form, sent("status_lookup_form", "查进度", None, activating=True), rasa_domain)
    assert questions(messages) == [("application_number", texts.ASK_APPLICATION_NUMBER)] and events == []
    # Once the resident answered, the next one; a refused answer: the error, then the same question.
    tracker = sent("status_lookup_form", "DB1", "application_number")
    tracker.events.append({"event": "slot", "name": "application_number", "value": "DB1"})
    messages, _ = await validate(form, tracker, rasa_domain)
    assert questions(messages) == [("id_last6", texts.ASK_ID_LAST6)]
    tracker = sent("status_lookup_form", "12a", "id_last6", application_number="DB1", id_last6="12a")
    tracker.events.append({"event": "slot", "name": "id_last6", "value": "12a"})
    messages, events = await validate(form, tracker, rasa_domain)
    assert questions(messages) == [(None, texts.ID_LAST6_INVALID), ("id_last6", texts.ASK_ID_LAST6)]
    assert events == [SlotSet("id_last6", None)]


async def test_all_slots_filled_asks_nothing(rasa_domain: dict) -> None:
    tracker = sent("status_lookup_form", "123456", "id_last6", application_number="DB1", id_last6="123456")
    tracker.events.append({"event": "slot", "name": "id_last6", "value": "123456"})
    messages, events = await validate(ValidateStatusLookupForm(), tracker, rasa_domain)
    assert messages == [] and events == [SlotSet("id_last6", "123456")]


@pytest.mark.parametrize(
    ("kind", "question"),
    [("marriage", texts.ASK_PARTY1_ID_MARRIAGE), ("divorce_application", texts.ASK_PARTY1_ID)],
)
async def test_the_booking_asks_in_its_own_order_and_wording(kind: str, question: str, rasa_domain: dict) -> None:
    """The form's ``required_slots`` (no divorce application date for a marriage) and the kind's wording."""
    slots = {**BOOKED_UP_TO_NAMES, "booking_kind": kind}
    tracker = sent("booking_form", "王强", "party1_name", **slots)
    messages, events = await validate(booking_actions.ValidateBookingForm(), tracker, rasa_domain)
    assert questions(messages) == [("party1_id", question)]
    assert SlotSet("party1_name", "王强") in events and events[-1] == SlotSet("requested_slot", "party1_id")


async def test_a_divorce_certificate_asks_for_the_application_date(rasa_domain: dict) -> None:
    tracker = sent("booking_form", "领离婚证", None, "book_appointment", activating=True)
    messages, events = await validate(booking_actions.ValidateBookingForm(), tracker, rasa_domain)
    assert questions(messages) == [("divorce_application_date", texts.ASK_DIVORCE_APPLICATION_DATE)]
    assert events[-1] == SlotSet("requested_slot", "divorce_application_date")


async def test_a_refused_phone_number_gets_the_error_then_the_same_question(rasa_domain: dict) -> None:
    tracker = sent("booking_form", "12345", "booking_phone", **{**ALL_BOOKING, "booking_phone": None})
    messages, _ = await validate(booking_actions.ValidateBookingForm(), tracker, rasa_domain)
    assert questions(messages) == [(None, texts.PHONE_UNREADABLE), ("booking_phone", texts.ASK_BOOKING_PHONE)]


async def test_an_ended_form_or_an_interruption_asks_nothing(rasa_domain: dict) -> None:
    form = booking_actions.ValidateBookingForm()
    ended = sent("booking_form", "王强", "party1_name", **BOOKED_UP_TO_NAMES, booking_abort="no_show")
    messages, events = await validate(form, ended, rasa_domain)
    assert messages == [] and events == [SlotSet("requested_slot", None)]
    # A policy question: nothing validated, so Rasa rejects the form (or, coming back, asks itself).
    question = sent("booking_form", "结婚要带户口本吗", "booking_date", "ask_marriage", booking_kind="marriage")
    messages, events = await validate(form, question, rasa_domain)
    assert messages == [] and events == [SlotSet("requested_slot", "booking_date")]

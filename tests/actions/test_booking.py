"""The booking forms' validation (actions/booking.py), run directly against a seeded database."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import booking as booking_actions
from actions import common
from civil_affairs.config import Settings
from civil_affairs.models import Appointment
from civil_affairs.sealing import seal, unseal
from tests.helpers.booking_factory import make_id
from tests.helpers.trackers import make_tracker

NOW = datetime(2026, 9, 23, 9, 0)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch, action_settings: Settings) -> None:
    monkeypatch.setattr(booking_actions.answers, "now", lambda: NOW)


def _form_tracker(
    text: str,
    requested: str,
    intent: str = "inform",
    confidence: float = 0.9,
    entities: list | None = None,
    **slots: object,
):
    tracker = make_tracker(
        text=text,
        intent=intent,
        entities=entities,
        slots={"requested_slot": requested, "booking_kind": "marriage", **slots},
    )
    tracker.latest_message["intent"]["confidence"] = confidence
    return tracker


async def test_a_date_button_and_typed_dates_are_read(dispatcher: CollectingDispatcher, domain: dict) -> None:
    form = booking_actions.ValidateBookingForm()
    button = _form_tracker(
        '/inform{"booking_choice":"2026-09-24"}',
        "booking_date",
        entities=[{"entity": "booking_choice", "value": "2026-09-24"}],
    )
    assert await form.extract_booking_date(dispatcher, button, domain) == {"booking_date": "2026-09-24"}
    typed = _form_tracker("下周三", "booking_date", intent="reschedule_appointment")
    extracted = await form.extract_booking_date(dispatcher, typed, domain)
    assert (
        form.validate_booking_date(extracted["booking_date"], dispatcher, typed, domain)["booking_date"] == "2026-09-30"
    )


async def test_a_holiday_is_refused_kindly(dispatcher: CollectingDispatcher, domain: dict) -> None:
    form = booking_actions.ValidateBookingForm()
    result = form.validate_booking_date("国庆节", dispatcher, _form_tracker("国庆节", "booking_date"), domain)
    assert result["booking_date"] is None and "国庆节假期" in dispatcher.messages[0]["text"]


async def test_a_policy_question_inside_the_form_is_not_taken_as_an_answer(
    dispatcher: CollectingDispatcher, domain: dict
) -> None:
    form = booking_actions.ValidateBookingForm()
    question = _form_tracker("结婚要带户口本吗", "booking_date", intent="ask_marriage")
    assert await form.extract_booking_date(dispatcher, question, domain) == {}
    name = _form_tracker("王芳", "party2_name", intent="ask_marriage")
    assert await form.extract_party2_name(dispatcher, name, domain) == {"party2_name": "王芳"}


@pytest.mark.parametrize(
    ("slot", "value", "message"),
    [
        ("party1_id", make_id(date(1990, 1, 1), male=True)[:-1] + "0", "校验不通过"),  # real check char: X
        ("party1_id", make_id(date(1990, 1, 1), male=False), "显示是女性"),
        ("party1_id", make_id(date(2005, 1, 1), male=True), "不满22周岁"),
        ("party2_id", make_id(date(2007, 1, 1), male=False), "不满20周岁"),
    ],
)
def test_id_problems_get_clear_messages(
    dispatcher: CollectingDispatcher, domain: dict, slot: str, value: str, message: str
) -> None:
    form = booking_actions.ValidateBookingForm()
    tracker = _form_tracker(value, slot, booking_date="2026-09-24")
    result = getattr(form, f"validate_{slot}")(value, dispatcher, tracker, domain)
    assert result[slot] is None and message in dispatcher.messages[-1]["text"]


def test_a_valid_couple_is_accepted(dispatcher: CollectingDispatcher, domain: dict) -> None:
    form = booking_actions.ValidateBookingForm()
    groom = make_id(date(1990, 1, 1), male=True, serial=55)
    tracker = _form_tracker(groom, "party1_id", booking_date="2026-09-24")
    result = form.validate_party1_id(groom, dispatcher, tracker, domain)
    # The tracker (stored by Rasa) gets the number sealed, never in clear; the form reads it back.
    assert groom not in result["party1_id"] and result["booking_failures"] == 0.0
    assert unseal(result["party1_id"], common.services().settings.secret_key) == groom


def test_the_second_party_cannot_repeat_the_first_sealed_id(dispatcher: CollectingDispatcher, domain: dict) -> None:
    form = booking_actions.ValidateBookingForm()
    groom = make_id(date(1990, 1, 1), male=True, serial=56)
    sealed = form.validate_party1_id(
        groom, dispatcher, _form_tracker(groom, "party1_id", booking_date="2026-09-24"), domain
    )
    tracker = _form_tracker(groom, "party2_id", booking_date="2026-09-24", party1_id=sealed["party1_id"])
    assert form.validate_party2_id(groom, dispatcher, tracker, domain)["party2_id"] is None
    assert "不能相同" in dispatcher.messages[-1]["text"]


@pytest.mark.parametrize(
    ("text", "slot_code"),
    [("上午9点", "am1"), ("10:00", "am2"), ("下午两点半", "pm1"), ("15:30-16:30", "pm2"), ("am3", "am3")],
)
def test_slots_by_button_or_time(text: str, slot_code: str, dispatcher: CollectingDispatcher, domain: dict) -> None:
    form = booking_actions.ValidateBookingForm()
    tracker = _form_tracker(text, "booking_slot", booking_date="2026-09-24")
    assert form.validate_booking_slot(text, dispatcher, tracker, domain)["booking_slot"] == slot_code


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我想预约结婚登记", "marriage"),
        ("预约离婚登记", "divorce_application"),
        ("冷静期满了 想约个时间去领离婚证", "divorce_certificate"),
        ("约个号 补领结婚证", "certificate_reissue"),
        ("/book_appointment", "marriage"),
    ],
)
def test_the_kind_comes_from_the_request(text: str, kind: str) -> None:
    assert booking_actions.infer_kind(text) == kind


MARRIAGE_QUESTIONS = (
    "请输入男方的姓名",
    "请输入男方的18位身份证号码",
    "请输入女方的姓名",
    "请输入女方的18位身份证号码",
)
OTHER_QUESTIONS = (
    "请输入一方当事人的姓名",
    "请输入这一方的18位身份证号码",
    "请输入另一方当事人的姓名",
    "请输入另一方的18位身份证号码",
)


@pytest.mark.parametrize(
    ("kind", "starts"),
    [
        ("marriage", MARRIAGE_QUESTIONS),
        ("divorce_application", OTHER_QUESTIONS),
        ("divorce_certificate", OTHER_QUESTIONS),
        ("certificate_reissue", OTHER_QUESTIONS),
    ],
)
async def test_the_party_questions_name_the_parties_by_kind(kind: str, starts: tuple[str, ...], domain: dict) -> None:
    actions = (
        booking_actions.AskParty1Name,
        booking_actions.AskParty1Id,
        booking_actions.AskParty2Name,
        booking_actions.AskParty2Id,
    )
    for action_class, start in zip(actions, starts, strict=False):
        dispatcher = CollectingDispatcher()
        assert await action_class().run(dispatcher, make_tracker(slots={"booking_kind": kind}), domain) == []
        assert dispatcher.messages[0]["text"].startswith(start), (action_class, kind)


async def test_the_other_questions_do_not_depend_on_the_kind(domain: dict) -> None:
    for action_class in (
        booking_actions.AskDivorceApplicationDate,
        booking_actions.AskBookingPhone,
        booking_actions.AskBookingCode,
        booking_actions.AskBookingIdLast6,
    ):
        texts = set()
        for kind in ("marriage", "divorce_application", None):
            dispatcher = CollectingDispatcher()
            await action_class().run(dispatcher, make_tracker(slots={"booking_kind": kind}), domain)
            texts.add(dispatcher.messages[0]["text"])
        assert texts == {action_class.question}


async def test_a_confirmation_handled_twice_books_once(domain: dict) -> None:
    """Rasa (or a channel retry) may run the submit twice for one "确认": the second returns the first."""
    key = common.services().settings.secret_key
    groom = make_id(date(1990, 1, 1), male=True, serial=57)
    bride = make_id(date(1992, 1, 1), male=False, serial=57)
    slots = {
        "booking_kind": "marriage",
        "booking_date": "2026-09-24",
        "booking_slot": "am1",
        "party1_name": "张伟",
        "party1_id": seal(groom, key),
        "party2_name": "李婷",
        "party2_id": seal(bride, key),
        "booking_phone": seal("13979312456", key),
        "booking_confirmed": True,
    }
    latest = {"text": "确认", "intent": {"name": "affirm", "confidence": 0.99}, "entities": []}
    events = [
        {"event": "active_loop", "name": "booking_form", "timestamp": 1796000000.25},
        {"event": "user", "text": "确认", "parse_data": latest, "timestamp": 1796000100.0},
    ]
    tracker = Tracker("tg-9057", slots, latest, events, False, None, {}, "action_listen")
    answers = []
    for _ in range(2):
        dispatcher = CollectingDispatcher()
        await booking_actions.ActionSubmitBooking().run(dispatcher, tracker, domain)
        answers.append(dispatcher.messages[0]["text"])
    code = re.search(r"YY\d{8}-?\d{3}", answers[0])
    assert code is not None and code.group(0) in answers[1]
    with common.services().sessions() as session:
        booked = session.scalars(select(Appointment).where(Appointment.sender_id == "tg-9057")).all()
    assert len(booked) == 1 and booked[0].phone == "13979312456"

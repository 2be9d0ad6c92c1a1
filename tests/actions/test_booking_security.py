"""Issue 9 items 2 and 5 in the booking forms: no disclosure of someone else's appointment, throttled
code checks, and a submission that trusts nothing the tracker says."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import booking as booking_actions
from actions import common
from civil_affairs import booking
from civil_affairs.booking.date_parsing import describe_date
from civil_affairs.config import Settings
from civil_affairs.models import Appointment, RateLimitCounter
from civil_affairs.sealing import seal
from civil_affairs.throttle import subject_key
from tests.helpers.booking_factory import make_id, make_request
from tests.helpers.trackers import make_tracker

NOW = datetime(2026, 9, 23, 9, 0)
DAY = date(2026, 9, 24)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch, action_settings: Settings) -> None:
    monkeypatch.setattr(booking_actions.answers, "now", lambda: NOW)


def _book(serial: int, kind: str = "marriage") -> tuple[Appointment, booking.BookingRequest]:
    request = make_request(DAY, serial=serial, kind=kind)
    with common.services().sessions.begin() as session:
        appointment = booking.book(request, session=session, secret_key=common.services().settings.secret_key, now=NOW)
        session.expunge(appointment)
    return appointment, request


def _manage_tracker(text: str, sender: str, code: str, requested: str = "booking_id_last6") -> Tracker:
    return make_tracker(
        text=text, intent="inform", sender_id=sender, slots={"requested_slot": requested, "booking_code": code}
    )


def test_typing_someone_elses_id_number_reveals_no_code_date_or_kind(domain: dict) -> None:
    """Before the fix the form answered with the other person's booking code, day and slot."""
    appointment, request = _book(201)
    groom = request.parties[0].id_number.value
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text=groom,
        intent="inform",
        sender_id="tg-31337",
        slots={"requested_slot": "party1_id", "booking_kind": "marriage", "booking_date": "2026-09-28"},
    )
    result = booking_actions.ValidateBookingForm().validate_party1_id(groom, dispatcher, tracker, domain)
    assert result == {"party1_id": None, "booking_abort": "active"}
    text = dispatcher.messages[-1]["text"]
    assert "已经有一个未完成的预约" in text
    for secret in (appointment.code, appointment.code[-3:], describe_date(DAY), "9月24", "结婚登记"):
        assert secret not in text, secret


def test_the_code_check_does_not_echo_the_kind(domain: dict) -> None:
    """With code and last 6 the cancel form used to announce e.g. 离婚登记申请."""
    appointment, request = _book(202, kind="divorce_application")
    last6 = request.parties[1].id_number.last6
    dispatcher = CollectingDispatcher()
    form = booking_actions.ValidateCancelBookingForm()
    result = form.validate_booking_id_last6(last6, dispatcher, _manage_tracker(last6, "tg-5", appointment.code), domain)
    assert result["booking_id_last6"] == last6
    assert "已找到您的预约" in dispatcher.messages[-1]["text"] and "离婚" not in dispatcher.messages[-1]["text"]


def test_one_chat_cannot_walk_through_the_codes_of_a_day(domain: dict) -> None:
    """The lock was per existing code only, so one chat could try every code of a day with one last 6."""
    appointment, request = _book(203)
    last6 = request.parties[0].id_number.last6
    form = booking_actions.ValidateCancelBookingForm()
    wrong_codes = [f"YY20260924-{n:03d}" for n in range(1000) if f"YY20260924-{n:03d}" != appointment.code]
    for code in wrong_codes[:5]:  # booking.VERIFY_MAX_FAILURES_PER_CHAT
        dispatcher = CollectingDispatcher()
        assert (
            form.validate_booking_id_last6(last6, dispatcher, _manage_tracker(last6, "tg-99", code), domain)[
                "booking_id_last6"
            ]
            is None
        )
        assert dispatcher.messages[-1]["text"].startswith(booking.VERIFY_FAILED_TEXT)
    dispatcher = CollectingDispatcher()
    result = form.validate_booking_id_last6(
        last6, dispatcher, _manage_tracker(last6, "tg-99", appointment.code), domain
    )
    assert result == {"booking_id_last6": None, "booking_abort": "locked"}
    assert "已找到" not in dispatcher.messages[-1]["text"]


def test_new_web_cookies_from_one_address_share_the_allowance(domain: dict) -> None:
    appointment, request = _book(204)
    last6 = request.parties[0].id_number.last6
    form = booking_actions.ValidateCancelBookingForm()
    for n in range(20):  # booking.VERIFY_MAX_FAILURES_PER_ADDRESS
        tracker = _manage_tracker(last6, f"web-{n:032x}", f"YY20260925-{n:03d}")
        tracker.latest_message["metadata"] = {"client_address": "203.0.113.8"}
        form.validate_booking_id_last6(last6, CollectingDispatcher(), tracker, domain)
    tracker = _manage_tracker(last6, "web-" + "f" * 32, appointment.code)
    tracker.latest_message["metadata"] = {"client_address": "203.0.113.8"}
    assert form.validate_booking_id_last6(last6, CollectingDispatcher(), tracker, domain)["booking_abort"] == "locked"


# --- the submission re-validates what it relies on ---------------------------------------------------


def _submit_slots(groom: str, bride: str, *, sealed: bool = True, **changes: object) -> dict:
    key = common.services().settings.secret_key
    wrap = (lambda v: seal(v, key)) if sealed else (lambda v: v)
    return {
        "booking_kind": "marriage",
        "booking_date": "2026-09-24",
        "booking_slot": "am1",
        "party1_name": "张伟",
        "party1_id": wrap(groom),
        "party2_name": "李婷",
        "party2_id": wrap(bride),
        "booking_phone": wrap("13979312456"),
        "booking_confirmed": True,
        **changes,
    }


async def _submit(slots: dict, sender: str, domain: dict) -> str:
    latest = {"text": "确认", "intent": {"name": "affirm", "confidence": 0.99}, "entities": []}
    tracker = Tracker(sender, slots, latest, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    await booking_actions.ActionSubmitBooking().run(dispatcher, tracker, domain)
    return dispatcher.messages[0]["text"]


def _booked(groom: str) -> int:
    from civil_affairs.identity import id_hash
    from civil_affairs.models import AppointmentParty

    with common.services().sessions() as session:
        return len(
            session.scalars(
                select(AppointmentParty).where(
                    AppointmentParty.id_hash == id_hash(groom, common.services().settings.secret_key)
                )
            ).all()
        )


def _couple(serial: int, bride_birth: date = date(1995, 1, 1)) -> tuple[str, str]:
    return (
        make_id(date(1990, 1, 1), male=True, serial=serial, area="370102"),
        make_id(bride_birth, male=False, serial=serial, area="370102"),
    )


async def test_a_well_formed_submission_still_books(domain: dict) -> None:
    groom, bride = _couple(60)
    assert (await _submit(_submit_slots(groom, bride), "tg-6001", domain)).startswith("预约成功")
    assert _booked(groom) == 1


FORGERIES = ["raw_ids", "bad_name", "bad_sender", "underage", "wrong_sex", "bad_kind"]


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_a_forged_tracker_does_not_book(forgery: str, domain: dict) -> None:
    """Before the fix the submit action trusted the slots: raw ID numbers, any name, any sender id."""
    groom, bride = _couple(61 + FORGERIES.index(forgery))
    sender = "tg-6002"
    slots = _submit_slots(groom, bride)
    if forgery == "raw_ids":
        slots = _submit_slots(groom, bride, sealed=False)
    elif forgery == "bad_name":
        slots["party2_name"] = "<img src=x onerror=alert(1)>"
    elif forgery == "bad_sender":
        sender = "tg-1 OR 1=1; 受害人"
    elif forgery == "underage":  # sealed earlier for a later date, submitted for a day she is 19
        young = make_id(date(2006, 10, 1), male=False, serial=70, area="370102")
        slots["party2_id"] = seal(young, common.services().settings.secret_key)
    elif forgery == "wrong_sex":
        slots["party2_id"] = seal(
            make_id(date(1993, 1, 1), male=True, serial=71, area="370102"), common.services().settings.secret_key
        )
    elif forgery == "bad_kind":
        slots["booking_kind"] = "anything"
    text = await _submit(slots, sender, domain)
    assert "预约成功" not in text and "预约信息不完整" in text
    assert _booked(groom) == 0


async def test_failed_code_checks_are_kept_and_the_right_pair_still_cancels(domain: dict) -> None:
    """A failure used to be counted inside the transaction the error rolled back, so it never counted."""
    appointment, request = _book(205)
    last6 = request.parties[0].id_number.last6
    form = booking_actions.ValidateCancelBookingForm()
    form.validate_booking_id_last6(
        "000000" if last6 != "000000" else "111111",
        CollectingDispatcher(),
        _manage_tracker("000000", "tg-78", appointment.code),
        domain,
    )
    with common.services().sessions.begin() as session:
        counted = session.get(RateLimitCounter, ("booking-code", subject_key("booking-code", appointment.code)))
        assert counted is not None and counted.count == 1
    tracker = make_tracker(
        text="确认取消",
        intent="affirm",
        sender_id="tg-77",
        slots={"booking_code": appointment.code, "booking_id_last6": last6, "cancel_confirmed": True},
    )
    dispatcher = CollectingDispatcher()
    await booking_actions.ActionCancelBooking().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["text"] == f"预约 {appointment.code} 已取消。需要时可以随时重新预约。"
    with common.services().sessions() as session:
        assert session.scalar(select(Appointment.status).where(Appointment.id == appointment.id)) == "cancelled"


async def test_the_reschedule_dates_do_not_reveal_the_kind_of_an_unproven_code(domain: dict) -> None:
    """A tracker naming a code in the reschedule form was offered that appointment's kind and dates."""
    appointment, request = _book(206, kind="divorce_application")

    async def ask(last6: str | None) -> str:
        slots = {"booking_code": appointment.code, "booking_id_last6": last6, "requested_slot": "booking_date"}
        latest = {"text": "改约", "intent": {"name": "reschedule_appointment", "confidence": 0.99}, "entities": []}
        tracker = Tracker("tg-4242", slots, latest, [], False, None, {"name": "reschedule_form"}, "action_listen")
        dispatcher = CollectingDispatcher()
        await booking_actions.ActionAskBookingDate().run(dispatcher, tracker, domain)
        return dispatcher.messages[0]["text"]

    assert "离婚" not in await ask(None)
    assert "离婚" not in await ask("000000")
    assert "离婚登记申请" in await ask(request.parties[0].id_number.last6)

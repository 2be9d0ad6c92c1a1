"""Status lookup actions: the form keeps what was typed, one reply for every mismatch, subscriptions."""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.common import services
from actions.status_lookup import (
    ActionLookupStatus,
    ActionSubscribeStatus,
    ActionUnsubscribeStatus,
    AskApplicationNumber,
    AskIdLast6,
    ValidateStatusLookupForm,
    contact_line,
)
from civil_affairs.applications.lookup import MAX_FAILURES_PER_ADDRESS, proven_application
from civil_affairs.applications.notify import subscribers
from civil_affairs.applications.records import get_by_number
from civil_affairs.config import Settings
from civil_affairs.throttle import CLIENT_ADDRESS_KEY
from tests.helpers.applications import add_application, fictitious_id
from tests.helpers.trackers import make_tracker


def _application(settings: Settings) -> str:
    with services().sessions.begin() as session:
        return add_application(session, secret_key=settings.secret_key, sequence=301, name="张小三").number


async def _lookup(number: str, last6: str, sender: str = "tg-42") -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"application_number": number, "id_last6": last6}, sender_id=sender)
    events = await ActionLookupStatus().run(dispatcher, tracker, {})
    return dispatcher, events


async def test_right_pair_answers_and_records_the_proof(action_settings: Settings) -> None:
    number = _application(action_settings)
    dispatcher, events = await _lookup(number.lower(), fictitious_id(301)[-6:])
    result, offer = dispatcher.messages
    assert result["text"].startswith("申请编号：") and "申请人：张*三" in result["text"]
    assert "当前进度：受理（" in result["text"]
    assert offer["text"] == texts.SUBSCRIBE_OFFER and offer["buttons"] == [
        {"title": "订阅进度提醒", "payload": f'/subscribe_status{{"application_number":"{number}"}}'}
    ]
    assert SlotSet("application_number", None) in events and SlotSet("id_last6", None) in events
    with services().sessions.begin() as session:
        assert proven_application("tg-42", number, session=session).number == number


async def test_every_mismatch_gets_the_same_reply(action_settings: Settings) -> None:
    number = _application(action_settings)
    replies = [
        (await _lookup(n, last6, f"tg-{i}"))[0].messages
        for i, (n, last6) in enumerate(
            [(number, "000000"), ("DB209901010001", fictitious_id(301)[-6:]), ("DB2026", "123456")]
        )
    ]
    assert (
        replies[0]
        == replies[1]
        == replies[2]
        == [
            {
                "text": texts.LOOKUP_FAILED,
                "buttons": [],
                "elements": [],
                "custom": {},
                "template": None,
                "response": None,
                "image": None,
                "attachment": None,
            }
        ]
    )


async def test_validation_keeps_the_number_and_asks_again_for_bad_last6(action_settings: Settings) -> None:
    form = ValidateStatusLookupForm()
    dispatcher = CollectingDispatcher()
    assert form.validate_application_number(" 随便 写的 ", dispatcher, make_tracker(), {}) == {
        "application_number": "随便 写的"
    }
    assert form.validate_id_last6("12345x", dispatcher, make_tracker(), {}) == {"id_last6": "12345X"}
    assert form.validate_id_last6("不知道", dispatcher, make_tracker(), {}) == {"id_last6": None}
    assert dispatcher.messages[0]["text"] == texts.ID_LAST6_INVALID


async def _subscribe(number: str | None, sender: str, slots: dict | None = None) -> str:
    entity = [{"entity": "application_number", "value": number}] if number else []
    dispatcher = CollectingDispatcher()
    await ActionSubscribeStatus().run(
        dispatcher, make_tracker(intent="subscribe_status", entities=entity, sender_id=sender, slots=slots or {}), {}
    )
    return dispatcher.messages[0]["text"]


def _subscribers(number: str) -> list[str]:
    with services().sessions.begin() as session:
        return subscribers(get_by_number(number, session=session).id, session=session)


async def test_subscribe_needs_a_successful_lookup_first(action_settings: Settings) -> None:
    number = _application(action_settings)
    assert await _subscribe(number, "tg-7") == texts.SUBSCRIBE_NEEDS_LOOKUP
    await _lookup(number, fictitious_id(301)[-6:], sender="tg-8")
    assert (await _subscribe(number, "tg-8")).startswith(f"已订阅申请 {number} ")
    assert _subscribers(number) == ["tg-8"]
    done = CollectingDispatcher()
    await ActionUnsubscribeStatus().run(
        done, make_tracker(text="取消订阅", intent="unsubscribe_status", sender_id="tg-8"), {}
    )
    assert done.messages[0]["text"] == "已取消 1 项进度提醒，以后不再通知您。"


async def test_a_forged_verified_slot_does_not_subscribe(action_settings: Settings) -> None:
    """Issue 9 item 2: a tracker posted with ``status_verified_numbers`` set subscribed any chat."""
    number = _application(action_settings)
    forged = {"status_verified_numbers": [number]}
    assert await _subscribe(number, "tg-666", forged) == texts.SUBSCRIBE_NEEDS_LOOKUP
    assert await _subscribe(None, "tg-666", forged) == texts.SUBSCRIBE_NEEDS_LOOKUP
    assert _subscribers(number) == []


async def test_a_proof_is_for_that_chat_and_that_application_only(action_settings: Settings) -> None:
    number = _application(action_settings)
    with services().sessions.begin() as session:
        other = add_application(session, secret_key=action_settings.secret_key, sequence=302).number
    await _lookup(number, fictitious_id(301)[-6:], sender="tg-8")
    assert await _subscribe(other, "tg-8") == texts.SUBSCRIBE_NEEDS_LOOKUP
    assert await _subscribe(number, "tg-9") == texts.SUBSCRIBE_NEEDS_LOOKUP
    assert (await _subscribe(None, "tg-8")).startswith(f"已订阅申请 {number} ")  # the button-less "订阅"


async def test_the_lookup_counts_failures_per_client_address(action_settings: Settings) -> None:
    """The console passes the web visitor's address in the message metadata; new cookies do not help."""
    number = _application(action_settings)
    right = fictitious_id(301)[-6:]

    async def attempt(cookie: int, last6: str) -> str:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(slots={"application_number": number, "id_last6": last6}, sender_id=f"web-{cookie:032x}")
        tracker.latest_message["metadata"] = {CLIENT_ADDRESS_KEY: "203.0.113.44"}
        await ActionLookupStatus().run(dispatcher, tracker, {})
        return dispatcher.messages[0]["text"]

    for cookie in range(MAX_FAILURES_PER_ADDRESS):
        assert await attempt(cookie, "999999") == texts.LOOKUP_FAILED
    assert await attempt(999, right) == texts.lookup_locked(contact_line())


async def test_the_form_asks_its_own_questions() -> None:
    for action, slot in ((AskApplicationNumber(), "application_number"), (AskIdLast6(), "id_last6")):
        assert action.name() == f"action_ask_status_lookup_form_{slot}"
        dispatcher = CollectingDispatcher()
        assert await action.run(dispatcher, make_tracker(), {}) == []
        assert dispatcher.messages[0]["text"] == action.question
    assert "申请编号" in AskApplicationNumber.question and "后6位" in AskIdLast6.question


def test_the_lookup_result_shows_a_note_only_when_there_is_one() -> None:
    view = {
        "number": "DB202610080021",
        "type_name": "最低生活保障",
        "masked_name": "张*三",
        "office": "城关街道",
        "stage": "受理",
        "stage_date": "10月8日",
        "meaning": "材料齐全，已受理。",
        "next_step": "等待入户调查",
    }
    assert texts.lookup_result(**view, note=None) == (
        "申请编号：DB202610080021\n业务类型：最低生活保障\n申请人：张*三\n受理单位：城关街道\n"
        "当前进度：受理（10月8日）\n材料齐全，已受理。\n下一步：等待入户调查"
    )
    assert "材料齐全，已受理。\n说明：请补交户口本\n下一步" in texts.lookup_result(**view, note="请补交户口本")

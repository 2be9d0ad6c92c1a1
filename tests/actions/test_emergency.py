"""action_emergency and the FAQ's "don't know": danger the word lists miss still reaches a person."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.common import services
from actions.emergency import ActionEmergency, ActionPlainNo
from actions.faq import ActionAnswerFaq
from civil_affairs.config import Settings
from civil_affairs.models import Handoff, UnansweredQuestion
from tests.helpers.trackers import make_tracker


def reply_text(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def handoff_reasons() -> list[str]:
    with services().sessions.begin() as session:
        return list(session.scalars(select(Handoff.reason).order_by(Handoff.id)))


async def test_self_harm_words_with_an_everyday_sense_confirm_the_models_emergency(
    action_settings: Settings, dispatcher: CollectingDispatcher, domain: dict
) -> None:
    tracker = make_tracker("实在不想再拖累孩子们了，打算一了百了", "emergency")
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert "12356" in reply_text(dispatcher)
    assert handoff_reasons() == ["emergency"]


async def test_an_emergency_no_word_confirms_still_reaches_a_person_when_the_faq_is_unsure(
    action_settings: Settings, dispatcher: CollectingDispatcher, domain: dict
) -> None:
    tracker = make_tracker("快来人啊 我爸出事了", "emergency")
    await ActionEmergency().run(dispatcher, tracker, domain)
    reply = reply_text(dispatcher)
    assert "110" in reply and "120" in reply
    assert "您是想问" not in reply
    assert handoff_reasons() == ["emergency"]


async def test_grief_the_model_took_for_an_emergency_gets_the_answer_when_the_faq_is_sure(
    action_settings: Settings, dispatcher: CollectingDispatcher, domain: dict
) -> None:
    tracker = make_tracker("老人在家里去世了要先办什么手续", "emergency")
    events = await ActionEmergency().run(dispatcher, tracker, domain)
    assert any(e.get("name") == "last_faq_key" and e.get("value") for e in events), events
    assert "110 报警" not in reply_text(dispatcher)
    assert handoff_reasons() == []


async def test_danger_in_a_message_the_faq_cannot_place_gets_the_hotlines_and_a_person_not_a_rephrase(
    action_settings: Settings, dispatcher: CollectingDispatcher, domain: dict
) -> None:
    tracker = make_tracker("饿得不行了 咋整", "nlu_fallback")
    events = await ActionAnswerFaq().run(dispatcher, tracker, domain)
    assert {"event": "slot", "name": "emergency_raised", "value": True, "timestamp": None} in events
    reply = reply_text(dispatcher)
    assert "先行救助" in reply and "110" in reply
    assert "换个说法" not in reply
    assert handoff_reasons() == ["emergency"]
    with services().sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(UnansweredQuestion)) == 0


async def test_danger_in_a_message_the_faq_is_unsure_of_gets_the_hotlines_before_the_choices(
    action_settings: Settings, dispatcher: CollectingDispatcher, domain: dict
) -> None:
    tracker = make_tracker("揭不开锅了 能申请点啥补助", "nlu_fallback")
    await ActionAnswerFaq().run(dispatcher, tracker, domain)
    first, *rest = dispatcher.messages
    assert "先行救助" in first["text"] and "110" in first["text"]
    assert rest and rest[-1]["buttons"], rest  # the likeliest questions are still offered
    assert handoff_reasons() == []


async def test_a_plain_no_gets_the_short_reply_and_danger_taken_for_a_no_gets_the_hotlines(
    action_settings: Settings, domain: dict
) -> None:
    plain = CollectingDispatcher()
    await ActionPlainNo().run(plain, make_tracker("没有了 不用了", "deny"), domain)
    assert plain.messages[0]["response"] == "utter_deny"
    urgent = CollectingDispatcher()
    events = await ActionPlainNo().run(
        urgent, make_tracker("家里米都没了 娃娃饿了一整天", "deny", sender_id="n2"), domain
    )
    assert "先行救助" in reply_text(urgent) and events
    assert handoff_reasons() == ["emergency"]

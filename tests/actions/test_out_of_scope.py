"""action_out_of_scope: the FAQ answers its own questions the model took for out of scope, and only those."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.out_of_scope import RESCUE_BELOW_CONFIDENCE, ActionOutOfScope
from civil_affairs.config import Settings
from tests.helpers.trackers import make_tracker


def answered_key(events: list[dict]) -> str | None:
    return next((e.get("value") for e in events if e.get("name") == "last_faq_key"), None)


async def test_a_policy_question_the_model_was_unsure_of_gets_the_faq_answer(
    action_settings: Settings, dispatcher: CollectingDispatcher, domain: dict
) -> None:
    tracker = make_tracker("结婚证丢了能补吗", "out_of_scope", confidence=0.5)
    events = await ActionOutOfScope().run(dispatcher, tracker, domain)
    assert answered_key(events) == "marriage-certificate-reissue"
    assert all(m.get("response") != "utter_out_of_scope" for m in dispatcher.messages)


async def test_the_same_question_called_out_of_scope_with_confidence_keeps_the_out_of_scope_reply(
    action_settings: Settings, dispatcher: CollectingDispatcher, domain: dict
) -> None:
    tracker = make_tracker("结婚证丢了能补吗", "out_of_scope", confidence=RESCUE_BELOW_CONFIDENCE)
    events = await ActionOutOfScope().run(dispatcher, tracker, domain)
    assert events == []
    assert [m.get("response") for m in dispatcher.messages] == ["utter_out_of_scope"]


async def test_a_question_outside_civil_affairs_gets_the_out_of_scope_reply_even_when_the_model_was_unsure(
    action_settings: Settings, dispatcher: CollectingDispatcher, domain: dict
) -> None:
    tracker = make_tracker("车贷能提前还吗", "out_of_scope", confidence=0.5)
    events = await ActionOutOfScope().run(dispatcher, tracker, domain)
    assert answered_key(events) is None
    assert [m.get("response") for m in dispatcher.messages] == ["utter_out_of_scope"]


async def test_a_programme_named_alone_that_the_model_was_unsure_of_is_asked_back(
    action_settings: Settings, dispatcher: CollectingDispatcher, domain: dict
) -> None:
    """福利彩票 alone: which of its questions, not "this is not the bureau's business"."""
    tracker = make_tracker("福利彩票", "out_of_scope", confidence=0.5)
    events = await ActionOutOfScope().run(dispatcher, tracker, domain)
    offered = next(e["value"] for e in events if e.get("name") == "faq_candidates")
    assert set(offered) == {"lottery-claim-and-tax", "lottery-minors-online"} and answered_key(events) is None
    assert dispatcher.messages[-1]["text"].startswith("关于福利彩票，您想了解哪方面？")

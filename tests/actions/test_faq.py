"""action_answer_faq: answer, "您是想问…", or record as unanswered and offer a person."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import services
from actions.faq import ActionAnswerFaq, ActionFaqNone, _choice_index, is_elliptical
from civil_affairs.config import Settings
from civil_affairs.faq.store import parse_faq, upsert_faq
from civil_affairs.models import FaqEntry, UnansweredQuestion
from tests.helpers.trackers import make_tracker


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


async def test_confident_question_is_answered_with_source(action_settings: Settings, dispatcher, domain) -> None:
    events = await ActionAnswerFaq().run(dispatcher, make_tracker("结婚登记要带什么材料", "ask_marriage"), domain)
    reply = texts(dispatcher)
    assert "身份证" in reply and "依据" in reply
    assert {"event": "slot", "name": "last_faq_key", "value": "marriage-documents", "timestamp": None} in events


async def test_unknown_question_is_recorded_and_offers_a_person(action_settings: Settings, dispatcher, domain) -> None:
    await ActionAnswerFaq().run(dispatcher, make_tracker("火星上的移民签证怎么办理", "nlu_fallback"), domain)
    assert "记录" in texts(dispatcher)
    assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/request_human"
    with services().sessions.begin() as session:
        rows = session.scalars(select(UnansweredQuestion)).all()
    assert [r.text for r in rows] == ["火星上的移民签证怎么办理"]


async def test_vague_question_offers_candidates_then_choice_answers(
    action_settings: Settings, dispatcher, domain
) -> None:
    events = await ActionAnswerFaq().run(dispatcher, make_tracker("墓地", "ask_funeral"), domain)
    buttons = dispatcher.messages[-1]["buttons"]
    assert dispatcher.messages[-1]["text"].startswith("您是想问")
    assert buttons[-1] == {"title": "都不是", "payload": "/deny"}
    assert 2 <= len(buttons) <= 4
    keys = next(e["value"] for e in events if e.get("name") == "faq_candidates")
    chosen = CollectingDispatcher()
    tracker = make_tracker(
        "第二个", "choose_faq", slots={"faq_candidates": keys}, entities=[{"entity": "choice", "value": "2"}]
    )
    await ActionAnswerFaq().run(chosen, tracker, domain)
    with services().sessions.begin() as session:
        from civil_affairs.models import FaqEntry

        second = session.scalars(select(FaqEntry).where(FaqEntry.key == keys[1])).one()
        assert texts(chosen).startswith(second.answer.strip())


async def test_a_question_naming_no_programme_is_asked_back_with_the_programmes(
    action_settings: Settings, dispatcher, domain
) -> None:
    """有什么补贴: the overview's answer comes with a button per programme, and is no answer yet."""
    events = await ActionAnswerFaq().run(dispatcher, make_tracker("有什么补贴可以领", "ask_benefits"), domain)
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    with services().sessions.begin() as session:
        overview = session.scalars(select(FaqEntry).where(FaqEntry.key == "assistance-overview")).one()
        assert dispatcher.messages[-1]["text"].startswith(overview.answer.strip())
        assert slots["faq_candidates"] == overview.choices and "last_faq_key" not in slots
    buttons = dispatcher.messages[-1]["buttons"]
    assert buttons[0]["title"] == "什么是低保？什么样的家庭可以申请？"
    assert buttons[-1] == {"title": "都不是", "payload": "/deny"} and len(buttons) == len(overview.choices) + 1

    chosen = CollectingDispatcher()
    offered = {"faq_candidates": slots["faq_candidates"]}
    tracker = make_tracker("第二个", "choose_faq", slots=offered, entities=[{"entity": "choice", "value": "2"}])
    events = await ActionAnswerFaq().run(chosen, tracker, domain)
    assert any(e.get("name") == "last_faq_key" and e.get("value") == "tekun-eligibility" for e in events)


async def test_a_bare_programme_name_asks_which_aspect_and_a_pick_answers_it(
    action_settings: Settings, dispatcher, domain
) -> None:
    """离婚 alone was answered with what to bring; now its main questions are offered."""
    events = await ActionAnswerFaq().run(dispatcher, make_tracker("离婚", "ask_marriage"), domain)
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert dispatcher.messages[-1]["text"].startswith("关于离婚，您想了解哪方面？")
    assert "last_faq_key" not in slots and slots["unanswered_text"] == "离婚"
    keys = slots["faq_candidates"]
    assert 2 <= len(keys) <= 4 and all(k.startswith("divorce-") for k in keys)
    buttons = dispatcher.messages[-1]["buttons"]
    assert buttons[-1] == {"title": "都不是", "payload": "/deny"} and len(buttons) == len(keys) + 1

    chosen = CollectingDispatcher()
    tracker = make_tracker(
        buttons[1]["payload"],
        "choose_faq",
        slots={"faq_candidates": keys},
        entities=[{"entity": "faq_key", "value": keys[1]}],
    )
    events = await ActionAnswerFaq().run(chosen, tracker, domain)
    assert {"event": "slot", "name": "last_faq_key", "value": keys[1], "timestamp": None} in events
    with services().sessions.begin() as session:
        picked = session.scalars(select(FaqEntry).where(FaqEntry.key == keys[1])).one()
        assert texts(chosen).startswith(picked.answer.strip())


async def test_a_choice_not_active_any_more_is_left_out(action_settings: Settings, dispatcher, domain) -> None:
    with services().sessions.begin() as session:
        session.scalars(select(FaqEntry).where(FaqEntry.key == "tekun-eligibility")).one().active = False
    try:
        events = await ActionAnswerFaq().run(dispatcher, make_tracker("有什么补贴可以领", "ask_benefits"), domain)
        offered = next(e["value"] for e in events if e.get("name") == "faq_candidates")
        assert "tekun-eligibility" not in offered and "dibao-eligibility" in offered
    finally:
        with services().sessions.begin() as session:
            session.scalars(select(FaqEntry).where(FaqEntry.key == "tekun-eligibility")).one().active = True


async def test_none_of_the_candidates_records_the_question(action_settings: Settings, dispatcher, domain) -> None:
    await ActionFaqNone().run(
        dispatcher, make_tracker("/deny", "deny", slots={"unanswered_text": "那个补贴的事"}), domain
    )
    with services().sessions.begin() as session:
        assert session.scalars(select(UnansweredQuestion.text)).all() == ["那个补贴的事"]


async def test_faq_edit_takes_effect_for_the_next_message(action_settings: Settings, dispatcher, domain) -> None:
    question = "区里的流动图书车每周几来村里"
    await ActionAnswerFaq().run(dispatcher, make_tracker(question, "ask_other_policy"), domain)
    assert "流动图书车" not in texts(dispatcher)
    with services().sessions.begin() as session:
        upsert_faq(
            parse_faq(
                {
                    "key": "mobile-library",
                    "category": "other",
                    "question": question,
                    "answer": "流动图书车的时间以文化部门通知为准。",
                    "keywords": ["流动图书车"],
                }
            ),
            session=session,
        )
    again = CollectingDispatcher()
    await ActionAnswerFaq().run(again, make_tracker("流动图书车每周几来村里", "ask_other_policy"), domain)
    assert "流动图书车的时间" in texts(again)


async def test_follow_up_reuses_the_previous_question(action_settings: Settings, dispatcher, domain) -> None:
    tracker = make_tracker("那离婚呢？", "ask_marriage", slots={"last_faq_query": "结婚登记要带什么材料"})
    await ActionAnswerFaq().run(dispatcher, tracker, domain)
    reply = texts(dispatcher)
    assert "离婚" in reply and "身份证" in reply


async def test_emoji_only_message_asks_for_words(action_settings: Settings, dispatcher, domain) -> None:
    await ActionAnswerFaq().run(dispatcher, make_tracker("😀😀👍", "nlu_fallback"), domain)
    assert "文字" in texts(dispatcher)


def test_elliptical_follow_ups_are_recognised() -> None:
    assert is_elliptical("那离婚呢？") and is_elliptical("还有补领的呢") and is_elliptical("如果是外地户口呢")
    assert not is_elliptical("结婚登记要带什么材料") and not is_elliptical("那个低保到底怎么申请才能批下来呢我想知道")


def test_low_confidence_policy_guess_still_picks_the_category() -> None:
    from actions.faq import runner_up_policy_intent

    ranking = [
        {"name": "nlu_fallback", "confidence": 0.25},
        {"name": "ask_marriage", "confidence": 0.2},
        {"name": "greet", "confidence": 0.1},
    ]
    assert runner_up_policy_intent({"intent_ranking": ranking}) == "ask_marriage"
    assert runner_up_policy_intent({"intent_ranking": [ranking[0], ranking[2]]}) is None


def test_a_superscript_digit_is_not_a_choice_number() -> None:
    """``"²".isdigit()`` is true but ``int("²")`` raises: the choice reader must say "no choice"."""
    assert _choice_index("²") is None
    assert _choice_index("2") == 1


def _offer_open(events: list) -> object:
    return next((e["value"] for e in events if e.get("name") == "faq_offer_open"), "unset")


async def test_an_offer_opens_the_way_for_a_no_and_an_answer_does_not(
    action_settings: Settings, dispatcher, domain
) -> None:
    """faq_offer_open is what dialogue/rules.yml reads: a no right after an offer means none of them."""
    offered = await ActionAnswerFaq().run(dispatcher, make_tracker("低保", "ask_benefits"), domain)
    assert _offer_open(offered) is True
    answered = await ActionAnswerFaq().run(
        CollectingDispatcher(), make_tracker("结婚登记要带什么材料", "ask_marriage"), domain
    )
    assert _offer_open(answered) == "unset"  # the resident's next message had closed it already (domain.yml)
    none = await ActionFaqNone().run(
        CollectingDispatcher(), make_tracker("都不是", "deny", slots={"unanswered_text": "低保"}), domain
    )
    assert _offer_open(none) is False  # a second no is a plain no


async def test_an_unclear_pick_keeps_the_offer_open(action_settings: Settings, dispatcher, domain) -> None:
    tracker = make_tracker("第九个", "choose_faq", slots={"faq_candidates": ["dibao-eligibility", "dibao-amount"]})
    events = await ActionAnswerFaq().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == "请直接点选上面的问题按钮，或者把您的问题再说一遍。" and _offer_open(events) is True


async def test_an_offer_during_a_form_leaves_the_no_to_the_form(action_settings: Settings, dispatcher, domain) -> None:
    """During the booking a no leaves the booking (dialogue/booking.yml); the offer is not opened."""
    tracker = make_tracker("低保", "ask_benefits")
    tracker.active_loop = {"name": "booking_form"}
    events = await ActionAnswerFaq().run(dispatcher, tracker, domain)
    assert dispatcher.messages[-1]["buttons"] and _offer_open(events) == "unset"


async def test_a_message_asking_two_things_gets_two_answers(action_settings: Settings, dispatcher, domain) -> None:
    events = await ActionAnswerFaq().run(
        dispatcher, make_tracker("低保怎么申请？结婚要带什么材料？", "ask_benefits"), domain
    )
    with services().sessions.begin() as session:
        first, second = (
            session.scalars(select(FaqEntry).where(FaqEntry.key == key)).one().answer.strip()
            for key in ("dibao-how-to-apply", "marriage-documents")
        )
    sent = [m.get("text") or "" for m in dispatcher.messages]
    assert len(sent) == 2 and sent[0].startswith(first) and sent[1].startswith(second)
    assert {"event": "slot", "name": "last_faq_key", "value": "dibao-how-to-apply", "timestamp": None} in events


async def test_a_second_question_not_clear_gets_choices_after_the_answer(
    action_settings: Settings, dispatcher, domain
) -> None:
    """低保怎么申请 is sure; 高龄津贴多少钱 alone is not quite (and the whole message ranked the
    high-age allowance's application, asked by neither): 低保 is answered, and the second question
    gets its likeliest entries as choices, an open offer (第二个 and 都不是 work as after "您是想问…")."""
    events = await ActionAnswerFaq().run(
        dispatcher, make_tracker("低保怎么申请？高龄津贴多少钱？", "ask_benefits"), domain
    )
    with services().sessions.begin() as session:
        first = session.scalars(select(FaqEntry).where(FaqEntry.key == "dibao-how-to-apply")).one().answer.strip()
    answer, offer = dispatcher.messages
    assert (answer.get("text") or "").startswith(first)
    assert offer["text"] == "您还问了另一件事，是想问下面哪个问题？请点选："
    keys = next(e["value"] for e in events if e.get("name") == "faq_candidates")
    assert keys[0] == "elderly-high-age-allowance" and "dibao-how-to-apply" not in keys
    assert [b["payload"] for b in offer["buttons"][:-1]] == [f'/choose_faq{{"faq_key": "{k}"}}' for k in keys]
    assert offer["buttons"][-1] == {"title": "都不是", "payload": "/deny"}
    assert _offer_open(events) is True
    assert {"event": "slot", "name": "last_faq_key", "value": "dibao-how-to-apply", "timestamp": None} in events

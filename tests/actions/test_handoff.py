"""action_handoff: a person on request and on complaints; a question about how to report is answered."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import texts as action_texts
from actions.common import services
from actions.faq import ActionAnswerFaq
from actions.handoff import ActionHandoff
from civil_affairs.config import Settings
from civil_affairs.models import Handoff, UnansweredQuestion
from tests.helpers.trackers import make_tracker

# Questions about the procedure of reporting or appealing, as residents write them (simplified,
# traditional, dialect): the FAQ answers them, with a person one reply away.
HOW_TO_REPORT = [
    ("发现低保优亲厚友、违规办理，怎么举报？", "dibao-report-misconduct"),
    ("对低保审批结果有异议去哪里申诉", "dibao-appeal"),
    ("村干部把低保给了自己亲戚 该去哪里举报", "dibao-report-misconduct"),
    ("舉報低保優親厚友要找誰", "dibao-report-misconduct"),
    ("俺村低保人情保 咋个举报", "dibao-report-misconduct"),
    ("殡仪馆乱收费 打么子电话投诉", "funeral-fee-complaint"),
    ("有人冒领高龄津贴，应该向哪里反映？", "benefit-fraud-report"),  # no entry answered it before 30 Nov
]
# Grievances told with anger or about a named person, and explicit requests: staff, as before.
GRIEVANCES = [
    "你们工作人员态度太差了，我要投诉",
    "我的低保被取消了凭什么",
    "我要举报某某社区主任冒领",
    "张某冒领低保 去哪里举报",
    "你們態度太差了 我要投訴 去哪投訴",
    "凭啥停俺的低保 咋个申诉",
]


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def handoff_reasons() -> list[str]:
    with services().sessions.begin() as session:
        return list(session.scalars(select(Handoff.reason).order_by(Handoff.id)))


def event_value(events: list, name: str) -> object:
    return next((e["value"] for e in events if e.get("event") == "slot" and e.get("name") == name), None)


async def test_how_to_report_questions_are_answered_with_a_person_on_offer(action_settings: Settings, domain) -> None:
    for n, (text, key) in enumerate(HOW_TO_REPORT):
        dispatcher = CollectingDispatcher()
        events = await ActionHandoff().run(dispatcher, make_tracker(text, "complain", sender_id=f"r{n}"), domain)
        reply = texts(dispatcher)
        assert "依据" in reply, text  # the FAQ answer with its source
        assert key is None or event_value(events, "last_faq_key") == key, (text, events)
        assert dispatcher.messages[-1]["text"] == action_texts.REPORT_PERSON_OFFER
        assert dispatcher.messages[-1]["buttons"] == [{"title": "转人工", "payload": "/request_human"}]
        assert action_texts.FORM_SET_ASIDE not in reply
    assert handoff_reasons() == []


async def test_grievances_still_go_to_staff(action_settings: Settings, domain) -> None:
    for n, text in enumerate(GRIEVANCES):
        dispatcher = CollectingDispatcher()
        events = await ActionHandoff().run(dispatcher, make_tracker(text, "complain", sender_id=f"g{n}"), domain)
        assert "依据" not in texts(dispatcher), text
        assert action_texts.REPORT_PERSON_OFFER not in texts(dispatcher), text
        assert event_value(events, "last_faq_key") is None
    assert handoff_reasons() == ["complaint"] * len(GRIEVANCES)


async def test_asking_for_a_person_is_a_handoff_even_when_worded_as_a_question(
    action_settings: Settings, dispatcher, domain
) -> None:
    await ActionHandoff().run(dispatcher, make_tracker("转人工 我想问低保怎么举报", "request_human"), domain)
    assert "依据" not in texts(dispatcher)
    assert handoff_reasons() == ["requested"]


async def test_how_to_report_question_the_faq_cannot_answer_goes_to_staff(action_settings: Settings, domain) -> None:
    """Not a confident answer (no entry on it; the search must be sure before it replaces a person)."""
    unanswerable = ["小区物业乱停车 怎么举报", "邻居家乱搭乱建 向哪里举报"]
    for n, text in enumerate(unanswerable):
        dispatcher = CollectingDispatcher()
        await ActionHandoff().run(dispatcher, make_tracker(text, "complain", sender_id=f"u{n}"), domain)
        assert action_texts.REPORT_PERSON_OFFER not in texts(dispatcher), text
        assert "依据" not in texts(dispatcher), text
    assert handoff_reasons() == ["complaint"] * len(unanswerable)


async def test_answer_after_a_form_was_left_says_the_form_stopped(action_settings: Settings, domain) -> None:
    for n, left_by in enumerate(("action_stop_booking", "action_deactivate_loop")):
        dispatcher = CollectingDispatcher()
        base = make_tracker("发现低保优亲厚友、违规办理，怎么举报？", "complain", sender_id=f"f{n}")
        tracker = Tracker(base.sender_id, base.slots, base.latest_message, base.events, False, None, {}, left_by)
        await ActionHandoff().run(dispatcher, tracker, domain)
        assert "依据" in texts(dispatcher)
        assert [m["text"] for m in dispatcher.messages[-2:]] == [
            action_texts.FORM_SET_ASIDE,
            action_texts.REPORT_PERSON_OFFER,
        ]
    assert handoff_reasons() == []


async def test_policy_question_heard_as_a_complaint_in_a_form_is_answered_and_says_so(
    action_settings: Settings, dispatcher, domain
) -> None:
    base = make_tracker("结婚登记要带什么材料", "complain")
    tracker = Tracker(
        base.sender_id, base.slots, base.latest_message, base.events, False, None, {}, "action_stop_booking"
    )
    await ActionHandoff().run(dispatcher, tracker, domain)
    assert "身份证" in texts(dispatcher)
    assert dispatcher.messages[-1]["text"] == action_texts.FORM_SET_ASIDE
    assert handoff_reasons() == []


async def test_a_policy_question_told_with_a_grievance_is_answered_with_a_person_on_offer(
    action_settings: Settings, domain
) -> None:
    # Complaint words (拖了, 不给发证) in a question the FAQ answers: the answer, then a person one
    # button away, instead of staff taking a policy question.
    text = "一个月冷静期满了以后 我们又拖了四十多天才去 工作人员说不给发证了 这是啥规定"
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, make_tracker(text, "complain"), domain)
    assert event_value(events, "last_faq_key") == "divorce-missed-window", events
    assert "依据" in texts(dispatcher)
    assert dispatcher.messages[-1]["text"] == action_texts.REPORT_PERSON_OFFER
    assert dispatcher.messages[-1]["buttons"] == [{"title": "转人工", "payload": "/request_human"}]
    assert handoff_reasons() == []


async def test_rhetorical_and_angry_questions_still_go_to_staff(action_settings: Settings, domain) -> None:
    complaints = ["办个结婚证还要我们交三百块钱的照相费 这合理吗", "低保说停就停 一个电话都没有 你们这样做对吗"]
    for n, text in enumerate(complaints):
        dispatcher = CollectingDispatcher()
        await ActionHandoff().run(dispatcher, make_tracker(text, "complain", sender_id=f"q{n}"), domain)
        assert "依据" not in texts(dispatcher), text
    assert handoff_reasons() == ["complaint"] * len(complaints)


async def test_a_complaint_without_complaint_words_the_faq_cannot_place_goes_to_staff(
    action_settings: Settings, domain
) -> None:
    """The model heard a complaint, the gate found no complaint words, and the FAQ cannot even offer
    choices: a person hears it, instead of "please rephrase", and it is no FAQ gap."""
    text = "隔壁装修从早上七点敲到晚上十点"
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, make_tracker(text, "complain"), domain)
    assert action_texts.FAQ_UNKNOWN not in texts(dispatcher)
    assert "依据" not in texts(dispatcher)
    assert handoff_reasons() == ["complaint"]
    assert event_value(events, "misunderstood_count") == 0.0
    with services().sessions.begin() as session:
        assert session.scalars(select(UnansweredQuestion)).all() == []


async def test_policy_questions_with_or_without_a_grievance_are_still_answered(
    action_settings: Settings, domain
) -> None:
    """A question is answered, whether or not it also tells a grievance, and how to report is a
    question too."""
    questions = [
        ("低保要什么条件", "ask_benefits"),
        ("社区的人态度不好 我就想问低保要什么条件", "ask_benefits"),
        ("村干部把低保给了自己亲戚 该去哪里举报", "ask_benefits"),
    ]
    for n, (text, intent) in enumerate(questions):
        dispatcher = CollectingDispatcher()
        await ActionAnswerFaq().run(dispatcher, make_tracker(text, intent, sender_id=f"p{n}"), domain)
        assert "依据" in texts(dispatcher), text
    assert handoff_reasons() == []


async def test_a_complaint_without_complaint_words_that_asks_nothing_goes_to_staff_when_the_faq_only_guesses(
    action_settings: Settings, domain
) -> None:
    """The model heard a complaint, the gate found no complaint words, the message asks nothing and
    the FAQ only guesses (choices): choices are no reply to a story told, so a person hears it."""
    told = ["养老院说好每天给老人洗澡 我去看了三回都是脏的", "结婚照相的地方收了我们两回钱"]
    for n, text in enumerate(told):
        dispatcher = CollectingDispatcher()
        events = await ActionHandoff().run(dispatcher, make_tracker(text, "complain", sender_id=f"s{n}"), domain)
        assert not any(m.get("buttons") for m in dispatcher.messages), text  # no "您是想问…" choices
        assert event_value(events, "misunderstood_count") == 0.0, text
    assert handoff_reasons() == ["complaint"] * len(told)


async def test_a_complaint_without_complaint_words_that_asks_still_gets_choices(
    action_settings: Settings, domain
) -> None:
    text = "养老院能不能每天给老人洗澡"
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, make_tracker(text, "complain"), domain)
    assert handoff_reasons() == []
    assert "依据" in texts(dispatcher) or any(m.get("buttons") for m in dispatcher.messages)

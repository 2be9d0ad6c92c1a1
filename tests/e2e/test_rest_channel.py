"""The real model, Rasa server and action server answer residents through the REST channel."""

from __future__ import annotations

import uuid

import pytest

from actions import texts
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.model


def sender() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_greeting_shows_the_menu(stack: Stack) -> None:
    messages = stack.say(sender(), "你好")
    assert "您好" in messages[0]["text"]
    titles = [b["title"] for b in messages[0].get("buttons", [])]
    assert titles == ["政策咨询", "结婚登记预约", "办件进度查询", "转人工"]


def test_marriage_documents_answer_is_the_id_card_rule(stack: Stack) -> None:
    text = stack.say_text(sender(), "结婚登记要带什么")
    assert "身份证" in text
    for stale in ("请携带户口簿", "请带上户口本", "请携带户口本"):
        assert stale not in text
    assert "依据" in text


def test_divorce_cooling_off_is_30_days(stack: Stack) -> None:
    text = stack.say_text(sender(), "离婚冷静期多久")
    assert "冷静期" in text and ("30日" in text or "30天" in text)


def test_first_steps_after_a_death(stack: Stack) -> None:
    text = stack.say_text(sender(), "老人去世了第一步做什么")
    assert "死亡" in text and "证明" in text and "火化" in text


def test_follow_up_question_uses_the_previous_one(stack: Stack) -> None:
    resident = sender()
    stack.say_text(resident, "结婚登记要带什么")
    text = stack.say_text(resident, "那离婚呢？")
    assert "离婚" in text and "身份证" in text


def test_emergency_gets_hotlines(stack: Stack) -> None:
    text = stack.say_text(sender(), "路边有个小孩一个人在哭 找不到爸妈 天都黑了 怎么办啊")
    assert "110" in text


@pytest.mark.parametrize("message", ["😀😀😀", "？？？！！。。", "低保" * 2500])
def test_odd_messages_get_a_sensible_reply(stack: Stack, message: str) -> None:
    messages = stack.say(sender(), message)
    assert messages and all(m.get("text") for m in messages)


def test_booking_request_starts_the_booking_form_with_free_dates(stack: Stack) -> None:
    [ask] = [m for m in stack.say(sender(), "我想预约结婚登记") if m.get("buttons")]
    assert "哪一天" in ask["text"] and all("余" in b["title"] for b in ask["buttons"])


# "都不是" is a no (deny); right after "您是想问…？" the dialogue reads it as "none of these fits"
# (dialogue/rules.yml), elsewhere it is a plain no.
VAGUE_QUESTION = "老人补贴"


def offer(stack: Stack, resident: str) -> dict:
    """Ask a vague question and return the "您是想问…？" message with its buttons."""
    [offered] = [m for m in stack.say(resident, VAGUE_QUESTION) if m.get("text", "").startswith("您是想问")]
    return offered


@pytest.mark.parametrize("reply", ["/deny", "都不是", "不是这些", "没有合适的"])
def test_a_no_after_the_offer_means_none_of_them_fits(stack: Stack, reply: str) -> None:
    resident = sender()
    assert offer(stack, resident)["buttons"][-1] == {"title": "都不是", "payload": "/deny"}
    assert texts.FAQ_NONE in stack.say_text(resident, reply)


def test_a_no_elsewhere_is_a_plain_no(stack: Stack) -> None:
    resident = sender()
    stack.say_text(resident, "结婚登记要带什么")  # an answer, no offer
    text = stack.say_text(resident, "不用了")
    assert texts.FAQ_NONE not in text and "您还有别的问题吗" in text


def test_the_offer_is_closed_once_a_question_is_chosen(stack: Stack) -> None:
    resident = sender()
    first = offer(stack, resident)["buttons"][0]
    stack.say_text(resident, first["payload"])
    assert texts.FAQ_NONE not in stack.say_text(resident, "不是")


@pytest.mark.parametrize("question", ["请问有哪些补助可以申请", "补贴"])
def test_a_question_naming_no_programme_is_asked_back_and_a_no_is_understood(stack: Stack, question: str) -> None:
    """Which programme? The overview's buttons name them; 都不是 then records the question."""
    resident = sender()
    [asked] = [m for m in stack.say(resident, question) if m.get("buttons")]
    titles = [b["title"] for b in asked["buttons"]]
    assert "什么是低保？什么样的家庭可以申请？" in titles and titles[-1] == "都不是"
    assert texts.FAQ_NONE in stack.say_text(resident, "都不是")
